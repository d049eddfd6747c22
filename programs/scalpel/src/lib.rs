//! Scalpel: cross-margin accounts priced by Pyth, with exact partial liquidation.
//!
//! The `#[program]` block only delegates; each instruction lives in `instructions/`, the math in
//! `math/` (pure, shared with the client, bot and CLI), prices in `oracle/`.

use anchor_lang::prelude::*;

pub mod constants;
pub mod errors;
pub mod events;
pub mod health_accounts;
pub mod instructions;
pub mod math;
pub mod oracle;
pub mod params;
pub mod runtime;
/// C memory functions for the upstream-LLVM SBF build only (see `scripts/sbf/README.md`).
#[cfg(all(target_os = "solana", feature = "sbf-upstream-llvm"))]
mod sbf_mem;
pub mod state;

use instructions::*;

declare_id!("SCALPEL111111111111111111111111111111111111");

/// Instruction entry points.
#[program]
pub mod scalpel {
    use super::*;

    /// Creates the protocol; the signer becomes admin.
    pub fn protocol_init(ctx: Context<ProtocolInit>, args: ProtocolInitArgs) -> Result<()> {
        instructions::protocol_init::handler(ctx, args)
    }

    /// Lists a market (admin).
    pub fn market_add(ctx: Context<MarketAdd>, args: MarketAddArgs) -> Result<()> {
        instructions::market_add::handler(ctx, args)
    }

    /// Opens a margin account.
    pub fn account_create(ctx: Context<AccountCreate>, args: AccountCreateArgs) -> Result<()> {
        instructions::account_create::handler(ctx, args)
    }

    /// Closes an empty margin account.
    pub fn account_close<'info>(
        ctx: Context<'_, '_, 'info, 'info, AccountClose<'info>>,
    ) -> Result<()> {
        instructions::account_close::handler(ctx)
    }

    /// Deposits collateral.
    pub fn deposit(ctx: Context<Deposit>, args: DepositArgs) -> Result<()> {
        instructions::deposit::handler(ctx, args)
    }

    /// Withdraws collateral, keeping init health non-negative.
    pub fn withdraw<'info>(
        ctx: Context<'_, '_, 'info, 'info, Withdraw<'info>>,
        args: WithdrawArgs,
    ) -> Result<()> {
        instructions::withdraw::handler(ctx, args)
    }

    /// Borrows, keeping init health non-negative.
    pub fn borrow<'info>(
        ctx: Context<'_, '_, 'info, 'info, Borrow<'info>>,
        args: BorrowArgs,
    ) -> Result<()> {
        instructions::borrow::handler(ctx, args)
    }

    /// Repays debt.
    pub fn repay(ctx: Context<Repay>, args: RepayArgs) -> Result<()> {
        instructions::repay::handler(ctx, args)
    }

    /// Accrues a market's interest.
    pub fn market_accrue(ctx: Context<MarketAccrue>) -> Result<()> {
        instructions::market_accrue::handler(ctx)
    }

    /// Moves the insurance and treasury shares held in a market's vault to their vaults.
    pub fn market_collect_fees(ctx: Context<MarketCollectFees>) -> Result<()> {
        instructions::market_collect_fees::handler(ctx)
    }

    /// Liquidates one (asset, liability) pair of an unhealthy account.
    pub fn liquidate<'info>(
        ctx: Context<'_, '_, 'info, 'info, Liquidate<'info>>,
        args: LiquidateArgs,
    ) -> Result<()> {
        instructions::liquidate::handler(ctx, args)
    }

    /// Liquidates one pair into the liquidator's margin account: it takes the debt and the
    /// collateral as positions, no tokens needed.
    pub fn liquidate_to_account<'info>(
        ctx: Context<'_, '_, 'info, 'info, LiquidateToAccount<'info>>,
        args: LiquidateArgs,
    ) -> Result<()> {
        instructions::liquidate_to_account::handler(ctx, args)
    }

    /// Covers and socializes the debt of an account with no collateral left.
    pub fn bad_debt_resolve<'info>(
        ctx: Context<'_, '_, 'info, 'info, BadDebtResolve<'info>>,
    ) -> Result<()> {
        instructions::bad_debt_resolve::handler(ctx)
    }

    /// Adds tokens to a market's insurance vault.
    pub fn insurance_fund(ctx: Context<InsuranceFund>, args: InsuranceFundArgs) -> Result<()> {
        instructions::insurance_fund::handler(ctx, args)
    }

    /// Returns an account's health as return data.
    pub fn health_view<'info>(
        ctx: Context<'_, '_, 'info, 'info, HealthViewAccounts<'info>>,
    ) -> Result<HealthView> {
        instructions::health_view::handler(ctx)
    }

    /// Proposes a new admin (admin).
    pub fn admin_propose(ctx: Context<AdminPropose>, args: AdminProposeArgs) -> Result<()> {
        instructions::admin_propose::handler(ctx, args)
    }

    /// Accepts the admin role (the proposed key).
    pub fn admin_accept(ctx: Context<AdminAccept>) -> Result<()> {
        instructions::admin_accept::handler(ctx)
    }

    /// Sets the guardian (admin).
    pub fn guardian_set(ctx: Context<GuardianSet>, args: GuardianSetArgs) -> Result<()> {
        instructions::guardian_set::handler(ctx, args)
    }

    /// Queues protocol parameters behind the timelock (admin).
    pub fn params_queue_protocol(
        ctx: Context<ParamsQueueProtocol>,
        args: ParamsQueueProtocolArgs,
    ) -> Result<()> {
        instructions::params_queue_protocol::handler(ctx, args)
    }

    /// Applies queued protocol parameters after the timelock (anyone).
    pub fn params_apply_protocol(ctx: Context<ParamsApplyProtocol>) -> Result<()> {
        instructions::params_apply_protocol::handler(ctx)
    }

    /// Queues market parameters, oracle and feed behind the timelock (admin).
    pub fn params_queue_market(
        ctx: Context<ParamsQueueMarket>,
        args: ParamsQueueMarketArgs,
    ) -> Result<()> {
        instructions::params_queue_market::handler(ctx, args)
    }

    /// Applies queued market parameters after the timelock (anyone).
    pub fn params_apply_market(ctx: Context<ParamsApplyMarket>) -> Result<()> {
        instructions::params_apply_market::handler(ctx)
    }

    /// Cancels a queued change (admin or guardian).
    pub fn params_cancel(ctx: Context<ParamsCancel>) -> Result<()> {
        instructions::params_cancel::handler(ctx)
    }

    /// Tightens at once, never loosens (guardian or admin).
    pub fn guardian_tighten(
        ctx: Context<GuardianTighten>,
        args: GuardianTightenArgs,
    ) -> Result<()> {
        instructions::guardian_tighten::handler(ctx, args)
    }

    /// Sets pause flags directly (admin).
    pub fn admin_set_flags(ctx: Context<AdminSetFlags>, args: AdminSetFlagsArgs) -> Result<()> {
        instructions::admin_set_flags::handler(ctx, args)
    }

    /// Withdraws from a market's treasury vault (admin).
    pub fn treasury_withdraw(
        ctx: Context<TreasuryWithdraw>,
        args: TreasuryWithdrawArgs,
    ) -> Result<()> {
        instructions::treasury_withdraw::handler(ctx, args)
    }
}
