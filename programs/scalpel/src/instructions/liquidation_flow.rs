//! The phases both liquidation modes share (`liquidate` settles in tokens,
//! `liquidate_to_account` in the liquidator's margin account): plan the pair with the one pure
//! function, apply it to the liquidatee's shares and the markets' totals, and after the mode's
//! settlement, run the post-checks and emit the event.

use crate::errors::ScalpelError;
use crate::events::LiquidationEvent;
use crate::health_accounts::{position_input, resolve_positions, PriceAge, ResolvedPosition};
use crate::math::{
    compute_maint_health,
    liquidation::{plan_liquidation_from, LiquidationPlan},
    shares, Health, HealthPosition, SafeMath, I80F48,
};
use crate::oracle::OraclePrice;
use crate::state::{MarginAccount, Market, Protocol};
use anchor_lang::prelude::*;

/// The accounts of the pair being liquidated.
pub struct Pair<'a, 'info> {
    /// The protocol (buffer, split, dust threshold, `r_full`).
    pub protocol: &'a AccountLoader<'info, Protocol>,
    /// The account liquidated.
    pub liquidatee: &'a AccountLoader<'info, MarginAccount>,
    /// Market `i`, whose collateral is seized.
    pub asset_market: &'a AccountLoader<'info, Market>,
    /// Market `j`, whose debt is repaid.
    pub liab_market: &'a AccountLoader<'info, Market>,
}

/// A pair planned: the plan and what the later phases need of the plan's inputs.
pub struct Planned {
    /// The instruction's clock.
    pub clock: Clock,
    /// The liquidatee's positions as resolved.
    pub resolved: Vec<ResolvedPosition>,
    /// Index of the asset position in `resolved`.
    pub ai: usize,
    /// Index of the liability position in `resolved`.
    pub li: usize,
    /// Health inputs of `resolved`.
    pub inputs: Vec<HealthPosition>,
    /// `i`'s price (valid).
    pub asset_price: OraclePrice,
    /// `j`'s price (valid).
    pub liab_price: OraclePrice,
    /// The plan.
    pub plan: LiquidationPlan,
    /// The asset market's full penalty in force, bps.
    pub penalty_bps: u16,
    /// The protocol's buffer, bps.
    pub buffer_bps: u16,
}

/// Accrues the pair's markets, resolves the liquidatee's positions from `health` (its health
/// pairs) and plans the liquidation.
pub fn plan_pair<'info>(
    pair: &Pair<'_, 'info>,
    health: &'info [AccountInfo<'info>],
    max_repay: u64,
) -> Result<Planned> {
    let clock = Clock::get()?;
    let now = clock.unix_timestamp;
    let (asset_index, liab_index, penalty, penalty_bps) = {
        let mut a = pair.asset_market.load_mut()?;
        let mut l = pair.liab_market.load_mut()?;
        if now < a.liquidation_paused_until || now < l.liquidation_paused_until {
            return err!(ScalpelError::LiquidationsPaused);
        }
        a.accrue_to(now)?;
        l.accrue_to(now)?;
        (
            a.market_index,
            l.market_index,
            a.penalty_curve_at(now)?,
            a.penalty_bps_at(now),
        )
    };
    crate::cu_trace!("liquidate: pair markets accrued");
    let protocol = *pair.protocol.load()?;
    let account = *pair.liquidatee.load()?;
    let resolved = resolve_positions(&account, health, now, PriceAge::Maintenance)?;
    crate::cu_trace!("liquidate: positions resolved (markets, oracles, balances)");
    let ai = resolved
        .iter()
        .position(|r| r.market_index == asset_index)
        .ok_or(ScalpelError::NoCollateral)?;
    let li = resolved
        .iter()
        .position(|r| r.market_index == liab_index)
        .ok_or(ScalpelError::NoDebt)?;
    if resolved[ai].market != pair.asset_market.key()
        || resolved[li].market != pair.liab_market.key()
    {
        return err!(ScalpelError::WrongMarket);
    }
    // Other positions may be priced by failing oracles (a deposit then counts as zero); the
    // pair itself needs prices that pass every check.
    let (asset_price, liab_price) = (resolved[ai].require_valid()?, resolved[li].require_valid()?);
    let inputs: Vec<HealthPosition> = resolved.iter().map(|r| r.input).collect();
    let params = protocol.liquidation_params()?;
    // Maintenance figures only: a liquidation needs no init health.
    let before = compute_maint_health(&inputs, &params.health)?;
    let plan = plan_liquidation_from(
        before,
        &inputs,
        ai,
        li,
        penalty,
        account.being_liquidated != 0,
        max_repay,
        &params,
    )
    .map_err(ScalpelError::from)?;
    crate::cu_trace!("liquidate: planned");
    Ok(Planned {
        clock,
        resolved,
        ai,
        li,
        inputs,
        asset_price,
        liab_price,
        plan,
        penalty_bps,
        buffer_bps: protocol.liquidation_buffer_bps,
    })
}

