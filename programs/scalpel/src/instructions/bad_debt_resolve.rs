//! Forgives the debt of an insolvent account with nothing worth seizing left (DESIGN section 7,
//! with the eligibility rule of `Health::is_bad_debt`): every deposit the account still holds
//! goes to its market's insurance vault first (the owner keeps nothing the insurers pay for),
//! then the debt market's insurance vault covers what it can, the rest is socialized over the
//! market's depositors (`math::bad_debt::socialize`), and what cannot be socialized is recorded
//! as the market's deficit.

use super::transfer_from_market;
use crate::constants::PROTOCOL_SEED;
use crate::errors::ScalpelError;
use crate::events::{BadDebtResolved, DepositForfeited};
use crate::health_accounts::{health_of, resolve_positions, PriceAge, ResolvedPosition};
use crate::math::{bad_debt::socialize, shares, SafeMath, I80F48};
use crate::state::{MarginAccount, Market, Protocol};
use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

/// Accounts of `bad_debt_resolve`. Remaining accounts: the account's health pairs (markets
/// writable), then the vault and insurance vault of each deposit position's market, in slot
/// order.
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
    let pair_count = 2 * account.active_positions().count();
    if ctx.remaining_accounts.len() < pair_count {
        return err!(ScalpelError::HealthAccountsMismatch);
    }
    let (pairs, vaults) = ctx.remaining_accounts.split_at(pair_count);
    let resolved = resolve_positions(&account, pairs, now, PriceAge::Maintenance)?;
    // Deposits priced by a failing oracle count as zero here, as in a liquidation.
    if !health_of(&protocol, &resolved)?.is_bad_debt(protocol.dust_threshold()) {
        return err!(ScalpelError::BadDebtNotEligible);
    }
    let slot = account.find(market_index).ok_or(ScalpelError::NoDebt)?;
    let debt_shares = account.positions[slot].shares();
    if debt_shares >= I80F48::ZERO {
        return err!(ScalpelError::NoDebt);
    }

    let deposits: Vec<(usize, &ResolvedPosition)> = resolved
        .iter()
        .enumerate()
        .filter(|(_, r)| r.shares > I80F48::ZERO)
        .collect();
    if vaults.len() != 2 * deposits.len() {
        return err!(ScalpelError::HealthAccountsMismatch);
    }
    for ((k, r), v) in deposits.into_iter().zip(vaults.chunks_exact(2)) {
        forfeit_deposit(
            &ctx.accounts.token_program,
            &ctx.accounts.account,
            r,
            &pairs[2 * k],
            &v[0],
            &v[1],
            now,
        )?;
    }

    let (debt, covered, socialized, deficit, deposit_index, mint, bump) = {
        let mut m = ctx.accounts.market.load_mut()?;
        let owed = I80F48::ZERO.safe_sub(debt_shares)?;
        let debt = shares::debt_balance(owed, m.borrow_index.get())?;
        let covered = debt.min(ctx.accounts.insurance_vault.amount);
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

/// Moves the whole deposit `r` (shares burned, tokens from the market's vault to its insurance
/// vault) and frees its slot.
fn forfeit_deposit<'info>(
    token_program: &Program<'info, Token>,
    account: &AccountLoader<'info, MarginAccount>,
    r: &ResolvedPosition,
    market_ai: &'info AccountInfo<'info>,
    vault_ai: &'info AccountInfo<'info>,
    insurance_ai: &'info AccountInfo<'info>,
    now: i64,
) -> Result<()> {
    let loader = AccountLoader::<Market>::try_from(market_ai)?;
    let (amount, mint, bump) = {
        let mut m = loader.load_mut()?;
        if *vault_ai.key != m.vault || *insurance_ai.key != m.insurance_vault {
            return err!(ScalpelError::WrongVault);
        }
        m.accrue_to(now)?;
        let amount = shares::deposit_balance(r.shares, m.deposit_index.get())?;
        m.apply_share_deltas(I80F48::ZERO.safe_sub(r.shares)?, I80F48::ZERO)?;
        (amount, m.mint, m.bump)
    };
    let vault = Account::<TokenAccount>::try_from(vault_ai)?;
    if vault.amount < amount {
        return err!(ScalpelError::InsufficientLiquidity);
    }
    account.load_mut()?.set_shares(r.slot, I80F48::ZERO);
    transfer_from_market(
        token_program,
        vault.to_account_info(),
        insurance_ai.clone(),
        market_ai.clone(),
        &mint,
        bump,
        amount,
    )?;
    crate::runtime::emit_event(&DepositForfeited {
        account: account.key(),
        market: *market_ai.key,
        amount,
    });
    Ok(())
}
