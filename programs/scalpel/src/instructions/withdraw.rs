//! Withdraws deposited tokens; the account must keep `health_init ≥ 0`.

use super::{balance_kind, transfer_from_market};
use crate::constants::PROTOCOL_SEED;
use crate::errors::ScalpelError;
use crate::events::BalanceChanged;
use crate::health_accounts::require_init_health;
use crate::math::shares;
use crate::state::{MarginAccount, Market, Protocol, MARKET_PAUSE_WITHDRAWALS, PAUSE_WITHDRAWALS};
use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

/// Arguments of `withdraw`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct WithdrawArgs {
    /// Native units; `u64::MAX` withdraws the whole deposit.
    pub amount: u64,
}

/// Accounts of `withdraw`; remaining accounts: the health pairs after the withdrawal.
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
    /// Non-zero amount, not paused, not mid-liquidation.
    pub fn validate(&self, args: &WithdrawArgs) -> Result<()> {
        if args.amount == 0 {
            return err!(ScalpelError::ZeroAmount);
        }
        let paused = self.protocol.load()?.pause_flags & PAUSE_WITHDRAWALS != 0;
        if paused || self.market.load()?.has_flag(MARKET_PAUSE_WITHDRAWALS) {
            return err!(ScalpelError::WithdrawalsPaused);
        }
        if self.margin_account.load()?.being_liquidated != 0 {
            return err!(ScalpelError::AccountBeingLiquidated);
        }
        Ok(())
    }
}

/// Burns shares, moves the tokens, then checks init health.
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
        &ctx.accounts.vault,
        ctx.accounts.user_token.to_account_info(),
        ctx.accounts.market.to_account_info(),
        &mint,
        bump,
        amount,
    )?;
    let health = {
        let protocol = ctx.accounts.protocol.load()?;
        let account = ctx.accounts.margin_account.load()?;
        require_init_health(&protocol, &account, ctx.remaining_accounts, now)?
    };
    crate::runtime::emit_event(&BalanceChanged {
        account: ctx.accounts.margin_account.key(),
        market: ctx.accounts.market.key(),
        kind: balance_kind::WITHDRAW,
        amount,
        shares_after: shares_after.to_bits(),
        health_init_after: health.init.to_bits(),
    });
    Ok(())
}
