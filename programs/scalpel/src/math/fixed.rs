//! Fixed-point helpers: the 16-byte account wrapper and checked operations that report where
//! they failed.

use bytemuck::{Pod, Zeroable};
pub use fixed::types::I80F48;

/// Error from pure math: where it happened, so a log points at the failing line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MathError {
    /// Source file of the failing call.
    pub file: &'static str,
    /// Source line of the failing call.
    pub line: u32,
}

impl core::fmt::Display for MathError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "math overflow at {}:{}", self.file, self.line)
    }
}

/// Result of pure math.
pub type MathResult<T> = core::result::Result<T, MathError>;

impl From<MathError> for anchor_lang::error::Error {
    fn from(e: MathError) -> Self {
        anchor_lang::prelude::msg!("{}", e);
        crate::errors::ScalpelError::MathOverflow.into()
    }
}

/// Builds a [`MathError`] at the caller's location.
#[track_caller]
#[inline(never)]
pub fn math_err() -> MathError {
    let loc = core::panic::Location::caller();
    MathError {
        file: loc.file(),
        line: loc.line(),
    }
}

/// Checked arithmetic that names the caller's line on failure (as Drift's `safe_math`).
pub trait SafeMath: Sized + Copy {
    /// `self + rhs` or an error.
    fn safe_add(self, rhs: Self) -> MathResult<Self>;
    /// `self - rhs` or an error.
    fn safe_sub(self, rhs: Self) -> MathResult<Self>;
    /// `self * rhs` or an error.
    fn safe_mul(self, rhs: Self) -> MathResult<Self>;
    /// `self / rhs` (truncating toward zero) or an error, also on division by zero.
    fn safe_div(self, rhs: Self) -> MathResult<Self>;
}

macro_rules! impl_safe_math {
    ($($t:ty),*) => {$(
        impl SafeMath for $t {
            #[track_caller]
            #[inline]
            fn safe_add(self, rhs: Self) -> MathResult<Self> {
                self.checked_add(rhs).ok_or(math_err())
            }
            #[track_caller]
            #[inline]
            fn safe_sub(self, rhs: Self) -> MathResult<Self> {
                self.checked_sub(rhs).ok_or(math_err())
            }
            #[track_caller]
            #[inline]
            fn safe_mul(self, rhs: Self) -> MathResult<Self> {
                self.checked_mul(rhs).ok_or(math_err())
            }
            #[track_caller]
            #[inline]
            fn safe_div(self, rhs: Self) -> MathResult<Self> {
                self.checked_div(rhs).ok_or(math_err())
            }
        }
    )*};
}
impl_safe_math!(u16, u32, u64, u128, i64, i128);

impl SafeMath for I80F48 {
    #[track_caller]
    #[inline]
    fn safe_add(self, rhs: Self) -> MathResult<Self> {
        self.checked_add(rhs).ok_or(math_err())
    }
    #[track_caller]
    #[inline]
    fn safe_sub(self, rhs: Self) -> MathResult<Self> {
        self.checked_sub(rhs).ok_or(math_err())
    }
    #[track_caller]
    #[inline]
    fn safe_mul(self, rhs: Self) -> MathResult<Self> {
        mul_fast(self, rhs).ok_or(math_err())
    }
    #[track_caller]
    #[inline]
    fn safe_div(self, rhs: Self) -> MathResult<Self> {
        div_fast(self, rhs).ok_or(math_err())
    }
}

/// The raw product `x · y` of two non-negative values' bits when both are below 2^64 (one
/// 64×64-bit multiplication), `None` otherwise.
#[inline]
fn small_product(a: I80F48, b: I80F48) -> Option<u128> {
    let (x, y) = (a.to_bits(), b.to_bits());
    if (0..1i128 << 64).contains(&x) && (0..1i128 << 64).contains(&y) {
        Some((x as u64 as u128) * (y as u64 as u128))
    } else {
        None
    }
}

/// `a · b` exactly as `I80F48::checked_mul` computes it (truncated), with a fast path for
/// non-negative operands below 2^16 (bits below 2^64): their raw product fits in 128 bits,
/// so `(x · y) >> 48` needs no wide arithmetic.
#[inline]
pub fn mul_fast(a: I80F48, b: I80F48) -> Option<I80F48> {
    match small_product(a, b) {
        // x · y < 2^128, so the shifted product is below 2^80: it fits.
        Some(p) => Some(I80F48::from_bits((p >> 48) as i128)),
        None => a.checked_mul(b),
    }
}

