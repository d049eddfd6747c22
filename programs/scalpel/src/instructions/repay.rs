//! Repays debt; asking for more than is owed repays exactly the debt.

use super::{balance_kind, transfer_from_user};
use crate::errors::ScalpelError;
use crate::events::BalanceChanged;
use crate::math::{shares, I80F48};
use crate::state::{MarginAccount, Market};
use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

/// Arguments of `repay`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RepayArgs {
    /// Largest native amount to repay (`u64::MAX`: all of it).
    pub amount: u64,
}

/// Accounts of `repay`.
#[derive(Accounts)]
pub struct Repay<'info> {
    /// The owner's margin account.
    #[account(mut, has_one = owner @ ScalpelError::NotAccountOwner)]
    pub margin_account: AccountLoader<'info, MarginAccount>,
    /// Market repaid.
    #[account(mut, has_one = vault @ ScalpelError::WrongVault)]
    pub market: AccountLoader<'info, Market>,
    /// The market's vault.
    #[account(mut)]
    pub vault: Box<Account<'info, TokenAccount>>,
    /// Source of the tokens.
    #[account(mut, constraint = user_token.mint == market.load()?.mint @ ScalpelError::WrongMint)]
    pub user_token: Box<Account<'info, TokenAccount>>,
    /// Account owner, authority of `user_token`.
    pub owner: Signer<'info>,
    /// SPL Token.
    pub token_program: Program<'info, Token>,
}

impl Repay<'_> {
    /// Non-zero amount.
    pub fn validate(&self, args: &RepayArgs) -> Result<()> {
        if args.amount == 0 {
            return err!(ScalpelError::ZeroAmount);
        }
        Ok(())
    }
}

/// Burns debt shares and moves exactly the amount repaid.
#[access_control(ctx.accounts.validate(&args))]
pub fn handler(ctx: Context<Repay>, args: RepayArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let (paid, shares_after) = {
        let mut market = ctx.accounts.market.load_mut()?;
        let mut account = ctx.accounts.margin_account.load_mut()?;
        market.accrue_to(now)?;
        let slot = account
            .find(market.market_index)
            .ok_or(ScalpelError::NoDebt)?;
        let held = account.positions[slot].shares();
        if held >= I80F48::ZERO {
            return err!(ScalpelError::NoDebt);
        }
        let change = shares::repay(held, args.amount, market.borrow_index.get())?;
        market.apply_share_deltas(change.deposit_shares_delta, change.borrow_shares_delta)?;
        market.record_repay(change.amount, now);
        account.set_shares(slot, change.new_shares);
        account.clear_flag_without_debt();
        (change.amount, change.new_shares)
    };
    transfer_from_user(
        &ctx.accounts.token_program,
        ctx.accounts.user_token.to_account_info(),
        ctx.accounts.vault.to_account_info(),
        ctx.accounts.owner.to_account_info(),
        paid,
    )?;
    crate::runtime::emit_event(&BalanceChanged {
        account: ctx.accounts.margin_account.key(),
        market: ctx.accounts.market.key(),
        kind: balance_kind::REPAY,
        amount: paid,
        shares_after: shares_after.to_bits(),
        health_init_after: 0,
    });
    Ok(())
}
