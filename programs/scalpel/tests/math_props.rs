//! Property tests of the pure math (`scalpel::math`): no panic anywhere in the input space, health
//! monotonicity and ordering, share round trips that never favour the actor, and interest accrual
//! that never pays depositors more than borrowers owe. Health properties run over tokens of 0, 6,
//! 8, 9 and 12 decimals (balances to 10^18 native units, prices per whole token realistic for
//! the decimals) and any decimals byte for "no panic"; `PROPTEST_CASES=n` overrides every case
//! count. Exact comparisons use a 256-bit product of
//! the raw `I80F48` bits, so no rounding of the test itself can hide a rounding of the code.

use proptest::prelude::*;
use scalpel::math::interest::{accrue, borrow_rate, utilization, RateCurve};
use scalpel::math::shares::{self, debt_balance, deposit_balance};
use scalpel::math::{
    biased_prices, bps, ceil_u64, compute_health, div_ceil, floor_u64, fx, mul_ceil, Health,
    HealthParams, HealthPosition, SafeMath, WrappedI80F48, DELTA, I80F48,
};

const ONE_BITS: i128 = 1 << 48;
const FRAC_MASK_96: u128 = (1u128 << 96) - 1;

// ---------------------------------------------------------------------------------------------
// Exact arithmetic on raw bits
// ---------------------------------------------------------------------------------------------

/// A non-negative 256-bit integer `(hi, lo)`; the derived order is the numeric order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct U256 {
    hi: u128,
    lo: u128,
}

impl U256 {
    fn from_u128(v: u128) -> Self {
        U256 { hi: 0, lo: v }
    }

    /// `v · 2^s` for `s < 128`.
    fn shl(v: u128, s: u32) -> Self {
        if s == 0 {
            return U256::from_u128(v);
        }
        U256 {
            hi: v >> (128 - s),
            lo: v << s,
        }
    }

    fn add(self, o: Self) -> Self {
        let (lo, carry) = self.lo.overflowing_add(o.lo);
        U256 {
            hi: self.hi + o.hi + carry as u128,
            lo,
        }
    }

    /// `self − o`, `self ≥ o` required.
    fn sub(self, o: Self) -> Self {
        assert!(self >= o);
        let (lo, borrow) = self.lo.overflowing_sub(o.lo);
        U256 {
            hi: self.hi - o.hi - borrow as u128,
            lo,
        }
    }
}

/// Exact product of two non-negative raw values.
fn wide_mul(a: i128, b: i128) -> U256 {
    assert!(a >= 0 && b >= 0);
    let (a, b) = (a as u128, b as u128);
    let m = u64::MAX as u128;
    let (a0, a1, b0, b1) = (a & m, a >> 64, b & m, b >> 64);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let mid = (p00 >> 64) + (p01 & m) + (p10 & m);
    U256 {
        hi: p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64),
        lo: (p00 & m) | (mid << 64),
    }
}

/// Exact product of two non-negative fixed-point values, in units of 2^-96.
fn exact_mul(a: I80F48, b: I80F48) -> U256 {
    wide_mul(a.to_bits(), b.to_bits())
}

/// A non-negative fixed-point value in units of 2^-96.
fn as_96(v: I80F48) -> U256 {
    assert!(v >= I80F48::ZERO);
    U256::shl(v.to_bits() as u128, 48)
}

/// An integer in units of 2^-96.
fn int_96(n: u64) -> U256 {
    U256::shl(n as u128, 96)
}

/// `floor(P / 2^96)` if it fits in u128.
fn floor_96(p: U256) -> Option<u128> {
    if p.hi >> 96 != 0 {
        return None;
    }
    Some((p.hi << 32) | (p.lo >> 96))
}

/// `ceil(P / 2^96)` if it fits in u128.
fn ceil_96(p: U256) -> Option<u128> {
    floor_96(p)?.checked_add((p.lo & FRAC_MASK_96 != 0) as u128)
}

/// `ceil(P / 2^48)` as raw `I80F48` bits, if representable.
fn ceil_48_bits(p: U256) -> Option<i128> {
    if p.hi >> 48 != 0 {
        return None;
    }
    let floor = (p.hi << 80) | (p.lo >> 48);
    let c = floor.checked_add((p.lo & ((1u128 << 48) - 1) != 0) as u128)?;
    i128::try_from(c).ok()
}

fn f(v: f64) -> I80F48 {
    I80F48::from_num(v)
}

// ---------------------------------------------------------------------------------------------
// Strategies
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
            I80F48::MAX - DELTA,
            I80F48::MIN + DELTA,
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

fn any_params() -> impl Strategy<Value = HealthParams> {
    (any_fx(), any_fx(), any_fx()).prop_map(|(k, m, b)| HealthParams {
        conf_multiplier: k,
        max_conf_bias: m,
        liquidation_buffer: b,
    })
}

fn any_curve() -> impl Strategy<Value = RateCurve> {
    (any_fx(), any_fx(), any_fx(), any_fx()).prop_map(|(o, b, s1, s2)| RateCurve {
        optimal_utilization: o,
        base_rate: b,
        slope1: s1,
        slope2: s2,
    })
}

/// Fixed-point value with raw bits in `[lo, hi]`.
fn fx_range(lo: I80F48, hi: I80F48) -> impl Strategy<Value = I80F48> {
    (lo.to_bits()..=hi.to_bits()).prop_map(I80F48::from_bits)
}

const MAX_BALANCE: u64 = 1_000_000_000_000_000;

/// Token decimals of realistic positions: 0 (the native unit is the token), 6 (USDC), 8
/// (wrapped BTC), 9 (SOL) and the governance bound 12.
const DECIMALS: [u8; 5] = [0, 6, 8, 9, 12];

/// The largest balance of a realistic position: 10^15 units of a 0-decimals token, 10^18
/// native units otherwise (a billion SOL in lamports).
fn max_balance(decimals: u8) -> u64 {
    if decimals == 0 {
        MAX_BALANCE
    } else {
        1_000_000_000_000_000_000
    }
}