/// `a / b` exactly as `I80F48::checked_div` computes it (truncated), with fast paths for
/// non-negative operands: the quotient's bits are `floor(x · 2^48 / y)` for the bits `x`, `y`,
/// and native 128-bit integer divisions compute it whenever `x · 2^48` fits in 127 bits (`a`
/// below 2^31), or else `y` below 2^80 (`b` below 2^32: `x · 2^48 / y = (x / y) · 2^48 +
/// (x mod y) · 2^48 / y`, the second term exact in 128 bits). The fixed crate's general division
/// costs about 2 500 compute units on the SBF VM; these a few hundred.
#[inline]
pub fn div_fast(a: I80F48, b: I80F48) -> Option<I80F48> {
    let (x, y) = (a.to_bits(), b.to_bits());
    if x < 0 || y <= 0 {
        return a.checked_div(b);
    }
    let (x, y) = (x as u128, y as u128);
    if x < 1 << 79 {
        // x · 2^48 < 2^127, and so is the quotient.
        return Some(I80F48::from_bits(((x << 48) / y) as i128));
    }
    if y < 1 << 80 {
        let whole = x / y;
        if whole >= 1 << 79 {
            return None; // the quotient does not fit in I80F48
        }
        let part = ((x % y) << 48) / y; // (x mod y) < y < 2^80, so no overflow
        return Some(I80F48::from_bits(((whole << 48) + part) as i128));
    }
    a.checked_div(b)
}

/// Products and quotients of a fixed-point value with an integer. The results are bit-identical
/// to multiplying or dividing by the integer as an `I80F48` (both truncate), but they are plain
/// 128-bit integer operations: on the SBF VM a fixed-point division costs thousands of compute
/// units, an integer one a small fraction of that.
pub trait IntMath: Sized {
    /// `self · n`, exact, or an error on overflow.
    fn mul_int(self, n: u64) -> MathResult<Self>;
    /// `self / n` truncated, or an error when `n` is 0.
    fn div_int(self, n: u64) -> MathResult<Self>;
}

impl IntMath for I80F48 {
    #[track_caller]
    #[inline]
    fn mul_int(self, n: u64) -> MathResult<Self> {
        self.checked_mul_int(i128::from(n)).ok_or(math_err())
    }
    #[track_caller]
    #[inline]
    fn div_int(self, n: u64) -> MathResult<Self> {
        self.checked_div_int(i128::from(n)).ok_or(math_err())
    }
}

/// `v / n` rounded up to the next representable step ([`div_ceil`] by an integer). Requires
/// `v ≥ 0`, `n > 0`.
#[track_caller]
pub fn div_ceil_int(v: I80F48, n: u64) -> MathResult<I80F48> {
    if n == 0 || v < I80F48::ZERO {
        return Err(math_err());
    }
    let q = v.div_int(n)?;
    if q.mul_int(n)? < v {
        q.checked_add(DELTA).ok_or(math_err())
    } else {
        Ok(q)
    }
}

/// `I80F48` stored as 16 little-endian bytes: alignment 1 on every target, so account layouts
/// are the same on x86_64 and SBF (a bare `i128` is 16-aligned on one and 8-aligned on the other).
#[derive(Clone, Copy, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct WrappedI80F48 {
    /// Little-endian bits of the fixed-point value.
    pub bits: [u8; 16],
}

const _: () = assert!(core::mem::size_of::<WrappedI80F48>() == 16);
const _: () = assert!(core::mem::align_of::<WrappedI80F48>() == 1);

impl WrappedI80F48 {
    /// Wraps a value for storage.
    pub fn from_num(v: I80F48) -> Self {
        Self {
            bits: v.to_bits().to_le_bytes(),
        }
    }
    /// The stored value.
    pub fn get(&self) -> I80F48 {
        I80F48::from_bits(i128::from_le_bytes(self.bits))
    }
}

impl From<I80F48> for WrappedI80F48 {
    fn from(v: I80F48) -> Self {
        Self::from_num(v)
    }
}

