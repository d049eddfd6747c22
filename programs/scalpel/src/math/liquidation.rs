//! Exact partial liquidation (SPEC section 5), as one pure function used by the `liquidate`
//! instruction, `health_view`'s plan, the keeper, the scenario runner and the CLI alike.

use super::fixed::*;
use super::health::{compute_health, Health, HealthParams, HealthPosition};

/// Protocol parameters of a liquidation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiquidationParams {
    /// Health parameters (the liquidation buffer `b` among them).
    pub health: HealthParams,
    /// Liquidator share `s_L` of the penalty, as a fraction.
    pub split_liquidator: I80F48,
    /// Insurance share `s_I`.
    pub split_insurance: I80F48,
    /// Treasury share `s_T`.
    pub split_treasury: I80F48,
    /// Positions worth less than this (USD) are closed out whole.
    pub dust_threshold: I80F48,
    /// `r_full`: the maintenance health ratio at and below which a market's full penalty
    /// applies ([`PenaltyCurve`]).
    pub full_penalty_health_ratio: I80F48,
}

/// A market's liquidation penalty as a function of the account's health: `max` (the full
/// penalty `π`) at and below the maintenance health ratio `r_full` (a protocol parameter,
/// [`LiquidationParams::full_penalty_health_ratio`]), falling linearly to `min` (`π_min`) at a
/// ratio of 1, so an account liquidated early pays less and only a sinking one pays all (Aave
/// v4's and Kamino's curve): `t = clamp((1 − HR) / (1 − r_full), 0, 1)`,
/// `π = π_min + (π − π_min) · t`, with `HR = A_maint / L_maint` before the liquidation.
/// `min = max` is a flat penalty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PenaltyCurve {
    /// `π_min`, at a health ratio of 1 and above.
    pub min: I80F48,
    /// `π`, at `r_full` and below.
    pub max: I80F48,
}

impl PenaltyCurve {
    /// A flat penalty `π` at every health.
    pub fn flat(penalty: I80F48) -> Self {
        PenaltyCurve {
            min: penalty,
            max: penalty,
        }
    }

    /// The penalty for an account of health `h` (its maintenance figures before the
    /// liquidation) with `r_full = full_health_ratio`. Rounded down, in the liquidatee's
    /// favour: the ratio is rounded up and each later step truncated, every step monotone, so
    /// the penalty never falls as health falls.
    pub fn at(&self, h: &Health, full_health_ratio: I80F48) -> MathResult<I80F48> {
        if self.min >= self.max {
            return Ok(self.max);
        }
        // At a ratio of 1 or above the minimum applies; comparing first also avoids a quotient
        // beyond I80F48's range (a dust debt against a large deposit, found by plan_properties).
        if h.liab_maint <= I80F48::ZERO || h.asset_maint >= h.liab_maint {
            return Ok(self.min);
        }
        let span = I80F48::ONE.safe_sub(full_health_ratio)?;
        if span <= I80F48::ZERO {
            return Ok(self.max);
        }
        let ratio = div_ceil(h.asset_maint.max(I80F48::ZERO), h.liab_maint)?;
        if ratio >= I80F48::ONE {
            return Ok(self.min);
        }
        let t = I80F48::ONE
            .safe_sub(ratio)?
            .safe_div(span)?
            .min(I80F48::ONE);
        let penalty = self
            .min
            .safe_add(self.max.safe_sub(self.min)?.safe_mul(t)?)?;
        Ok(penalty.min(self.max))
    }
}

impl PenaltyCurve {
    /// The curve of `[min, max]` bps.
    pub fn from_bps([min, max]: [u16; 2]) -> PenaltyCurve {
        PenaltyCurve {
            min: crate::math::bps_u16(min),
            max: crate::math::bps_u16(max),
        }
    }
}

impl From<I80F48> for PenaltyCurve {
    fn from(penalty: I80F48) -> Self {
        PenaltyCurve::flat(penalty)
    }
}

/// Why a liquidation cannot proceed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiquidationError {
    /// Neither `maint < 0` nor (being liquidated and `end < 0`).
    NotLiquidatable,
    /// Asset and liability are the same position.
    SameMarket,
    /// The asset position holds no deposit.
    NoCollateral,
    /// The liability position holds no debt.
    NoDebt,
    /// `κ ≤ 0`: parameters outside governance bounds.
    KappaNotPositive,
    /// The caps leave nothing to repay.
    NothingToLiquidate,
    /// Arithmetic failed.
    Math(MathError),
}

