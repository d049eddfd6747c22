//! Deposits tokens into a margin account (repaying any debt in that market first).

use super::{balance_kind, transfer_from_user};
use crate::constants::PROTOCOL_SEED;
use crate::errors::ScalpelError;
use crate::events::BalanceChanged;
use crate::math::{shares, I80F48};
use crate::state::{
    MarginAccount, Market, Protocol, MARKET_PAUSE_DEPOSITS, MARKET_REDUCE_ONLY, PAUSE_DEPOSITS,
};
use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

/// Arguments of `deposit`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct DepositArgs {
    /// Native units to deposit.
    pub amount: u64,
}

/// Accounts of `deposit`.
#[derive(Accounts)]
pub struct Deposit<'info> {
    /// Protocol (pause flags).
    #[account(seeds = [PROTOCOL_SEED], bump = protocol.load()?.bump)]
    pub protocol: AccountLoader<'info, Protocol>,
    /// The owner's margin account.
    #[account(mut, has_one = owner @ ScalpelError::NotAccountOwner)]
    pub margin_account: AccountLoader<'info, MarginAccount>,
    /// Market deposited into.
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

impl Deposit<'_> {
    /// Non-zero amount, not paused.
    pub fn validate(&self, args: &DepositArgs) -> Result<()> {
        if args.amount == 0 {
            return err!(ScalpelError::ZeroAmount);
        }
        let paused = self.protocol.load()?.pause_flags & PAUSE_DEPOSITS != 0;
        if paused || self.market.load()?.has_flag(MARKET_PAUSE_DEPOSITS) {
            return err!(ScalpelError::DepositsPaused);
        }
        Ok(())
    }
}

/// Credits shares, then moves the tokens.
#[access_control(ctx.accounts.validate(&args))]
pub fn handler(ctx: Context<Deposit>, args: DepositArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let shares_after = {
        let mut market = ctx.accounts.market.load_mut()?;
        let mut account = ctx.accounts.margin_account.load_mut()?;
        market.accrue_to(now)?;
        let slot = account.find_or_open(market.market_index)?;
        let change = shares::deposit(
            account.positions[slot].shares(),
            args.amount,
            market.deposit_index.get(),
            market.borrow_index.get(),
        )?;
        if change.deposit_shares_delta > I80F48::ZERO && market.has_flag(MARKET_REDUCE_ONLY) {
            return err!(ScalpelError::DepositsPaused);
        }
        market.apply_share_deltas(change.deposit_shares_delta, change.borrow_shares_delta)?;
        let held = account.positions[slot].shares();
        if held < I80F48::ZERO {
            // The part that repays a debt makes room under the net-borrow limit, as a repay.
            let owed = shares::debt_balance(-held, market.borrow_index.get())?;
            market.record_repay(args.amount.min(owed), now);
        }
        if market.total_deposits()? > market.deposit_cap {
            return err!(ScalpelError::DepositCapExceeded);
        }
        account.set_shares(slot, change.new_shares);
        account.clear_flag_without_debt();
        change.new_shares
    };
    transfer_from_user(
        &ctx.accounts.token_program,
        ctx.accounts.user_token.to_account_info(),
        ctx.accounts.vault.to_account_info(),
        ctx.accounts.owner.to_account_info(),
        args.amount,
    )?;
    crate::runtime::emit_event(&BalanceChanged {
        account: ctx.accounts.margin_account.key(),
        market: ctx.accounts.market.key(),
        kind: balance_kind::DEPOSIT,
        amount: args.amount,
        shares_after: shares_after.to_bits(),
        health_init_after: 0,
    });
    Ok(())
}
