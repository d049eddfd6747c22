//! Borrows tokens against the account's collateral; caps, vault liquidity and
//! `health_init ≥ 0` must hold afterwards.

use super::{balance_kind, transfer_from_market};
use crate::constants::PROTOCOL_SEED;
use crate::errors::ScalpelError;
use crate::events::BalanceChanged;
use crate::health_accounts::{check_after_risk_increase, RiskIncrease};
use crate::math::shares;
use crate::state::{
    MarginAccount, Market, Protocol, MARKET_PAUSE_BORROWS, MARKET_QUARANTINED, MARKET_REDUCE_ONLY,
    PAUSE_BORROWS,
};
use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

/// Arguments of `borrow`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct BorrowArgs {
    /// Native units to borrow.
    pub amount: u64,
}

/// Accounts of `borrow`; remaining accounts: the health pairs after the borrow.
#[derive(Accounts)]
pub struct Borrow<'info> {
    /// Protocol (pause flags, health parameters).
    #[account(seeds = [PROTOCOL_SEED], bump = protocol.load()?.bump)]
    pub protocol: AccountLoader<'info, Protocol>,
    /// The owner's margin account.
    #[account(mut, has_one = owner @ ScalpelError::NotAccountOwner)]
    pub margin_account: AccountLoader<'info, MarginAccount>,
    /// Market borrowed from.
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

impl Borrow<'_> {
    /// Non-zero amount, not paused, reduce-only or quarantined, liquidity available.
    pub fn validate(&self, args: &BorrowArgs) -> Result<()> {
        if args.amount == 0 {
            return err!(ScalpelError::ZeroAmount);
        }
        let paused = self.protocol.load()?.pause_flags & PAUSE_BORROWS != 0;
        let market = self.market.load()?;
        if paused || market.has_flag(MARKET_PAUSE_BORROWS) || market.has_flag(MARKET_REDUCE_ONLY) {
            return err!(ScalpelError::BorrowsPaused);
        }
        if market.has_flag(MARKET_QUARANTINED) {
            return err!(ScalpelError::MarketQuarantined);
        }
        if self.vault.amount < args.amount {
            return err!(ScalpelError::InsufficientLiquidity);
        }
        Ok(())
    }
}

/// Mints debt shares, moves the tokens, then checks init health (which also ends a cured
/// account's liquidation).
#[access_control(ctx.accounts.validate(&args))]
pub fn handler<'info>(
    ctx: Context<'_, '_, 'info, 'info, Borrow<'info>>,
    args: BorrowArgs,
) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let (shares_after, mint, bump) = {
        let mut market = ctx.accounts.market.load_mut()?;
        let mut account = ctx.accounts.margin_account.load_mut()?;
        market.accrue_to(now)?;
        let slot = account.find_or_open(market.market_index)?;
        let change = shares::borrow(
            account.positions[slot].shares(),
            args.amount,
            market.borrow_index.get(),
        )?
        .ok_or(ScalpelError::BorrowAgainstOwnDeposit)?;
        market.apply_share_deltas(change.deposit_shares_delta, change.borrow_shares_delta)?;
        if market.total_borrows()? > market.borrow_cap {
            return err!(ScalpelError::BorrowCapExceeded);
        }
        account.set_shares(slot, change.new_shares);
        (change.new_shares, market.mint, market.bump)
    };
    transfer_from_market(
        &ctx.accounts.token_program,
        ctx.accounts.vault.to_account_info(),
        ctx.accounts.user_token.to_account_info(),
        ctx.accounts.market.to_account_info(),
        &mint,
        bump,
        args.amount,
    )?;
    let market_index = ctx.accounts.market.load()?.market_index;
    let checked = {
        let protocol = ctx.accounts.protocol.load()?;
        let mut account = ctx.accounts.margin_account.load_mut()?;
        check_after_risk_increase(
            &protocol,
            &mut account,
            ctx.remaining_accounts,
            now,
            RiskIncrease::Borrow { market_index },
        )?
    };
    // The net-borrow limit, valued at the borrowed market's checked spot price.
    {
        let price = checked
            .borrowed_price
            .ok_or(ScalpelError::HealthAccountsMismatch)?;
        let mut market = ctx.accounts.market.load_mut()?;
        if let Err(resets_at) = market.record_borrow(args.amount, price.token_price, now)? {
            crate::runtime::log(&format!(
                "net-borrow limit reached; the window resets at unix time {resets_at}"
            ));
            return err!(ScalpelError::NetBorrowLimitExceeded);
        }
    }
    let health_init = checked.health_init;
    crate::runtime::emit_event(&BalanceChanged {
        account: ctx.accounts.margin_account.key(),
        market: ctx.accounts.market.key(),
        kind: balance_kind::BORROW,
        amount: args.amount,
        shares_after: shares_after.to_bits(),
        health_init_after: health_init.to_bits(),
    });
    Ok(())
}