impl From<MathError> for LiquidationError {
    fn from(e: MathError) -> Self {
        LiquidationError::Math(e)
    }
}

/// What bounded the repaid amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepayBound {
    /// Exactly `x_need`: the account lands on its target.
    Need,
    /// The whole debt in the liability market.
    Debt,
    /// The collateral in the asset market ran out.
    Collateral,
    /// The liquidator's `max_repay`.
    MaxRepay,
    /// A dust remainder of debt was repaid whole.
    DustDebt,
    /// A dust remainder of collateral was taken whole.
    DustCollateral,
}

/// The exact liquidation of one (asset, liability) pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiquidationPlan {
    /// Native units of the liability repaid (`x`).
    pub repay: u64,
    /// Native units of collateral seized (`S`).
    pub seized: u64,
    /// Part of `S` paid to the liquidator.
    pub to_liquidator: u64,
    /// Part of `S` paid to the asset market's insurance vault.
    pub to_insurance: u64,
    /// Part of `S` paid to the asset market's treasury vault.
    pub to_treasury: u64,
    /// `x_need` before the caps.
    pub repay_needed: u64,
    /// What bounded `x`.
    pub bound: RepayBound,
    /// Liquidator bonus rate `π_L`.
    pub bonus_liquidator: I80F48,
    /// Insurance rate `π_I`.
    pub bonus_insurance: I80F48,
    /// Treasury rate `π_T`.
    pub bonus_treasury: I80F48,
    /// Effective penalty `π_e = π_L + π_I + π_T`.
    pub penalty_effective: I80F48,
    /// The penalty `π` the account's health gave on the market's curve, before the surplus cap.
    pub penalty: I80F48,
    /// `κ`.
    pub kappa: I80F48,
    /// Health before.
    pub health_before: Health,
    /// Health after, from the balances with `x` and `S` applied.
    pub health_after: Health,
}

/// Plans the liquidation of `positions[asset]`'s deposit against `positions[liab]`'s debt, with
/// `penalty` the asset market's penalty curve (or a flat `π`).
pub fn plan_liquidation(
    positions: &[HealthPosition],
    asset: usize,
    liab: usize,
    penalty: impl Into<PenaltyCurve>,
    being_liquidated: bool,
    max_repay: u64,
    params: &LiquidationParams,
) -> Result<LiquidationPlan, LiquidationError> {
    // The same refusals, in the same order, as before any health is computed.
    if asset == liab {
        return Err(LiquidationError::SameMarket);
    }
    positions.get(asset).ok_or(LiquidationError::NoCollateral)?;
    positions.get(liab).ok_or(LiquidationError::NoDebt)?;
    let before = compute_health(positions, &params.health)?;
    plan_liquidation_from(
        before,
        positions,
        asset,
        liab,
        penalty,
        being_liquidated,
        max_repay,
        params,
    )
}

