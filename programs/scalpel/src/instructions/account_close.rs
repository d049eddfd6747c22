//! Closes an empty margin account and returns its rent to the owner. Deposits worth less than
//! one native unit (shares left by rounding after the index moved) do not keep it open: their
//! shares are burned from their markets' totals.

use crate::errors::ScalpelError;
use crate::events::AccountClosed;
use crate::health_accounts::load_market;
use crate::math::{shares::deposit_balance, SafeMath, I80F48};
use crate::state::{MarginAccount, Market};
use anchor_lang::prelude::*;

/// Accounts of `account_close`; remaining accounts: the market (writable) of every position the
/// account still holds, in slot order (each must be a deposit worth less than one native unit).
#[derive(Accounts)]
pub struct AccountClose<'info> {
    /// The account; must hold no position worth a native unit.
    #[account(mut, close = owner, has_one = owner @ ScalpelError::NotAccountOwner)]
    pub margin_account: AccountLoader<'info, MarginAccount>,
    /// Owner; receives the rent.
    #[account(mut)]
    pub owner: Signer<'info>,
}

/// Burns sub-unit deposit shares, then Anchor's `close` returns the rent.
pub fn handler<'info>(ctx: Context<'_, '_, 'info, 'info, AccountClose<'info>>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let mut account = ctx.accounts.margin_account.load_mut()?;
    let held: Vec<(usize, u16, I80F48)> = account
        .positions
        .iter()
        .enumerate()
        .filter(|(_, p)| p.is_active())
        .map(|(i, p)| (i, p.market_index, p.shares()))
        .collect();
    if ctx.remaining_accounts.len() != held.len() {
        // No markets given for an account that holds positions: it is simply not empty.
        if ctx.remaining_accounts.is_empty() {
            return err!(ScalpelError::AccountNotEmpty);
        }
        return err!(ScalpelError::HealthAccountsMismatch);
    }
    for ((slot, market_index, shares), ai) in held.into_iter().zip(ctx.remaining_accounts) {
        let market = load_market(ai, market_index)?;
        let index = market.accrued(now)?.deposit_index;
        if shares < I80F48::ZERO || deposit_balance(shares, index)? > 0 {
            return err!(ScalpelError::AccountNotEmpty);
        }
        let loader = AccountLoader::<Market>::try_from(ai)?;
        loader
            .load_mut()?
            .apply_share_deltas(I80F48::ZERO.safe_sub(shares)?, I80F48::ZERO)?;
        account.set_shares(slot, I80F48::ZERO);
    }
    crate::runtime::emit_event(&AccountClosed {
        account: ctx.accounts.margin_account.key(),
        owner: ctx.accounts.owner.key(),
    });
    Ok(())
}
