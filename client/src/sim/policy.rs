//! The liquidation designs compared, all on the program's math: Scalpel is `plan_liquidation`
//! itself (target `health_end = 0`, buffer, surplus cap, dust rules, split) at the market's flat
//! penalty, Scalpel scaled the same plan with the health-scaled penalty (`PenaltyCurve`:
//! `π_min` at a health ratio of 1 up to `π` at `r_full`); the others are the
//! program's `alternative` (a repay at the full penalty `π`, capped by the collateral) with the
//! amount each design repays:
//!
//! - binary: every debt, in full, as soon as maintenance health is negative;
//! - Aave v3: half the debt per call, all of it when the health factor (`A_maint / L_maint`) is
//!   below 0.95 or the collateral or the debt position is worth less than 2 000 USD;
//! - close factor 20% (Kamino's default): a fifth of the debt per call.
//!
//! The close-factor designs call again while the account stays below maintenance (as bots do),
//! within the liquidators' capital. Weights and penalty are the markets' for all four.

use super::program::SimProgram;
use scalpel::math::liquidation::{alternative, plan_liquidation_from, PenaltyCurve};
use scalpel::math::{compute_maint_health, Health, HealthPosition, I80F48};
use serde::Serialize;

/// A liquidation design.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// The program's exact partial liquidation, flat penalty.
    Scalpel,
    /// The same with the health-scaled penalty (issue 11).
    ScalpelScaled,
    /// All debt and the collateral for it at the first breach, full penalty.
    Binary,
    /// Aave v3's close factor.
    AaveV3,
    /// A fixed 20% close factor.
    #[serde(rename = "close_factor_20")]
    CloseFactor20,
}

impl Policy {
    /// Every policy, in report order.
    pub const ALL: [Policy; 5] = [
        Policy::Scalpel,
        Policy::ScalpelScaled,
        Policy::Binary,
        Policy::AaveV3,
        Policy::CloseFactor20,
    ];

    /// Short name (tables, JSON, file names).
    pub fn name(self) -> &'static str {
        match self {
            Policy::Scalpel => "scalpel",
            Policy::ScalpelScaled => "scalpel_scaled",
            Policy::Binary => "binary",
            Policy::AaveV3 => "aave_v3",
            Policy::CloseFactor20 => "close_factor_20",
        }
    }

    /// Whether the design liquidates an account of health `h`: the program's rule (with its
    /// hysteresis) for Scalpel, a negative maintenance health for the others.
    pub fn liquidatable(self, h: &Health, being: bool) -> bool {
        match self {
            Policy::Scalpel | Policy::ScalpelScaled => h.is_liquidatable(being),
            _ => h.maint < I80F48::ZERO,
        }
    }
}

/// One liquidation of one pair.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fill {
    /// Position index of the collateral.
    pub asset: usize,
    /// Position index of the debt.
    pub liab: usize,
    /// The `max_repay` the liquidator passed.
    pub max_repay: u64,
    /// Debt repaid, native units.
    pub repay: u64,
    /// Collateral seized, native units.
    pub seized: u64,
    /// Scalpel's split of `seized` (liquidator, insurance, treasury); `None` for the others.
    pub split: Option<(u64, u64, u64)>,
}

/// An account being liquidated: its positions, the market of each, whether each position's
/// oracle passed (a pair needs both) and its hysteresis flag.
pub struct Target<'a> {
    /// Health inputs, updated in place.
    pub positions: &'a mut [HealthPosition],
    /// Market index of each position.
    pub markets: &'a [u16],
    /// Oracle accepted, per position.
    pub valid: &'a [bool],
    /// `being_liquidated`.
    pub being: &'a mut bool,
    /// USD per native unit of each position's token, `f64` (zero for a deposit whose oracle
    /// failed): the liquidators' capital and their ranking of positions.
    pub unit: &'a [f64],
}

impl Target<'_> {
    fn usd(&self, k: usize, native: u64) -> f64 {
        native as f64 * self.unit[k]
    }
}

/// USD value of `native` units of `p`'s token, in `f64` (the simulation's own bookkeeping).
pub fn usd(native: u64, p: &HealthPosition) -> f64 {
    native as f64 * p.price.to_num::<f64>() * per_native(p.decimals)
}

/// `10^-d` as `f64`, from a table (`powi` is a library call and a division is slow; this runs
/// for every position looked at).
pub fn per_native(d: u8) -> f64 {
    const P: [f64; 20] = [
        1e0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12, 1e-13,
        1e-14, 1e-15, 1e-16, 1e-17, 1e-18, 1e-19,
    ];
    P.get(usize::from(d)).copied().unwrap_or(0.0)
}

