//! Property tests of the exact partial liquidation planner (`scalpel::math::liquidation`,
//! SPEC sections 4, 5 and 11): liquidation only when liquidatable, `health_maint` strictly
//! improves, no overshoot beyond rounding, exact token conservation, the surplus cap never
//! creates bad debt through the protocol's cut, rounding bounded against the actor, no panic
//! anywhere, monotone in `max_repay`, and the full / half alternatives.
//!
//! Every position has its token's decimals, drawn from {0, 6, 8, 9} per token (so asset and
//! liability mix them), with balances and prices realistic for them: up to 10^12 native units
//! at 0 decimals and 10^18 otherwise; prices in USD per whole token, log-uniform in [1e-6, 1e5]
//! plus exact binary powers and round prices, and at 0 decimals also the original per-native-unit
//! range [1e-9, 1e3]. `u = p / 10^d` below is the USD value of one native unit.
//!
//! Exact comparisons use a 512-bit product of the raw `I80F48` bits (the approach of
//! `math_props.rs`, widened to three factors), so no rounding of the test itself can hide a
//! rounding of the code. USD amounts are exact rationals [`Q`] `v · 2^(−48·e) · 10^−9`: `e`
//! fixed-point factors and the `10^−d` of decimals up to 9 (the largest drawn) scaled out.
//! `DELTA` = δ = 2^-48 is one rounding step. `token_value` (the value of `n` units, `n · p /
//! 10^d`) is exact at 0 decimals and at most one step low otherwise (its division by 10^d
//! truncates; `token_value_ceil` one step high): the rounding slack of each bound below is
//! derived at its assertion and grows by those steps only when a token has decimals
//! (`dec_step`).
//!
//! Where SPEC section 11 or the brief states a property that does *not* hold for the formula
//! of section 6, the test checks the strongest statement that does, and the census test counts
//! how often the stated one fails; the hand tables at the end pin one counterexample each:
//! - the surplus cap protects the *protocol's* cut only: with `0 ≤ σ < π_L` the liquidator's
//!   bonus alone can turn a solvent account insolvent (`table_solvent_made_insolvent_by_bonus`);
//! - a dust-collateral close-out after the collateral cap bound leaves `health_end < 0`
//!   (`table_insolvent_takes_all_collateral`);
//! - the "full liquidation" alternative applies the full `π`, so it can repay less than the
//!   partial plan, which applies the surplus-capped `π_e < π` (`table_alternative_below_plan`);
//! - the protocol's shares are floored, so the liquidator may receive up to two native units of
//!   collateral more than `x · u_j · (1 + π_L) / u_i` (`table_floors_favour_liquidator`);
//! - `health_maint` improves strictly only when the exact gain `x · u_j · wL_j − S · u_i ·
//!   wA_i` exceeds the rounding of health (two steps, plus one per token with decimals)
//!   (`table_maint_not_improved_at_weight_bound`).
//!
//! Bugs these properties found in `math/liquidation.rs` are pinned by the regressions at the
//! end. Two that only decimals expose are not fixed yet, so `plan_properties`, the census and
//! the two `bug_*` tests at the end FAIL on the current math: κ rounded up leaves x_need short
//! (`bug_x_need_short_when_kappa_rounds_up`), and the dust close-out sizes x from a truncated
//! collateral value (`bug_dust_close_out_sized_from_truncated_collateral`). `deep_search`
//! (ignored) runs the census over many more cases. `PROPTEST_CASES=n` runs every property here
//! (and the census) with `n` cases instead of its default.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use scalpel::math::liquidation::{
    alternatives, plan_liquidation, LiquidationError, LiquidationParams, LiquidationPlan,
    PenaltyCurve, RepayBound,
};
use scalpel::math::{bps, compute_health, fx, Health, HealthParams, HealthPosition, DELTA, I80F48};

const ONE_BITS: i128 = 1 << 48;

/// The decimals the realistic strategies draw: 0 (the native unit is the token), 6 (USDC), 8
/// (wrapped BTC), 9 (SOL).
const DECIMALS: [u8; 4] = [0, 6, 8, 9];
/// The largest of [`DECIMALS`]: exact values carry a factor `10^MAX_DEC`.
const MAX_DEC: u8 = 9;

// ---------------------------------------------------------------------------------------------
// Exact arithmetic on raw bits
// ---------------------------------------------------------------------------------------------

/// A non-negative 512-bit integer, little-endian 64-bit limbs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Big([u64; 8]);

impl Ord for Big {
    fn cmp(&self, o: &Self) -> Ordering {
        self.0.iter().rev().cmp(o.0.iter().rev())
    }
}

impl PartialOrd for Big {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl Big {
    fn from_u128(v: u128) -> Self {
        let mut l = [0u64; 8];
        l[0] = v as u64;
        l[1] = (v >> 64) as u64;
        Big(l)
    }

    fn add(self, o: Self) -> Self {
        let mut r = [0u64; 8];
        let mut carry = 0u128;
        for (k, limb) in r.iter_mut().enumerate() {
            let s = self.0[k] as u128 + o.0[k] as u128 + carry;
            *limb = s as u64;
            carry = s >> 64;
        }
        assert_eq!(carry, 0, "512-bit overflow");
        Big(r)
    }

    /// Number of limbs up to the highest non-zero one.
    fn len(&self) -> usize {
        self.0.iter().rposition(|&l| l != 0).map_or(0, |k| k + 1)
    }

    fn mul(self, o: Self) -> Self {
        let (n, m) = (self.len(), o.len());
        assert!(n + m <= 9, "512-bit overflow");
        let mut r = [0u64; 8];
        for i in 0..n {
            let mut carry = 0u128;
            for j in 0..m {
                let t = self.0[i] as u128 * o.0[j] as u128 + r[i + j] as u128 + carry;
                r[i + j] = t as u64;
                carry = t >> 64;
            }
            if i + m < 8 {
                r[i + m] = carry as u64;
            } else {
                assert_eq!(carry, 0, "512-bit overflow");
            }
        }
        Big(r)
    }

    /// `self · 2^48`.
    fn shl48(self) -> Self {
        assert!(self.0[7] >> 16 == 0, "512-bit overflow");
        let mut r = [0u64; 8];
        let mut prev = 0u64;
        for (out, &l) in r.iter_mut().zip(self.0.iter()) {
            *out = (l << 48) | (prev >> 16);
            prev = l;
        }
        Big(r)
    }

    /// Approximate value, for messages and for choosing a rounding slack.
    fn to_f64(self) -> f64 {
        self.0
            .iter()
            .rev()
            .fold(0.0, |acc, &l| acc * 18_446_744_073_709_551_616.0 + l as f64)
    }
}

/// A non-negative fixed-point value in units of 2^-48.
fn raw(v: I80F48) -> Big {
    assert!(v >= I80F48::ZERO, "negative {v}");
    Big::from_u128(v.to_bits() as u128)
}

fn int(n: u64) -> Big {
    Big::from_u128(n as u128)
}

fn pow10(k: u8) -> Big {
    Big::from_u128(10u128.pow(k as u32))
}

/// An exact non-negative USD amount, `v · 2^(−48·e) · 10^−MAX_DEC`.
#[derive(Clone, Copy, Debug)]
struct Q {
    v: Big,
    e: u32,
}

impl Q {
    fn zero() -> Q {
        Q { v: int(0), e: 0 }
    }

    /// A fixed-point USD figure (a health, a deficit, a price).
    fn fixed(x: I80F48) -> Q {
        Q {
            v: raw(x).mul(pow10(MAX_DEC)),
            e: 1,
        }
    }

    /// `k` rounding steps, `k · 2^-48` USD.
    fn steps(k: u64) -> Q {
        Q {
            v: int(k).mul(pow10(MAX_DEC)),
            e: 1,
        }
    }

    /// The exact value of `n` native units at `price` USD per whole token: `n · price / 10^d`.
    fn units(n: u64, price: I80F48, decimals: u8) -> Q {
        assert!(decimals <= MAX_DEC, "decimals {decimals}");
        Q {
            v: int(n).mul(raw(price)).mul(pow10(MAX_DEC - decimals)),
            e: 1,
        }
    }

    /// `self · w` for a fixed-point factor `w ≥ 0` (a weight, a rate, `1 + π`).
    fn times(self, w: I80F48) -> Q {
        Q {
            v: self.v.mul(raw(w)),
            e: self.e + 1,
        }
    }

    fn times_int(self, k: u64) -> Q {
        Q {
            v: self.v.mul(int(k)),
            e: self.e,
        }
    }

    /// The numerator at `e` factors (`e ≥ self.e`).
    fn at(self, e: u32) -> Big {
        (self.e..e).fold(self.v, |v, _| v.shl48())
    }

    fn add(self, o: Q) -> Q {
        let e = self.e.max(o.e);
        Q {
            v: self.at(e).add(o.at(e)),
            e,
        }
    }

