//! Decimal strings to native units and back, exactly: every amount, price and fraction the CLI,
//! scenarios, migrations and tests read or print goes through these.

use anyhow::{anyhow, bail, Context, Result};
use scalpel::math::I80F48;

/// Native units of a UI amount, exactly (`"1.5"` with 6 decimals is 1 500 000). Zeros beyond
/// the precision change nothing and are accepted (`"0.015000000"` fits 6 decimals).
pub fn parse_amount(s: &str, decimals: u8) -> Result<u64> {
    let (int, frac) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
    let d = decimals as usize;
    let frac = match frac.get(d..) {
        Some(beyond) if !beyond.bytes().all(|b| b == b'0') => {
            bail!("amount {s} has more than {decimals} decimals")
        }
        Some(_) => &frac[..d],
        None => frac,
    };
    if int.is_empty() && frac.is_empty() {
        bail!("empty amount");
    }
    let digits = format!("{int}{frac:0<d$}");
    digits
        .parse::<u64>()
        .with_context(|| format!("amount {s} is not a non-negative decimal that fits in u64"))
}

/// A native amount as a UI decimal string with full precision (`7875000000`, 9 → `"7.875000000"`).
pub fn format_amount(native: u64, decimals: u8) -> String {
    let d = decimals as usize;
    if d == 0 {
        return native.to_string();
    }
    let s = format!("{native:0>width$}", width = d + 1);
    let (int, frac) = s.split_at(s.len() - d);
    format!("{int}.{frac}")
}

/// A native amount as the shortest UI decimal string (`140200000`, 6 → `"140.2"`), for people;
/// [`format_amount`] keeps every digit, for scripts.
pub fn format_amount_short(native: u64, decimals: u8) -> String {
    let s = format_amount(native, decimals);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A signed native balance as a UI string.
pub fn format_signed(native: i128, decimals: u8) -> String {
    let abs = format_amount(native.unsigned_abs().min(u64::MAX as u128) as u64, decimals);
    if native < 0 {
        format!("-{abs}")
    } else {
        abs
    }
}

/// A decimal string as a fraction in bps, exactly.
pub fn parse_bps(s: &str) -> Result<u32> {
    let v = parse_amount(s, 4)
        .with_context(|| format!("{s} is not a fraction with at most 4 decimals"))?;
    u32::try_from(v).map_err(|_| anyhow!("{s} is too large"))
}

/// A fraction in bps as the shortest decimal string (`8000` → `"0.8"`, `10000` → `"1"`): the
/// inverse of [`parse_bps`].
pub fn format_bps(bps: u32) -> String {
    let s = format_amount(bps as u64, 4);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A decimal price as `(mantissa, expo)` with at least 8 decimals (trailing zeros do not count).
pub fn price_mantissa(s: &str) -> Result<(i64, i32)> {
    let frac = s
        .trim()
        .split_once('.')
        .map(|(_, f)| f.trim_end_matches('0').len())
        .unwrap_or(0);
    let places = frac.max(8);
    let m = parse_amount(s, places as u8)?;
    Ok((
        i64::try_from(m).map_err(|_| anyhow!("price {s} too large"))?,
        -(places as i32),
    ))
}

/// A non-negative decimal USD string (`"0.5"`, at most 9 decimals) as fixed point, rounded up
/// to the next representable step: thresholds and prices the keeper's profit check compares
/// against or charges with, exact to the string and never below it (against the bot).
pub fn parse_usd(s: &str) -> Result<I80F48> {
    let nano = parse_amount(s, 9)
        .with_context(|| format!("{s} is not a non-negative USD amount with at most 9 decimals"))?;
    scalpel::math::token_value_ceil(nano, I80F48::ONE, 9).map_err(|e| anyhow!("{s}: {e}"))
}

/// USD values shown with 6 decimals.
pub fn usd(v: I80F48) -> String {
    format!("{v:.6}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_zeros_beyond_the_precision_are_accepted() {
        assert_eq!(parse_amount("0.015000000", 6).unwrap(), 15_000);
        assert_eq!(parse_amount("7.", 2).unwrap(), 700);
        assert_eq!(parse_amount("3.10", 1).unwrap(), 31);
        assert!(parse_amount("0.0150001", 6).is_err());
        assert!(parse_amount("1.5x", 6).is_err());
        assert!(parse_amount(".", 6).is_err());
        assert_eq!(
            price_mantissa("80.000000000000").unwrap(),
            (8_000_000_000, -8)
        );
        assert_eq!(price_mantissa("0.0000030").unwrap(), (300, -8));
        assert_eq!(parse_usd("2.5").unwrap(), I80F48::from_num(2.5));
        assert_eq!(parse_usd("150").unwrap(), I80F48::from_num(150));
        // 0.1 is not a binary fraction: the step above it, never below.
        let tenth = parse_usd("0.1").unwrap();
        assert_eq!(tenth - I80F48::DELTA, I80F48::ONE / 10);
        assert!(parse_usd("-1").is_err());
        assert!(parse_usd("0.0000000001").is_err());
        assert!(parse_usd("abc").is_err());
        assert_eq!(parse_bps("0.80000").unwrap(), 8_000);
        for (bps, s) in [
            (8_000, "0.8"),
            (10_000, "1"),
            (0, "0"),
            (2_400, "0.24"),
            (12_345, "1.2345"),
        ] {
            assert_eq!(format_bps(bps), s);
            assert_eq!(parse_bps(s).unwrap(), bps);
        }
    }
}