/// The most native units of position `k`'s token `capital` USD buys (rounded down: an explicit
/// conversion of the simulation's `f64` into the program's integers).
fn affordable(capital: f64, t: &Target, k: usize) -> u64 {
    let unit = t.unit[k];
    // Written so that NaN buys nothing.
    if unit.is_nan() || capital.is_nan() || unit <= 0.0 || capital <= 0.0 {
        return 0;
    }
    let v = capital / unit;
    if v >= u64::MAX as f64 {
        u64::MAX
    } else {
        v.floor() as u64
    }
}

/// Position indices, largest value first, without allocating (at most 8 positions).
struct Ranked {
    idx: [usize; 8],
    len: usize,
}

impl Ranked {
    fn as_slice(&self) -> &[usize] {
        &self.idx[..self.len]
    }
}

/// Priced deposits (`debt` false) or debts, largest value first.
fn ranked(t: &Target, debt: bool) -> Ranked {
    let mut r = Ranked {
        idx: [0; 8],
        len: 0,
    };
    let mut val = [0f64; 8];
    for (i, p) in t.positions.iter().enumerate().take(8) {
        let n = if debt { p.debt } else { p.deposit };
        if !t.valid[i] || n == 0 {
            continue;
        }
        let v = t.usd(i, n);
        // Insertion by value, descending.
        let mut k = r.len;
        while k > 0 && val[k - 1] < v {
            val[k] = val[k - 1];
            r.idx[k] = r.idx[k - 1];
            k -= 1;
        }
        val[k] = v;
        r.idx[k] = i;
        r.len += 1;
    }
    r
}

/// Liquidates `t` under `policy` within `capital` USD (reduced by what is repaid); the fills, in
/// order, go to `fills`. Returns the account's maintenance health after the last fill (the
/// program's `replacing` or the plan's `health_after`, bit-identical to computing it again).
pub fn liquidate(
    policy: Policy,
    prog: &SimProgram,
    t: &mut Target,
    before: Health,
    capital: &mut f64,
    fills: &mut Vec<Fill>,
) -> Option<Health> {
    match policy {
        Policy::Scalpel => scalpel(prog, t, before, capital, fills, false),
        Policy::ScalpelScaled => scalpel(prog, t, before, capital, fills, true),
        Policy::Binary => binary(prog, t, before, capital, fills),
        Policy::AaveV3 | Policy::CloseFactor20 => {
            close_factor(policy, prog, t, before, capital, fills)
        }
    }
}

/// Applies `fill` and returns the health after it.
fn apply(
    prog: &SimProgram,
    t: &mut Target,
    fill: Fill,
    capital: &mut f64,
    fills: &mut Vec<Fill>,
) -> Option<Health> {
    let (ai, li) = (fill.asset, fill.liab);
    *capital -= t.usd(li, fill.repay);
    t.positions[ai].deposit = t.positions[ai].deposit.saturating_sub(fill.seized);
    t.positions[li].debt = t.positions[li].debt.saturating_sub(fill.repay);
    fills.push(fill);
    // Over a handful of positions computing health again is cheaper than `replacing` (which
    // computes four contributions), and exactly the same.
    compute_maint_health(t.positions, &prog.liquidation.health).ok()
}