    /// Approximate USD value, for messages and for choosing a rounding slack.
    fn to_f64(self) -> f64 {
        self.v.to_f64() / 2f64.powi(48 * self.e as i32) / 10f64.powi(MAX_DEC as i32)
    }
}

impl PartialEq for Q {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}

impl Eq for Q {}

impl Ord for Q {
    fn cmp(&self, o: &Self) -> Ordering {
        let e = self.e.max(o.e);
        self.at(e).cmp(&o.at(e))
    }
}

impl PartialOrd for Q {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// A signed fixed-point figure as `(positive part, negative part)`, both exact.
fn signed(x: I80F48) -> (Q, Q) {
    if x >= I80F48::ZERO {
        (Q::fixed(x), Q::zero())
    } else {
        (Q::zero(), Q::fixed(-x))
    }
}

/// One rounding step if the token has decimals (the truncated division of `token_value`), else
/// none: `token_value` is exact at 0 decimals.
fn dec_step(decimals: u8) -> u64 {
    u64::from(decimals > 0)
}

/// Whether `native_amount(value, p, d)` may have taken its overflow path (`value · 10^d` beyond
/// `I80F48`, so `value / p` is truncated first and the error is multiplied by `10^d`: up to
/// `p · δ` of value). Twice the margin of the actual limit (2^79), so it never misses one.
fn may_overflow(value_usd: f64, decimals: u8) -> bool {
    value_usd * 10f64.powi(decimals as i32) >= 2f64.powi(78)
}

fn f(v: f64) -> I80F48 {
    I80F48::from_num(v)
}

fn one_plus(v: I80F48) -> I80F48 {
    I80F48::ONE + v
}

/// Unweighted asset and liability values `(AV, LV)`, exact.
fn values(positions: &[HealthPosition]) -> (Q, Q) {
    let mut av = Q::zero();
    let mut lv = Q::zero();
    for p in positions {
        av = av.add(Q::units(p.deposit, p.price, p.decimals));
        lv = lv.add(Q::units(p.debt, p.price, p.decimals));
    }
    (av, lv)
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

/// Fixed-point value with raw bits in `[lo, hi]`.
fn fx_range(lo: I80F48, hi: I80F48) -> impl Strategy<Value = I80F48> {
    (lo.to_bits()..=hi.to_bits()).prop_map(I80F48::from_bits)
}

/// The largest balance drawn: 10^12 units of a 0-decimals token, 10^18 native units otherwise
/// (a billion SOL in lamports, a trillion USDC).
fn max_amount(decimals: u8) -> u64 {
    if decimals == 0 {
        1_000_000_000_000
    } else {
        1_000_000_000_000_000_000
    }
}

/// Native amount in `[1, max_amount(d)]`: log-uniform, uniform and the ends (one whole token
/// among them).
fn amount(decimals: u8) -> impl Strategy<Value = u64> {
    let max = max_amount(decimals);
    let top = (max as f64).log10();
    prop_oneof![
        4 => (0.0f64..=top).prop_map(move |e| (10f64.powf(e) as u64).clamp(1, max)),
        1 => 1..=max,
        1 => prop::sample::select(vec![1u64, 2, 3, 1_000, 10u64.pow(decimals as u32), max]),
    ]
}

/// Realistic price in USD per whole token, `[1e-6, 1e5]`: log-uniform, exact binary powers
/// (where products are exact and rounding ties are hit), and round decimal prices.
fn token_price() -> impl Strategy<Value = I80F48> {
    prop_oneof![
        6 => (-6.0f64..=5.0).prop_map(|e| f(10f64.powf(e))),
        2 => (-19i32..=16).prop_map(|k| if k >= 0 { I80F48::ONE << k } else { I80F48::ONE >> -k }),
        1 => prop::sample::select(vec![
            f(1e-6),
            f(1e-3),
            f(0.1),
            f(1.0),
            f(150.0),
            f(65_000.0),
            f(1e5),
        ]),
    ]
}

/// The original per-native-unit price range of a 0-decimals token, `[1e-9, 1e3]`.
fn unit_price() -> impl Strategy<Value = I80F48> {
    prop_oneof![
        6 => (-9.0f64..=3.0).prop_map(|e| f(10f64.powf(e))),
        2 => (-29i32..=9).prop_map(|k| if k >= 0 { I80F48::ONE << k } else { I80F48::ONE >> -k }),
        1 => prop::sample::select(vec![f(1e-9), f(1e-6), f(1.5e-7), f(0.1), f(1.0), f(1e3)]),
    ]
}

/// Price per whole token for a token of `decimals`.
fn price(decimals: u8) -> BoxedStrategy<I80F48> {
    if decimals == 0 {
        prop_oneof![unit_price(), token_price()].boxed()
    } else {
        token_price().boxed()
    }
}

/// A market's risk parameters within governance bounds (SPEC section 8).
#[derive(Clone, Copy, Debug)]
struct Market {
    /// Liquidation penalty curve: `π ∈ [0, 25%]` (the full penalty) and `π_min ∈ [0, π]` (flat
    /// in half the cases).
    penalty: PenaltyCurve,
    /// `[wA_init, wA_maint, wL_init, wL_maint]` with `0 ≤ wA_init ≤ wA_maint ≤ 1 ≤ wL_maint ≤
    /// wL_init ≤ 2` and `(1 + π) · wA_maint < 1` exactly.
    weights: [I80F48; 4],
}

/// Whether `(1 + π) · w < 1`, exactly.
fn below_bound(penalty: I80F48, w: I80F48) -> bool {
    Q::fixed(one_plus(penalty)).times(w) < Q::fixed(I80F48::ONE)
}
fn market() -> impl Strategy<Value = Market> {
    let unit = || {
        prop_oneof![
            8 => 0..=ONE_BITS,
            1 => Just(0),
            1 => Just(ONE_BITS),
        ]
    };
    (
        prop_oneof![4 => 0u64..=2_500, 1 => prop::sample::select(vec![0u64, 500, 2_500])],
        any::<bool>(),
        unit(),
        unit(),
        unit(),
        unit(),
        prop::bool::weighted(0.25),
        prop_oneof![1 => Just(None), 1 => (0u64..=10_000).prop_map(Some)],
    )
        .prop_map(|(pen_bps, in_bps, um, ui, l1, l2, wl_one, min_frac)| {
            let penalty = bps(pen_bps).unwrap();
            let curve = PenaltyCurve {
                min: min_frac.map_or(penalty, |q| bps(pen_bps * q / 10_000).unwrap()),
                max: penalty,
            };
            let (wa_m, wa_i, wl_m, wl_i) = if in_bps {
                // What governance actually stores: bps, `(10⁴ + π) · wA < 10⁸`.
                let max_wa = (100_000_000 + 10_000 + pen_bps - 1) / (10_000 + pen_bps) - 1;
                let wa_m = (max_wa as i128 * um / ONE_BITS) as u64;
                let wa_i = (wa_m as i128 * ui / ONE_BITS) as u64;
                let wl_m = if wl_one {
                    10_000
                } else {
                    10_000 + (10_000 * l1 / ONE_BITS) as u64
                };
                let wl_i = wl_m + ((20_000 - wl_m) as i128 * l2 / ONE_BITS) as u64;
                (
                    bps(wa_m).unwrap(),
                    bps(wa_i).unwrap(),
                    bps(wl_m).unwrap(),
                    bps(wl_i).unwrap(),
                )
            } else {
                // Arbitrary bits, up to the last representable weight below the bound.
                let bound = (I80F48::ONE / one_plus(penalty)).to_bits();
                let mut wa_m = I80F48::from_bits(bound * um / ONE_BITS);
                while !below_bound(penalty, wa_m) {
                    wa_m -= DELTA;
                }
                let wa_i = I80F48::from_bits(wa_m.to_bits() * ui / ONE_BITS);
                let wl_m = if wl_one { ONE_BITS } else { ONE_BITS + l1 };
                let wl_i = wl_m + (2 * ONE_BITS - wl_m) * l2 / ONE_BITS;
                (wa_m, wa_i, I80F48::from_bits(wl_m), I80F48::from_bits(wl_i))
            };
            Market {
                penalty: curve,
                weights: [wa_i, wa_m, wl_i, wl_m],
            }
        })
}

/// One position (a deposit or a debt) in its market, with its token's decimals.
fn slot() -> impl Strategy<Value = (Market, HealthPosition)> {
    (
        market(),
        any::<bool>(),
        prop::sample::select(DECIMALS.to_vec()).prop_flat_map(|d| (Just(d), amount(d), price(d))),
        fx_range(I80F48::ZERO, f(0.02)),
    )
        .prop_map(|(m, is_deposit, (decimals, amount, price), conf)| {
            let pos = HealthPosition {
                deposit: if is_deposit { amount } else { 0 },
                debt: if is_deposit { 0 } else { amount },
                price,
                conf: price * conf,
                ema_price: price,
                ema_conf: price * conf,
                asset_weight_init: m.weights[0],
                asset_weight_maint: m.weights[1],
                liab_weight_init: m.weights[2],
                liab_weight_maint: m.weights[3],
                decimals,
            };
            (m, pos)
        })
}

/// Protocol parameters within governance bounds: buffer ≤ 20%, split in bps with `s_L ≥ 50%`
/// summing to 10 000, `k ≤ 10`, bias ≤ 20%, dust threshold in `[0, 10]` USD.
fn params() -> impl Strategy<Value = LiquidationParams> {
    (
        prop_oneof![3 => 0u64..=2_000, 1 => prop::sample::select(vec![0u64, 200, 2_000])],
        prop_oneof![
            3 => 5_000u64..=10_000,
            1 => prop::sample::select(vec![5_000u64, 6_000, 10_000]),
        ],
        0u64..=1_000,
        prop_oneof![Just(21_200u64), 0u64..=100_000],
        0u64..=2_000,
        prop_oneof![
            1 => Just(I80F48::ZERO),
            1 => Just(I80F48::ONE),
            2 => fx_range(I80F48::ZERO, fx(10)),
        ],
        prop_oneof![1 => Just(9_500u64), 2 => 5_001u64..=9_999],
    )
        .prop_map(|(buffer, s_l, q, k, bias, dust, r_full)| {
            let s_i = (10_000 - s_l) * q / 1_000;
            let s_t = 10_000 - s_l - s_i;
            LiquidationParams {
                health: HealthParams {
                    conf_multiplier: bps(k).unwrap(),
                    max_conf_bias: bps(bias).unwrap(),
                    liquidation_buffer: bps(buffer).unwrap(),
                },
                split_liquidator: bps(s_l).unwrap(),
                split_insurance: bps(s_i).unwrap(),
                split_treasury: bps(s_t).unwrap(),
                dust_threshold: dust,
                full_penalty_health_ratio: bps(r_full).unwrap(),
            }
        })
}

fn max_repay() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => Just(u64::MAX),
        1 => any::<u64>(),
        1 => amount(0),
        1 => amount(9),
        1 => 0u64..=10,
    ]
}

/// One liquidation call: the account, the pair, the asset market's `π`, the caller's cap.
#[derive(Clone, Debug)]
struct Case {
    positions: Vec<HealthPosition>,
    penalties: Vec<PenaltyCurve>,
    asset: usize,
    liab: usize,
    being: bool,
    max_repay: u64,
    params: LiquidationParams,
}

impl Case {
    fn plan_with(&self, max_repay: u64) -> Result<LiquidationPlan, LiquidationError> {
        plan_liquidation(
            &self.positions,
            self.asset,
            self.liab,
            self.penalties[self.asset],
            self.being,
            max_repay,
            &self.params,
        )
    }

    fn plan(&self) -> Result<LiquidationPlan, LiquidationError> {
        self.plan_with(self.max_repay)
    }

    fn health(&self) -> Health {
        compute_health(&self.positions, &self.params.health).expect("realistic inputs")
    }
}

/// Moves the account toward a target `A_maint / L_maint` ratio by resizing the liability (and,
/// when that would exceed `max_amount`, the deposits), so most cases are liquidatable, many near
/// the threshold, some deeply insolvent. A generator only: approximate f64 is fine here.
fn steer(positions: &mut [HealthPosition], liab: usize, ratio: f64) {
    let unit = |p: &HealthPosition| p.price.to_num::<f64>() / 10f64.powi(p.decimals as i32);
    let fv = |v: I80F48| v.to_num::<f64>();
    let a: f64 = positions
        .iter()
        .map(|p| p.deposit as f64 * unit(p) * fv(p.asset_weight_maint))
        .sum();
    let l_other: f64 = positions
        .iter()
        .enumerate()
        .filter(|(k, _)| *k != liab)
        .map(|(_, p)| p.debt as f64 * unit(p) * fv(p.liab_weight_maint))
        .sum();
    let max = max_amount(positions[liab].decimals);
    let per_unit = unit(&positions[liab]) * fv(positions[liab].liab_weight_maint);
    let want = a / ratio - l_other;
    if want <= 0.0 {
        return;
    }
    let d = (want / per_unit).ceil();
    if d <= max as f64 {
        positions[liab].debt = (d as u64).max(1);
    } else {
        positions[liab].debt = max;
        let scale = ratio * (l_other + max as f64 * per_unit) / a;
        for p in positions.iter_mut().filter(|p| p.deposit > 0) {
            p.deposit = ((p.deposit as f64 * scale) as u64).clamp(1, max_amount(p.decimals));
        }
    }
}

fn target_ratio() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        1 => Just(None),
        4 => (0.85f64..1.1).prop_map(Some),
        2 => (0.3f64..0.85).prop_map(Some),
        1 => (0.01f64..0.3).prop_map(Some),
    ]
}

/// A realistic liquidation call: 2 to 8 positions, a deposit at `asset`, a debt at `liab`.
fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(slot(), 2..=8),
        any::<Index>(),
        any::<Index>(),
        target_ratio(),
        any::<bool>(),
        max_repay(),
        params(),
    )
        .prop_map(|(slots, ia, il, ratio, being, max_repay, params)| {
            let n = slots.len();
            let asset = ia.index(n);
            let liab = il.index(n - 1);
            let liab = if liab >= asset { liab + 1 } else { liab };
            let (markets, mut positions): (Vec<Market>, Vec<HealthPosition>) =
                slots.into_iter().unzip();
            let a = &mut positions[asset];
            a.deposit = a.deposit.max(a.debt);
            a.debt = 0;
            let l = &mut positions[liab];
            l.debt = l.debt.max(l.deposit);
            l.deposit = 0;
            if let Some(r) = ratio {
                steer(&mut positions, liab, r);
            }
            Case {
                positions,
                penalties: markets.iter().map(|m| m.penalty).collect(),
                asset,
                liab,
                being,
                max_repay,
                params,
            }
        })
}

