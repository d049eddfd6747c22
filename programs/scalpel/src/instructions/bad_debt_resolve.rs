//! Clears the debt of a liquidatable account with no collateral worth the dust threshold left
//! (DESIGN section 7, plus the liquidatable requirement): the market's
//! insurance vault covers what it can, the rest is socialized over the market's depositors by
//! lowering the deposit index, and what cannot be socialized (no depositors) is recorded as the
//! market's deficit.

use super::transfer_from_market;
use crate::constants::PROTOCOL_SEED;
use crate::errors::ScalpelError;
use crate::events::BadDebtResolved;
use crate::health_accounts::{resolve_positions, PriceAge};
use crate::math::{compute_health, fx, shares, HealthPosition, SafeMath, I80F48};
use crate::state::{MarginAccount, Market, Protocol};
use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

/// Accounts of `bad_debt_resolve`; remaining accounts: the account's health pairs.
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
    /// The market's vault.
    #[account(mut)]
    pub vault: Box<Account<'info, TokenAccount>>,
    /// The market's insurance vault.
    #[account(mut)]
    pub insurance_vault: Box<Account<'info, TokenAccount>>,
    /// SPL Token.
    pub token_program: Program<'info, Token>,
}

/// Covers, socializes, clears.
pub fn handler<'info>(ctx: Context<'_, '_, 'info, 'info, BadDebtResolve<'info>>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let market_index = {
        let mut m = ctx.accounts.market.load_mut()?;
        m.accrue_to(now)?;
        m.market_index
    };
    let protocol = *ctx.accounts.protocol.load()?;
    let account = *ctx.accounts.account.load()?;
    let resolved = resolve_positions(&account, ctx.remaining_accounts, now, PriceAge::Maintenance)?;
    let inputs: Vec<HealthPosition> = resolved.iter().map(|r| r.input).collect();
    let health = compute_health(&inputs, &protocol.health_params()?)?;
    // Only an account that is under water and has nothing left worth seizing: a solvent account
    // with a dust deposit and a smaller debt must not get its debt forgiven (that would let anyone
    // borrow against dust and walk away with insurance and depositor money).
    let being = account.being_liquidated != 0;
    if health.asset_value >= protocol.dust_threshold() || !health.is_liquidatable(being) {
        return err!(ScalpelError::BadDebtNotEligible);
    }
    let slot = account.find(market_index).ok_or(ScalpelError::NoDebt)?;
    let debt_shares = account.positions[slot].shares();
    if debt_shares >= I80F48::ZERO {
        return err!(ScalpelError::NoDebt);
    }

    let (debt, covered, socialized, deficit, deposit_index, mint, bump) = {
        let mut m = ctx.accounts.market.load_mut()?;
        let owed = I80F48::ZERO.safe_sub(debt_shares)?;
        let debt = shares::debt_balance(owed, m.borrow_index.get())?;
        let covered = debt.min(ctx.accounts.insurance_vault.amount);
        let rest = debt.safe_sub(covered)?;
        // Socialize up to what depositors hold; the index falls by rest / shares (truncated, so
        // depositors never lose more than the debt).
        let total_shares = m.total_deposit_shares.get();
        let deposits = m.total_deposits()?;
        // At most 99% of the deposits: the index never reaches zero (which would make every
        // later deposit into this market fail); what is left is recorded as the deficit.
        let socialized = rest.min(deposits.safe_sub(deposits / 100)?);
        if socialized > 0 && total_shares > I80F48::ZERO {
            let drop = fx(socialized).safe_div(total_shares)?;
            let index = m.deposit_index.get().safe_sub(drop)?.max(I80F48::ZERO);
            m.deposit_index = index.into();
        }
        m.deficit = m.deficit.safe_add(rest.safe_sub(socialized)?)?;
        m.apply_share_deltas(I80F48::ZERO, debt_shares)?;
        (
            debt,
            covered,
            socialized,
            m.deficit,
            m.deposit_index.get(),
            m.mint,
            m.bump,
        )
    };
    {
        let mut acc = ctx.accounts.account.load_mut()?;
        acc.set_shares(slot, I80F48::ZERO);
        if acc.active_positions().all(|p| p.shares() >= I80F48::ZERO) {
            acc.being_liquidated = 0;
        }
    }
    transfer_from_market(
        &ctx.accounts.token_program,
        &ctx.accounts.insurance_vault,
        ctx.accounts.vault.to_account_info(),
        ctx.accounts.market.to_account_info(),
        &mint,
        bump,
        covered,
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