/// [`plan_liquidation`] from the account's health already computed over `positions` (the
/// program passes a maintenance-only health, [`super::health::compute_maint_health`]: the plan
/// needs no init figure, and its `health_after` then has none either).
#[allow(clippy::too_many_arguments)]
pub fn plan_liquidation_from(
    before: Health,
    positions: &[HealthPosition],
    asset: usize,
    liab: usize,
    penalty: impl Into<PenaltyCurve>,
    being_liquidated: bool,
    max_repay: u64,
    params: &LiquidationParams,
) -> Result<LiquidationPlan, LiquidationError> {
    if asset == liab {
        return Err(LiquidationError::SameMarket);
    }
    let a = *positions.get(asset).ok_or(LiquidationError::NoCollateral)?;
    let l = *positions.get(liab).ok_or(LiquidationError::NoDebt)?;
    if !before.is_liquidatable(being_liquidated) {
        return Err(LiquidationError::NotLiquidatable);
    }
    // The penalty on the market's curve at the account's health before the liquidation; from
    // here on it enters exactly where a flat penalty does.
    let penalty = penalty
        .into()
        .at(&before, params.full_penalty_health_ratio)?;
    if a.deposit == 0 {
        return Err(LiquidationError::NoCollateral);
    }
    if l.debt == 0 {
        return Err(LiquidationError::NoDebt);
    }
    // Prices are per whole token; `d_i`, `d_j` scale to native units (see `token_value`).
    let (p_i, p_j) = (a.price, l.price);
    let (d_i, d_j) = (a.decimals, l.decimals);
    if p_i <= I80F48::ZERO || p_j <= I80F48::ZERO {
        return Err(LiquidationError::Math(math_err()));
    }

    // Surplus cap: the protocol's cut never pushes the account into bad debt. LV > 0 here (a
    // debt at a positive price), so AV/LV fails only by overflow: a surplus beyond any cap.
    let sigma = div_fast(before.asset_value, before.liab_value)
        .unwrap_or(I80F48::MAX)
        .safe_sub(I80F48::ONE)?;
    let pi_l = penalty.safe_mul(params.split_liquidator)?;
    let protocol_split = params.split_insurance.safe_add(params.split_treasury)?;
    let pi_p = sigma
        .safe_sub(pi_l)?
        .min(penalty.safe_mul(protocol_split)?)
        .max(I80F48::ZERO);
    let (pi_i, pi_t) = if protocol_split > I80F48::ZERO {
        let pi_i = pi_p
            .safe_mul(params.split_insurance)?
            .safe_div(protocol_split)?;
        (pi_i, pi_p.safe_sub(pi_i)?)
    } else {
        (I80F48::ZERO, I80F48::ZERO)
    };
    let pi_e = pi_l.safe_add(pi_p)?;
    let one_pe = I80F48::ONE.safe_add(pi_e)?;
    if one_pe <= I80F48::ZERO {
        // A penalty of −100 % or less: outside any bound (the quotients below assume > 0).
        return Err(LiquidationError::Math(math_err()));
    }

    // κ = (1 + b)·wL_j − (1 + π_e)·wA_i.
    let kappa = I80F48::ONE
        .safe_add(params.health.liquidation_buffer)?
        .safe_mul(l.liab_weight_maint)?
        .safe_sub(one_pe.safe_mul(a.asset_weight_maint)?)?;
    if kappa <= I80F48::ZERO {
        return Err(LiquidationError::KappaNotPositive);
    }

    // x_need = ceil(−end / κ / p_j), each quotient rounded up. Two divisions, not one by the
    // product κ·p_j: that product of two small numbers would be truncated to few significant
    // bits and x_need overshoot by up to (−end)·δ/(κ·p_j)² units. With −end ≥ 0, κ > 0 and
    // p_j > 0 the only failure is a need beyond u64 (a large deficit repaid in a token worth
    // little per native unit): kept as 2^64 in u128 so the caps below still bind.
    let need = |deficit: I80F48| -> u128 {
        div_ceil(deficit.max(I80F48::ZERO), kappa)
            .and_then(|q| native_amount_ceil(q, p_j, d_j))
            .and_then(ceil_u64)
            .map_or(u64::MAX as u128 + 1, u128::from)
    };
    // Collateral cap: floor(C_i · p_i / (1 + π_e) / p_j), each quotient truncated; beyond u64
    // (only by overflow) it cannot bind.
    let coll_value = token_value(a.deposit, p_i, d_i)?;
    let x_coll = coll_value
        .safe_div(one_pe)
        .and_then(|q| native_amount(q, p_j, d_j))
        .and_then(floor_u64)
        .unwrap_or(u64::MAX);

    // The caps, the dust rules, the seizure and its split for a need of `x_need` units.
    let plan_for = |x_need: u128| -> Result<LiquidationPlan, LiquidationError> {
        let mut x = x_need;
        let mut bound = RepayBound::Need;
        for (cap, why) in [
            (l.debt, RepayBound::Debt),
            (x_coll, RepayBound::Collateral),
            (max_repay, RepayBound::MaxRepay),
        ] {
            if u128::from(cap) < x {
                x = u128::from(cap);
                bound = why;
            }
        }
        // x ≤ debt now.
        let mut x = u64::try_from(x).or_math_err()?;
        let x_need = u64::try_from(x_need).unwrap_or(u64::MAX);

        // Dust: a debt remainder worth less than the threshold is repaid whole when allowed.
        let debt_left = l.debt.safe_sub(x)?;
        if debt_left > 0
            && token_value(debt_left, p_j, d_j)? < params.dust_threshold
            && l.debt <= x_coll
            && l.debt <= max_repay
        {
            x = l.debt;
            bound = RepayBound::DustDebt;
        }
        let mut seized = seize(x, (p_j, d_j), one_pe, (p_i, d_i), a.deposit)?;
        // Dust: a collateral remainder worth less than the threshold is taken whole, with x
        // sized from it (rounded up, against the liquidator).
        let coll_left = a.deposit.safe_sub(seized)?;
        if coll_left > 0 && token_value(coll_left, p_i, d_i)? < params.dust_threshold {
            // The collateral's value rounded up: sized from a truncated value, the liquidator
            // could pay up to one rounding step less than it takes. (Beyond u64, only by
            // overflow, it exceeds the debt: no close-out.)
            let x_all = token_value_ceil(a.deposit, p_i, d_i)
                .and_then(|v| div_ceil(v, one_pe))
                .and_then(|q| native_amount_ceil(q, p_j, d_j))
                .and_then(ceil_u64)
                .unwrap_or(u64::MAX);
            let x_all = x_all.max(x);
            if x_all < u64::MAX && x_all <= l.debt && x_all <= max_repay {
                x = x_all;
                seized = a.deposit;
                bound = RepayBound::DustCollateral;
            }
        }
        if x == 0 {
            return Err(LiquidationError::NothingToLiquidate);
        }

        // The three shares; the liquidator's is the exact remainder, so they sum to S. The
        // protocol's shares are capped by S: in a dust close-out x is rounded up, and when one
        // unit of j is worth more than the whole collateral, x · p_j · π_P alone can exceed S.
        let repaid_value = token_value(x, p_j, d_j)?;
        let to_insurance =
            floor_u64(native_amount(repaid_value.safe_mul(pi_i)?, p_i, d_i)?)?.min(seized);
        let to_treasury = floor_u64(native_amount(repaid_value.safe_mul(pi_t)?, p_i, d_i)?)?
            .min(seized.safe_sub(to_insurance)?);
        let to_liquidator = seized.safe_sub(to_insurance)?.safe_sub(to_treasury)?;

        let (mut a_after, mut l_after) = (a, l);
        a_after.deposit = a.deposit.safe_sub(seized)?;
        l_after.debt = l.debt.safe_sub(x)?;
        let health_after = before.replacing(&[a, l], &[a_after, l_after], &params.health)?;

        Ok(LiquidationPlan {
            repay: x,
            seized,
            to_liquidator,
            to_insurance,
            to_treasury,
            repay_needed: x_need,
            bound,
            bonus_liquidator: pi_l,
            bonus_insurance: pi_i,
            bonus_treasury: pi_t,
            penalty_effective: pi_e,
            penalty,
            kappa,
            health_before: before,
            health_after,
        })
    };
    let mut x_need = need(I80F48::ZERO.safe_sub(before.end)?);
    let mut plan = plan_for(x_need)?;
    // κ is kept to 2^-48, so x_need's quotient is short by up to x·δ/κ units: nothing for any
    // ordinary amount (the ceiling absorbs it), but beyond ~1e14 native units a plan bounded by
    // its need can land short of the target (found at 9 decimals). Then the shortfall is repaid
    // too, by the same formula, until the target is met (one round in practice; bounded).
    for _ in 0..4 {
        if plan.bound != RepayBound::Need || plan.health_after.end >= I80F48::ZERO {
            break;
        }
        let short = need(I80F48::ZERO.safe_sub(plan.health_after.end)?);
        x_need = x_need.saturating_add(short.max(1));
        plan = plan_for(x_need)?;
    }
    Ok(plan)
}