/// `cases` cases, or `PROPTEST_CASES` when set (a longer run); no regression file is written
/// (minimal failing inputs found so far are kept as deterministic tests at the end of this file
/// instead).
fn cfg(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: cases_or_env(cases),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn cases_or_env(cases: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases)
}

// ---------------------------------------------------------------------------------------------
// The checker: every property of one realistic call
// ---------------------------------------------------------------------------------------------

/// What one call did, and which stated-but-false properties it contradicted, for the census.
#[derive(Default, Debug)]
struct Report {
    outcome: String,
    notes: Vec<&'static str>,
}

fn fail(msg: String) -> TestCaseError {
    TestCaseError::fail(msg)
}

/// Checks every property of SPEC section 11 on one realistic call.
fn check(c: &Case) -> Result<Report, TestCaseError> {
    let mut r = Report::default();
    let health = c.health();
    let res = c.plan();
    let (a, l) = (c.positions[c.asset], c.positions[c.liab]);
    let curve = c.penalties[c.asset];
    prop_assert!(
        below_bound(curve.max, a.asset_weight_maint),
        "generator out of bounds"
    );
    // The penalty on the curve at this health: within the curve, and what the plan used.
    let penalty = curve
        .at(&health, c.params.full_penalty_health_ratio)
        .map_err(|e| fail(format!("penalty curve: {e}")))?;
    prop_assert!(curve.min.min(curve.max) <= penalty && penalty <= curve.max);

    // 1. Liquidation only when liquidatable.
    if !health.is_liquidatable(c.being) {
        prop_assert_eq!(res, Err(LiquidationError::NotLiquidatable));
        r.outcome = "NotLiquidatable".into();
        return Ok(r);
    }
    let plan = match res {
        Ok(p) => p,
        Err(LiquidationError::NothingToLiquidate) => {
            // Only when the liquidator allows nothing, or when the whole collateral is worth
            // less than one native unit of the liability with the penalty (x_coll = 0) and is
            // not dust the rule could take whole. x_coll = floor(native_amount(q, p_j, d_j)) = 0
            // with q = trunc(V / (1 + π_e)), V = token_value(C_i) > C_i · u_i − δ_i (the floor
            // of the truncated quotient is the floor of the exact one): q < u_j, so C_i · u_i <
            // (1 + π_e) · (u_j + δ) + δ_i ≤ (1 + π) · u_j + 2δ + δ_i.
            let coll = Q::units(a.deposit, a.price, a.decimals);
            let one_unit = Q::units(1, l.price, l.decimals)
                .times(one_plus(penalty))
                .add(Q::steps(2 + dec_step(a.decimals)));
            prop_assert!(
                c.max_repay == 0 || coll < one_unit,
                "NothingToLiquidate with collateral worth {} ≥ one unit {} · (1 + π)",
                coll.to_f64(),
                Q::units(1, l.price, l.decimals).to_f64()
            );
            r.outcome = "NothingToLiquidate".into();
            return Ok(r);
        }
        // No arithmetic failure is justified on these inputs any more: the overflows of
        // quantities the caps bound (x_need, x_coll, σ) saturate, and the protocol's shares are
        // capped by S (see the regressions at the end).
        Err(LiquidationError::Math(e)) => return Err(fail(format!("math error {e}"))),
        Err(e) => return Err(fail(format!("unexpected {e:?}"))),
    };
    r.outcome = format!("{:?}", plan.bound);
    check_plan(c, &health, &plan, &mut r)?;
    Ok(r)
}