impl From<WrappedI80F48> for I80F48 {
    fn from(w: WrappedI80F48) -> Self {
        w.get()
    }
}

impl core::fmt::Debug for WrappedI80F48 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.get())
    }
}

/// Integer conversions into fixed-point.
pub fn fx(v: u64) -> I80F48 {
    I80F48::from_num(v)
}

/// Basis points as a fraction of one.
pub fn bps(v: u64) -> MathResult<I80F48> {
    fx(v).div_int(crate::constants::BPS)
}

/// The smallest positive fixed-point value: one step of rounding.
pub const DELTA: I80F48 = I80F48::DELTA;

/// Floors a non-negative value to whole native units; negative or too-large values are errors.
#[track_caller]
pub fn floor_u64(v: I80F48) -> MathResult<u64> {
    if v < I80F48::ZERO {
        return Err(math_err());
    }
    v.floor().checked_to_num::<u64>().ok_or(math_err())
}

/// Ceils a non-negative value to whole native units; negative or too-large values are errors.
#[track_caller]
pub fn ceil_u64(v: I80F48) -> MathResult<u64> {
    if v < I80F48::ZERO {
        return Err(math_err());
    }
    v.checked_ceil()
        .and_then(|c| c.checked_to_num::<u64>())
        .ok_or(math_err())
}

/// `a / b` rounded up to the next representable step (used where rounding must go against the
/// actor, e.g. shares burned on withdraw or minted as debt on borrow). Requires `a, b > 0`.
#[track_caller]
pub fn div_ceil(a: I80F48, b: I80F48) -> MathResult<I80F48> {
    if b <= I80F48::ZERO || a < I80F48::ZERO {
        return Err(math_err());
    }
    let q = div_fast(a, b).ok_or(math_err())?;
    let back = q.checked_mul(b).ok_or(math_err())?;
    if back < a {
        q.checked_add(DELTA).ok_or(math_err())
    } else {
        Ok(q)
    }
}

/// `a * b` rounded up to the next representable step (fixed's multiplication truncates).
/// Requires `a, b >= 0`.
#[track_caller]
pub fn mul_ceil(a: I80F48, b: I80F48) -> MathResult<I80F48> {
    if a < I80F48::ZERO || b < I80F48::ZERO {
        return Err(math_err());
    }
    if let Some(p) = small_product(a, b) {
        let up = (p & ((1u128 << 48) - 1) != 0) as u128;
        return Ok(I80F48::from_bits(((p >> 48) + up) as i128));
    }
    let p = a.checked_mul(b).ok_or(math_err())?;
    // Exact when the raw product's 48 truncated low bits are zero. The low bits of a product
    // depend only on the low bits of its factors, so the wrapping product tells even when the
    // full raw product does not fit in i128 (values above 2^31).
    let exact = a.to_bits().wrapping_mul(b.to_bits()) & ((1i128 << 48) - 1) == 0;
    if exact {
        Ok(p)
    } else {
        p.checked_add(DELTA).ok_or(math_err())
    }
}

/// `10^decimals` as an integer (decimals ≤ 19).
#[track_caller]
pub fn pow10(decimals: u8) -> MathResult<u64> {
    10u64.checked_pow(decimals as u32).ok_or(math_err())
}

/// USD value of `amount` native units at `price` USD per whole token of `decimals`, truncated.
///
/// Prices are kept per whole token (full I80F48 precision, ~1e-14 USD) and the division by
/// `10^decimals` happens last, on the sub-token remainder only: a per-native-unit price would keep
/// just 2^-48 USD of resolution, 4e-8 relative for a lamport at 80 USD.
pub fn token_value(amount: u64, price: I80F48, decimals: u8) -> MathResult<I80F48> {
    let scale = pow10(decimals)?;
    // The bits are floor(amount · P / 10^d) for the price's bits P (the whole tokens' product
    // is exact): one 64×64-bit product and one division when P < 2^64 (price below 65 536).
    if let Some(p) = small_bits(price) {
        return Ok(I80F48::from_bits(((amount as u128 * p) / scale as u128) as i128));
    }
    let whole = price.mul_int(amount / scale)?;
    let part = price.mul_int(amount % scale)?.div_int(scale)?;
    whole.safe_add(part)
}

