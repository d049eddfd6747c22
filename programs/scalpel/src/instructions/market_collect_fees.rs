//! Moves the insurance and treasury shares of past liquidations (and deposits forfeited by
//! insolvent accounts) from a market's vault to its insurance and treasury vaults.
//! Permissionless, like marginfi's `lending_pool_collect_bank_fees`: `liquidate` only records
//! those shares (two token CPIs fewer per liquidation), and anyone may settle them later.

use super::{token_amount, transfer_from_market};
use crate::errors::ScalpelError;
use crate::events::FeesCollected;
use crate::math::SafeMath;
use crate::state::Market;
use anchor_lang::prelude::*;
use anchor_spl::token::Token;

/// Accounts of `market_collect_fees`.
#[derive(Accounts)]
pub struct MarketCollectFees<'info> {
    /// Market whose shares are settled.
    #[account(mut, has_one = vault @ ScalpelError::WrongVault,
        has_one = insurance_vault @ ScalpelError::WrongVault,
        has_one = treasury_vault @ ScalpelError::WrongVault)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the market's vault (its address).
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: the market's insurance vault (its address).
    #[account(mut)]
    pub insurance_vault: UncheckedAccount<'info>,
    /// CHECK: the market's treasury vault (its address).
    #[account(mut)]
    pub treasury_vault: UncheckedAccount<'info>,
    /// SPL Token.
    pub token_program: Program<'info, Token>,
}

/// Insurance first (it protects depositors), then the treasury, each as far as the vault's
/// idle tokens go; what the vault lacks (lent out) stays recorded for a later call.
pub fn handler(ctx: Context<MarketCollectFees>) -> Result<()> {
    let idle = token_amount(&ctx.accounts.vault)?;
    let (to_insurance, to_treasury, left, mint, bump) = {
        let mut m = ctx.accounts.market.load_mut()?;
        if m.insurance_pending == 0 && m.treasury_pending == 0 {
            return err!(ScalpelError::NothingToCollect);
        }
        let to_insurance = m.insurance_pending.min(idle);
        let to_treasury = m.treasury_pending.min(idle.safe_sub(to_insurance)?);
        m.insurance_pending = m.insurance_pending.safe_sub(to_insurance)?;
        m.treasury_pending = m.treasury_pending.safe_sub(to_treasury)?;
        (
            to_insurance,
            to_treasury,
            (m.insurance_pending, m.treasury_pending),
            m.mint,
            m.bump,
        )
    };
    let market_ai = ctx.accounts.market.to_account_info();
    for (to, amount) in [
        (ctx.accounts.insurance_vault.to_account_info(), to_insurance),
        (ctx.accounts.treasury_vault.to_account_info(), to_treasury),
    ] {
        transfer_from_market(
            &ctx.accounts.token_program,
            ctx.accounts.vault.to_account_info(),
            to,
            market_ai.clone(),
            &mint,
            bump,
            amount,
        )?;
    }
    crate::runtime::emit_event(&FeesCollected {
        market: ctx.accounts.market.key(),
        to_insurance,
        to_treasury,
        insurance_pending: left.0,
        treasury_pending: left.1,
    });
    Ok(())
}