fn check_plan(
    c: &Case,
    health: &Health,
    plan: &LiquidationPlan,
    r: &mut Report,
) -> Result<(), TestCaseError> {
    let (a, l) = (c.positions[c.asset], c.positions[c.liab]);
    let (p_i, p_j) = (a.price, l.price);
    let (d_i, d_j) = (a.decimals, l.decimals);
    // δ_i, δ_j in steps: the truncation of `token_value` for a token with decimals.
    let (dec_i, dec_j) = (dec_step(d_i), dec_step(d_j));
    // u_i, u_j: the exact value of one native unit.
    let (unit_i, unit_j) = (Q::units(1, p_i, d_i), Q::units(1, p_j, d_j));
    let penalty = plan.penalty;
    prop_assert_eq!(
        Ok(penalty),
        c.penalties[c.asset].at(health, c.params.full_penalty_health_ratio),
        "the plan's penalty is the curve's at the health before"
    );
    let (x, s) = (plan.repay, plan.seized);
    let (ins, tre, liq) = (plan.to_insurance, plan.to_treasury, plan.to_liquidator);
    let one_pe = one_plus(plan.penalty_effective);
    let one_pl = one_plus(plan.bonus_liquidator);
    let zero = I80F48::ZERO;
    // x · u_j, exactly and approximately (the latter to tell whether a `native_amount` of it
    // may have taken the overflow path).
    let repaid = Q::units(x, p_j, d_j);
    let repaid_f = repaid.to_f64();

    // 4. Exact token conservation and the caps.
    prop_assert_eq!(
        Some(s),
        liq.checked_add(ins).and_then(|v| v.checked_add(tre))
    );
    prop_assert!(x > 0, "x = 0 returned as a plan");
    prop_assert!(x <= l.debt, "repay {} > debt {}", x, l.debt);
    prop_assert!(s <= a.deposit, "seized {} > deposit {}", s, a.deposit);
    // The dust rules check `max_repay` too: the cap always holds.
    prop_assert!(x <= c.max_repay, "repay {} > max_repay {}", x, c.max_repay);
    prop_assert_eq!(&plan.health_before, health);
    let mut after = c.positions.clone();
    after[c.asset].deposit -= s;
    after[c.liab].debt -= x;
    let h_after = compute_health(&after, &c.params.health).unwrap();
    prop_assert_eq!(plan.health_after, h_after);
    let need = plan.repay_needed;
    match plan.bound {
        RepayBound::Need => prop_assert_eq!(x, need),
        RepayBound::Debt => prop_assert!(x == l.debt && x < need),
        RepayBound::Collateral => prop_assert!(x < need && x < l.debt),
        RepayBound::MaxRepay => prop_assert!(x == c.max_repay && x < need),
        RepayBound::DustDebt => prop_assert!(x == l.debt && need < l.debt),
        RepayBound::DustCollateral => prop_assert_eq!(s, a.deposit),
    }
    // The rates: π_L = π · s_L, π_P = π_I + π_T ∈ [0, π · (s_I + s_T)], π_e = π_L + π_P ≤ π.
    prop_assert_eq!(plan.bonus_liquidator, penalty * c.params.split_liquidator);
    prop_assert!(plan.bonus_insurance >= zero && plan.bonus_treasury >= zero);
    let pi_p = plan.bonus_insurance + plan.bonus_treasury;
    prop_assert_eq!(plan.penalty_effective, plan.bonus_liquidator + pi_p);
    prop_assert!(pi_p <= penalty * (c.params.split_insurance + c.params.split_treasury));
    prop_assert!(plan.penalty_effective <= penalty);
    prop_assert!(plan.kappa > zero);

    // 2. health_maint moves by the exact gain g = x · u_j · wL_j − S · u_i · wA_i, up to the
    // rounding of health. Only two terms change: the deposit's trunc(token_value(C_i) · wA_i)
    // drops by S · u_i · wA_i ± (δ + δ_i · wA_i) (token_value is at most δ_i low, the weighted
    // product truncated) and the debt's mul_ceil(token_value_ceil(D_j) · wL_j) by
    // x · u_j · wL_j ± (δ + δ_j · wL_j). So, strictly,
    //     g − R < maint_after − maint_before < g + R,   R = 2δ + δ_i · wA_i + δ_j · wL_j,
    // and maint strictly improves whenever g ≥ R. g ≥ x · u_j · (wL_j − (1 + π_e) · wA_i) > 0
    // (S · u_i ≤ x · u_j · (1 + π_e), property 6, and (1 + π_e) · wA_i ≤ (1 + π) · wA_i < 1 ≤
    // wL_j), so g < R only for a repay worth < R / gap: with the asset weight within a few δ
    // of the governance bound (raw-bit weights; bps weights keep the gap ≥ 1e-8, so only
    // repays worth < ~1e-6 USD; see `table_maint_not_improved_at_weight_bound`), or, with
    // decimals, a repay of a few native units each worth less than a step (`max_repay` 1 of a
    // 9-decimals token under ~4e-6 USD). The instruction's post-check rejects such a plan.
    let gain_plus = repaid.times(l.liab_weight_maint);
    let gain_minus = Q::units(s, p_i, d_i).times(a.asset_weight_maint);
    let r_maint = Q::steps(2)
        .add(Q::steps(dec_i).times(a.asset_weight_maint))
        .add(Q::steps(dec_j).times(l.liab_weight_maint));
    let (after_pos, after_neg) = signed(h_after.maint);
    let (before_pos, before_neg) = signed(health.maint);
    // after − before − g = (after_pos + before_neg + gain_minus) − (after_neg + before_pos +
    // gain_plus).
    let moved_up = after_pos.add(before_neg).add(gain_minus);
    let moved_down = after_neg.add(before_pos).add(gain_plus);
    prop_assert!(
        moved_up.add(r_maint) > moved_down && moved_up < moved_down.add(r_maint),
        "maint {} → {}: not the exact gain {} − {} within {} of rounding (x {}, S {})",
        health.maint,
        h_after.maint,
        gain_plus.to_f64(),
        gain_minus.to_f64(),
        r_maint.to_f64(),
        x,
        s
    );
    if gain_plus >= gain_minus.add(r_maint) {
        prop_assert!(
            h_after.maint > health.maint,
            "maint {} → {} (x {}, S {})",
            health.maint,
            h_after.maint,
            x,
            s
        );
    } else if h_after.maint <= health.maint {
        r.notes.push("maint_not_improved_gain_below_rounding");
    }

    // 3. No under- or over-liquidation.
    let end_after = h_after.end;
    if x >= need {
        // Need, DustDebt, and a DustCollateral that went past the need: the target is met.
        prop_assert!(
            end_after >= zero,
            "end after {} with x {} ≥ x_need {}",
            end_after,
            x,
            need
        );
    } else if plan.bound == RepayBound::DustCollateral {
        // The brief expected end ≥ 0 for every DustCollateral; not when the collateral cap
        // bound first: the rest of the collateral is taken and the target is still missed.
        r.notes.push("dust_collateral_short_of_target");
    }
    // Whether the `native_amount` of S (of x · u_j · (1 + π_e), in units of i) may have taken
    // its overflow path: then it is up to p_i · δ of value lower (see `may_overflow`).
    let seize_overflow = may_overflow(repaid_f * one_pe.to_num::<f64>(), d_i);
    if plan.bound == RepayBound::Need {
        // x_need is exact (SPEC section 5): (x_need − 1) · κ · u_j < deficit ≤ x_need · κ · u_j.
        // With κ' the plan's κ: x_need = ceil(native_amount_ceil(q, p_j, d_j)), q =
        // div_ceil(deficit, κ') < deficit / κ' + δ; the ceiling of a rounded-up quotient is the
        // ceiling of the exact one, so x_need − 1 < q · 10^d_j / p_j and (x_need − 1) · κ' · u_j
        // < q · κ' < deficit + κ' · δ; and x_need · κ' · u_j ≥ q · κ' ≥ deficit. On the overflow
        // path (q · 10^d_j beyond I80F48) q / p_j is rounded up first: κ' · p_j · δ more.
        let deficit = -health.end;
        prop_assert!(deficit > zero);
        // Past ~10^14 units the formula's x_need may leave `end` after short of the target by
        // more than a unit; the plan then repays the shortfall too: x exceeds the formula, and
        // must land on the target (the overshoot bound below still holds).
        let formula = scalpel::math::div_ceil(deficit, plan.kappa)
            .and_then(|q| scalpel::math::native_amount_ceil(q, p_j, d_j))
            .and_then(scalpel::math::ceil_u64)
            .unwrap_or(u64::MAX);
        let topped_up = x > formula;
        if topped_up {
            prop_assert!(
                plan.health_after.end >= zero,
                "topped-up plan x = {x} (formula {formula}) still short: end after {}",
                plan.health_after.end
            );
        }
        let kappa_steps = plan.kappa.to_num::<f64>().ceil() as u64;
        let q_need = deficit.to_num::<f64>() / plan.kappa.to_num::<f64>();
        let need_overflow = may_overflow(q_need, d_j);
        let kp_delta = Q::fixed(p_j).times(plan.kappa).times(DELTA);
        let mut need_slack = Q::steps(kappa_steps);
        if need_overflow {
            need_slack = need_slack.add(kp_delta);
        }
        prop_assert!(
            topped_up
                || Q::units(x - 1, p_j, d_j).times(plan.kappa) < Q::fixed(deficit).add(need_slack),
            "x_need {} overshoots: (x − 1)·κ'·u_j = {} ≥ deficit {}",
            x,
            Q::units(x - 1, p_j, d_j).times(plan.kappa).to_f64(),
            deficit
        );
        prop_assert!(
            Q::units(x, p_j, d_j).times(plan.kappa) >= Q::fixed(deficit),
            "x_need {} short of the deficit {} at the plan's κ",
            x,
            deficit
        );
        // κ' is the exact κ = (1 + b) · wL_j − (1 + π_e) · wA_i (of the fixed-point b, weights
        // and π_e) to within its two rounded products, 2δ. A κ' rounded up leaves x_need short
        // by up to x · 2δ / κ native units, more than one once x > ~10^14 (6 to 9 decimals):
        // the plan then repays the shortfall (`x_need_at_large_amounts_meets_the_target`).
        let wl_term =
            Q::fixed(one_plus(c.params.health.liquidation_buffer)).times(l.liab_weight_maint);
        let wa_term = Q::fixed(one_pe).times(a.asset_weight_maint);
        let two = Q::steps(2);
        prop_assert!(
            Q::fixed(plan.kappa).add(wa_term) < wl_term.add(two)
                && wl_term < Q::fixed(plan.kappa).add(wa_term).add(two),
            "κ {} not within 2δ of the exact (1 + b)·wL − (1 + π_e)·wA",
            plan.kappa
        );
        // At the exact κ, x_need covers the deficit to within one native unit (the plan's κ
        // truncates a product by up to one step, which the ceiling absorbs for any ordinary x);
        // where it would not (x beyond ~10^14 units), the plan repays the shortfall and lands
        // on the target: `end` after ≥ 0.
        let covers = |units: u64| {
            let v = Q::units(units, p_j, d_j);
            v.times(one_plus(c.params.health.liquidation_buffer))
                .times(l.liab_weight_maint)
                >= Q::fixed(deficit).add(v.times(one_pe).times(a.asset_weight_maint))
        };
        prop_assert!(
            covers(x.saturating_add(1)) || plan.health_after.end >= zero,
            "x_need {} short of the deficit {} at the exact κ by more than a unit (the plan's \
             κ {}), and end after {} < 0",
            x,
            deficit,
            plan.kappa,
            plan.health_after.end
        );
        // Tightest overshoot bound: end_after < κ · u_j (the ceil of x) + wA_i · u_i (the floor
        // of S, which leaves up to one collateral unit with the liquidatee) + rounding. At 0
        // decimals: < 5δ from recomputing health (A truncates, L and (1 + b)·L round up), κ · δ
        // from q, a step of S's value, and terms of order x · u_j · δ from κ being up to one
        // step off. With decimals, token_value adds δ_i · wA_i to A and δ_j · wL_j · (1 + b) ≤
        // 2.4 δ_j to (1 + b) · L, and δ_j · (1 + π_e) · wA_i ≤ δ_j to S's value; the overflow
        // paths add κ · p_j · δ (x_need) and wA_i · p_i · δ (S). 8δ + δ_i + 4 δ_j +
        // 4 · x · u_j · δ covers them all.
        let mut bound = unit_j
            .times(plan.kappa)
            .add(unit_i.times(a.asset_weight_maint))
            .add(Q::steps(8 + dec_i + 4 * dec_j))
            .add(repaid.times(DELTA).times_int(4));
        if need_overflow {
            bound = bound.add(kp_delta);
        }
        if seize_overflow {
            bound = bound.add(Q::fixed(p_i).times(DELTA));
        }
        prop_assert!(
            end_after < zero || Q::fixed(end_after) <= bound,
            "end after {} > κ·u_j + wA·u_i = {} + {}",
            end_after,
            unit_j.times(plan.kappa).to_f64(),
            unit_i.times(a.asset_weight_maint).to_f64()
        );
        // The brief's looser bound, (1 + b) · wL_j · u_j + wA_i · u_i, follows: "within one
        // native unit's value of 0".
    }
    if plan.bound == RepayBound::Collateral {
        // The collateral cap is tight: what is left cannot pay for one more unit of j with
        // its penalty (up to the floor of S: one unit of i). x = floor(native_amount(q, p_j,
        // d_j)), q = trunc(V / (1 + π_e)), V = token_value(C_i) > C_i · u_i − δ_i, so C_i · u_i
        // < (x + 1) · u_j · (1 + π_e) + (1 + π_e) · δ + δ_i; and S · u_i > x · u_j · (1 + π_e) −
        // u_i − δ − δ_j · (1 + π_e) (the floor of S from a truncated value of a token_value at
        // most δ_j low). Overflow paths: (1 + π_e) · p_j · δ and p_i · δ.
        let left = Q::units(a.deposit - s, p_i, d_i);
        let mut one_more = unit_j
            .times(one_pe)
            .add(unit_i)
            .add(Q::steps(4 + dec_i + 2 * dec_j));
        let coll_f = Q::units(a.deposit, p_i, d_i).to_f64() / one_pe.to_num::<f64>();
        if may_overflow(coll_f, d_j) {
            one_more = one_more.add(Q::fixed(p_j).times(one_pe).times(DELTA));
        }
        if seize_overflow {
            one_more = one_more.add(Q::fixed(p_i).times(DELTA));
        }
        prop_assert!(
            left < one_more,
            "collateral cap loose: {} left worth {} after x {} (one unit of j costs {})",
            a.deposit - s,
            left.to_f64(),
            x,
            unit_j.times(one_pe).to_f64()
        );
    }

    // 5. The surplus cap: the protocol's cut never creates bad debt. Exactly (no rounding
    // slack, at any decimals: the plan's σ is computed from a truncated AV and a rounded-up LV,
    // so it is never above the exact one): if AV ≥ (1 + π_L) · LV the account stays solvent,
    // and otherwise the protocol takes nothing. (AV ≥ LV alone is not enough: π_L is not
    // capped.)
    let (av, lv) = values(&c.positions);
    let (av2, lv2) = values(&after);
    if av >= lv.times(one_pl) {
        prop_assert!(av2 >= lv2, "solvent account made insolvent with σ ≥ π_L");
    } else {
        prop_assert!(
            pi_p == zero && ins == 0 && tre == 0,
            "protocol cut {} with σ < π_L",
            pi_p
        );
    }
    if av >= lv && av2 < lv2 {
        r.notes.push("solvent_made_insolvent_by_bonus");
    }
    if av < lv {
        // Already insolvent: the protocol takes nothing.
        prop_assert!(pi_p == zero && ins == 0 && tre == 0);
    }

    // 6. Rounding. The seized value never exceeds x · u_j · (1 + π_e), exactly: S is floored
    // from a truncated value, and in a dust-collateral close-out x is rounded up so the
    // liquidator pays for the whole collateral.
    let paid_e = repaid.times(one_pe);
    prop_assert!(
        Q::units(s, p_i, d_i) <= paid_e,
        "seized {} worth {} > x·u_j·(1+π_e) = {} ({:?})",
        s,
        Q::units(s, p_i, d_i).to_f64(),
        paid_e.to_f64(),
        plan.bound
    );
    // The protocol's shares are floored: each is at most its exact value and short of it by
    // less than one unit plus the rounding of its value (a step of the product, and δ_j of
    // token_value(x); p_i · δ on the overflow path), except when capped by S (a dust close-out
    // repaying one unit of j worth more than all the collateral).
    let mut share_slack = Q::steps(1 + dec_j);
    for rate in [plan.bonus_insurance, plan.bonus_treasury] {
        if may_overflow(repaid_f * rate.to_num::<f64>(), d_i) {
            share_slack = share_slack.add(Q::fixed(p_i).times(DELTA));
        }
    }
    for (share, rate) in [(ins, plan.bonus_insurance), (tre, plan.bonus_treasury)] {
        let exact = repaid.times(rate);
        prop_assert!(Q::units(share, p_i, d_i) <= exact);
        if Q::units(share + 1, p_i, d_i).add(share_slack) <= exact {
            prop_assert!(
                plan.bound == RepayBound::DustCollateral && x == 1 && liq == 0,
                "protocol share {} short of its exact value by a unit or more",
                share
            );
            r.notes.push("protocol_share_capped_by_seized");
        }
    }
    // So the liquidator receives at most its exact bonus plus two native units of i (the two
    // floors) plus their rounding: liq · u_i ≤ x · u_j · (1 + π_L) + 2 · u_i + 2 · slack.
    let paid_l = repaid.times(one_pl);
    let liq_value = Q::units(liq, p_i, d_i);
    prop_assert!(
        liq_value
            <= paid_l
                .add(unit_i.times_int(2))
                .add(share_slack.times_int(2)),
        "liquidator gets {} units, more than its bonus + 2",
        liq
    );
    if liq_value > paid_l {
        r.notes.push("liquidator_above_exact_bonus");
        if liq_value > paid_l.add(unit_i) {
            r.notes.push("liquidator_above_exact_bonus_by_over_1_unit");
        }
    }
    // And it is never short-changed by more than the floor of S (one unit of i) and the
    // rounding of S's value (δ, and δ_j · (1 + π_e) < 2δ_j of token_value(x); p_i · δ on the
    // overflow path), except in a dust close-out, where it pays for the rounded-up x.
    if plan.bound != RepayBound::DustCollateral {
        let mut short_slack = unit_i.add(Q::steps(1 + 2 * dec_j));
        if seize_overflow {
            short_slack = short_slack.add(Q::fixed(p_i).times(DELTA));
        }
        prop_assert!(
            liq_value.add(short_slack) > paid_l,
            "liquidator short-changed: {} units for x = {}",
            liq,
            x
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 1 to 6. The realistic input space.
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(cfg(16_000))]

    /// Properties 1 to 6 on realistic, wide inputs (see `check`).
    #[test]
    fn plan_properties(c in case()) {
        check(&c)?;
    }
}

// ---------------------------------------------------------------------------------------------
// 7. No panic anywhere in the input space.
// ---------------------------------------------------------------------------------------------

/// Any fixed-point value, weighted toward magnitudes where arithmetic does not overflow at once.
fn any_fx() -> impl Strategy<Value = I80F48> {
    prop_oneof![
        4 => any::<i128>().prop_map(I80F48::from_bits),
        3 => (-(1i128 << 100)..(1i128 << 100)).prop_map(I80F48::from_bits),
        2 => (-(1i128 << 70)..(1i128 << 70)).prop_map(I80F48::from_bits),
        1 => prop::sample::select(vec![
            I80F48::ZERO,
            DELTA,
            -DELTA,
            I80F48::ONE,
            -I80F48::ONE,
            I80F48::MAX,
            I80F48::MIN,
        ]),
    ]
}

fn any_amount() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => any::<u64>(),
        2 => 0u64..1_000_000,
        1 => prop::sample::select(vec![0u64, 1, u64::MAX, u64::MAX - 1]),
    ]
}