/// [`token_value`] rounded up to the next representable step (the integer products are exact,
/// only the division by `10^decimals` rounds).
pub fn token_value_ceil(amount: u64, price: I80F48, decimals: u8) -> MathResult<I80F48> {
    if price < I80F48::ZERO {
        return Err(math_err());
    }
    let scale = pow10(decimals)?;
    if let Some(p) = small_bits(price) {
        return Ok(I80F48::from_bits((amount as u128 * p).div_ceil(scale as u128) as i128));
    }
    let whole = price.mul_int(amount / scale)?;
    let part = div_ceil_int(price.mul_int(amount % scale)?, scale)?;
    whole.safe_add(part)
}

/// A non-negative value's bits when below 2^64.
#[inline]
fn small_bits(v: I80F48) -> Option<u128> {
    let x = v.to_bits();
    (0..1i128 << 64).contains(&x).then_some(x as u128)
}

/// Native units worth `value` USD at `price` USD per whole token: `value · 10^decimals / price`,
/// truncated (not yet rounded to an integer).
pub fn native_amount(value: I80F48, price: I80F48, decimals: u8) -> MathResult<I80F48> {
    let scale = pow10(decimals)?;
    match value.mul_int(scale) {
        Ok(scaled) => scaled.safe_div(price),
        Err(_) => value.safe_div(price)?.mul_int(scale),
    }
}

