//! Forgives the debt of an insolvent account with nothing worth seizing left (docs/SPEC.md,
//! with the eligibility rule of `Health::is_bad_debt`): every deposit the account still holds
//! goes to its market's insurance fund first (the owner keeps nothing the insurers pay for;
//! the tokens stay in that market's vault as `insurance_pending`), then the debt market's
//! insurance covers what it can (its pending share in the vault first, then its insurance
//! vault), the rest is socialized over the market's depositors (`math::bad_debt::socialize`),
//! and what cannot be socialized is recorded as the market's deficit.

use super::{token_amount, transfer_from_market};
use crate::constants::PROTOCOL_SEED;
use crate::errors::ScalpelError;
use crate::events::{BadDebtResolved, DepositForfeited};
use crate::health_accounts::{health_of, resolve_positions, PriceAge, ResolvedPosition};
use crate::math::{bad_debt::socialize, shares, SafeMath, I80F48};
use crate::state::{MarginAccount, Market, Protocol};
use anchor_lang::prelude::*;
use anchor_spl::token::Token;

/// Accounts of `bad_debt_resolve`. Remaining accounts: the account's health pairs, markets
/// writable (a deposit's market records what the account forfeits).
#[derive(Accounts)]
pub struct BadDebtResolve<'info> {
    /// Protocol (dust threshold).
    #[account(seeds = [PROTOCOL_SEED], bump = protocol.load()?.bump)]
    pub protocol: AccountLoader<'info, Protocol>,
    /// The insolvent account.
    #[account(mut)]
    pub account: AccountLoader<'info, MarginAccount>,
    /// Market of the debt.
    #[account(mut, has_one = vault @ ScalpelError::WrongVault,
        has_one = insurance_vault @ ScalpelError::WrongVault)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the market's vault (its address).
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: the market's insurance vault (its address; balance read in place).
    #[account(mut)]
    pub insurance_vault: UncheckedAccount<'info>,
    /// SPL Token.
    pub token_program: Program<'info, Token>,
}

/// Forfeits the deposits, covers, socializes, clears.
pub fn handler<'info>(ctx: Context<'_, '_, 'info, 'info, BadDebtResolve<'info>>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let market_index = {
        let mut m = ctx.accounts.market.load_mut()?;
        m.accrue_to(now)?;
        m.market_index
    };
    let protocol = *ctx.accounts.protocol.load()?;
    let account = *ctx.accounts.account.load()?;
    let pairs = ctx.remaining_accounts;
    let resolved = resolve_positions(&account, pairs, now, PriceAge::BadDebt)?;
    // A deposit priced by a failing oracle counts at its last published price here (in a
    // liquidation it counts as zero): a feed failing for a minute cannot make a solvent
    // owner's collateral forfeitable.
    if !health_of(&protocol, &resolved)?.is_bad_debt(protocol.dust_threshold()) {
        return err!(ScalpelError::BadDebtNotEligible);
    }
    let slot = account.find(market_index).ok_or(ScalpelError::NoDebt)?;
    let debt_shares = account.positions[slot].shares();
    if debt_shares >= I80F48::ZERO {
        return err!(ScalpelError::NoDebt);
    }

    for (k, r) in resolved.iter().enumerate() {
        if r.shares > I80F48::ZERO {
            forfeit_deposit(&ctx.accounts.account, r, &pairs[2 * k], now)?;
        }
    }

    let insurance_held = token_amount(&ctx.accounts.insurance_vault)?;
    let (debt, covered, from_vault, socialized, deficit, deposit_index, mint, bump) = {
        let mut m = ctx.accounts.market.load_mut()?;
        let owed = I80F48::ZERO.safe_sub(debt_shares)?;
        let debt = shares::debt_balance(owed, m.borrow_index.get())?;
        // The insurance share already in the vault first (no transfer), then the insurance
        // vault.
        let from_pending = debt.min(m.insurance_pending);
        let from_vault = debt.safe_sub(from_pending)?.min(insurance_held);
        let covered = from_pending.safe_add(from_vault)?;
        m.insurance_pending = m.insurance_pending.safe_sub(from_pending)?;
        let s = socialize(
            debt.safe_sub(covered)?,
            m.total_deposits()?,
            m.total_deposit_shares.get(),
            m.deposit_index.get(),
        )?;
        m.deposit_index = s.deposit_index.into();
        m.deficit = m.deficit.safe_add(s.deficit)?;
        m.apply_share_deltas(I80F48::ZERO, debt_shares)?;
        (
            debt,
            covered,
            from_vault,
            s.socialized,
            m.deficit,
            s.deposit_index,
            m.mint,
            m.bump,
        )
    };
    {
        let mut acc = ctx.accounts.account.load_mut()?;
        acc.set_shares(slot, I80F48::ZERO);
        acc.clear_flag_without_debt();
    }
    transfer_from_market(
        &ctx.accounts.token_program,
        ctx.accounts.insurance_vault.to_account_info(),
        ctx.accounts.vault.to_account_info(),
        ctx.accounts.market.to_account_info(),
        &mint,
        bump,
        from_vault,
    )?;
    crate::runtime::emit_event(&BadDebtResolved {
        account: ctx.accounts.account.key(),
        market: ctx.accounts.market.key(),
        debt,
        covered,
        socialized,
        deficit,
        deposit_index: deposit_index.to_bits(),
    });
    Ok(())
}

/// Burns the whole deposit `r` and gives it to its market's insurance fund (the tokens stay in
/// that market's vault, recorded as `insurance_pending`), freeing the slot. No tokens move, so
/// a vault whose tokens are lent out does not hold the resolution up.
fn forfeit_deposit<'info>(
    account: &AccountLoader<'info, MarginAccount>,
    r: &ResolvedPosition,
    market_ai: &'info AccountInfo<'info>,
    now: i64,
) -> Result<()> {
    let loader = AccountLoader::<Market>::try_from(market_ai)?;
    let amount = {
        let mut m = loader.load_mut()?;
        m.accrue_to(now)?;
        let amount = shares::deposit_balance(r.shares, m.deposit_index.get())?;
        m.apply_share_deltas(I80F48::ZERO.safe_sub(r.shares)?, I80F48::ZERO)?;
        m.insurance_pending = m.insurance_pending.safe_add(amount)?;
        amount
    };
    account.load_mut()?.set_shares(r.slot, I80F48::ZERO);
    crate::runtime::emit_event(&DepositForfeited {
        account: account.key(),
        market: *market_ai.key,
        amount,
    });
    Ok(())
}
