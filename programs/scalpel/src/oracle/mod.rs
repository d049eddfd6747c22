//! Pyth price reads: both account formats normalized to USD per whole token (per native unit
//! for display only), with every check of docs/SPEC.md section 3. Pure over `(owner, data, config, now)` so the CLI and the bot run
//! exactly the checks the program runs.

pub mod pyth_legacy;
pub mod pyth_pull;

use crate::constants::{bounds, BPS};
use crate::errors::ScalpelError;
use crate::math::{IntMath, I80F48};
use anchor_lang::prelude::*;

/// Which Pyth format a market reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
#[repr(u8)]
pub enum OracleKind {
    /// Legacy push price account (pyth-sdk-solana), owned by the Pyth oracle program.
    PythLegacy = 0,
    /// `PriceUpdateV2` pull account (pyth-solana-receiver-sdk), owned by the receiver program.
    PythPull = 1,
}

impl OracleKind {
    /// Decodes the stored byte.
    pub fn from_u8(v: u8) -> core::result::Result<Self, ScalpelError> {
        match v {
            0 => Ok(Self::PythLegacy),
            1 => Ok(Self::PythPull),
            _ => Err(ScalpelError::InvalidOracleKind),
        }
    }
}

/// What a market tells the adapter about its oracle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OracleConfig {
    /// Account format.
    pub kind: OracleKind,
    /// Pull feed id (ignored for legacy).
    pub feed_id: [u8; 32],
    /// Token decimals, to normalize to USD per native unit.
    pub decimals: u8,
    /// Largest accepted `conf / price`, in bps.
    pub max_conf_bps: u16,
    /// Largest accepted publish time in the future, in seconds (the market's `max_age_secs`).
    pub max_future_secs: u32,
    /// Whether to normalize the EMA too. Reads for maintenance health (liquidation, bad debt)
    /// skip it: those figures are spot-only, and two normalizations per position are about
    /// 600 compute units. Without it the EMA fields equal the spot's (a steady feed).
    pub with_ema: bool,
}

/// A price as the account states it, before any freshness or width check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawPrice {
    /// Price mantissa.
    pub price: i64,
    /// Confidence mantissa.
    pub conf: u64,
    /// Decimal exponent of price and conf.
    pub expo: i32,
    /// Unix time of the price.
    pub publish_time: i64,
    /// Exponentially weighted moving average of the price (same exponent): what initial
    /// health values collateral and debt against, so one pumped update lends nothing.
    pub ema_price: i64,
    /// Confidence of the EMA price (same exponent).
    pub ema_conf: u64,
    /// Format-specific facts, for display.
    pub detail: RawDetail,
}

/// Format-specific facts of a decoded price account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawDetail {
    /// Legacy account: aggregate status byte (0 unknown, 1 trading, 2 halted, 3 auction,
    /// 4 ignored) and whether the previous price was used because status is not trading.
    Legacy { status: u8, used_previous: bool },
    /// Pull account: verification (`None` = Full, `Some(n)` = Partial with n signatures) and
    /// feed id.
    Pull {
        partial_signatures: Option<u8>,
        feed_id: [u8; 32],
        posted_slot: u64,
    },
}

/// A checked price per whole token (what health and liquidation use, at full precision; see
/// `math::token_value`), and per native unit on demand (for display).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OraclePrice {
    /// Price, USD per whole token.
    pub token_price: I80F48,
    /// Confidence, USD per whole token.
    pub token_conf: I80F48,
    /// Unix time of the price.
    pub publish_time: i64,
    /// The EMA price, USD per whole token (zero when the account states a non-positive one:
    /// then nothing is lent against it).
    pub ema_price: I80F48,
    /// The EMA confidence, USD per whole token.
    pub ema_conf: I80F48,
    /// The token's decimals (native units per whole token: 10^decimals).
    pub decimals: u8,
}

impl OraclePrice {
    /// Price per native unit: the per-token price over 10^decimals, truncated exactly as
    /// normalizing the mantissa at `expo − decimals` would (nested floor divisions of the same
    /// bits). May be zero for a token worth very little per native unit.
    pub fn price(&self) -> I80F48 {
        per_native(self.token_price, self.decimals)
    }

    /// Confidence per native unit, likewise.
    pub fn conf(&self) -> I80F48 {
        per_native(self.token_conf, self.decimals)
    }
}

fn per_native(v: I80F48, decimals: u8) -> I80F48 {
    10u64
        .checked_pow(decimals as u32)
        .and_then(|s| v.div_int(s).ok())
        .unwrap_or(I80F48::ZERO)
}

/// Decodes an oracle account of the given kind, checking its owner and format but not its
/// freshness. Partial pull updates are rejected here: they are never a usable price.
pub fn decode(
    kind: OracleKind,
    owner: &Pubkey,
    data: &[u8],
) -> core::result::Result<RawPrice, ScalpelError> {
    match kind {
        OracleKind::PythLegacy => pyth_legacy::decode(owner, data),
        OracleKind::PythPull => pyth_pull::decode(owner, data),
    }
}