/// `S = min(C_i, floor(x · p_j · (1 + π_e) / p_i))`, prices per whole token with decimals.
fn seize(
    x: u64,
    (p_j, d_j): (I80F48, u8),
    one_pe: I80F48,
    (p_i, d_i): (I80F48, u8),
    deposit: u64,
) -> MathResult<u64> {
    let value = token_value(x, p_j, d_j)?.safe_mul(one_pe)?;
    Ok(floor_u64(native_amount(value, p_i, d_i)?)?.min(deposit))
}

/// What other liquidation designs would take from the same account at the same prices and
/// penalty, for comparison: the whole debt (full liquidation) or half of it (Aave's 50% close
/// factor), each bounded by the collateral.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Alternative {
    /// Liability repaid.
    pub repay: u64,
    /// Collateral seized (penalty included).
    pub seized: u64,
}

/// Full and 50%-close-factor alternatives for the same pair, with the full penalty `π`.
pub fn alternatives(
    positions: &[HealthPosition],
    asset: usize,
    liab: usize,
    penalty: I80F48,
) -> MathResult<(Alternative, Alternative)> {
    let l = positions.get(liab).or_math_err()?;
    Ok((
        alternative(positions, asset, liab, penalty, l.debt)?,
        alternative(positions, asset, liab, penalty, l.debt / 2)?,
    ))
}

