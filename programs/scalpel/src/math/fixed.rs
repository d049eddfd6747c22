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

/// `Option`/`Result` into a [`MathResult`] whose error names the caller's line, built only on
/// failure (`ok_or(math_err())` would build it on every call: tens of compute units each on the
/// SBF VM, hundreds of times per liquidation).
pub trait OrMathErr<T> {
    /// The value, or a [`MathError`] at the caller's location.
    fn or_math_err(self) -> MathResult<T>;
}

impl<T> OrMathErr<T> for Option<T> {
    #[track_caller]
    #[inline]
    fn or_math_err(self) -> MathResult<T> {
        match self {
            Some(v) => Ok(v),
            None => Err(math_err()),
        }
    }
}

impl<T, E> OrMathErr<T> for core::result::Result<T, E> {
    #[track_caller]
    #[inline]
    fn or_math_err(self) -> MathResult<T> {
        match self {
            Ok(v) => Ok(v),
            Err(_) => Err(math_err()),
        }
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
                self.checked_add(rhs).or_math_err()
            }
            #[track_caller]
            #[inline]
            fn safe_sub(self, rhs: Self) -> MathResult<Self> {
                self.checked_sub(rhs).or_math_err()
            }
            #[track_caller]
            #[inline]
            fn safe_mul(self, rhs: Self) -> MathResult<Self> {
                self.checked_mul(rhs).or_math_err()
            }
            #[track_caller]
            #[inline]
            fn safe_div(self, rhs: Self) -> MathResult<Self> {
                self.checked_div(rhs).or_math_err()
            }
        }
    )*};
}
impl_safe_math!(u16, u32, u64, u128, i64, i128);

impl SafeMath for I80F48 {
    #[track_caller]
    #[inline]
    fn safe_add(self, rhs: Self) -> MathResult<Self> {
        self.checked_add(rhs).or_math_err()
    }
    #[track_caller]
    #[inline]
    fn safe_sub(self, rhs: Self) -> MathResult<Self> {
        self.checked_sub(rhs).or_math_err()
    }
    #[track_caller]
    #[inline]
    fn safe_mul(self, rhs: Self) -> MathResult<Self> {
        mul_fast(self, rhs).or_math_err()
    }
    #[track_caller]
    #[inline]
    fn safe_div(self, rhs: Self) -> MathResult<Self> {
        div_fast(self, rhs).or_math_err()
    }
}

/// The raw product `x · y` of two non-negative values' bits as `(high, low)` 128-bit halves
/// of `x · y = high · 2^64 + low`, when one of them is below 2^64 (two 64×64-bit
/// multiplications at most), `None` otherwise.
#[inline]
fn wide_product(a: I80F48, b: I80F48) -> Option<(u128, u128)> {
    let (x, y) = (a.to_bits(), b.to_bits());
    if x < 0 || y < 0 {
        return None;
    }
    let (big, small) = if y < 1 << 64 {
        (x as u128, y as u64 as u128)
    } else if x < 1 << 64 {
        (y as u128, x as u64 as u128)
    } else {
        return None;
    };
    let (hi, lo) = ((big >> 64) as u64 as u128, big as u64 as u128);
    if hi == 0 {
        return Some((0, lo * small));
    }
    Some((hi * small, lo * small))
}

/// `a · b` exactly as `I80F48::checked_mul` computes it (truncated): for non-negative operands
/// one of which is below 2^16, `(x · y) >> 48` from two 64×64-bit products (the fixed crate's
/// general product costs several times more on the SBF VM).
#[inline]
pub fn mul_fast(a: I80F48, b: I80F48) -> Option<I80F48> {
    match wide_product(a, b) {
        // x·y >> 48 = high·2^16 + low >> 48 (+ the carry of adding the two).
        Some((high, low)) => {
            if high >= 1 << 111 {
                return None;
            }
            let bits = (high << 16).checked_add(low >> 48)?;
            (bits < 1 << 127).then(|| I80F48::from_bits(bits as i128))
        }
        None => a.checked_mul(b),
    }
}