/// Burns the seized deposit (all its shares when it is all of it) and the repaid debt in the
/// liquidatee's account and the markets' totals, records the protocol's shares as pending in
/// `i`, and returns the liquidatee's health after, from the real balances.
pub fn apply_to_liquidatee(pair: &Pair, p: &Planned) -> Result<Health> {
    let now = p.clock.unix_timestamp;
    let mut acc = pair.liquidatee.load_mut()?;
    let mut a = pair.asset_market.load_mut()?;
    let mut l = pair.liab_market.load_mut()?;
    let (a_slot, l_slot) = (p.resolved[p.ai].slot, p.resolved[p.li].slot);
    let w = shares::withdraw(
        acc.positions[a_slot].shares(),
        p.plan.seized,
        a.deposit_index.get(),
    )?
    .ok_or(ScalpelError::NoCollateral)?;
    let r = shares::repay(
        acc.positions[l_slot].shares(),
        p.plan.repay,
        l.borrow_index.get(),
    )?;
    if r.amount != p.plan.repay {
        return err!(ScalpelError::MathOverflow);
    }
    a.apply_share_deltas(w.deposit_shares_delta, w.borrow_shares_delta)?;
    l.apply_share_deltas(r.deposit_shares_delta, r.borrow_shares_delta)?;
    a.insurance_pending = a.insurance_pending.safe_add(p.plan.to_insurance)?;
    a.treasury_pending = a.treasury_pending.safe_add(p.plan.to_treasury)?;
    acc.set_shares(a_slot, w.new_shares);
    acc.set_shares(l_slot, r.new_shares);
    let new_a = position_input(&a, w.new_shares, &p.asset_price, now)?;
    let new_l = position_input(&l, r.new_shares, &p.liab_price, now)?;
    // Only the pair's contributions change, and when share rounding left the balances exactly
    // as planned, the health after is the plan's.
    let (old_a, old_l) = (p.inputs[p.ai], p.inputs[p.li]);
    let as_planned = new_a.deposit == old_a.deposit.saturating_sub(p.plan.seized)
        && new_l.debt == old_l.debt.saturating_sub(p.plan.repay);
    let after = if as_planned {
        p.plan.health_after
    } else {
        let params = pair.protocol.load()?.health_params()?;
        p.plan
            .health_before
            .replacing(&[old_a, old_l], &[new_a, new_l], &params)?
    };
    crate::cu_trace!("liquidate: shares moved, health re-checked");
    Ok(after)
}

/// Who liquidated and how, for the event.
pub struct Liquidator {
    /// The signing wallet.
    pub wallet: Pubkey,
    /// `LIQUIDATION_MODE_*`.
    pub mode: u8,
    /// Its margin account in account mode.
    pub account: Pubkey,
}

/// Post-checks on the real balances (shares rounded against the liquidatee), the hysteresis
/// flag, the counters and the event.
pub fn finish(pair: &Pair, p: &Planned, after: Health, by: &Liquidator) -> Result<()> {
    if after.maint <= p.plan.health_before.maint {
        return err!(ScalpelError::HealthNotImproved);
    }
    let still = after.end < I80F48::ZERO;
    {
        let mut acc = pair.liquidatee.load_mut()?;
        acc.being_liquidated = still as u8;
        acc.last_liquidation_slot = p.clock.slot;
        acc.liquidation_count = acc.liquidation_count.saturating_add(1);
    }
    let plan = &p.plan;
    crate::runtime::emit_event(&LiquidationEvent {
        liquidatee: pair.liquidatee.key(),
        liquidator: by.wallet,
        mode: by.mode,
        liquidator_account: by.account,
        asset_market: pair.asset_market.key(),
        liab_market: pair.liab_market.key(),
        asset_price: p.asset_price.token_price.to_bits(),
        liab_price: p.liab_price.token_price.to_bits(),
        repaid: plan.repay,
        seized: plan.seized,
        to_liquidator: plan.to_liquidator,
        to_insurance: plan.to_insurance,
        to_treasury: plan.to_treasury,
        maint_before: plan.health_before.maint.to_bits(),
        end_before: plan.health_before.end.to_bits(),
        maint_after: after.maint.to_bits(),
        end_after: after.end.to_bits(),
        penalty_bps: p.penalty_bps,
        penalty: plan.penalty.to_bits(),
        penalty_effective: plan.penalty_effective.to_bits(),
        buffer_bps: p.buffer_bps,
        being_liquidated: still,
        slot: p.clock.slot,
    });
    crate::cu_trace!("liquidate: event emitted");
    Ok(())
}