/// Decodes and checks an oracle account: owner, format, verification, feed id, positive price,
/// exponent range, confidence width and age against `max_age_secs` at `now`.
pub fn read_price(
    cfg: &OracleConfig,
    owner: &Pubkey,
    data: &[u8],
    now: i64,
    max_age_secs: u32,
) -> core::result::Result<OraclePrice, ScalpelError> {
    let raw = decode(cfg.kind, owner, data)?;
    if let RawDetail::Pull { feed_id, .. } = raw.detail {
        if feed_id != cfg.feed_id {
            return Err(ScalpelError::OracleFeedMismatch);
        }
    }
    check_price(&raw, cfg, now, max_age_secs)
}

/// The value checks shared by both formats; see [`read_price`].
pub fn check_price(
    raw: &RawPrice,
    cfg: &OracleConfig,
    now: i64,
    max_age_secs: u32,
) -> core::result::Result<OraclePrice, ScalpelError> {
    if raw.price <= 0 {
        return Err(ScalpelError::OraclePriceNonPositive);
    }
    if raw.expo < bounds::MIN_EXPO || raw.expo > bounds::MAX_EXPO {
        return Err(ScalpelError::OracleExponentOutOfRange);
    }
    // conf / price <= max_conf_bps / 10^4, exactly, in integers (64-bit products when they
    // fit, as they do for every real feed; 128-bit ones otherwise).
    let too_wide = match (
        raw.conf.checked_mul(BPS),
        (cfg.max_conf_bps as u64).checked_mul(raw.price as u64),
    ) {
        (Some(lhs), Some(rhs)) => lhs > rhs,
        _ => (raw.conf as u128) * (BPS as u128) > (cfg.max_conf_bps as u128) * (raw.price as u128),
    };
    if too_wide {
        return Err(ScalpelError::OracleConfidenceTooWide);
    }
    // A publish time at or before the Unix epoch is a never-published account (e.g. devnet
    // price accounts with timestamp 0), not a price: stale whatever the clock says.
    if raw.publish_time <= 0 {
        return Err(ScalpelError::OracleStale);
    }
    // Future timestamps beyond the tolerance, then age (saturating: no overflow on any input).
    if raw.publish_time.saturating_sub(now) > cfg.max_future_secs as i64 {
        return Err(ScalpelError::OracleFutureTimestamp);
    }
    if now.saturating_sub(raw.publish_time) > max_age_secs as i64 {
        return Err(ScalpelError::OracleStale);
    }
    normalized(raw, cfg.decimals, cfg.with_ema)
}

/// `raw` as an [`OraclePrice`], with only the checks that make it a number: a positive price
/// and an exponent in range. Positivity is judged on the price per whole token, which health
/// uses; the per-native-unit price is for display and may truncate to zero for a token worth
/// very little (a 9-decimal token under 3.5e-6 USD).
pub fn normalized(
    raw: &RawPrice,
    decimals: u8,
    with_ema: bool,
) -> core::result::Result<OraclePrice, ScalpelError> {
    if raw.price <= 0 {
        return Err(ScalpelError::OraclePriceNonPositive);
    }
    if raw.expo < bounds::MIN_EXPO || raw.expo > bounds::MAX_EXPO {
        return Err(ScalpelError::OracleExponentOutOfRange);
    }
    let token_price = normalize(raw.price as u64, raw.expo, 0)?;
    if token_price <= I80F48::ZERO {
        return Err(ScalpelError::OraclePriceNonPositive);
    }
    let token_conf = normalize(raw.conf, raw.expo, 0)?;
    let (ema_price, ema_conf) = if with_ema {
        let ema = match u64::try_from(raw.ema_price) {
            Ok(m) if m > 0 => normalize(m, raw.expo, 0)?,
            _ => I80F48::ZERO,
        };
        (ema, normalize(raw.ema_conf, raw.expo, 0)?)
    } else {
        (token_price, token_conf)
    };
    Ok(OraclePrice {
        token_price,
        token_conf,
        publish_time: raw.publish_time,
        ema_price,
        ema_conf,
        decimals,
    })
}

impl OraclePrice {
    /// Whether spot and EMA differ by more than `max_bps` of the EMA: `|spot − ema| · 10⁴ >
    /// max_bps · ema`, exactly in fixed point (a non-positive EMA always diverges). Borrowing and
    /// withdrawing against such a price is refused; deposits, repays and liquidations go on.
    pub fn ema_diverges(&self, max_bps: u16) -> bool {
        if self.ema_price <= I80F48::ZERO {
            return true;
        }
        let gap = self
            .token_price
            .checked_sub(self.ema_price)
            .and_then(|d| d.checked_abs());
        match (
            gap.and_then(|g| g.checked_mul_int(BPS as i128)),
            self.ema_price.checked_mul_int(max_bps as i128),
        ) {
            (Some(lhs), Some(rhs)) => lhs > rhs,
            // Beyond I80F48: only a gap of ~1e14 USD per token gets here; treat as diverged.
            _ => true,
        }
    }
}