/// `(u1 · 2^64 + u0) / v` and its remainder, for `u1 < v` (so the quotient fits in 64 bits):
/// Knuth's algorithm D on 32-bit digits (Hacker's Delight, `divlu`), with native 64-bit
/// divisions only. The SBF VM has 64-bit `div` but no 128-bit one; compiler-builtins' general
/// 128-bit division costs about 500 compute units, this about 60.
#[inline]
fn div_128_by_64(u1: u64, u0: u64, v: u64) -> (u64, u64) {
    const B: u64 = 1 << 32;
    const MASK: u64 = B - 1;
    // Normalize so the divisor's top bit is set.
    let s = v.leading_zeros();
    let v = v << s;
    let (vn1, vn0) = (v >> 32, v & MASK);
    let un32 = if s == 0 {
        u1
    } else {
        (u1 << s) | (u0 >> (64 - s))
    };
    let un10 = u0 << s;
    let (un1, un0) = (un10 >> 32, un10 & MASK);
    // First quotient digit.
    let mut q1 = un32 / vn1;
    let mut rhat = un32 - q1 * vn1;
    while q1 >= B || q1 * vn0 > (rhat << 32) + un1 {
        q1 -= 1;
        rhat += vn1;
        if rhat >= B {
            break;
        }
    }
    let un21 = (un32 << 32)
        .wrapping_add(un1)
        .wrapping_sub(q1.wrapping_mul(v));
    // Second quotient digit.
    let mut q0 = un21 / vn1;
    rhat = un21 - q0 * vn1;
    while q0 >= B || q0 * vn0 > (rhat << 32) + un0 {
        q0 -= 1;
        rhat += vn1;
        if rhat >= B {
            break;
        }
    }
    let r = (un21 << 32)
        .wrapping_add(un0)
        .wrapping_sub(q0.wrapping_mul(v))
        >> s;
    ((q1 << 32) | q0, r)
}

/// `n / d` and `n mod d` for a 128-bit `n` and a non-zero 64-bit `d`. On the SBF VM with 64-bit
/// divisions ([`div_rem_u128_u64_digits`]); elsewhere (the keeper, the CLI, the simulation) the
/// native 128-bit division, whose runtime routine divides by one hardware instruction when the
/// quotient fits (the same integers: a division has one answer).
#[inline]
pub fn div_rem_u128_u64(n: u128, d: u64) -> (u128, u64) {
    #[cfg(target_os = "solana")]
    {
        div_rem_u128_u64_digits(n, d)
    }
    #[cfg(not(target_os = "solana"))]
    {
        let d = u128::from(d);
        (n / d, (n % d) as u64)
    }
}

/// [`div_rem_u128_u64`] on 64-bit digits: about 60 compute units where the VM's 128-bit
/// division costs 500.
#[inline]
pub fn div_rem_u128_u64_digits(n: u128, d: u64) -> (u128, u64) {
    let (hi, lo) = ((n >> 64) as u64, n as u64);
    if hi == 0 {
        return (u128::from(lo / d), lo % d);
    }
    let (q_hi, r_hi) = (hi / d, hi % d);
    let (q_lo, r) = div_128_by_64(r_hi, lo, d);
    ((u128::from(q_hi) << 64) | u128::from(q_lo), r)
}