/// Any decimals: the realistic ones, the governance bound 12, the edge of `10^d` in u64 (19)
/// and beyond it, and arbitrary bytes.
fn any_decimals() -> impl Strategy<Value = u8> {
    prop_oneof![
        2 => prop::sample::select(vec![0u8, 6, 8, 9, 12, 18, 19, 20, u8::MAX]),
        1 => any::<u8>(),
    ]
}

fn any_position() -> impl Strategy<Value = HealthPosition> {
    (
        any_amount(),
        any_amount(),
        any_fx(),
        any_fx(),
        [any_fx(), any_fx(), any_fx(), any_fx()],
        any_decimals(),
    )
        .prop_map(|(deposit, debt, price, conf, w, decimals)| HealthPosition {
            deposit,
            debt,
            price,
            conf,
            ema_price: price,
            ema_conf: conf,
            asset_weight_init: w[0],
            asset_weight_maint: w[1],
            liab_weight_init: w[2],
            liab_weight_maint: w[3],
            decimals,
        })
}

fn any_params() -> impl Strategy<Value = LiquidationParams> {
    (
        any_fx(),
        any_fx(),
        any_fx(),
        any_fx(),
        any_fx(),
        any_fx(),
        any_fx(),
    )
        .prop_map(|(k, m, b, sl, si, st, d)| LiquidationParams {
            health: HealthParams {
                conf_multiplier: k,
                max_conf_bias: m,
                liquidation_buffer: b,
            },
            split_liquidator: sl,
            split_insurance: si,
            split_treasury: st,
            dust_threshold: d,
            full_penalty_health_ratio: I80F48::from_num(0.95), // flat penalties here
        })
}

fn any_index() -> impl Strategy<Value = usize> {
    prop_oneof![
        4 => 0usize..10,
        1 => any::<usize>(),
        1 => Just(usize::MAX),
    ]
}

/// Structural facts of any `Ok` plan, whatever the inputs.
fn check_structure(
    positions: &[HealthPosition],
    asset: usize,
    liab: usize,
    max_repay: u64,
    params: &LiquidationParams,
    res: &Result<LiquidationPlan, LiquidationError>,
) -> Result<(), TestCaseError> {
    if asset == liab {
        prop_assert_eq!(res, &Err(LiquidationError::SameMarket));
    } else if asset >= positions.len() {
        prop_assert_eq!(res, &Err(LiquidationError::NoCollateral));
    } else if liab >= positions.len() {
        prop_assert_eq!(res, &Err(LiquidationError::NoDebt));
    }
    if let Ok(p) = res {
        let (a, l) = (positions[asset], positions[liab]);
        prop_assert_eq!(
            Some(p.seized),
            p.to_liquidator
                .checked_add(p.to_insurance)
                .and_then(|v| v.checked_add(p.to_treasury))
        );
        prop_assert!(p.repay > 0 && p.repay <= l.debt && p.repay <= max_repay);
        prop_assert!(p.seized <= a.deposit);
        let mut after = positions.to_vec();
        after[asset].deposit -= p.seized;
        after[liab].debt -= p.repay;
        prop_assert_eq!(Ok(p.health_after), compute_health(&after, &params.health));
    }
    Ok(())
}

proptest! {
    #![proptest_config(cfg(8_000))]

    /// Arbitrary bit patterns, amounts, indices, penalties, weights and parameters.
    #[test]
    fn no_panic_arbitrary(positions in prop::collection::vec(any_position(), 0..=8),
                          asset in any_index(), liab in any_index(), penalty in any_fx(),
                          being in any::<bool>(), max_repay in any_amount(),
                          params in any_params()) {
        let res = plan_liquidation(&positions, asset, liab, penalty, being, max_repay, &params);
        check_structure(&positions, asset, liab, max_repay, &params, &res)?;
        let _ = alternatives(&positions, asset, liab, penalty);
    }

    /// Realistic accounts with one thing out of bounds: an index past the end, a penalty, a
    /// weight, a protocol parameter or a price replaced by arbitrary bits, or a token's
    /// decimals by any byte.
    #[test]
    fn no_panic_near_realistic(c in case(), which in 0usize..7, v in any_fx(), w in any_fx(),
                               k in any_index(), slot in any::<Index>(),
                               d in any_decimals()) {
        let mut c = c;
        let s = slot.index(c.positions.len());
        let mut penalty = c.penalties[c.asset];
        match which {
            0 => c.asset = k,
            1 => c.liab = k,
            2 => penalty = PenaltyCurve { min: w, max: v },
            3 => {
                c.positions[s].asset_weight_maint = v;
                c.positions[s].liab_weight_maint = w;
            }
            4 => {
                c.params.split_liquidator = v;
                c.params.split_insurance = w;
                c.params.health.liquidation_buffer = w.wrapping_neg();
            }
            5 => {
                c.positions[s].price = v;
                c.params.dust_threshold = w;
            }
            _ => c.positions[s].decimals = d,
        }
        let res = plan_liquidation(&c.positions, c.asset, c.liab, penalty, c.being,
                                   c.max_repay, &c.params);
        check_structure(&c.positions, c.asset, c.liab, c.max_repay, &c.params, &res)?;
        let _ = alternatives(&c.positions, c.asset, c.liab, penalty.max);
    }
}