/// Price in USD per whole token at a point `u ∈ [0, 1]` of the realistic range for `decimals`,
/// log-uniform and increasing in `u`: [1e-12, 1e6] at 0 decimals (the native unit is the token,
/// anything from a lamport-sized unit to a whole BTC), [1e-6, 1e5] otherwise.
fn price_at(decimals: u8, u: f64) -> I80F48 {
    let (lo, hi) = if decimals == 0 {
        (-12.0, 6.0)
    } else {
        (-6.0, 5.0)
    };
    f(10f64.powf(lo + (hi - lo) * u))
}

/// Valid weights `0 ≤ wA_init ≤ wA_maint ≤ 1 ≤ wL_maint ≤ wL_init ≤ 3`.
fn real_weights() -> impl Strategy<Value = [I80F48; 4]> {
    (
        0..=ONE_BITS,
        0..=ONE_BITS,
        ONE_BITS..=3 * ONE_BITS,
        ONE_BITS..=3 * ONE_BITS,
    )
        .prop_map(|(a, b, c, d)| {
            [
                I80F48::from_bits(a.min(b)),
                I80F48::from_bits(a.max(b)),
                I80F48::from_bits(c.max(d)),
                I80F48::from_bits(c.min(d)),
            ]
        })
}

/// Confidence as a fraction of price, in [0, 5%].
fn conf_frac() -> impl Strategy<Value = I80F48> {
    fx_range(I80F48::ZERO, f(0.05))
}

/// One realistic position: either a deposit or a debt (one signed share balance per market),
/// of a token with realistic decimals, balance and price for them.
fn real_position() -> impl Strategy<Value = HealthPosition> {
    (
        any::<bool>(),
        prop::sample::select(DECIMALS.to_vec()),
        (any::<bool>(), any::<u64>(), 0.0f64..=1.0),
        0.0f64..=1.0,
        conf_frac(),
        real_weights(),
    )
        .prop_map(|(is_deposit, decimals, (log, n, e), u, cf, w)| {
            // Uniform in [0, max_balance] or log-uniform in [1, max_balance].
            let max = max_balance(decimals);
            let amount = if log {
                ((max as f64).powf(e) as u64).min(max)
            } else {
                n % (max + 1)
            };
            let price = price_at(decimals, u);
            HealthPosition {
                deposit: if is_deposit { amount } else { 0 },
                debt: if is_deposit { 0 } else { amount },
                price,
                conf: price * cf,
                ema_price: price,
                ema_conf: price * cf,
                asset_weight_init: w[0],
                asset_weight_maint: w[1],
                liab_weight_init: w[2],
                liab_weight_maint: w[3],
                decimals,
            }
        })
}

/// Parameters within governance bounds: `k ≤ 10`, bias ≤ 20%, buffer ≤ 20%.
fn real_params() -> impl Strategy<Value = HealthParams> {
    (
        fx_range(I80F48::ZERO, fx(10)),
        fx_range(I80F48::ZERO, f(0.2)),
        fx_range(I80F48::ZERO, f(0.2)),
    )
        .prop_map(|(k, m, b)| HealthParams {
            conf_multiplier: k,
            max_conf_bias: m,
            liquidation_buffer: b,
        })
}

fn real_account() -> impl Strategy<Value = Vec<HealthPosition>> {
    prop::collection::vec(real_position(), 1..=8)
}

/// Curve within governance bounds: optimal utilization in [1%, 99%], rates ≥ 0 and the top of
/// the curve at most 1 000%.
fn real_curve() -> impl Strategy<Value = RateCurve> {
    (
        fx_range(f(0.01), f(0.99)),
        fx_range(I80F48::ZERO, f(0.5)),
        fx_range(I80F48::ZERO, fx(2)),
        fx_range(I80F48::ZERO, f(7.5)),
    )
        .prop_map(|(o, b, s1, s2)| RateCurve {
            optimal_utilization: o,
            base_rate: b,
            slope1: s1,
            slope2: s2,
        })
}

/// An index in [1, 100]: arbitrary bits, plus round values where products are exact.
fn index() -> impl Strategy<Value = I80F48> {
    prop_oneof![
        4 => fx_range(I80F48::ONE, fx(100)),
        2 => Just(I80F48::ONE),
        2 => (1u64..=100).prop_map(fx),
        2 => (1u64..=100 * 16).prop_map(|n| fx(n) / fx(16)).prop_filter("≥ 1", |v| *v >= 1),
    ]
}

/// Non-negative shares: arbitrary bits, and round (integer or binary-fraction) values.
fn share_amount() -> impl Strategy<Value = I80F48> {
    prop_oneof![
        3 => (0i128..=i128::MAX).prop_map(I80F48::from_bits),
        3 => (0i128..(1i128 << 112)).prop_map(I80F48::from_bits),
        2 => any::<u64>().prop_map(fx),
        2 => (any::<u64>(), 0u32..8).prop_map(|(n, s)| fx(n) >> s),
        1 => prop::sample::select(vec![I80F48::ZERO, DELTA, I80F48::ONE, I80F48::MAX]),
    ]
}

/// `cases` cases, or `PROPTEST_CASES` when set (a longer run).
fn cfg(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig::with_cases(cases)
}