/// [`native_amount`] rounded up to the next representable step.
pub fn native_amount_ceil(value: I80F48, price: I80F48, decimals: u8) -> MathResult<I80F48> {
    let scale = pow10(decimals)?;
    match value.mul_int(scale) {
        Ok(scaled) => div_ceil(scaled, price),
        // An integer product is exact: rounding it up changes nothing.
        Err(_) => div_ceil(value, price)?.mul_int(scale),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapper_roundtrips() {
        for v in [
            I80F48::ZERO,
            I80F48::MIN,
            I80F48::MAX,
            I80F48::from_num(-1.5),
            DELTA,
        ] {
            assert_eq!(WrappedI80F48::from_num(v).get(), v);
        }
    }

    #[test]
    fn rounding_helpers() {
        assert_eq!(floor_u64(I80F48::from_num(2.9)).unwrap(), 2);
        assert_eq!(ceil_u64(I80F48::from_num(2.1)).unwrap(), 3);
        assert_eq!(ceil_u64(I80F48::from_num(2)).unwrap(), 2);
        assert!(floor_u64(I80F48::from_num(-1)).is_err());
        assert!(ceil_u64(I80F48::MAX).is_err());
        let third = div_ceil(fx(1), fx(3)).unwrap();
        assert!(third * fx(3) >= fx(1));
        assert_eq!(div_ceil(fx(6), fx(3)).unwrap(), fx(2));
        assert!(div_ceil(fx(1), I80F48::ZERO).is_err());
        let a = I80F48::from_num(1.1);
        let b = I80F48::from_num(1.3);
        let up = mul_ceil(a, b).unwrap();
        assert!(up >= a * b && up - a * b <= DELTA);
        assert_eq!(mul_ceil(fx(2), fx(3)).unwrap(), fx(6));
    }

    #[test]
    fn token_values_keep_full_precision() {
        // 10 SOL at 80 USD: exactly 800, where a per-lamport price (8e-8) would be off by ~3e-5.
        assert_eq!(token_value(10_000_000_000, fx(80), 9).unwrap(), fx(800));
        assert_eq!(
            token_value_ceil(10_000_000_000, fx(80), 9).unwrap(),
            fx(800)
        );
        // 1 lamport at 80 USD: 8e-8, within one step either way.
        let v = token_value(1, fx(80), 9).unwrap();
        let up = token_value_ceil(1, fx(80), 9).unwrap();
        assert!(v <= I80F48::from_num(8e-8) && up >= v && up - v <= DELTA);
        // 600 USD of USDC at 1 USD is exactly 600 000 000 native units.
        assert_eq!(native_amount(fx(600), fx(1), 6).unwrap(), fx(600_000_000));
        assert_eq!(
            native_amount_ceil(fx(45), I80F48::from_num(0.125), 6).unwrap(),
            fx(360_000_000)
        );
        assert!(token_value(1, fx(1), 20).is_err());
    }

    /// The integer forms give exactly the bits of the fixed-point forms they replaced.
    #[test]
    fn integer_forms_are_bit_identical() {
        use proptest::prelude::*;
        let mut runner = proptest::test_runner::TestRunner::default();
        runner
            .run(
                &(
                    0i128..(1i128 << 110),
                    1u64..u64::MAX,
                    0u64..u64::MAX,
                    0u8..=12,
                ),
                |(bits, n, amount, decimals)| {
                    let v = I80F48::from_bits(bits);
                    let w = I80F48::from_bits((bits >> 20) ^ i128::from(n) | 1);
                    prop_assert_eq!(div_fast(v, w), v.checked_div(w));
                    prop_assert_eq!(div_fast(w, v.max(DELTA)), w.checked_div(v.max(DELTA)));
                    prop_assert_eq!(v.div_int(n).ok(), v.checked_div(fx(n)));
                    prop_assert_eq!(v.mul_int(n).ok(), v.checked_mul(fx(n)));
                    prop_assert_eq!(div_ceil_int(v, n).ok(), div_ceil(v, fx(n)).ok());
                    // The old token values, written with fixed-point products and quotients.
                    let scale = pow10(decimals).unwrap();
                    let old = fx(amount / scale)
                        .checked_mul(v)
                        .zip(
                            fx(amount % scale)
                                .checked_mul(v)
                                .and_then(|p| p.checked_div(fx(scale))),
                        )
                        .and_then(|(a, b)| a.checked_add(b));
                    prop_assert_eq!(token_value(amount, v, decimals).ok(), old);
                    let old_ceil = mul_ceil(fx(amount / scale), v).ok().zip(
                        mul_ceil(fx(amount % scale), v)
                            .and_then(|p| div_ceil(p, fx(scale)))
                            .ok(),
                    );
                    let old_ceil = old_ceil.and_then(|(a, b)| a.checked_add(b));
                    prop_assert_eq!(token_value_ceil(amount, v, decimals).ok(), old_ceil);
                    Ok(())
                },
            )
            .unwrap();
    }

    /// Each path of `div_fast` (small numerator, small divisor, the general division, overflow,
    /// negative operands) gives exactly `checked_div`'s bits.
    #[test]
    fn div_fast_is_checked_div() {
        use proptest::prelude::*;
        let mut runner = proptest::test_runner::TestRunner::default();
        let bits = |lo: u32, hi: u32| (lo..hi).prop_flat_map(|e| 0i128..(1i128 << e));
        runner
            .run(
                &(bits(1, 127), bits(1, 127), any::<bool>(), any::<bool>()),
                |(x, y, neg_x, neg_y)| {
                    let a = I80F48::from_bits(if neg_x { -x } else { x });
                    let b = I80F48::from_bits(if neg_y { -y } else { y });
                    prop_assert_eq!(div_fast(a, b), a.checked_div(b));
                    prop_assert_eq!(mul_fast(a, b), a.checked_mul(b));
                    // mul_ceil: the truncated product, one step up unless exact.
                    if let (Ok(up), Some(down)) = (mul_ceil(a, b), a.checked_mul(b)) {
                        let exact = x.wrapping_mul(y) & ((1i128 << 48) - 1) == 0;
                        prop_assert_eq!(up, if exact { down } else { down + DELTA });
                    }
                    Ok(())
                },
            )
            .unwrap();
        for (x, y) in [
            (i128::MAX, 1),
            (1i128 << 79, 1),
            ((1i128 << 79) - 1, 1),
            (1i128 << 126, (1i128 << 80) - 1),
            (1i128 << 126, 1i128 << 80),
            (5, 0),
            (0, 7),
        ] {
            let (a, b) = (I80F48::from_bits(x), I80F48::from_bits(y));
            assert_eq!(div_fast(a, b), a.checked_div(b), "{x} / {y}");
        }
    }

    #[test]
    fn safe_math_reports_location() {
        let e = u64::MAX.safe_add(1).unwrap_err();
        assert!(e.file.ends_with("fixed.rs"));
        assert!(I80F48::ONE.safe_div(I80F48::ZERO).is_err());
    }
}