/// `n / d` for a non-zero `d`: [`div_rem_u128_u64`] when `d` fits in 64 bits.
#[inline]
fn div_u128(n: u128, d: u128) -> u128 {
    match u64::try_from(d) {
        Ok(d) => div_rem_u128_u64(n, d).0,
        Err(_) => n / d,
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
        return Some(I80F48::from_bits(div_u128(x << 48, y) as i128));
    }
    if y < 1 << 80 {
        let whole = div_u128(x, y);
        if whole >= 1 << 79 {
            return None; // the quotient does not fit in I80F48
        }
        // (x mod y) < y < 2^80, so the shifted remainder fits.
        let part = div_u128((x - whole * y) << 48, y);
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
        // Non-negative bits below 2^64: one 64×64-bit product, below 2^128; it fits in i128
        // when below 2^127.
        if let Some(x) = small_bits(self) {
            let p = u128::from(x) * u128::from(n);
            return if p < 1 << 127 {
                Ok(I80F48::from_bits(p as i128))
            } else {
                Err(math_err())
            };
        }
        self.checked_mul_int(i128::from(n)).or_math_err()
    }
    #[track_caller]
    #[inline]
    fn div_int(self, n: u64) -> MathResult<Self> {
        // Non-negative bits: 64-bit divisions.
        let x = self.to_bits();
        if x >= 0 && n > 0 {
            return Ok(I80F48::from_bits(div_rem_u128_u64(x as u128, n).0 as i128));
        }
        self.checked_div_int(i128::from(n)).or_math_err()
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
        q.checked_add(DELTA).or_math_err()
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

/// The IDL's description of the type (`idl-build` only; nothing on chain changes): a `repr(C)`
/// bytemuck struct of one `[u8; 16]`, so clients decode the bytes as they are stored. The value
/// is the little-endian two's-complement `i128` divided by 2^48.
#[cfg(feature = "idl-build")]
impl anchor_lang::IdlBuild for WrappedI80F48 {
    fn create_type() -> Option<anchor_lang::idl::types::IdlTypeDef> {
        use anchor_lang::idl::types::*;
        Some(IdlTypeDef {
            name: Self::get_full_path(),
            docs: vec![
                "I80F48 fixed-point number stored as 16 little-endian bytes: the value is the"
                    .into(),
                "two's-complement i128 they hold divided by 2^48 (48 fraction bits).".into(),
            ],
            serialization: IdlSerialization::Bytemuck,
            repr: Some(IdlRepr::C(IdlReprModifier {
                packed: false,
                align: None,
            })),
            generics: vec![],
            ty: IdlTypeDefTy::Struct {
                fields: Some(IdlDefinedFields::Named(vec![IdlField {
                    name: "bits".into(),
                    docs: vec!["Little-endian bits of the fixed-point value.".into()],
                    ty: IdlType::Array(Box::new(IdlType::U8), IdlArrayLen::Value(16)),
                }])),
            },
        })
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

/// `v` bps as a fraction, bit-identical to [`bps`] (`v · 2^48` fits 64 bits, so this is one
/// native 64-bit division): the cheap form for the `u16` bps fields of markets.
pub fn bps_u16(v: u16) -> I80F48 {
    I80F48::from_bits(((u64::from(v) << 48) / crate::constants::BPS) as i128)
}

/// The smallest positive fixed-point value: one step of rounding.
pub const DELTA: I80F48 = I80F48::DELTA;

/// Floors a non-negative value to whole native units; negative or too-large values are errors.
#[track_caller]
#[cfg_attr(not(target_os = "solana"), inline(always))]
pub fn floor_u64(v: I80F48) -> MathResult<u64> {
    if v < I80F48::ZERO {
        return Err(math_err());
    }
    // The integer part of a non-negative value is its bits shifted by the fraction bits.
    u64::try_from(v.to_bits() >> 48).or_math_err()
}

/// Ceils a non-negative value to whole native units; negative or too-large values are errors.
#[track_caller]
#[cfg_attr(not(target_os = "solana"), inline(always))]
pub fn ceil_u64(v: I80F48) -> MathResult<u64> {
    if v < I80F48::ZERO {
        return Err(math_err());
    }
    let bits = v.to_bits();
    let up = i128::from(bits & ((1i128 << 48) - 1) != 0);
    u64::try_from((bits >> 48) + up).or_math_err()
}

/// `a / b` rounded up to the next representable step (used where rounding must go against the
/// actor, e.g. shares burned on withdraw or minted as debt on borrow). Requires `a, b > 0`.
#[track_caller]
#[cfg_attr(not(target_os = "solana"), inline)]
pub fn div_ceil(a: I80F48, b: I80F48) -> MathResult<I80F48> {
    if b <= I80F48::ZERO || a < I80F48::ZERO {
        return Err(math_err());
    }
    let q = div_fast(a, b).or_math_err()?;
    let back = mul_fast(q, b).or_math_err()?;
    if back < a {
        q.checked_add(DELTA).or_math_err()
    } else {
        Ok(q)
    }
}

/// `a * b` rounded up to the next representable step (fixed's multiplication truncates).
/// Requires `a, b >= 0`.
#[track_caller]
#[cfg_attr(not(target_os = "solana"), inline(always))]
pub fn mul_ceil(a: I80F48, b: I80F48) -> MathResult<I80F48> {
    if a < I80F48::ZERO || b < I80F48::ZERO {
        return Err(math_err());
    }
    if let Some((high, low)) = wide_product(a, b) {
        // The product's 48 low bits are those of `low` (high · 2^64 adds none).
        let up = u128::from(low & ((1u128 << 48) - 1) != 0);
        if high >= 1 << 111 {
            return Err(math_err());
        }
        let bits = (high << 16)
            .checked_add(low >> 48)
            .and_then(|b| b.checked_add(up))
            .or_math_err()?;
        return if bits < 1 << 127 {
            Ok(I80F48::from_bits(bits as i128))
        } else {
            Err(math_err())
        };
    }
    let p = a.checked_mul(b).or_math_err()?;
    // Exact when the raw product's 48 truncated low bits are zero. The low bits of a product
    // depend only on the low bits of its factors, so the wrapping product tells even when the
    // full raw product does not fit in i128 (values above 2^31).
    let exact = a.to_bits().wrapping_mul(b.to_bits()) & ((1i128 << 48) - 1) == 0;
    if exact {
        Ok(p)
    } else {
        p.checked_add(DELTA).or_math_err()
    }
}

/// `10^decimals` as an integer (decimals ≤ 19), from a table: every token value and native
/// amount starts here, and `checked_pow` multiplies in a loop.
#[track_caller]
#[inline]
pub fn pow10(decimals: u8) -> MathResult<u64> {
    const POW10: [u64; 20] = {
        let mut t = [1u64; 20];
        let mut i = 1;
        while i < 20 {
            t[i] = t[i - 1] * 10;
            i += 1;
        }
        t
    };
    POW10.get(usize::from(decimals)).copied().or_math_err()
}

/// USD value of `amount` native units at `price` USD per whole token of `decimals`, truncated.
///
/// Prices are kept per whole token (full I80F48 precision, ~1e-14 USD) and the division by
/// `10^decimals` happens last, on the sub-token remainder only: a per-native-unit price would keep
/// just 2^-48 USD of resolution, 4e-8 relative for a lamport at 80 USD.
#[cfg_attr(not(target_os = "solana"), inline(always))]
pub fn token_value(amount: u64, price: I80F48, decimals: u8) -> MathResult<I80F48> {
    let scale = pow10(decimals)?;
    // The bits are floor(amount · P / 10^d) for the price's bits P (the whole tokens' product
    // is exact): one 64×64-bit product and one division when P < 2^64 (price below 65 536).
    if let Some(p) = small_bits(price) {
        return Ok(I80F48::from_bits(
            div_rem_u128_u64(u128::from(amount) * u128::from(p), scale).0 as i128,
        ));
    }
    let whole = price.mul_int(amount / scale)?;
    let part = price.mul_int(amount % scale)?.div_int(scale)?;
    whole.safe_add(part)
}

/// [`token_value`] rounded up to the next representable step (the integer products are exact,
/// only the division by `10^decimals` rounds).
#[cfg_attr(not(target_os = "solana"), inline(always))]
pub fn token_value_ceil(amount: u64, price: I80F48, decimals: u8) -> MathResult<I80F48> {
    if price < I80F48::ZERO {
        return Err(math_err());
    }
    let scale = pow10(decimals)?;
    if let Some(p) = small_bits(price) {
        let (q, r) = div_rem_u128_u64(u128::from(amount) * u128::from(p), scale);
        return Ok(I80F48::from_bits((q + u128::from(r != 0)) as i128));
    }
    let whole = price.mul_int(amount / scale)?;
    let part = div_ceil_int(price.mul_int(amount % scale)?, scale)?;
    whole.safe_add(part)
}

/// A non-negative value's bits when below 2^64, as a `u64`: products of two `u64` widened to
/// 128 bits are one 64×64-bit multiplication on the SBF VM, where a product of two `u128` is a
/// call to the general 128-bit multiplication.
#[inline]
fn small_bits(v: I80F48) -> Option<u64> {
    let x = v.to_bits();
    (0..1i128 << 64).contains(&x).then_some(x as u64)
}

/// Native units worth `value` USD at `price` USD per whole token: `value · 10^decimals / price`,
/// truncated (not yet rounded to an integer).
#[cfg_attr(not(target_os = "solana"), inline)]
pub fn native_amount(value: I80F48, price: I80F48, decimals: u8) -> MathResult<I80F48> {
    let scale = pow10(decimals)?;
    match value.mul_int(scale) {
        Ok(scaled) => scaled.safe_div(price),
        Err(_) => value.safe_div(price)?.mul_int(scale),
    }
}

/// [`native_amount`] rounded up to the next representable step.
#[cfg_attr(not(target_os = "solana"), inline)]
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

    /// The 64-bit form is the general one, on every `u16`.
    #[test]
    fn bps_u16_is_bps() {
        for v in 0..=u16::MAX {
            assert_eq!(bps_u16(v), bps(u64::from(v)).unwrap(), "{v}");
        }
    }

    /// The table is `checked_pow`, on every `u8` (an error past 10^19).
    #[test]
    fn pow10_is_checked_pow() {
        for d in 0..=u8::MAX {
            assert_eq!(pow10(d).ok(), 10u64.checked_pow(u32::from(d)), "{d}");
        }
    }

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

    /// The 64-bit-digit long division is the native 128-bit one, on every size of operand.
    #[test]
    fn long_division_is_native_division() {
        use proptest::prelude::*;
        let mut runner = proptest::test_runner::TestRunner::default();
        let n = (0u32..=128).prop_flat_map(|e| {
            if e == 128 {
                any::<u128>().boxed()
            } else {
                (0u128..(1u128 << e)).boxed()
            }
        });
        let d = (1u32..=64).prop_flat_map(|e| {
            if e == 64 {
                (1u64..=u64::MAX).boxed()
            } else {
                (1u64..=(1u64 << e)).boxed()
            }
        });
        runner
            .run(&(n, d), |(n, d)| {
                for (q, r) in [div_rem_u128_u64(n, d), div_rem_u128_u64_digits(n, d)] {
                    prop_assert_eq!(q, n / u128::from(d));
                    prop_assert_eq!(u128::from(r), n % u128::from(d));
                }
                Ok(())
            })
            .unwrap();
        for (n, d) in [
            (u128::MAX, 1),
            (u128::MAX, u64::MAX),
            (u128::MAX, 1 << 63),
            (u128::MAX, (1 << 63) - 1),
            ((1u128 << 64) - 1, 3),
            (1u128 << 127, (1 << 32) + 1),
            (0, 7),
        ] {
            assert_eq!(div_rem_u128_u64(n, d).0, n / u128::from(d), "{n} / {d}");
            assert_eq!(
                div_rem_u128_u64_digits(n, d),
                (n / u128::from(d), (n % u128::from(d)) as u64),
                "{n} / {d}"
            );
        }
    }

    #[test]
    fn safe_math_reports_location() {
        let e = u64::MAX.safe_add(1).unwrap_err();
        assert!(e.file.ends_with("fixed.rs"));
        assert!(I80F48::ONE.safe_div(I80F48::ZERO).is_err());
    }
}
