//! Withdraws deposited tokens; the account must keep `health_init ≥ 0`.

use super::{balance_kind, transfer_from_market};
use crate::constants::PROTOCOL_SEED;
use crate::errors::ScalpelError;
use crate::events::BalanceChanged;
use crate::health_accounts::{check_after_risk_increase, RiskIncrease};
use crate::math::{shares, I80F48};
use crate::state::{MarginAccount, Market, Protocol};
use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

/// Arguments of `withdraw`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct WithdrawArgs {
    /// Native units; `u64::MAX` withdraws the whole deposit.
    pub amount: u64,
}

/// Accounts of `withdraw`; remaining accounts: the health pairs after the withdrawal (none needed
/// when the account has no debt).
#[derive(Accounts)]
pub struct Withdraw<'info> {
    /// Protocol (pause flags, health parameters).
    #[account(seeds = [PROTOCOL_SEED], bump = protocol.load()?.bump)]
    pub protocol: AccountLoader<'info, Protocol>,
    /// The owner's margin account.
    #[account(mut, has_one = owner @ ScalpelError::NotAccountOwner)]
    pub margin_account: AccountLoader<'info, MarginAccount>,
    /// Market withdrawn from.
    #[account(mut, has_one = vault @ ScalpelError::WrongVault)]
    pub market: AccountLoader<'info, Market>,
    /// The market's vault.
    #[account(mut)]
    pub vault: Box<Account<'info, TokenAccount>>,
    /// Destination of the tokens.
    #[account(mut, constraint = user_token.mint == market.load()?.mint @ ScalpelError::WrongMint)]
    pub user_token: Box<Account<'info, TokenAccount>>,
    /// Account owner.
    pub owner: Signer<'info>,
    /// SPL Token.
    pub token_program: Program<'info, Token>,
}

impl Withdraw<'_> {
    /// Non-zero amount, not paused (by flag or a guardian's timed pause).
    pub fn validate(&self, args: &WithdrawArgs) -> Result<()> {
        if args.amount == 0 {
            return err!(ScalpelError::ZeroAmount);
        }
        let now = Clock::get()?.unix_timestamp;
        if self.protocol.load()?.withdrawals_paused(now)
            || self.market.load()?.withdrawals_paused(now)
        {
            return err!(ScalpelError::WithdrawalsPaused);
        }
        Ok(())
    }
}

/// Burns shares, moves the tokens, then checks init health (which also ends a cured account's
/// liquidation; being liquidated is no reason to refuse a withdrawal that keeps init health).
#[access_control(ctx.accounts.validate(&args))]
pub fn handler<'info>(
    ctx: Context<'_, '_, 'info, 'info, Withdraw<'info>>,
    args: WithdrawArgs,
) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let (amount, shares_after, mint, bump) = {
        let mut market = ctx.accounts.market.load_mut()?;
        let mut account = ctx.accounts.margin_account.load_mut()?;
        market.accrue_to(now)?;
        let slot = account
            .find(market.market_index)
            .ok_or(ScalpelError::InsufficientDeposit)?;
        let held = account.positions[slot].shares();
        // A debt position has nothing to withdraw, "all" included.
        if held <= I80F48::ZERO {
            return err!(ScalpelError::InsufficientDeposit);
        }
        let index = market.deposit_index.get();
        let amount = if args.amount == u64::MAX {
            shares::deposit_balance(held, index)?
        } else {
            args.amount
        };
        let change =
            shares::withdraw(held, amount, index)?.ok_or(ScalpelError::InsufficientDeposit)?;
        if change.amount == 0 {
            return err!(ScalpelError::ZeroAmount);
        }
        if ctx.accounts.vault.amount < change.amount {
            return err!(ScalpelError::InsufficientLiquidity);
        }
        market.apply_share_deltas(change.deposit_shares_delta, change.borrow_shares_delta)?;
        account.set_shares(slot, change.new_shares);
        (change.amount, change.new_shares, market.mint, market.bump)
    };
    transfer_from_market(
        &ctx.accounts.token_program,
        ctx.accounts.vault.to_account_info(),
        ctx.accounts.user_token.to_account_info(),
        ctx.accounts.market.to_account_info(),
        &mint,
        bump,
        amount,
    )?;
    let health_init = {
        let protocol = ctx.accounts.protocol.load()?;
        let mut account = ctx.accounts.margin_account.load_mut()?;
        check_after_risk_increase(
            &protocol,
            &mut account,
            ctx.remaining_accounts,
            now,
            RiskIncrease::Withdraw,
        )?
        .health_init
    };
    crate::runtime::emit_event(&BalanceChanged {
        account: ctx.accounts.margin_account.key(),
        market: ctx.accounts.market.key(),
        kind: balance_kind::WITHDRAW,
        amount,
        shares_after: shares_after.to_bits(),
        health_init_after: health_init.to_bits(),
    });
    Ok(())
}