/// The last price the account states, whatever its age and width: how a debt whose oracle fails
/// the checks is valued when liquidation health is computed (see
/// `health_accounts::position_price`). Owner, format, verification and feed id still hold.
pub fn last_price(
    cfg: &OracleConfig,
    owner: &Pubkey,
    data: &[u8],
) -> core::result::Result<OraclePrice, ScalpelError> {
    let raw = decode(cfg.kind, owner, data)?;
    if let RawDetail::Pull { feed_id, .. } = raw.detail {
        if feed_id != cfg.feed_id {
            return Err(ScalpelError::OracleFeedMismatch);
        }
    }
    normalized(&raw, cfg.decimals, cfg.with_ema)
}

/// `mantissa · 10^(expo − decimals)` as `I80F48`: USD per native unit. Errors instead of
/// overflowing; very small results truncate toward zero (the caller rejects a zero price).
pub fn normalize(
    mantissa: u64,
    expo: i32,
    decimals: u8,
) -> core::result::Result<I80F48, ScalpelError> {
    let e = expo
        .checked_sub(decimals as i32)
        .ok_or(ScalpelError::OracleExponentOutOfRange)?;
    let m = I80F48::from_num(mantissa);
    let map = |_| ScalpelError::MathOverflow;
    if e >= 0 {
        m.mul_int(pow10(e.unsigned_abs())?).map_err(map)
    } else {
        // Divide in steps of at most 10^18 (each divisor fits in u64), as integers.
        let mut left = e.unsigned_abs();
        let mut v = m;
        // Stops once the value truncates to zero, so any exponent costs a few steps.
        while left > 0 && v != I80F48::ZERO {
            let step = left.min(18);
            v = v.div_int(pow10(step)?).map_err(map)?;
            left -= step;
        }
        Ok(v)
    }
}

fn pow10(e: u32) -> core::result::Result<u64, ScalpelError> {
    10u64
        .checked_pow(e)
        .ok_or(ScalpelError::OracleExponentOutOfRange)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_table() {
        // 150.00 USD/SOL, expo -2, 9 decimals => 1.5e-7 USD per lamport.
        let p = normalize(15_000, -2, 9).unwrap();
        assert!((p - I80F48::from_num(1.5e-7)).abs() < I80F48::from_num(1e-14));
        // 1 USDC at expo -8, 6 decimals => 1e-6 per native.
        let p = normalize(100_000_000, -8, 6).unwrap();
        assert!((p - I80F48::from_num(1e-6)).abs() < I80F48::from_num(1e-14));
        assert_eq!(normalize(7, 2, 0).unwrap(), I80F48::from_num(700));
        assert_eq!(normalize(u64::MAX, -40, 12).unwrap(), I80F48::ZERO);
        assert!(normalize(u64::MAX, 8, 0).is_err());
        assert!(normalize(1, 30, 0).is_err());
    }

    /// 3e-6 USD per whole token of a 9-decimal token is 3e-15 per native unit, below I80F48's
    /// resolution: the price is still positive (health uses the per-token price).
    #[test]
    fn tiny_per_token_price_is_positive() {
        let raw = RawPrice {
            price: 300,
            conf: 0,
            expo: -8,
            publish_time: 1,
            ema_price: 300,
            ema_conf: 0,
            detail: RawDetail::Legacy {
                status: 1,
                used_previous: false,
            },
        };
        let cfg = OracleConfig {
            kind: OracleKind::PythPull,
            feed_id: [0; 32],
            decimals: 9,
            max_conf_bps: 100,
            max_future_secs: 60,
            with_ema: true,
        };
        let p = check_price(&raw, &cfg, 1, 60).unwrap();
        assert_eq!(p.price(), I80F48::ZERO);
        assert!(p.token_price > I80F48::ZERO);
    }

    /// The divergence guard by hand: 10% of the EMA is the edge, exactly.
    #[test]
    fn ema_divergence_table() {
        let p = |spot: i64, ema: i64| OraclePrice {
            token_price: I80F48::from_num(spot),
            token_conf: I80F48::ZERO,
            publish_time: 1,
            ema_price: I80F48::from_num(ema),
            ema_conf: I80F48::ZERO,
            decimals: 6,
        };
        assert!(!p(110, 100).ema_diverges(1_000), "10% is within 10%");
        assert!(p(111, 100).ema_diverges(1_000));
        assert!(!p(90, 100).ema_diverges(1_000));
        assert!(p(89, 100).ema_diverges(1_000));
        assert!(p(2_000, 100).ema_diverges(10_000), "the MNGO pump: 20x");
        assert!(
            p(1, 0).ema_diverges(10_000),
            "no EMA: nothing is lent against it"
        );
        assert!(!p(100, 100).ema_diverges(50));
    }
}
