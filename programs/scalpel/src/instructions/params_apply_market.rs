//! Applies a queued market change once its timelock expired (anyone). A tightening of the
//! maintenance weights starts a linear shift over the protocol's `weight_shift_secs` instead of
//! applying at once; until the shift ends, the penalty is the smaller of the old and the new one
//! (`Market::penalty_bps_at`), which keeps κ > 0 at every weight the shift passes through. The
//! first change applied to a new market ends its listing quarantine.

use super::market_add::set_market_params;
use super::params_queue_market::check_oracle;
use crate::constants::PROTOCOL_SEED;
use crate::errors::ScalpelError;
use crate::events::MarketParamsApplied;
use crate::math::{WrappedI80F48, I80F48};
use crate::state::{Market, PendingMarketChange, Protocol, WeightShift, MARKET_QUARANTINED};
use anchor_lang::prelude::*;

/// Accounts of `params_apply_market`.
#[derive(Accounts)]
pub struct ParamsApplyMarket<'info> {
    /// Protocol (shift duration).
    #[account(seeds = [PROTOCOL_SEED], bump = protocol.load()?.bump)]
    pub protocol: AccountLoader<'info, Protocol>,
    /// Market changed.
    #[account(mut)]
    pub market: AccountLoader<'info, Market>,
    /// CHECK: must be the queued oracle; checked again by the adapter.
    pub oracle: UncheckedAccount<'info>,
}

impl ParamsApplyMarket<'_> {
    /// Queued, due, still within bounds, the queued oracle still valid.
    pub fn validate(&self) -> Result<()> {
        let m = self.market.load()?;
        if m.pending.active == 0 {
            return err!(ScalpelError::NoPendingChange);
        }
        if Clock::get()?.unix_timestamp < m.pending.eta {
            return err!(ScalpelError::TimelockNotExpired);
        }
        m.pending.params().validate()?;
        if self.oracle.key() != m.pending.oracle {
            return err!(ScalpelError::OracleMismatch);
        }
        check_oracle(&self.oracle, m.pending.oracle_kind, &m.pending.feed_id)
    }
}

/// Writes the change; tightening maintenance weights shift linearly.
#[access_control(ctx.accounts.validate())]
pub fn handler(ctx: Context<ParamsApplyMarket>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let shift_secs = ctx.accounts.protocol.load()?.weight_shift_secs as i64;
    let mut m = ctx.accounts.market.load_mut()?;
    m.accrue_to(now)?;
    let old = m.params()?;
    let old_oracle = m.oracle;
    let current = m.weights(now);
    let penalty_now = m.penalty_bps_at(now);
    let new = m.pending.params();
    set_market_params(&mut m, &new)?;
    let tightens = m.asset_weight_maint.get() < current.asset_maint
        || m.liab_weight_maint.get() > current.liab_maint;
    let shift_end = if tightens && shift_secs > 0 {
        let end = now.saturating_add(shift_secs);
        // Start from the weights in force now; a loosening side jumps to its target at once.
        let from_a: I80F48 = current.asset_maint.max(m.asset_weight_maint.get());
        let from_l: I80F48 = current.liab_maint.min(m.liab_weight_maint.get());
        m.shift = WeightShift {
            start_ts: now,
            end_ts: end,
            from_asset_maint: WrappedI80F48::from_num(from_a),
            from_liab_maint: WrappedI80F48::from_num(from_l),
            active: 1,
            _pad0: 0,
            from_penalty_bps: penalty_now,
            _pad: [0; 4],
        };
        end
    } else {
        m.shift = WeightShift::default();
        0
    };
    m.oracle = m.pending.oracle;
    m.oracle_kind = m.pending.oracle_kind;
    m.feed_id = m.pending.feed_id;
    m.pending = PendingMarketChange::default();
    // The first applied change ends a new listing's quarantine.
    m.flags &= !MARKET_QUARANTINED;
    crate::runtime::emit_event(&MarketParamsApplied {
        market: ctx.accounts.market.key(),
        old,
        new,
        old_oracle,
        new_oracle: m.oracle,
        shift_end,
    });
    Ok(())
}