/// The keeper's chaining: each call takes the pair whose plan restores the most health, until
/// `health_end ≥ 0` (the program clears the flag) or nothing more can be planned. `scaled`:
/// the markets' health-scaled curves instead of their flat penalties.
fn scalpel(
    prog: &SimProgram,
    t: &mut Target,
    mut before: Health,
    capital: &mut f64,
    fills: &mut Vec<Fill>,
    scaled: bool,
) -> Option<Health> {
    let params = &prog.liquidation;
    let mut after = None;
    for _ in 0..8 {
        if !before.is_liquidatable(*t.being) {
            break;
        }
        // The best plan's fill and health after it: only these are kept (a whole plan is
        // three times the size, and copying it showed in the profile).
        let mut best: Option<(Fill, Health)> = None;
        // Slot order, as the keeper tries the pairs (the first of equal plans wins).
        let n = t.positions.len();
        for li in (0..n).filter(|&k| t.valid[k] && t.positions[k].debt > 0) {
            let max_repay = affordable(*capital, t, li);
            if max_repay == 0 {
                continue;
            }
            for ai in (0..n).filter(|&k| t.valid[k] && t.positions[k].deposit > 0) {
                let m = &prog.markets[usize::from(t.markets[ai])];
                let penalty = if scaled {
                    m.scaled
                } else {
                    PenaltyCurve::flat(m.penalty)
                };
                let Ok(p) = plan_liquidation_from(
                    before,
                    t.positions,
                    ai,
                    li,
                    penalty,
                    *t.being,
                    max_repay,
                    params,
                ) else {
                    continue;
                };
                if best.as_ref().is_none_or(|b| p.health_after.end > b.1.end) {
                    let fill = Fill {
                        asset: ai,
                        liab: li,
                        max_repay,
                        repay: p.repay,
                        seized: p.seized,
                        split: Some((p.to_liquidator, p.to_insurance, p.to_treasury)),
                    };
                    best = Some((fill, p.health_after));
                }
            }
        }
        let Some((fill, health_after)) = best else {
            break;
        };
        let (ai, li) = (fill.asset, fill.liab);
        *t.being = health_after.end < I80F48::ZERO;
        *capital -= t.usd(li, fill.repay);
        t.positions[ai].deposit = t.positions[ai].deposit.saturating_sub(fill.seized);
        t.positions[li].debt = t.positions[li].debt.saturating_sub(fill.repay);
        fills.push(fill);
        before = health_after;
        after = Some(health_after);
        if !*t.being {
            break;
        }
    }
    after
}

/// One alternative repay of `want` units of `li` against `ai`; the health after, or `None` when
/// it moves nothing.
fn alt_fill(
    prog: &SimProgram,
    t: &mut Target,
    (ai, li): (usize, usize),
    want: u64,
    capital: &mut f64,
    fills: &mut Vec<Fill>,
) -> Option<Health> {
    let penalty = prog.markets[usize::from(t.markets[ai])].penalty;
    let a = alternative(t.positions, ai, li, penalty, want).ok()?;
    if a.repay == 0 {
        return None;
    }
    let fill = Fill {
        asset: ai,
        liab: li,
        max_repay: want,
        repay: a.repay,
        seized: a.seized,
        split: None,
    };
    apply(prog, t, fill, capital, fills)
}

/// Every debt in full against the collateral, largest first, if the capital covers it all.
fn binary(
    prog: &SimProgram,
    t: &mut Target,
    before: Health,
    capital: &mut f64,
    fills: &mut Vec<Fill>,
) -> Option<Health> {
    if before.maint >= I80F48::ZERO || before.liab_value.to_num::<f64>() > *capital {
        return None;
    }
    let mut after = None;
    for &li in ranked(t, true).as_slice() {
        for &ai in ranked(t, false).as_slice() {
            let want = t.positions[li].debt;
            if want == 0 {
                break;
            }
            if let Some(next) = alt_fill(prog, t, (ai, li), want, capital, fills) {
                after = Some(next);
            }
        }
    }
    after
}

/// Aave v3's health factor threshold for a full close.
const AAVE_FULL_BELOW_HF: f64 = 0.95;
/// Aave v3.3's position size under which a position may be closed whole, USD.
const AAVE_FULL_BELOW_USD: f64 = 2_000.0;

fn close_factor(
    policy: Policy,
    prog: &SimProgram,
    t: &mut Target,
    before: Health,
    capital: &mut f64,
    fills: &mut Vec<Fill>,
) -> Option<Health> {
    let mut h = before;
    let mut after = None;
    for _ in 0..32 {
        if h.maint >= I80F48::ZERO {
            break;
        }
        let (debts, deposits) = (ranked(t, true), ranked(t, false));
        let (Some(&li), Some(&ai)) = (debts.as_slice().first(), deposits.as_slice().first()) else {
            break;
        };
        let debt = t.positions[li].debt;
        let full = match policy {
            Policy::AaveV3 => {
                let hf = h.ratio().map_or(f64::INFINITY, |r| r.to_num::<f64>());
                hf < AAVE_FULL_BELOW_HF
                    || t.usd(li, debt) < AAVE_FULL_BELOW_USD
                    || t.usd(ai, t.positions[ai].deposit) < AAVE_FULL_BELOW_USD
            }
            _ => false,
        };
        let want = match (policy, full) {
            (_, true) => debt,
            (Policy::AaveV3, false) => debt / 2,
            _ => debt / 5,
        }
        .max(1)
        .min(affordable(*capital, t, li));
        if want == 0 {
            break;
        }
        match alt_fill(prog, t, (ai, li), want, capital, fills) {
            Some(next) => {
                h = next;
                after = Some(next);
            }
            None => break,
        }
    }
    after
}
