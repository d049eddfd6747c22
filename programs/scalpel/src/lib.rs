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
    pub fn account_close(ctx: Context<AccountClose>) -> Result<()> {
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

    /// Liquidates one (asset, liability) pair of an unhealthy account.
    pub fn liquidate<'info>(
        ctx: Context<'_, '_, 'info, 'info, Liquidate<'info>>,
        args: LiquidateArgs,
    ) -> Result<()> {
        instructions::liquidate::handler(ctx, args)
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
}
