//! Permissionless interest accrual of one market.

use crate::events::MarketAccrued;
use crate::state::Market;
use anchor_lang::prelude::*;

/// Accounts of `market_accrue`.
#[derive(Accounts)]
pub struct MarketAccrue<'info> {
    /// Market accrued.
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
}

/// Accrues to the clock's time.
pub fn handler(ctx: Context<MarketAccrue>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let mut m = ctx.accounts.market.load_mut()?;
    // The rate and utilization of the period (`accrue_to` skips them when no time passed).
    let a = m.accrued(now)?;
    m.accrue_to(now)?;
    crate::runtime::emit_event(&MarketAccrued {
        market: ctx.accounts.market.key(),
        deposit_index: a.deposit_index.to_bits(),
        borrow_index: a.borrow_index.to_bits(),
        borrow_rate: a.borrow_rate.to_bits(),
        utilization: a.utilization.to_bits(),
    });
    Ok(())
}