// ---------------------------------------------------------------------------------------------
// The health-scaled penalty
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(cfg(20_000))]

    /// The penalty never falls as health falls: less collateral value or more debt never gets a
    /// smaller penalty, and it stays within [π_min, π].
    #[test]
    fn penalty_never_falls_as_health_falls(
        m in market(),
        r_full in 5_001u64..=9_999,
        a in fx_range(I80F48::ZERO, fx(1_000_000_000_000)),
        da in fx_range(I80F48::ZERO, fx(1_000_000)),
        l in fx_range(DELTA, fx(1_000_000_000_000)),
        dl in fx_range(I80F48::ZERO, fx(1_000_000)),
    ) {
        let r_full = bps(r_full).unwrap();
        let at = |asset_maint: I80F48, liab_maint: I80F48| {
            m.penalty.at(
                &Health { asset_maint, liab_maint, ..Health::default() },
                r_full,
            ).unwrap()
        };
        let healthier = at(a + da, l);
        let sicker = at(a, l + dl);
        let here = at(a, l);
        prop_assert!(healthier <= here && here <= sicker,
                     "{} / {} / {}", healthier, here, sicker);
        for p in [healthier, here, sicker] {
            prop_assert!(m.penalty.min <= p && p <= m.penalty.max);
        }
    }

    /// At or below `r_full` the curve is the full penalty and at a ratio of 1 or above its
    /// minimum: the plan is then exactly the flat plan with that penalty.
    #[test]
    fn curve_ends_are_flat_plans(c in case()) {
        let curve = c.penalties[c.asset];
        let h = c.health();
        if h.liab_maint <= I80F48::ZERO {
            return Ok(());
        }
        let r_full = c.params.full_penalty_health_ratio;
        let ratio = Q::fixed(h.asset_maint.max(I80F48::ZERO));
        let end = if ratio <= Q::fixed(h.liab_maint).times(r_full) {
            Some(curve.max)
        } else if ratio >= Q::fixed(h.liab_maint) {
            Some(curve.min)
        } else {
            None
        };
        if let Some(pi) = end {
            let scaled = plan_liquidation(&c.positions, c.asset, c.liab, curve, c.being,
                                          c.max_repay, &c.params);
            let flat = plan_liquidation(&c.positions, c.asset, c.liab, pi, c.being,
                                        c.max_repay, &c.params);
            prop_assert_eq!(scaled, flat);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 8. Monotone in max_repay; 9. the alternatives.
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(cfg(8_000))]

    /// A larger `max_repay` never repays (nor seizes) less.
    #[test]
    fn monotone_in_max_repay(c in case(), m in max_repay(), n in max_repay()) {
        let (lo, hi) = (m.min(n), m.max(n));
        if let Ok(p_lo) = c.plan_with(lo) {
            match c.plan_with(hi) {
                Ok(p_hi) => {
                    prop_assert!(p_hi.repay >= p_lo.repay,
                                 "max_repay {} → {}, {} → {}", lo, p_lo.repay, hi, p_hi.repay);
                    prop_assert!(p_hi.seized >= p_lo.seized);
                }
                Err(e) => return Err(fail(format!("max_repay {lo} plans, {hi} fails: {e:?}"))),
            }
        }
    }

    /// Full ≥ half, both within the debt and the collateral; the partial plan repays no more
    /// than the full alternative unless that alternative, applying the full π where the plan
    /// applies π_e < π, ran out of collateral first.
    #[test]
    fn alternatives_bound_the_plan(c in case()) {
        let (a, l) = (c.positions[c.asset], c.positions[c.liab]);
        let penalty = c.penalties[c.asset].max;
        let alt = alternatives(&c.positions, c.asset, c.liab, penalty);
        prop_assert!(alt.is_ok(), "alternatives failed: {:?}", alt);
        let (full, half) = alt.unwrap();
        prop_assert!(half.repay <= full.repay && full.repay <= l.debt);
        prop_assert!(half.repay <= l.debt / 2);
        prop_assert!(half.seized <= full.seized && full.seized <= a.deposit);
        // Full repays the whole debt unless the collateral (with the full π) runs out: as for
        // the collateral cap, C_i · u_i < (x + 1) · u_j · (1 + π) + (1 + π) · δ + δ_i (and
        // (1 + π) · p_j · δ on the overflow path of `native_amount`).
        let one_p = one_plus(penalty);
        let coll = Q::units(a.deposit, a.price, a.decimals);
        let mut slack = Q::steps(2 + dec_step(a.decimals));
        if may_overflow(coll.to_f64() / one_p.to_num::<f64>(), l.decimals) {
            slack = slack.add(Q::fixed(l.price).times(one_p).times(DELTA));
        }
        prop_assert!(full.repay == l.debt
            || coll < Q::units(full.repay + 1, l.price, l.decimals).times(one_p).add(slack));
        // The seized value never exceeds the repaid value with the penalty, exactly.
        prop_assert!(Q::units(full.seized, a.price, a.decimals)
            <= Q::units(full.repay, l.price, l.decimals).times(one_p));
        if let Ok(p) = c.plan() {
            if p.bound == RepayBound::Need && p.repay > full.repay {
                prop_assert!(full.repay < l.debt && p.penalty_effective < penalty,
                             "plan {} > full {}", p.repay, full.repay);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Census: how often each outcome and each stated-but-false property occurs.
// ---------------------------------------------------------------------------------------------

fn census(cases: u32) -> BTreeMap<String, u64> {
    let counts = RefCell::new(BTreeMap::<String, u64>::new());
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&case(), |c| {
        let r = check(&c)?;
        let mut m = counts.borrow_mut();
        *m.entry(r.outcome).or_default() += 1;
        for n in r.notes {
            *m.entry(format!("note:{n}")).or_default() += 1;
        }
        // How often each decimals pair (asset/liability) is planned, and lands on Need.
        let (d_i, d_j) = (c.positions[c.asset].decimals, c.positions[c.liab].decimals);
        if let Ok(p) = c.plan() {
            *m.entry(format!("decimals:{d_i}/{d_j}")).or_default() += 1;
            if p.bound == RepayBound::Need {
                *m.entry(format!("decimals_need:{d_i}/{d_j}")).or_default() += 1;
            }
        }
        // Whether the alternatives fall short of a Need plan (property 9 as first stated).
        if let (Ok(p), Ok((full, _))) = (
            c.plan(),
            alternatives(&c.positions, c.asset, c.liab, c.penalties[c.asset].max),
        ) {
            if p.bound == RepayBound::Need && p.repay > full.repay {
                *m.entry("note:need_plan_above_full_alternative".into())
                    .or_default() += 1;
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    counts.into_inner()
}

/// Runs the checker over fresh cases and asserts every outcome is actually exercised.
#[test]
fn census_covers_every_outcome() {
    let cases = cases_or_env(8_000);
    let counts = census(cases);
    println!("census over {cases} cases: {counts:#?}");
    for key in [
        "NotLiquidatable",
        "Need",
        "Debt",
        "Collateral",
        "MaxRepay",
        "DustDebt",
        "DustCollateral",
        "NothingToLiquidate",
    ] {
        assert!(
            counts.get(key).copied().unwrap_or(0) > 0,
            "{key} never reached: {counts:?}"
        );
    }
    let need = counts["Need"];
    assert!(need >= 500, "too few Need plans: {counts:?}");
    // Every combination of the asset's and the liability's decimals is planned, and lands on
    // its target.
    for d_i in DECIMALS {
        for d_j in DECIMALS {
            let key = format!("decimals_need:{d_i}/{d_j}");
            assert!(
                counts.get(&key).copied().unwrap_or(0) >= 10,
                "{key}: too few Need plans: {counts:?}"
            );
        }
    }
}

/// A long search for counterexamples (fails with the minimal input of the first one found):
/// `DEEP_CASES=1000000 cargo test -p scalpel --test liquidation_props -- --ignored --nocapture`.
#[test]
#[ignore]
fn deep_search() {
    let cases = std::env::var("DEEP_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let counts = census(cases);
    println!("census over {cases} cases: {counts:#?}");
}

// ---------------------------------------------------------------------------------------------
// Hand tables (complementing the unit tests in `liquidation.rs`). Every number is a binary
// fraction, so the fixed-point results are exact and asserted with `==`.
//
// Common parameters: buffer b = 1/16 (625 bps), split 50/25/25 %, asset penalty π = 1/8 (1250
// bps): π_L = π·s_L = 1/16 and the protocol's cut π_P ≤ π·(s_I + s_T) = 1/16. Prices in USD
// per native unit: "ETH" 1/4 (wA 1/2), "USDC" 1 (wA 3/4), "SOL" 1/2 (wL 1), conf 0.
// ---------------------------------------------------------------------------------------------

fn table_params(dust: u64) -> LiquidationParams {
    LiquidationParams {
        health: HealthParams {
            conf_multiplier: bps(21_200).unwrap(),
            max_conf_bias: bps(500).unwrap(),
            liquidation_buffer: bps(625).unwrap(),
        },
        split_liquidator: bps(5_000).unwrap(),
        split_insurance: bps(2_500).unwrap(),
        split_treasury: bps(2_500).unwrap(),
        dust_threshold: fx(dust),
        full_penalty_health_ratio: I80F48::from_num(0.95), // flat penalties here
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

fn eth(n: u64) -> HealthPosition {
    pos(n, 0, 0.25, 0.5, 1.0)
}

fn usdc(n: u64) -> HealthPosition {
    pos(n, 0, 1.0, 0.75, 1.0)
}

fn sol_debt(n: u64) -> HealthPosition {
    pos(0, n, 0.5, 0.0, 1.0)
}

fn penalty() -> I80F48 {
    bps(1_250).unwrap()
}

/// Applies a plan to the balances.
fn apply(positions: &mut [HealthPosition], asset: usize, liab: usize, p: &LiquidationPlan) {
    positions[asset].deposit -= p.seized;
    positions[liab].debt -= p.repay;
}

/// Chained pairs: the ETH collateral runs out first (bound Collateral), then USDC finishes the
/// job exactly (bound Need) and the account is no longer liquidatable.
#[test]
fn table_chained_pairs() {
    let prm = table_params(0);
    // ETH 256 (64 USD, A 32), USDC 512 (512 USD, A 384), SOL debt 896 (448 USD, L 448).
    let mut ps = vec![eth(256), usdc(512), sol_debt(896)];
    // maint = 416 − 448 = −32; end = 416 − 17/16·448 = −60. AV/LV = 576/448: σ = 2/7 ≥ π, so
    // π_P = 1/16, π_I = π_T = 1/32, π_e = 1/8.
    let p = plan_liquidation(&ps, 0, 2, penalty(), false, u64::MAX, &prm).unwrap();
    assert_eq!(
        (p.health_before.maint, p.health_before.end),
        (f(-32.0), f(-60.0))
    );
    assert_eq!(p.penalty_effective, f(0.125));
    assert_eq!(
        (p.bonus_insurance, p.bonus_treasury),
        (f(1.0 / 32.0), f(1.0 / 32.0))
    );
    // κ = 17/16 − 9/8 · 1/2 = 1/2; x_need = 60 / (1/2) / (1/2) = 240;
    // x_coll = floor(64 / (9/8) / (1/2)) = floor(113.78) = 113 < 240: the ETH runs out.
    assert_eq!(p.kappa, f(0.5));
    assert_eq!(
        (p.repay_needed, p.repay, p.bound),
        (240, 113, RepayBound::Collateral)
    );
    // S = floor(113 · 1/2 · 9/8 / (1/4)) = floor(254.25) = 254 of 256 ETH units;
    // insurance = treasury = floor(113 · 1/2 · 1/32 / (1/4)) = floor(7.0625) = 7; liquidator 240.
    assert_eq!(
        (p.seized, p.to_insurance, p.to_treasury, p.to_liquidator),
        (254, 7, 7, 240)
    );
    // After: ETH 2 (0.5 USD), SOL 783: A = 0.25 + 384, L = 391.5: maint = −7.25,
    // end = 384.25 − 17/16 · 391.5 = −31.71875. Still being liquidated.
    assert_eq!(
        (p.health_after.maint, p.health_after.end),
        (f(-7.25), f(-31.71875))
    );
    apply(&mut ps, 0, 2, &p);
    let being = p.health_after.end < 0;
    assert!(being);

    // Second pair, USDC for SOL: AV/LV = 512.5/391.5, σ = 0.309 ≥ π: π_e = 1/8 again.
    // κ = 17/16 − 9/8 · 3/4 = 7/32; x_need = 31.71875 / (7/32) / (1/2) = 290 exactly.
    let q = plan_liquidation(&ps, 1, 2, penalty(), being, u64::MAX, &prm).unwrap();
    assert_eq!(q.kappa, f(7.0 / 32.0));
    assert_eq!(
        (q.repay_needed, q.repay, q.bound),
        (290, 290, RepayBound::Need)
    );
    // S = floor(290 · 1/2 · 9/8) = floor(163.125) = 163; insurance = treasury =
    // floor(290 · 1/2 · 1/32) = floor(4.53) = 4; liquidator 155.
    assert_eq!(
        (q.seized, q.to_insurance, q.to_treasury, q.to_liquidator),
        (163, 4, 4, 155)
    );
    // After: USDC 349, SOL 493: A = 0.25 + 261.75 = 262, L = 246.5: maint = 15.5,
    // end = 262 − 17/16 · 246.5 = 3/32: on target, above it only by the floor of S (0.125
    // USDC units · wA 3/4 = 3/32), within κ·p_j + wA·p_i = 7/64 + 3/4.
    assert_eq!(
        (q.health_after.maint, q.health_after.end),
        (f(15.5), f(3.0 / 32.0))
    );
    apply(&mut ps, 1, 2, &q);
    let being = q.health_after.end < 0;
    assert!(!being);
    assert_eq!(
        plan_liquidation(&ps, 1, 2, penalty(), being, u64::MAX, &prm),
        Err(LiquidationError::NotLiquidatable)
    );
}

/// The same account with a 1 USD dust threshold: the 2 ETH units (0.5 USD) the collateral cap
/// would leave are taken too, and x is sized from the whole collateral, rounded up.
#[test]
fn table_dust_collateral_close_out() {
    let ps = [eth(256), usdc(512), sol_debt(896)];
    let p = plan_liquidation(&ps, 0, 2, penalty(), false, u64::MAX, &table_params(1)).unwrap();
    // x_all = ceil(64 / (9/8) / (1/2)) = ceil(113.78) = 114; S = 256 (all).
    assert_eq!(
        (p.repay, p.seized, p.bound),
        (114, 256, RepayBound::DustCollateral)
    );
    // Shares from x: floor(114 · 1/2 · 1/32 / (1/4)) = floor(7.125) = 7 each; liquidator 242.
    assert_eq!(
        (p.to_insurance, p.to_treasury, p.to_liquidator),
        (7, 7, 242)
    );
    // The liquidator pays 57 USD and receives 242 · 1/4 = 60.5 USD: a 6.14 % bonus, below
    // π_L = 6.25 %, since it pays for the rounding of x. The seized 64 USD ≤ 114 · 1/2 · 9/8 =
    // 64.125 USD.
    assert!(fx(p.seized) * f(0.25) <= fx(p.repay) * f(0.5) * f(1.125));
    // After: A = 384, L = 391 (782 SOL): maint = −7, end = 384 − 17/16 · 391 = −31.4375.
    assert_eq!(
        (p.health_after.maint, p.health_after.end),
        (f(-7.0), f(-31.4375))
    );
    // The same with max_repay 113: the close-out needs 114 > max_repay, so it is not done and
    // the collateral cap stands (it binds first; max_repay 113 is not below it).
    let q = plan_liquidation(&ps, 0, 2, penalty(), false, 113, &table_params(1)).unwrap();
    assert_eq!(
        (q.repay, q.seized, q.bound),
        (113, 254, RepayBound::Collateral)
    );
}

/// An insolvent account (AV 64 < LV 80): σ = −1/5, so the protocol takes nothing (π_P = 0,
/// π_e = π_L = 1/16) and the liquidation takes all the collateral, leaving bad debt. The
/// target is missed (end < 0) although the bound is DustCollateral: "end ≥ 0 for every
/// DustCollateral" does not hold when the collateral cap bound first.
#[test]
fn table_insolvent_takes_all_collateral() {
    let ps = [eth(256), sol_debt(160)];
    let p = plan_liquidation(&ps, 0, 1, penalty(), false, u64::MAX, &table_params(1)).unwrap();
    assert_eq!(p.bonus_liquidator, f(0.0625));
    assert_eq!(
        (p.bonus_insurance, p.bonus_treasury),
        (I80F48::ZERO, I80F48::ZERO)
    );
    assert_eq!(p.penalty_effective, f(0.0625));
    // κ = 17/16 − 17/16 · 1/2 = 17/32; end = 32 − 85 = −53; x_need = 53 / (17/32) / (1/2) =
    // 199.5 → 200 > debt 160 > x_coll = floor(64 / (17/16) / (1/2)) = 120.
    assert_eq!((p.kappa, p.health_before.end), (f(17.0 / 32.0), f(-53.0)));
    assert_eq!(p.repay_needed, 200);
    // S(120) = 255 would leave 1 ETH unit (0.25 USD < 1 USD): all 256 taken for x = 121.
    assert_eq!(
        (p.repay, p.seized, p.bound),
        (121, 256, RepayBound::DustCollateral)
    );
    assert_eq!(
        (p.to_insurance, p.to_treasury, p.to_liquidator),
        (0, 0, 256)
    );
    // After: no collateral, 39 SOL units (19.5 USD) of bad debt for `bad_debt_resolve`.
    assert_eq!(p.health_after.asset_value, I80F48::ZERO);
    assert_eq!(p.health_after.liab_value, f(19.5));
    assert_eq!(p.health_after.end, f(-663.0 / 32.0));
    let mut after = ps;
    apply(&mut after, 0, 1, &p);
    assert_eq!(
        plan_liquidation(&after, 0, 1, penalty(), true, u64::MAX, &table_params(1)),
        Err(LiquidationError::NoCollateral)
    );
    // Without the dust rule: bound Collateral, one ETH unit left.
    let q = plan_liquidation(&ps, 0, 1, penalty(), false, u64::MAX, &table_params(0)).unwrap();
    assert_eq!(
        (q.repay, q.seized, q.bound),
        (120, 255, RepayBound::Collateral)
    );
}

/// Property 5 as first stated ("AV ≥ LV before ⇒ AV ≥ LV after") does NOT hold: the surplus cap
/// only caps the protocol's cut π_P; the liquidator's bonus π_L always applies. AV 64 ≥ LV 62,
/// σ = 1/31 < π_L = 1/16: π_P = 0, and the bonus alone makes the account insolvent.
#[test]
fn table_solvent_made_insolvent_by_bonus() {
    let ps = [eth(256), sol_debt(124)];
    let p = plan_liquidation(&ps, 0, 1, penalty(), false, u64::MAX, &table_params(0)).unwrap();
    assert_eq!(p.penalty_effective, p.bonus_liquidator);
    // end = 32 − 17/16 · 62 = −33.875; x_need = 33.875 / (17/32) / (1/2) = 127.5 → 128 > 124
    // (debt) > 120 (x_coll): S = 255 of 256 ETH units for 120 SOL units.
    assert_eq!((p.repay_needed, p.repay, p.seized), (128, 120, 255));
    assert_eq!((p.to_insurance, p.to_treasury), (0, 0));
    // Before AV 64 ≥ LV 62; after AV 0.25 < LV 2.
    assert!(p.health_before.asset_value >= p.health_before.liab_value);
    assert_eq!(
        (p.health_after.asset_value, p.health_after.liab_value),
        (f(0.25), f(2.0))
    );
}

/// Property 9 as first stated ("a Need plan repays no more than the full alternative") does
/// NOT hold: the alternatives apply the full π = 1/8, the plan the surplus-capped π_e. AV 70,
/// LV 64: σ = 3/32, π_P = 1/32, π_e = 3/32.
#[test]
fn table_alternative_below_plan() {
    let ps = [eth(280), sol_debt(128)];
    let p = plan_liquidation(&ps, 0, 1, penalty(), false, u64::MAX, &table_params(0)).unwrap();
    assert_eq!(p.penalty_effective, f(3.0 / 32.0));
    // κ = 17/16 − 35/32 · 1/2 = 33/64; end = 35 − 68 = −33; x_need = 33 / (33/64) / (1/2) =
    // 128 = debt = x_coll(π_e) = 70 / (35/32) / (1/2): the whole account, exactly on target.
    assert_eq!((p.repay, p.seized, p.bound), (128, 280, RepayBound::Need));
    // Insurance = treasury = floor(128 · 1/2 · 1/64 / (1/4)) = 4; liquidator 272.
    assert_eq!(
        (p.to_insurance, p.to_treasury, p.to_liquidator),
        (4, 4, 272)
    );
    assert_eq!(
        (p.health_after.maint, p.health_after.end),
        (I80F48::ZERO, I80F48::ZERO)
    );
    // Full: floor(70 / (9/8) / (1/2)) = floor(124.4) = 124 < 128; S = floor(124 · 1/2 · 9/8 /
    // (1/4)) = 279. Half: 64, S = 144.
    let (full, half) = alternatives(&ps, 0, 1, penalty()).unwrap();
    assert_eq!((full.repay, full.seized), (124, 279));
    assert_eq!((half.repay, half.seized), (64, 144));
    assert!(p.repay > full.repay);
}

/// Property 6: the protocol's shares are floored, so rounding favours the liquidator against
/// the protocol by up to two collateral units (one per share). USDC 1000 (A 750) against USDC-
/// priced debt 800 (wL 1): σ = 1/4, π_I = π_T = 1/32; max_repay 31.
#[test]
fn table_floors_favour_liquidator() {
    let ps = [usdc(1_000), pos(0, 800, 1.0, 0.0, 1.0)];
    let p = plan_liquidation(&ps, 0, 1, penalty(), false, 31, &table_params(0)).unwrap();
    assert_eq!((p.repay, p.bound), (31, RepayBound::MaxRepay));
    // S = floor(31 · 9/8) = floor(34.875) = 34 (the liquidatee keeps 0.875 units);
    // insurance = treasury = floor(31/32) = 0: the protocol's 1.9375 units are floored away.
    assert_eq!(
        (p.seized, p.to_insurance, p.to_treasury, p.to_liquidator),
        (34, 0, 0, 34)
    );
    // The liquidator's exact entitlement is 31 · 17/16 = 32.9375 units: it gets 1.0625 more.
    let exact = fx(31) * f(17.0 / 16.0);
    assert_eq!(fx(p.to_liquidator) - exact, f(1.0625));
    assert!(fx(p.to_liquidator) <= exact + fx(2));
}

/// Real decimals, every figure exact: 10.5 SOL (9 decimals, 10 500 000 000 lamports) at 128
/// USD per SOL (wA 3/4) against 1 020 USDC (6 decimals) at 1 USD (wL 1); b = 1/32, π = 1/8,
/// split 1/2 / 3/8 / 1/8, dust 1 USD. x, S and the shares are native units, computed through
/// the division by 10^decimals; the plan lands exactly on the target.
#[test]
fn table_decimals_sol_usdc_lands_on_target() {
    let prm = LiquidationParams {
        health: HealthParams {
            conf_multiplier: f(2.0),
            max_conf_bias: f(0.0625),
            liquidation_buffer: f(0.03125),
        },
        split_liquidator: f(0.5),
        split_insurance: f(0.375),
        split_treasury: f(0.125),
        dust_threshold: fx(1),
        full_penalty_health_ratio: I80F48::from_num(0.95), // flat penalties here
    };
    let mut sol = pos(10_500_000_000, 0, 128.0, 0.75, 1.25);
    sol.decimals = 9;
    let mut usdc = pos(0, 1_020_000_000, 1.0, 0.9375, 1.0);
    usdc.decimals = 6;
    let ps = [sol, usdc];
    let p = plan_liquidation(&ps, 0, 1, f(0.125), false, u64::MAX, &prm).unwrap();
    // AV = 10 · 128 + 0.5 · 128 = 1344, A = 1008; L = 1020: maint = −12, end = 1008 − 33/32 ·
    // 1020 = −43.875. σ = 1344/1020 − 1 ≈ 0.32 ≥ π: π_L = 1/16, π_I = 3/64, π_T = 1/64.
    let h = p.health_before;
    assert_eq!((h.asset_value, h.asset_maint), (f(1344.0), f(1008.0)));
    assert_eq!((h.maint, h.end), (f(-12.0), f(-43.875)));
    assert_eq!(
        (p.bonus_liquidator, p.bonus_insurance, p.bonus_treasury),
        (f(0.0625), f(0.046875), f(0.015625))
    );
    // κ = 33/32 − 9/8 · 3/4 = 3/16; x_need = 43.875 / (3/16) / 1 · 10^6 = 234 000 000 (234
    // USDC, exactly).
    assert_eq!(p.kappa, f(0.1875));
    assert_eq!(
        (p.repay_needed, p.repay, p.bound),
        (234_000_000, 234_000_000, RepayBound::Need)
    );
    // S = floor(234 · 9/8 / 128 · 10^9) = 2 056 640 625 lamports (263.25 USD, exactly);
    // insurance = floor(234 · 3/64 / 128 · 10^9) = floor(85 693 359.375); treasury =
    // floor(234 · 1/64 / 128 · 10^9) = floor(28 564 453.125); the liquidator the rest.
    assert_eq!(
        (p.seized, p.to_insurance, p.to_treasury, p.to_liquidator),
        (2_056_640_625, 85_693_359, 28_564_453, 1_942_382_813)
    );
    // After: 8 443 359 375 lamports = 8 · 128 + 0.443359375 · 128 = 1080.75 USD, A = 810.5625;
    // 786 USDC: maint = 24.5625, end = 810.5625 − 33/32 · 786 = 0.
    let a = p.health_after;
    assert_eq!((a.asset_value, a.liab_value), (f(1080.75), f(786.0)));
    assert_eq!((a.maint, a.end), (f(24.5625), I80F48::ZERO));
}

/// Property 2 does NOT hold at the edge of the governance bound: with π = 0 and wA_maint =
/// 1 − 2^-48 (the largest weight with (1 + π)·wA < 1, as raw bits; bps weights cannot get this
/// close), repaying one unit (2.9e-7 USD) gains x·p_j·(wL − wA) = 1e-21 USD, below the one
/// rounding step each of A (truncated) and L (rounded up): maint does not move. The
/// instruction's post-check rejects such a liquidation.
#[test]
fn table_maint_not_improved_at_weight_bound() {
    let price = |s: &str| s.parse::<I80F48>().unwrap();
    let mut collateral = pos(162_269, 0, 0.0, 0.0, 1.0);
    collateral.price = price("0.000000028840315");
    collateral.asset_weight_maint = I80F48::ONE - DELTA;
    let mut debt = pos(0, 522_095, 0.0, 0.0, 1.0);
    debt.price = price("0.00000028840315");
    let prm = LiquidationParams {
        health: HealthParams {
            conf_multiplier: I80F48::ZERO,
            max_conf_bias: I80F48::ZERO,
            liquidation_buffer: I80F48::ZERO,
        },
        split_liquidator: I80F48::ONE,
        split_insurance: I80F48::ZERO,
        split_treasury: I80F48::ZERO,
        dust_threshold: I80F48::ZERO,
        full_penalty_health_ratio: I80F48::from_num(0.95), // flat penalties here
    };
    assert!(below_bound(I80F48::ZERO, collateral.asset_weight_maint));
    let p = plan_liquidation(&[collateral, debt], 0, 1, I80F48::ZERO, true, 1, &prm).unwrap();
    assert_eq!((p.repay, p.seized, p.bound), (1, 10, RepayBound::MaxRepay));
    assert_eq!(p.health_after.maint, p.health_before.maint);
}

// ---------------------------------------------------------------------------------------------
// Regressions: bugs in `plan_liquidation` / `alternatives` found by the properties above.
// ---------------------------------------------------------------------------------------------

fn default_params(dust: u64) -> LiquidationParams {
    LiquidationParams {
        health: HealthParams {
            conf_multiplier: bps(21_200).unwrap(),
            max_conf_bias: bps(500).unwrap(),
            liquidation_buffer: bps(200).unwrap(),
        },
        split_liquidator: bps(6_000).unwrap(),
        split_insurance: bps(2_500).unwrap(),
        split_treasury: bps(1_500).unwrap(),
        dust_threshold: fx(dust),
        full_penalty_health_ratio: I80F48::from_num(0.95), // flat penalties here
    }
}

fn bps_pos(deposit: u64, debt: u64, price: f64, wa_bps: u64, wl_bps: u64) -> HealthPosition {
    HealthPosition {
        deposit,
        debt,
        price: f(price),
        conf: I80F48::ZERO,
        ema_price: f(price),
        ema_conf: I80F48::ZERO,
        asset_weight_init: bps(wa_bps).unwrap(),
        asset_weight_maint: bps(wa_bps).unwrap(),
        liab_weight_init: bps(wl_bps).unwrap(),
        liab_weight_maint: bps(wl_bps).unwrap(),
        decimals: 0,
    }
}

/// `x_need` was `ceil(−end / (κ · p_j))` with the product κ·p_j truncated: for a token worth
/// 1e-9 USD per native unit, κ·p_j = 7.5e-11 keeps ~15 significant bits, and x_need overshot
/// by ~3.5e7 units. The specification's 950 USD / 1000 USD account with the debt in a 9-decimal token.
#[test]
fn regression_x_need_exact_for_small_unit_prices() {
    // USDC 1e9 native (1000 USD, wA 0.9), debt 9.5e11 native at 1e-9 (950 USD, wL 1), π 5 %.
    let ps = [
        bps_pos(1_000_000_000, 0, 1e-6, 9_000, 11_000),
        bps_pos(0, 950_000_000_000, 1e-9, 9_500, 10_000),
    ];
    let p = plan_liquidation(
        &ps,
        0,
        1,
        bps(500).unwrap(),
        false,
        u64::MAX,
        &default_params(1),
    )
    .unwrap();
    // x_need ≈ 69 / 0.075 / 1e-9 = 9.2e11 (exactly: the smallest x with x·κ·p_j ≥ deficit).
    assert_eq!(p.bound, RepayBound::Need);
    let deficit = Q::fixed(-p.health_before.end);
    let kp = |n: u64| Q::units(n, ps[1].price, 0).times(p.kappa);
    assert!(kp(p.repay) >= deficit);
    assert!(kp(p.repay - 1) < deficit, "x_need {} overshoots", p.repay);
    assert!(
        (919_999_000_000..=920_001_000_000).contains(&p.repay),
        "{}",
        p.repay
    );
}

/// The dust close-out sized x as `ceil(C·p_i / mul_ceil(1 + π_e, p_j))`: rounding the divisor
/// up rounded x down, so the liquidator paid less than the collateral's value with the penalty
/// (here ~3 400 units of a 1e-9 USD token short). Now `ceil(C·p_i / (1 + π_e) / p_j)`.
#[test]
fn regression_dust_close_out_rounds_against_liquidator() {
    // 1 USDC-unit collateral worth 1 USD (dust under 10 USD) against 1000 USD of a 9-decimal
    // token: insolvent, π_e = π_L = 3 %.
    let ps = [
        bps_pos(1, 0, 1.0, 9_000, 11_000),
        bps_pos(0, 1_000_000_000_000, 1e-9, 9_500, 10_000),
    ];
    let p = plan_liquidation(
        &ps,
        0,
        1,
        bps(500).unwrap(),
        false,
        u64::MAX,
        &default_params(10),
    )
    .unwrap();
    assert_eq!((p.seized, p.bound), (1, RepayBound::DustCollateral));
    // x = ceil(1 / 1.03 / 1e-9) = 970 873 787 (up to the representation of 1e-9 and 1.03).
    let paid = |n: u64| Q::units(n, ps[1].price, 0).times(one_plus(p.penalty_effective));
    let coll = Q::units(1, ps[0].price, 0);
    assert!(
        coll <= paid(p.repay),
        "x {} under-pays the collateral",
        p.repay
    );
    assert!(coll > paid(p.repay - 1));
}

/// A dust close-out repaying one unit of j worth more than the whole collateral (a 1e-6 USD
/// collateral remainder against a 100 USD debt unit) computed protocol shares from x · p_j
/// larger than S, and `S − to_insurance − to_treasury` underflowed: `Err(Math)` for a legal
/// liquidation (1.6 % of the realistic cases above). Now each share is capped by what is left.
#[test]
fn regression_protocol_shares_capped_by_seized() {
    // Dust collateral i: 1 unit at 1e-6; other assets 1000 USD at weight 0 (σ = 9: full π_P);
    // debt: 1 unit at 100 USD.
    let ps = [
        bps_pos(1, 0, 1e-6, 9_000, 11_000),
        bps_pos(1_000_000_000, 0, 1e-6, 0, 11_000),
        bps_pos(0, 1, 100.0, 0, 10_000),
    ];
    let p = plan_liquidation(
        &ps,
        0,
        2,
        bps(500).unwrap(),
        false,
        u64::MAX,
        &default_params(1),
    )
    .unwrap();
    assert_eq!(
        (p.repay, p.seized, p.bound),
        (1, 1, RepayBound::DustCollateral)
    );
    // floor(100 · 1.25 % / 1e-6) = 1 250 000 units of insurance due, capped to the 1 seized.
    assert_eq!((p.to_insurance, p.to_treasury, p.to_liquidator), (1, 0, 0));
}

/// Overflow of quantities the caps bound anyway made liquidatable accounts unliquidatable on
/// the pair (`Err(Math)`, 3.9 % of the realistic cases above): a need beyond u64 (a large
/// deficit repaid in a token worth little per native unit), a collateral reach beyond u64, and
/// σ = AV/LV beyond I80F48 (a tiny debt against large zero-weight deposits).
#[test]
fn regression_overflow_of_capped_quantities() {
    // x_need: deficit ≈ 5.2e9 USD repaid in a token at 2e-10 USD/unit: 5e19 > u64::MAX units.
    let ps = [
        bps_pos(1_000_000_000_000, 0, 0.01, 5_000, 11_000),
        bps_pos(0, 1_000_000_000_000, 0.01, 0, 10_000),
        bps_pos(0, 100_000_000_000, 2e-10, 0, 10_000),
    ];
    let p = plan_liquidation(
        &ps,
        0,
        2,
        bps(500).unwrap(),
        false,
        u64::MAX,
        &default_params(1),
    )
    .unwrap();
    assert_eq!(
        (p.repay, p.bound, p.repay_needed),
        (100_000_000_000, RepayBound::Debt, u64::MAX)
    );
    // x_coll: 1e15 USD of collateral at 1e-9 USD per debt unit: 1e24 units.
    let ps = [
        bps_pos(1_000_000_000_000, 0, 1e3, 5_000, 11_000),
        bps_pos(0, 1_000_000_000_000, 1e3, 0, 10_000),
        bps_pos(0, 100_000_000_000, 1e-9, 0, 10_000),
    ];
    let p = plan_liquidation(
        &ps,
        0,
        2,
        bps(500).unwrap(),
        false,
        u64::MAX,
        &default_params(1),
    )
    .unwrap();
    assert_eq!((p.repay, p.bound), (100_000_000_000, RepayBound::Debt));
    let (full, half) = alternatives(&ps, 0, 2, bps(500).unwrap()).unwrap();
    assert_eq!((full.repay, half.repay), (100_000_000_000, 50_000_000_000));
    // σ: 1e15 USD at weight 0 against 1e-9 USD of debt: AV/LV = 1e24 > I80F48::MAX.
    let ps = [
        bps_pos(1_000_000_000_000, 0, 1e3, 0, 11_000),
        bps_pos(0, 1, 1e-9, 0, 10_000),
    ];
    let p = plan_liquidation(
        &ps,
        0,
        1,
        bps(500).unwrap(),
        false,
        u64::MAX,
        &default_params(0),
    )
    .unwrap();
    // The protocol's cut is the full π · (s_I + s_T).
    let prm = default_params(0);
    let cut = bps(500).unwrap() * (prm.split_insurance + prm.split_treasury);
    assert_eq!(p.bonus_insurance + p.bonus_treasury, cut);
    // x_need = ceil(1.02e-9 / 1.02 / 1e-9) rounds up to 2 (the deficit has ~18 significant
    // bits): the whole 1-unit debt is repaid, for less than one unit of the 1e3 USD collateral.
    assert_eq!(p.repay_needed, 2);
    assert_eq!((p.repay, p.seized, p.bound), (1, 0, RepayBound::Debt));
}

// ---------------------------------------------------------------------------------------------
// Bugs the decimals properties found, NOT fixed yet (reported; `math/liquidation.rs` is being
// edited elsewhere). Each is the minimal input of a property above that fails at 6 to 9
// decimals; both pass with the two-line change described at each.
// ---------------------------------------------------------------------------------------------

/// A position of a token with `decimals`, price per whole token parsed exactly as written
/// (to the nearest step), weights in bps.
fn dec_pos(deposit: u64, debt: u64, price: &str, decimals: u8, w_bps: u64) -> HealthPosition {
    HealthPosition {
        deposit,
        debt,
        price: price.parse().unwrap(),
        conf: I80F48::ZERO,
        ema_price: price.parse().unwrap(),
        ema_conf: I80F48::ZERO,
        asset_weight_init: bps(w_bps).unwrap(),
        asset_weight_maint: bps(w_bps).unwrap(),
        liab_weight_init: bps(w_bps).unwrap(),
        liab_weight_maint: bps(w_bps).unwrap(),
        decimals,
    }
}

/// No conf bias, buffer `buffer_bps`, the whole penalty to the liquidator, dust `dust` USD.
fn bug_params(buffer_bps: u64, dust: I80F48) -> LiquidationParams {
    LiquidationParams {
        health: HealthParams {
            conf_multiplier: I80F48::ZERO,
            max_conf_bias: I80F48::ZERO,
            liquidation_buffer: bps(buffer_bps).unwrap(),
        },
        split_liquidator: I80F48::ONE,
        split_insurance: I80F48::ZERO,
        split_treasury: I80F48::ZERO,
        dust_threshold: dust,
        full_penalty_health_ratio: I80F48::from_num(0.95), // flat penalties here
    }
}

/// Property 3 (x_need exact, `end` after ≥ 0 when x ≥ x_need) failed here, and the plan now
/// tops the need up instead: κ = (1 + b)·wL_j −
/// (1 + π_e)·wA_i subtracts a truncated product, so the plan's κ can be up to one step above
/// the exact κ and x_need up to x · δ / κ native units short. Invisible at 0 decimals (x ≤
/// 10^12: under 0.004 units), it is more than a unit once x > ~10^14, which 6- to 9-decimals
/// tokens reach at a few hundred USD: here 1 361 units short.
///
/// 1 100 USD of a 9-decimals token at 0.0001 USD (1.1e16 native, wA 90 %) against 1 000 USD of
/// a 9-decimals token at 0.00001 USD (1e17 native, wL 100 %), π 5 %, b 2 %: end = −30 USD,
/// κ = 1.02 − 1.05 · 0.9 = 0.075 (the plan's is 0.075000000000006: 1.05 · 0.9 was truncated),
/// x_need = 39 999 999 953 102 290 units (≈ 400 USD); `end` after is −1.1e-12 USD and
/// 39 999 999 953 103 651 units (1 361 more) are the least that reach 0. (A κ rounded down,
/// from `mul_ceil(1 + π_e, wA_i)`, fixes this case too, x_need = 39 999 999 953 104 185, but
/// moves ordinary amounts by a unit: 330.000001 USDC where exactly 330 are due.) `end` after
/// = +3.2e-13 USD.
#[test]
fn x_need_at_large_amounts_meets_the_target() {
    let ps = [
        dec_pos(11_000_000_000_000_000, 0, "0.0001", 9, 9_000),
        dec_pos(0, 100_000_000_000_000_000, "0.00001", 9, 10_000),
    ];
    let prm = bug_params(200, I80F48::ZERO);
    let p = plan_liquidation(&ps, 0, 1, bps(500).unwrap(), false, u64::MAX, &prm).unwrap();
    assert_eq!(p.bound, RepayBound::Need);
    // The formula's x_need (39 999 999 953 102 290) misses; the least that reaches 0 is
    // 39 999 999 953 103 651: the plan repays at least that, and lands on the target.
    assert!(p.repay >= 39_999_999_953_103_651, "{}", p.repay);
    assert!(
        p.health_after.end >= I80F48::ZERO,
        "end after {} < 0 with x = {}",
        p.health_after.end,
        p.repay
    );
}

#[test]
fn bug_dust_close_out_sized_from_truncated_collateral() {
    let collateral = dec_pos(1, 0, "1", 6, 9_000);
    let truncated = scalpel::math::token_value(1, collateral.price, 6).unwrap();
    assert_eq!(truncated.to_bits(), 281_474_976);
    let mut debt = dec_pos(0, 1, "1", 0, 10_000);
    debt.price = truncated;
    let ps = [collateral, debt];
    let p = plan_liquidation(
        &ps,
        0,
        1,
        I80F48::ZERO,
        false,
        u64::MAX,
        &bug_params(0, fx(1)),
    )
    .unwrap();
    // Now: x = ceil(token_value(C_i) / p_j) = 1, S = 1 (bound DustCollateral). Sized from
    // token_value_ceil, x would be 2 > the debt: no close-out (x = 1, S = 0, bound Debt).
    let taken = Q::units(p.seized, ps[0].price, 6);
    let paid = Q::units(p.repay, ps[1].price, 0).times(one_plus(p.penalty_effective));
    assert!(
        taken <= paid,
        "seized worth {} > paid with the penalty {}",
        taken.to_f64(),
        paid.to_f64()
    );
}
