//! Closes an empty margin account and returns its rent to the owner.

use crate::errors::ScalpelError;
use crate::events::AccountClosed;
use crate::state::MarginAccount;
use anchor_lang::prelude::*;

/// Accounts of `account_close`.
#[derive(Accounts)]
pub struct AccountClose<'info> {
    /// The account; must have no position.
    #[account(mut, close = owner, has_one = owner @ ScalpelError::NotAccountOwner)]
    pub margin_account: AccountLoader<'info, MarginAccount>,
    /// Owner; receives the rent.
    #[account(mut)]
    pub owner: Signer<'info>,
}

impl AccountClose<'_> {
    /// Only empty accounts close.
    pub fn validate(&self) -> Result<()> {
        let a = self.margin_account.load()?;
        if !a.is_empty() {
            return err!(ScalpelError::AccountNotEmpty);
        }
        if a.being_liquidated != 0 {
            return err!(ScalpelError::AccountBeingLiquidated);
        }
        Ok(())
    }
}

/// Anchor's `close` does the work; this emits the event.
#[access_control(ctx.accounts.validate())]
pub fn handler(ctx: Context<AccountClose>) -> Result<()> {
    crate::runtime::emit_event(&AccountClosed {
        account: ctx.accounts.margin_account.key(),
        owner: ctx.accounts.owner.key(),
    });
    Ok(())
}