/// One alternative design's liquidation of the pair: `want` units of the liability repaid, at
/// most what the collateral covers at the full penalty `π`, and the collateral seized for it at
/// that penalty (any close factor, the whole debt for a full liquidation). Rounded as the plan
/// rounds: the repay cap and the seizure truncate.
pub fn alternative(
    positions: &[HealthPosition],
    asset: usize,
    liab: usize,
    penalty: I80F48,
    want: u64,
) -> MathResult<Alternative> {
    let a = positions.get(asset).or_math_err()?;
    let l = positions.get(liab).or_math_err()?;
    let one_p = I80F48::ONE.safe_add(penalty)?;
    if one_p <= I80F48::ZERO {
        return Err(math_err());
    }
    // Beyond u64 (only by overflow) the collateral covers any repay.
    let x_coll = token_value(a.deposit, a.price, a.decimals)?
        .safe_div(one_p)
        .and_then(|q| native_amount(q, l.price, l.decimals))
        .and_then(floor_u64)
        .unwrap_or(u64::MAX);
    let repay = want.min(x_coll);
    Ok(Alternative {
        repay,
        seized: seize(
            repay,
            (l.price, l.decimals),
            one_p,
            (a.price, a.decimals),
            a.deposit,
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The health-scaled penalty's hand table (issue 11): π_min 2%, π 8%, r_full 0.95, with
    /// `L_maint` = 1 000 USD and `A_maint` = ratio · 1 000.
    #[test]
    fn penalty_curve_hand_table() {
        let curve = PenaltyCurve {
            min: bps(200).unwrap(),
            max: bps(800).unwrap(),
        };
        let r_full = bps(9_500).unwrap();
        let at = |curve: &PenaltyCurve, asset_maint: u64| {
            let h = Health {
                asset_maint: fx(asset_maint),
                liab_maint: fx(1_000),
                ..Health::default()
            };
            curve.at(&h, r_full).unwrap()
        };
        for (asset_maint, want) in [(1_000, 0.02), (980, 0.044), (950, 0.08), (900, 0.08)] {
            let got = at(&curve, asset_maint);
            assert!(
                (got - f(want)).abs() < f(1e-12),
                "HR {asset_maint}/1000: {got} (want {want})"
            );
            // Not above the exact value: the penalty rounds in the liquidatee's favour.
            assert!(got <= f(want) + f(1e-15), "HR {asset_maint}/1000: {got}");
        }
        // Above a ratio of 1 (hysteresis: maint ≥ 0 while end < 0) the minimum; no debt, the
        // minimum; a flat curve is flat.
        assert_eq!(at(&curve, 1_010), curve.min);
        assert_eq!(curve.at(&Health::default(), r_full).unwrap(), curve.min);
        let flat = PenaltyCurve::flat(bps(500).unwrap());
        for asset_maint in [1_000, 970, 500] {
            assert_eq!(at(&flat, asset_maint), bps(500).unwrap());
        }
    }

    fn f(v: f64) -> I80F48 {
        I80F48::from_num(v)
    }

    fn params() -> LiquidationParams {
        LiquidationParams {
            health: HealthParams {
                conf_multiplier: f(2.12),
                max_conf_bias: f(0.05),
                liquidation_buffer: f(0.02),
            },
            split_liquidator: f(0.6),
            split_insurance: f(0.25),
            split_treasury: f(0.15),
            dust_threshold: f(1.0),
            full_penalty_health_ratio: f(0.95),
        }
    }

    fn pos(deposit: u64, debt: u64, price: f64, wa: f64, wl: f64) -> HealthPosition {
        HealthPosition {
            deposit,
            debt,
            price: f(price),
            conf: I80F48::ZERO,
            ema_price: f(price),
            ema_conf: I80F48::ZERO,
            asset_weight_init: f(wa),
            asset_weight_maint: f(wa),
            liab_weight_init: f(wl),
            liab_weight_maint: f(wl),
            decimals: 0,
        }
    }

    /// Every input a binary fraction, so each fixed-point step is exact (or, for σ and x_coll,
    /// only compared against a cap it clears by far) and every result is pinned with `==`.
    /// Buffer b = 1/32, split s_L = 1/2, s_I = 3/8, s_T = 1/8, dust 1 USD, penalty π = 1/8.
    fn binary_params() -> LiquidationParams {
        LiquidationParams {
            health: HealthParams {
                conf_multiplier: f(2.0),
                max_conf_bias: f(0.0625),
                liquidation_buffer: f(0.03125),
            },
            split_liquidator: f(0.5),
            split_insurance: f(0.375),
            split_treasury: f(0.125),
            dust_threshold: f(1.0),
            full_penalty_health_ratio: f(0.95),
        }
    }

    /// Hand table. Collateral: 4000 units at 1/4 USD (1000 USD, wA 3/4); debt: 795 units at
    /// 1 USD (wL 1); conf 0, so init biases play no part (nor do the collateral's wL and the
    /// debt's wA: neither position holds the other side).
    ///
    /// | step | arithmetic | value |
    /// |---|---|---|
    /// | AV, A_maint | 4000 · 1/4 = 1000; 1000 · 3/4 | 1000, 750 |
    /// | LV, L_maint | 795 · 1 · 1 | 795 |
    /// | maint | 750 − 795 | −45 |
    /// | end | 750 − 33/32 · 795 = 750 − 819.84375 | −69.84375 |
    /// | σ | 1000/795 − 1 ≈ 0.258 | |
    /// | π_L | π · s_L = 1/8 · 1/2 | 1/16 |
    /// | π_P | min(σ − π_L ≈ 0.195, π · (s_I + s_T) = 1/16) | 1/16 |
    /// | π_I, π_T | 1/16 · 3/8 / (1/2); 1/16 − 3/64 | 3/64, 1/64 |
    /// | π_e | 1/16 + 1/16 | 1/8 |
    /// | κ | 33/32 · 1 − 9/8 · 3/4 = 33/32 − 27/32 | 3/16 |
    /// | x_need | ceil(69.84375 / (3/16) / 1) = ceil(372.5) | 373 |
    /// | x_coll | floor(1000 / (9/8) / 1) = floor(888.9) (> x_need, debt 795 > x_need) | 888 |
    /// | x | min(373, 795, 888, ∞); debt left 422 USD ≥ 1 (no dust) | 373 (Need) |
    /// | S | floor(373 · 1 · 9/8 / (1/4)) = floor(1678.5) | 1678 |
    /// | collateral left | 4000 − 1678 = 2322 units = 580.5 USD ≥ 1 (no dust) | |
    /// | to_insurance | floor(373 · 1 · 3/64 / (1/4)) = floor(69.9375) | 69 |
    /// | to_treasury | floor(373 · 1 · 1/64 / (1/4)) = floor(23.3125) | 23 |
    /// | to_liquidator | 1678 − 69 − 23 | 1586 |
    /// | A_maint after | 2322 · 1/4 · 3/4 | 435.375 |
    /// | L_maint after | 422 · 1 · 1 | 422 |
    /// | maint after | 435.375 − 422 | 13.375 |
    /// | end after | 435.375 − 33/32 · 422 = 435.375 − 435.1875 | 0.1875 |
    ///
    /// `end` after is the two roundings, both against the liquidator: x rounded up by half a unit
    /// (0.5 · κ · 1 = 0.09375) and S floored by half a unit (0.5 · 1/4 · 3/4 = 0.09375).
    #[test]
    fn hand_table_partial() {
        let ps = [
            pos(4_000, 0, 0.25, 0.75, 1.25),
            pos(0, 795, 1.0, 0.9375, 1.0),
        ];
        let p = plan_liquidation(&ps, 0, 1, f(0.125), false, u64::MAX, &binary_params()).unwrap();
        let h = p.health_before;
        assert_eq!((h.asset_value, h.asset_maint), (f(1000.0), f(750.0)));
        assert_eq!((h.liab_value, h.liab_maint), (f(795.0), f(795.0)));
        assert_eq!((h.maint, h.end), (f(-45.0), f(-69.84375)));
        assert_eq!(p.bonus_liquidator, f(0.0625));
        assert_eq!(p.bonus_insurance, f(0.046875));
        assert_eq!(p.bonus_treasury, f(0.015625));
        assert_eq!(p.penalty_effective, f(0.125));
        assert_eq!(p.kappa, f(0.1875));
        assert_eq!(p.repay_needed, 373);
        assert_eq!(p.repay, 373);
        assert_eq!(p.bound, RepayBound::Need);
        assert_eq!(p.seized, 1_678);
        assert_eq!(p.to_insurance, 69);
        assert_eq!(p.to_treasury, 23);
        assert_eq!(p.to_liquidator, 1_586);
        let a = p.health_after;
        assert_eq!((a.asset_value, a.asset_maint), (f(580.5), f(435.375)));
        assert_eq!((a.liab_value, a.liab_maint), (f(422.0), f(422.0)));
        assert_eq!((a.maint, a.end), (f(13.375), f(0.1875)));
    }

    #[test]
    fn surplus_cap_shrinks_protocol_cut() {
        // AV/LV = 1000/990: σ = 1.01% < π_L = 3% → π_P = 0, π_e = π_L.
        let ps = [pos(10_000, 0, 0.1, 0.9, 1.1), pos(0, 990, 1.0, 0.95, 1.0)];
        let p = plan_liquidation(&ps, 0, 1, f(0.05), false, u64::MAX, &params()).unwrap();
        assert_eq!(p.bonus_insurance, I80F48::ZERO);
        assert_eq!(p.bonus_treasury, I80F48::ZERO);
        assert_eq!(p.to_insurance + p.to_treasury, 0);
        assert!((p.penalty_effective - f(0.03)).abs() < f(1e-12));
    }

    #[test]
    fn refusals() {
        let healthy = [pos(10_000, 0, 0.1, 0.9, 1.1), pos(0, 500, 1.0, 0.95, 1.0)];
        let e = plan_liquidation(&healthy, 0, 1, f(0.05), false, u64::MAX, &params());
        assert_eq!(e, Err(LiquidationError::NotLiquidatable));
        let sick = [pos(10_000, 0, 0.1, 0.9, 1.1), pos(0, 950, 1.0, 0.95, 1.0)];
        assert_eq!(
            plan_liquidation(&sick, 0, 0, f(0.05), false, u64::MAX, &params()),
            Err(LiquidationError::SameMarket)
        );
        assert_eq!(
            plan_liquidation(&sick, 1, 0, f(0.05), false, u64::MAX, &params()),
            Err(LiquidationError::NoCollateral)
        );
        assert_eq!(
            plan_liquidation(&sick, 0, 1, f(0.05), false, 0, &params()),
            Err(LiquidationError::NothingToLiquidate)
        );
        let p = plan_liquidation(&sick, 0, 1, f(0.05), false, 100, &params()).unwrap();
        assert_eq!((p.repay, p.bound), (100, RepayBound::MaxRepay));
    }

    #[test]
    fn dust_debt_is_repaid_whole() {
        // x_need = 63.9 / 0.075 = 852 would leave 93 USD of debt, under a 100 USD threshold,
        // and the collateral covers all 945: the whole debt is repaid.
        let mut prm = params();
        prm.dust_threshold = f(100.0);
        let ps = [pos(10_000, 0, 0.1, 0.9, 1.1), pos(0, 945, 1.0, 0.95, 1.0)];
        let p = plan_liquidation(&ps, 0, 1, f(0.05), false, u64::MAX, &prm).unwrap();
        assert_eq!(p.bound, RepayBound::DustDebt);
        assert_eq!(p.repay, 945);
    }

    #[test]
    fn alternatives_table() {
        let ps = [pos(10_000, 0, 0.1, 0.9, 1.1), pos(0, 950, 1.0, 0.95, 1.0)];
        let (full, half) = alternatives(&ps, 0, 1, f(0.05)).unwrap();
        assert_eq!(full.repay, 950);
        assert!((9_974..=9_975).contains(&full.seized));
        assert_eq!(half.repay, 475);
        assert!((4_986..=4_987).contains(&half.seized));
    }
}