// ---------------------------------------------------------------------------------------------
// 1. No panic anywhere in the input space (proptest reports a panic as a failure).
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(cfg(10_000))]

    #[test]
    fn no_panic_fixed(a in any_fx(), b in any_fx(), n in any_amount(), m in any_amount(),
                      x in any::<i128>(), y in any::<i128>()) {
        let _ = (a.safe_add(b), a.safe_sub(b), a.safe_mul(b), a.safe_div(b));
        let _ = (n.safe_add(m), n.safe_sub(m), n.safe_mul(m), n.safe_div(m));
        let _ = (x.safe_add(y), x.safe_sub(y), x.safe_mul(y), x.safe_div(y));
        let (u, v) = (x as u128, y as u128);
        let _ = (u.safe_add(v), u.safe_sub(v), u.safe_mul(v), u.safe_div(v));
        let (s, t) = (x as i64, y as i64);
        let _ = (s.safe_add(t), s.safe_sub(t), s.safe_mul(t), s.safe_div(t));
        let _ = (bps(n), fx(n));
        prop_assert_eq!(WrappedI80F48::from_num(a).get(), a);
        prop_assert_eq!(I80F48::from(WrappedI80F48::from(b)), b);

        // The rounding helpers, and their results when they succeed.
        if let Ok(r) = floor_u64(a) {
            prop_assert!(a >= 0 && fx(r) <= a && a - fx(r) < 1);
        } else {
            prop_assert!(a < 0 || a >= fx(u64::MAX) + I80F48::ONE);
        }
        if let Ok(r) = ceil_u64(a) {
            prop_assert!(a >= 0 && fx(r) >= a && fx(r) - a < 1);
        } else {
            prop_assert!(a < 0 || a > fx(u64::MAX));
        }
        if let Ok(q) = div_ceil(a, b) {
            // The smallest representable q with q · b ≥ a (exactly).
            prop_assert!(a >= 0 && b > 0 && q >= 0);
            prop_assert!(exact_mul(q, b) >= as_96(a));
            if q > 0 {
                prop_assert!(exact_mul(q - DELTA, b) < as_96(a));
            }
        }
        if let Ok(p) = mul_ceil(a, b) {
            // Exactly the product rounded up to the next step.
            prop_assert!(a >= 0 && b >= 0);
            prop_assert_eq!(Some(p.to_bits()), ceil_48_bits(exact_mul(a, b)));
        }
    }

    #[test]
    fn no_panic_health(positions in prop::collection::vec(
                           prop_oneof![3 => any_position(), 1 => real_position()], 0..=8),
                       params in any_params(), being in any::<bool>(),
                       h in [any_fx(), any_fx(), any_fx(), any_fx(), any_fx(), any_fx(), any_fx(),
                             any_fx(), any_fx()],
                       old in any_position(), new in any_position()) {
        for p in &positions {
            let _ = biased_prices(p.price, p.conf, &params);
        }
        if let Ok(health) = compute_health(&positions, &params) {
            let _ = health.ratio();
            let _ = health.is_liquidatable(being);
        }
        let arbitrary = Health {
            init: h[0],
            maint: h[1],
            end: h[2],
            asset_maint: h[3],
            liab_maint: h[4],
            asset_value: h[5],
            liab_value: h[6],
            asset_init: h[7],
            liab_init: h[8],
            maint_only: being,
        };
        let _ = arbitrary.ratio();
        let _ = arbitrary.is_liquidatable(being);
        let _ = arbitrary.replacing(&[old], &[new], &params);
    }

    #[test]
    fn no_panic_interest(curve in any_curve(), d in any_fx(), b in any_fx(), ds in any_fx(),
                         bs in any_fx(), dt in any_amount(), u in any_fx()) {
        let _ = borrow_rate(&curve, u);
        let util = utilization(d, b);
        prop_assert!(util.is_ok(), "utilization must clamp, not fail: {:?}", util);
        let util = util.unwrap();
        prop_assert!((I80F48::ZERO..=I80F48::ONE).contains(&util));
        let _ = accrue(&curve, d, b, ds, bs, dt);
    }

    #[test]
    fn no_panic_shares(s in any_fx(), n in any_amount(), di in any_fx(), bi in any_fx()) {
        let _ = deposit_balance(s, di);
        let _ = debt_balance(s, bi);
        let _ = shares::deposit(s, n, di, bi);
        let _ = shares::withdraw(s, n, di);
        let _ = shares::borrow(s, n, bi);
        let _ = shares::repay(s, n, bi);
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Health is monotone in prices, balances and confidence; 3. init ≤ maint ≥ end.
// ---------------------------------------------------------------------------------------------

fn health(positions: &[HealthPosition], params: &HealthParams) -> Health {
    compute_health(positions, params).expect("realistic inputs never overflow")
}

proptest! {
    #![proptest_config(cfg(10_000))]

    #[test]
    fn health_monotone_in_deposit(mut positions in real_account(), params in real_params(),
                                  i in any::<prop::sample::Index>(),
                                  a in any::<u64>(), b in any::<u64>(),
                                  u in 0.0f64..=1.0, v in 0.0f64..=1.0) {
        let i = i.index(positions.len());
        let d = positions[i].decimals;
        let (a, b) = (a % (max_balance(d) + 1), b % (max_balance(d) + 1));
        let (p, q) = (price_at(d, u), price_at(d, v));
        positions[i].debt = 0;
        // More of the deposit.
        positions[i].deposit = a.min(b);
        let lo = health(&positions, &params);
        positions[i].deposit = a.max(b);
        let hi = health(&positions, &params);
        prop_assert!(hi.init >= lo.init && hi.maint >= lo.maint && hi.end >= lo.end);
        // A higher price (same absolute confidence, which stays within 5% of either price).
        positions[i].conf = positions[i].conf.min(p.min(q) * f(0.05));
        positions[i].price = p.min(q);
        let lo = health(&positions, &params);
        positions[i].price = p.max(q);
        let hi = health(&positions, &params);
        prop_assert!(hi.init >= lo.init && hi.maint >= lo.maint && hi.end >= lo.end);
    }

    #[test]
    fn health_antitone_in_debt(mut positions in real_account(), params in real_params(),
                               i in any::<prop::sample::Index>(),
                               a in any::<u64>(), b in any::<u64>(),
                               u in 0.0f64..=1.0, v in 0.0f64..=1.0) {
        let i = i.index(positions.len());
        let d = positions[i].decimals;
        let (a, b) = (a % (max_balance(d) + 1), b % (max_balance(d) + 1));
        let (p, q) = (price_at(d, u), price_at(d, v));
        positions[i].deposit = 0;
        positions[i].debt = a.min(b);
        let lo = health(&positions, &params);
        positions[i].debt = a.max(b);
        let hi = health(&positions, &params);
        prop_assert!(hi.init <= lo.init && hi.maint <= lo.maint && hi.end <= lo.end);
        positions[i].conf = positions[i].conf.min(p.min(q) * f(0.05));
        positions[i].price = p.min(q);
        let lo = health(&positions, &params);
        positions[i].price = p.max(q);
        let hi = health(&positions, &params);
        prop_assert!(hi.init <= lo.init && hi.maint <= lo.maint && hi.end <= lo.end);
    }

    #[test]
    fn wider_conf_never_helps(mut positions in real_account(), params in real_params(),
                              i in any::<prop::sample::Index>(),
                              c in conf_frac(), d in conf_frac()) {
        let i = i.index(positions.len());
        let price = positions[i].price;
        positions[i].conf = price * c.min(d);
        let narrow = health(&positions, &params);
        positions[i].conf = price * c.max(d);
        let wide = health(&positions, &params);
        prop_assert!(wide.init <= narrow.init);
        prop_assert_eq!(wide.maint, narrow.maint);
        prop_assert_eq!(wide.end, narrow.end);
        prop_assert_eq!(wide.asset_maint, narrow.asset_maint);
        prop_assert_eq!(wide.liab_maint, narrow.liab_maint);
    }

    /// Issue 12: any EMA (and EMA confidence) on any positions never raises init health above
    /// its spot-only value, and leaves maintenance health (what liquidation reads) unchanged.
    #[test]
    fn ema_never_raises_init_health_above_spot(
        mut positions in real_account(),
        params in real_params(),
        emas in prop::collection::vec((0.0f64..4.0, conf_frac()), 8),
    ) {
        let spot = health(&positions, &params);
        for (p, (ratio, cf)) in positions.iter_mut().zip(&emas) {
            p.ema_price = p.price * f(*ratio);
            p.ema_conf = p.ema_price * *cf;
        }
        let with_ema = health(&positions, &params);
        prop_assert!(with_ema.init <= spot.init, "{} > {}", with_ema.init, spot.init);
        prop_assert_eq!(with_ema.maint, spot.maint);
        prop_assert_eq!(with_ema.end, spot.end);
        prop_assert_eq!(with_ema.asset_value, spot.asset_value);
        prop_assert_eq!(with_ema.liab_value, spot.liab_value);
    }

    #[test]
    fn health_ordering(positions in real_account(), params in real_params(),
                       being in any::<bool>()) {
        let h = health(&positions, &params);
        prop_assert!(h.init <= h.maint, "init {} > maint {}", h.init, h.maint);
        prop_assert!(h.end <= h.maint, "end {} > maint {}", h.end, h.maint);
        prop_assert_eq!(h.maint, h.asset_maint - h.liab_maint);
        // Weighted values stay on the pessimistic side of the unweighted ones.
        prop_assert!(h.asset_maint <= h.asset_value && h.liab_maint >= h.liab_value);
        // Liquidatable without hysteresis implies liquidatable with it.
        if h.is_liquidatable(false) {
            prop_assert!(h.is_liquidatable(being));
        }
        match h.ratio() {
            // No debt, or a ratio beyond I80F48's range (tiny debt against a large deposit).
            None => prop_assert!(h.liab_maint == 0 || h.maint > 0),
            Some(r) => prop_assert_eq!(r < 1, h.maint < 0),
        }
        // The bias stays within its cap and keeps p_low ≤ p ≤ p_high.
        for p in &positions {
            let (low, high) = biased_prices(p.price, p.conf, &params).unwrap();
            prop_assert!(I80F48::ZERO <= low && low <= p.price && p.price <= high);
            prop_assert!(high - p.price <= params.max_conf_bias * p.price);
        }
    }

    /// Decimals only rename the native unit: the same holdings written with `k` more decimals
    /// (each balance times 10^k, the price per whole token unchanged) have exactly the same
    /// health, every figure (`token_value` divides the same sub-token remainder by 10^d last,
    /// and its truncation depends only on the exact quotient). Balances too large to gain k
    /// digits within 10^18 are divided by 10^k first; 12-decimals positions (the bound) are
    /// renamed the other way, to 12 − k decimals, from a balance rounded to a multiple of 10^k.
    #[test]
    fn health_invariant_under_redenomination(positions in real_account(),
                                             params in real_params(), k in 1u32..=9) {
        let mut base = positions;
        let mut renamed = base.clone();
        for (b, r) in base.iter_mut().zip(renamed.iter_mut()) {
            let up = k.min(12 - u32::from(b.decimals));
            if up > 0 {
                let scale = 10u64.pow(up);
                for n in [&mut b.deposit, &mut b.debt] {
                    if *n > max_balance(1) / scale {
                        *n /= scale;
                    }
                }
                (r.deposit, r.debt) = (b.deposit * scale, b.debt * scale);
                r.decimals = b.decimals + up as u8;
            } else {
                let scale = 10u64.pow(k);
                b.deposit -= b.deposit % scale;
                b.debt -= b.debt % scale;
                (r.deposit, r.debt) = (b.deposit / scale, b.debt / scale);
                r.decimals = b.decimals - k as u8;
            }
        }
        prop_assert_eq!(health(&renamed, &params), health(&base, &params));
    }
}

// ---------------------------------------------------------------------------------------------
// 4, 5, 7. Shares: round trips never favour the actor.
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(cfg(10_000))]

    #[test]
    fn deposit_withdraw_never_gains(amount in any_amount(), di in index(), bi in index()) {
        let d = shares::deposit(I80F48::ZERO, amount, di, bi).unwrap();
        prop_assert_eq!(d.amount, amount);
        prop_assert_eq!(d.new_shares, d.deposit_shares_delta);
        prop_assert_eq!(d.borrow_shares_delta, I80F48::ZERO);
        let balance = deposit_balance(d.new_shares, di).unwrap();
        prop_assert!(balance <= amount);
        prop_assert!(balance >= amount.saturating_sub(1));
        // Withdrawing everything burns every share and pays at most what went in.
        let w = shares::withdraw(d.new_shares, balance, di).unwrap();
        if d.new_shares == 0 {
            prop_assert!(amount == 0 && w.is_none());
            return Ok(());
        }
        let w = w.unwrap();
        prop_assert_eq!(w.amount, balance);
        prop_assert_eq!(w.new_shares, I80F48::ZERO);
        prop_assert_eq!(w.deposit_shares_delta, -d.new_shares);
        // One unit more than deposited is refused.
        if let Some(more) = amount.checked_add(1) {
            prop_assert!(shares::withdraw(d.new_shares, more, di).unwrap().is_none());
        }
        if let Some(more) = balance.checked_add(1) {
            prop_assert!(shares::withdraw(d.new_shares, more, di).unwrap().is_none());
        }
    }

    #[test]
    fn deposit_onto_deposit_never_gains(s in fx_range(I80F48::ZERO, fx(MAX_BALANCE)),
                                        amount in 0..=MAX_BALANCE, di in index()) {
        let before = deposit_balance(s, di).unwrap();
        let d = shares::deposit(s, amount, di, I80F48::ONE).unwrap();
        let after = deposit_balance(d.new_shares, di).unwrap();
        prop_assert!(after <= before + amount);
        prop_assert!(after + 1 >= before + amount);
    }

    #[test]
    fn partial_withdraw_never_gains(s in fx_range(I80F48::ZERO, fx(MAX_BALANCE)),
                                    w in 0..=MAX_BALANCE, di in index()) {
        let balance = deposit_balance(s, di).unwrap();
        match shares::withdraw(s, w, di).unwrap() {
            None => prop_assert!(w > balance || s == 0),
            Some(c) => {
                prop_assert!(w <= balance);
                prop_assert!(c.new_shares >= 0 && c.new_shares <= s);
                prop_assert_eq!(c.deposit_shares_delta, c.new_shares - s);
                // Shares burned are worth at least what was paid out.
                prop_assert!(exact_mul(s - c.new_shares, di) >= int_96(w));
                let left = deposit_balance(c.new_shares, di).unwrap();
                prop_assert!(left + w <= balance);
            }
        }
    }

    #[test]
    fn borrow_repay_never_loses(amount in 0..u64::MAX, bi in index(), r in any::<u64>()) {
        let b = shares::borrow(I80F48::ZERO, amount, bi).unwrap().unwrap();
        prop_assert_eq!(b.amount, amount);
        prop_assert_eq!(b.new_shares, -b.borrow_shares_delta);
        let owed = b.borrow_shares_delta;
        let debt = debt_balance(owed, bi).unwrap();
        prop_assert!(debt >= amount);
        prop_assert!(debt <= amount + 1);
        // Repaying "everything" takes exactly the debt and clears the position.
        let full = shares::repay(b.new_shares, u64::MAX, bi).unwrap();
        prop_assert_eq!(full.amount, debt);
        prop_assert_eq!(full.new_shares, I80F48::ZERO);
        prop_assert_eq!(full.borrow_shares_delta, -owed);
        // So does repaying exactly the debt.
        prop_assert_eq!(shares::repay(b.new_shares, debt, bi).unwrap().new_shares, I80F48::ZERO);
        // A partial repayment never lowers the debt by more than it paid.
        if debt > 0 {
            let r = r % debt;
            let part = shares::repay(b.new_shares, r, bi).unwrap();
            prop_assert_eq!(part.amount, r);
            prop_assert!(part.new_shares <= 0 && part.new_shares >= b.new_shares);
            prop_assert_eq!(part.borrow_shares_delta, b.new_shares - part.new_shares);
            let left = debt_balance(-part.new_shares, bi).unwrap();
            prop_assert!(left >= debt - r, "debt {} repaid {} left {}", debt, r, left);
        }
    }

    #[test]
    fn borrow_exact_at_round_indices(amount in any::<u64>(), k in 0u32..8) {
        // At index 2^-k · 2^k-multiples the shares are exact, so the debt must be exactly the
        // amount borrowed: no extra unit from rounding that did not happen.
        let bi = I80F48::ONE << k;
        let amount = amount >> k << k;
        let b = shares::borrow(I80F48::ZERO, amount, bi).unwrap().unwrap();
        prop_assert_eq!(debt_balance(b.borrow_shares_delta, bi).unwrap(), amount);
        let full = shares::repay(b.new_shares, u64::MAX, bi).unwrap();
        prop_assert_eq!(full.amount, amount);
    }

    #[test]
    fn deposit_into_debt_nets(owed in fx_range(I80F48::ZERO, fx(MAX_BALANCE)),
                              amount in 0..=MAX_BALANCE, di in index(), bi in index()) {
        let debt = debt_balance(owed, bi).unwrap();
        let c = shares::deposit(-owed, amount, di, bi).unwrap();
        prop_assert_eq!(c.amount, amount);
        if amount >= debt {
            prop_assert!(c.new_shares >= 0);
            prop_assert_eq!(c.borrow_shares_delta, -owed);
            prop_assert!(deposit_balance(c.new_shares, di).unwrap() <= amount - debt);
        } else {
            prop_assert!(c.new_shares <= 0);
            prop_assert_eq!(c.deposit_shares_delta, I80F48::ZERO);
            prop_assert!(debt_balance(-c.new_shares, bi).unwrap() >= debt - amount);
        }
    }

    #[test]
    fn balances_round_against_the_actor(s in share_amount(), i in prop_oneof![
        2 => index(),
        1 => (1i128..=i128::MAX).prop_map(I80F48::from_bits),
        1 => (1i128..(1i128 << 80)).prop_map(I80F48::from_bits),
    ]) {
        let exact = exact_mul(s, i);
        // The truncated fixed-point product is representable iff exact / 2^48 < 2^127.
        let representable = exact.hi >> 47 == 0;
        match deposit_balance(s, i) {
            Ok(n) => {
                prop_assert!(int_96(n) <= exact);
                prop_assert_eq!(Some(n as u128), floor_96(exact));
            }
            Err(_) => prop_assert!(
                !representable || floor_96(exact).is_none_or(|v| v > u64::MAX as u128)
            ),
        }
        match debt_balance(s, i) {
            Ok(n) => {
                prop_assert!(int_96(n) >= exact);
                prop_assert_eq!(Some(n as u128), ceil_96(exact));
            }
            Err(_) => prop_assert!(
                !representable || ceil_96(exact).is_none_or(|v| v > u64::MAX as u128)
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Interest.
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(cfg(10_000))]

    #[test]
    fn accrual_conserves_value(curve in real_curve(), d in index(), b in index(),
                               ds in prop_oneof![1 => Just(I80F48::ZERO),
                                                 9 => fx_range(I80F48::ZERO, fx(MAX_BALANCE))],
                               bs in prop_oneof![1 => Just(I80F48::ZERO),
                                                 9 => fx_range(I80F48::ZERO, fx(MAX_BALANCE))],
                               dt in prop_oneof![0u64..=86_400, 0u64..=10 * 31_536_000]) {
        let a = accrue(&curve, d, b, ds, bs, dt).unwrap();
        prop_assert!(a.deposit_index >= d && a.borrow_index >= b);
        prop_assert!((I80F48::ZERO..=I80F48::ONE).contains(&a.utilization));
        prop_assert_eq!(a.borrow_rate, borrow_rate(&curve, a.utilization).unwrap());
        let deposit_gain = exact_mul(a.deposit_index - d, ds);
        let borrow_gain = exact_mul(a.borrow_index - b, bs);
        // Depositors never receive more than borrowers now owe ...
        prop_assert!(deposit_gain <= borrow_gain);
        if ds > 0 {
            // ... and miss at most one truncation of the interest and one of the per-share split.
            // In units of 2^-96: δ·D is D's raw bits, δ is 2^48.
            let slack = U256::from_u128(ds.to_bits() as u128).add(U256::from_u128(1 << 48));
            prop_assert!(borrow_gain.sub(deposit_gain) <= slack);
        } else {
            prop_assert_eq!(a.deposit_index, d);
        }
        // Nothing moves without time or borrowers.
        if dt == 0 || bs == 0 {
            prop_assert_eq!((a.deposit_index, a.borrow_index), (d, b));
        }
    }

    #[test]
    fn rate_monotone_in_utilization(curve in real_curve(), u in any_fx(), v in any_fx()) {
        let (lo, hi) = (u.min(v), u.max(v));
        let r_lo = borrow_rate(&curve, lo).unwrap();
        let r_hi = borrow_rate(&curve, hi).unwrap();
        prop_assert!(r_lo <= r_hi);
        prop_assert!(curve.base_rate <= r_lo);
        prop_assert!(r_hi <= curve.base_rate + curve.slope1 + curve.slope2);
        // The kink is continuous.
        prop_assert_eq!(
            borrow_rate(&curve, curve.optimal_utilization).unwrap(),
            curve.base_rate + curve.slope1
        );
    }

    #[test]
    fn utilization_in_unit_interval(d in any_fx(), b in any_fx()) {
        let u = utilization(d, b).unwrap();
        prop_assert!((I80F48::ZERO..=I80F48::ONE).contains(&u));
        if b > 0 && d > 0 && b < d {
            prop_assert!(u == b / d);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-computed health tables (complementing the unit tests in `health.rs`).
// ---------------------------------------------------------------------------------------------

fn close(a: I80F48, b: f64, tol: f64) -> bool {
    (a.to_num::<f64>() - b).abs() <= tol
}

fn pos(deposit: u64, debt: u64, price: f64, conf: f64, w: [f64; 4]) -> HealthPosition {
    HealthPosition {
        deposit,
        debt,
        price: f(price),
        conf: f(conf),
        ema_price: f(price),
        ema_conf: f(conf),
        asset_weight_init: f(w[0]),
        asset_weight_maint: f(w[1]),
        liab_weight_init: f(w[2]),
        liab_weight_maint: f(w[3]),
        decimals: 0,
    }
}

fn default_params(buffer: f64) -> HealthParams {
    HealthParams {
        conf_multiplier: f(2.12),
        max_conf_bias: f(0.05),
        liquidation_buffer: f(buffer),
    }
}

/// Three positions, mixed weights; the ETH bias hits the 5% cap, the others do not.
#[test]
fn table_three_positions_with_capped_bias() {
    let params = default_params(0.03);
    let eth = pos(2, 0, 2000.0, 60.0, [0.75, 0.85, 1.25, 1.15]);
    let usdc = pos(1000, 0, 1.0, 0.001, [0.95, 0.98, 1.05, 1.02]);
    let sol = pos(0, 20, 100.0, 1.0, [0.7, 0.8, 1.3, 1.2]);
    // ETH: k·conf = 2.12·60 = 127.2 > 5%·2000 = 100 → p_low = 1900, p_high = 2100.
    let (low, high) = biased_prices(eth.price, eth.conf, &params).unwrap();
    assert!(close(low, 1900.0, 1e-9) && close(high, 2100.0, 1e-9));
    // USDC: k·conf = 0.00212 < 0.05 → p_low = 0.99788.
    // SOL: k·conf = 2.12 < 5 → p_high = 102.12.
    let h = compute_health(&[eth, usdc, sol], &params).unwrap();
    // A_maint = 2·2000·0.85 + 1000·1·0.98 = 3400 + 980 = 4380.
    assert!(close(h.asset_maint, 4380.0, 1e-9));
    // L_maint = 20·100·1.2 = 2400.
    assert!(close(h.liab_maint, 2400.0, 1e-9));
    // maint = 4380 − 2400 = 1980.
    assert!(close(h.maint, 1980.0, 1e-9));
    // end = 4380 − 1.03·2400 = 4380 − 2472 = 1908.
    assert!(close(h.end, 1908.0, 1e-9));
    // A_init = 2·1900·0.75 + 1000·0.99788·0.95 = 2850 + 947.986 = 3797.986.
    // L_init = 20·102.12·1.3 = 2655.12.  init = 3797.986 − 2655.12 = 1142.866.
    assert!(close(h.init, 1142.866, 1e-9));
    // AV = 4000 + 1000 = 5000, LV = 2000, ratio = 4380 / 2400 = 1.825.
    assert!(close(h.asset_value, 5000.0, 1e-9));
    assert!(close(h.liab_value, 2000.0, 1e-9));
    assert!(close(h.ratio().unwrap(), 1.825, 1e-9));
    assert!(!h.is_liquidatable(true));
}

/// Real native units (SOL 9 decimals, USDC 6 decimals): an underwater account.
#[test]
fn table_native_units_underwater() {
    let params = default_params(0.02);
    // 10 SOL = 1e10 lamports at 150 USD/SOL = 1.5e-7 USD/lamport, conf 0.05 USD = 5e-11.
    let sol = pos(10_000_000_000, 0, 1.5e-7, 5e-11, [0.8, 0.9, 1.2, 1.1]);
    // 1300 USDC = 1.3e9 native at 1e-6 USD each, conf 0.
    let usdc = pos(0, 1_300_000_000, 1e-6, 0.0, [1.0, 1.0, 1.1, 1.05]);
    let h = compute_health(&[sol, usdc], &params).unwrap();
    // Prices of 1e-7 carry a relative representation error ~2.4e-8, so allow 1e-3 USD.
    let tol = 1e-3;
    // A_maint = 1500·0.9 = 1350; L_maint = 1300·1.05 = 1365; maint = −15.
    assert!(close(h.asset_maint, 1350.0, tol));
    assert!(close(h.liab_maint, 1365.0, tol));
    assert!(close(h.maint, -15.0, tol));
    // end = 1350 − 1.02·1365 = 1350 − 1392.3 = −42.3.
    assert!(close(h.end, -42.3, tol));
    // p_low = 1.5e-7 − 2.12·5e-11 (< cap 7.5e-9) → A_init = (1500 − 1.06)·0.8 = 1199.152.
    // L_init = 1300·1.1 = 1430.  init = −230.848.
    assert!(close(h.init, -230.848, tol));
    // ratio = 1350 / 1365 = 0.989011.
    assert!(close(h.ratio().unwrap(), 1350.0 / 1365.0, 1e-6));
    assert!(h.is_liquidatable(false) && h.is_liquidatable(true));
}

/// The same kind of account in real native units with per-token prices and binary fractions
/// throughout, so every figure is exact to the bit: 10.5 SOL (9 decimals) at 150 USD, conf
/// 0.25, against 1 400.25 USDC (6 decimals) at 1 USD, conf 1/1024; k = 2, bias cap 1/16,
/// buffer 1/32. The sub-token remainders (0.5 SOL, 0.25 USDC) go through the division by
/// 10^decimals.
#[test]
fn table_native_units_with_decimals_exact() {
    let params = HealthParams {
        conf_multiplier: f(2.0),
        max_conf_bias: f(0.0625),
        liquidation_buffer: f(0.03125),
    };
    let mut sol = pos(10_500_000_000, 0, 150.0, 0.25, [0.75, 0.875, 1.25, 1.125]);
    sol.decimals = 9;
    let mut usdc = pos(
        0,
        1_400_250_000,
        1.0,
        0.0009765625,
        [1.0, 1.0, 1.125, 1.0625],
    );
    usdc.decimals = 6;
    let h = compute_health(&[sol, usdc], &params).unwrap();
    // AV = 10 · 150 + 500 000 000 · 150 / 10^9 = 1500 + 75 = 1575; A_maint = 1575 · 7/8.
    assert_eq!((h.asset_value, h.asset_maint), (f(1575.0), f(1378.125)));
    // LV = 1400 · 1 + 250 000 · 1 / 10^6 = 1400.25; L_maint = 1400.25 · 17/16.
    assert_eq!((h.liab_value, h.liab_maint), (f(1400.25), f(1487.765625)));
    // maint = 1378.125 − 1487.765625; end = 1378.125 − 33/32 · 1487.765625 = 1378.125 −
    // 1534.25830078125.
    assert_eq!(h.maint, f(-109.640625));
    assert_eq!(h.end, f(-156.13330078125));
    // SOL: k·conf = 0.5 < 150/16 → p_low = 149.5; A_init = (1495 + 74.75) · 3/4 = 1177.3125.
    // USDC: k·conf = 1/512 < 1/16 → p_high = 513/512; L_init = 1400.25 · 513/512 · 9/8 =
    // 1402.98486328125 · 9/8 = 1578.35797119140625.
    let exact = |v: &str| v.parse::<I80F48>().unwrap();
    assert_eq!(h.init, f(1177.3125) - exact("1578.35797119140625"));
    assert_eq!(h.init, exact("-401.04547119140625"));
    assert!(h.is_liquidatable(false));
    // Whole tokens only, the same holdings at 0 decimals (10.5 SOL → 21 half-SOL units at 75
    // USD; 1400.25 USDC → 5601 quarter units at 0.25 USD) give the same figures.
    let mut half_sol = sol;
    (
        half_sol.deposit,
        half_sol.price,
        half_sol.conf,
        half_sol.decimals,
    ) = (21, f(75.0), f(0.125), 0);
    (half_sol.ema_price, half_sol.ema_conf) = (half_sol.price, half_sol.conf);
    let mut quarter_usdc = usdc;
    (
        quarter_usdc.debt,
        quarter_usdc.price,
        quarter_usdc.conf,
        quarter_usdc.decimals,
    ) = (5_601, f(0.25), f(0.000244140625), 0);
    (quarter_usdc.ema_price, quarter_usdc.ema_conf) = (quarter_usdc.price, quarter_usdc.conf);
    assert_eq!(
        compute_health(&[half_sol, quarter_usdc], &params).unwrap(),
        h
    );
}

/// Exactly at the maintenance threshold: maint = 0 is not liquidatable, ratio is exactly 1, but
/// an account already being liquidated continues (end < 0). Debt bias capped at 5%.
#[test]
fn table_exact_threshold() {
    let params = default_params(0.02);
    // Deposit 100 at 1, maint weight 0.5 → A_maint = 50; init weight 0.25, conf 0 → A_init = 25.
    let a = pos(100, 0, 1.0, 0.0, [0.25, 0.5, 1.0, 1.0]);
    // Debt 25 at 2, conf 1 → k·conf = 2.12 > 5%·2 = 0.1 → p_high = 2.1.
    // L_maint = 25·2·1.0 = 50; L_init = 25·2.1·1.5 = 78.75.
    let b = pos(0, 25, 2.0, 1.0, [0.5, 0.5, 1.5, 1.0]);
    let h = compute_health(&[a, b], &params).unwrap();
    assert_eq!(h.maint, I80F48::ZERO);
    assert_eq!(h.ratio(), Some(I80F48::ONE));
    assert!(!h.is_liquidatable(false));
    // end = 50 − 1.02·50 = −1 (to one rounding step).
    assert!(close(h.end, -1.0, 1e-12));
    assert!(h.is_liquidatable(true));
    // init = 25 − 78.75 = −53.75.
    assert!(close(h.init, -53.75, 1e-12));
    // One more native unit of deposit lifts maint above zero by 0.5.
    let h = compute_health(&[pos(101, 0, 1.0, 0.0, [0.25, 0.5, 1.0, 1.0]), b], &params).unwrap();
    assert!(close(h.maint, 0.5, 1e-12) && !h.is_liquidatable(false));
}

// ---------------------------------------------------------------------------------------------
// Regressions found by the properties above (minimal failing inputs, kept deterministic).
// ---------------------------------------------------------------------------------------------

/// `mul_ceil` used to add a rounding step whenever the raw product overflowed i128 (values above
/// 2^31), even when the product was exact: 2^31 native units borrowed at index 1 owed one more.
#[test]
fn regression_mul_ceil_exact_above_2_pow_31() {
    let big = fx(1 << 31);
    assert_eq!(mul_ceil(big, I80F48::ONE).unwrap(), big);
    assert_eq!(debt_balance(big, I80F48::ONE).unwrap(), 1 << 31);
    // 3 SOL in lamports borrowed at index 1 owes exactly 3 SOL.
    let b = shares::borrow(I80F48::ZERO, 3_000_000_000, I80F48::ONE)
        .unwrap()
        .unwrap();
    assert_eq!(
        debt_balance(b.borrow_shares_delta, I80F48::ONE).unwrap(),
        3_000_000_000
    );
    // An inexact product whose raw bits overflow i128 still rounds up by exactly one step
    // ((2^40 + 0.5) · trunc(1/3): the raw product's low 48 bits are 2^47, not zero).
    let a = fx(1 << 40) + f(0.5);
    let third = I80F48::ONE / fx(3);
    assert!(a.to_bits().checked_mul(third.to_bits()).is_none());
    let p = mul_ceil(a, third).unwrap();
    assert_eq!(Some(p.to_bits()), ceil_48_bits(exact_mul(a, third)));
    assert_eq!(p, a * third + DELTA);
}

/// `utilization` used to fail (quotient overflow) instead of clamping to 1 when borrows dwarf a
/// dust deposit, which would make `accrue` and every instruction touching the market fail.
#[test]
fn regression_utilization_clamps_instead_of_overflowing() {
    assert_eq!(utilization(DELTA, fx(1 << 31)).unwrap(), I80F48::ONE);
    assert_eq!(utilization(DELTA, I80F48::MAX).unwrap(), I80F48::ONE);
    assert_eq!(utilization(fx(4), fx(1)).unwrap(), f(0.25));
    let curve = RateCurve {
        optimal_utilization: f(0.8),
        base_rate: f(0.01),
        slope1: f(0.04),
        slope2: f(0.75),
    };
    let a = accrue(&curve, DELTA, I80F48::ONE, I80F48::ONE, fx(1 << 31), 60).unwrap();
    assert_eq!(a.utilization, I80F48::ONE);
}

// ---------------------------------------------------------------------------------------------
// Per-token prices with decimals
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(cfg(10_000))]

    /// `token_value` is `amount · P / 10^d` truncated to within two steps, and its ceil variant
    /// is at or above the exact value by at most two steps, for every decimals 0..=12.
    #[test]
    fn token_value_is_exact_to_two_steps(
        amount in 0u64..1_000_000_000_000_000,
        price_bits in 1i128..(1_000_000i128 << 48),
        decimals in 0u8..=12,
    ) {
        use scalpel::math::{token_value, token_value_ceil, native_amount};
        let price = I80F48::from_bits(price_bits);
        let scale = 10u128.pow(decimals as u32);
        let exact_num = amount as u128 * price_bits as u128; // value · 2^48 · 10^d
        let floor_bits = exact_num / scale;
        let v = token_value(amount, price, decimals).unwrap().to_bits() as u128;
        prop_assert!(v <= floor_bits && floor_bits - v <= 2, "{v} vs {floor_bits}");
        let up = token_value_ceil(amount, price, decimals).unwrap().to_bits() as u128;
        let ceil_bits = exact_num.div_ceil(scale);
        prop_assert!(up >= ceil_bits && up - ceil_bits <= 2, "{up} vs {ceil_bits}");
        // Round trip: the native amount worth that value never exceeds the amount.
        if amount > 0 {
            let back = native_amount(I80F48::from_bits(v as i128), price, decimals).unwrap();
            prop_assert!(back <= I80F48::from_num(amount));
        }
    }
}
