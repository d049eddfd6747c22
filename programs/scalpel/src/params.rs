//! Governed parameters and their bounds (SPEC section 8). The same validation runs when a
//! market is listed, and (with governance) when a change is queued and when it is applied.

use crate::constants::{bounds::*, BPS};
use crate::errors::ScalpelError;
use crate::math::{fx, IntMath, MathResult, I80F48};
use anchor_lang::prelude::*;

/// Protocol-wide risk parameters as instruction arguments.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProtocolParams {
    /// Liquidation buffer `b`, bps.
    pub liquidation_buffer_bps: u16,
    /// Penalty split liquidator / insurance / treasury, bps summing to 10 000.
    pub split_bps: [u16; 3],
    /// Confidence multiplier `k`, bps of 1.
    pub conf_multiplier_bps: u32,
    /// Largest init-price bias, bps of price.
    pub max_conf_bias_bps: u16,
    /// Dust threshold, micro-USD.
    pub dust_threshold_micro_usd: u64,
    /// Timelock on parameter changes.
    pub timelock_secs: u32,
    /// Duration of a maintenance-weight tightening.
    pub weight_shift_secs: u32,
    /// Health ratio `r_full` at and below which a market's full penalty applies, bps of 1;
    /// above it the penalty falls linearly to the market's minimum at a ratio of 1.
    pub full_penalty_health_ratio_bps: u16,
}

impl Default for ProtocolParams {
    fn default() -> Self {
        use crate::constants::defaults as d;
        Self {
            liquidation_buffer_bps: d::LIQUIDATION_BUFFER_BPS,
            split_bps: d::SPLIT_BPS,
            conf_multiplier_bps: d::CONF_MULTIPLIER_BPS,
            max_conf_bias_bps: d::MAX_CONF_BIAS_BPS,
            dust_threshold_micro_usd: d::DUST_THRESHOLD_USD_CENTS * 10_000,
            timelock_secs: d::TIMELOCK_SECS,
            weight_shift_secs: d::WEIGHT_SHIFT_SECS,
            full_penalty_health_ratio_bps: d::FULL_PENALTY_HEALTH_RATIO_BPS,
        }
    }
}

impl ProtocolParams {
    /// Checks every bound; the first violation is a named error.
    pub fn validate(&self) -> core::result::Result<(), ScalpelError> {
        if self.liquidation_buffer_bps > MAX_LIQUIDATION_BUFFER_BPS {
            return Err(ScalpelError::InvalidLiquidationBuffer);
        }
        let [l, i, t] = self.split_bps;
        if l as u32 + i as u32 + t as u32 != BPS as u32 || l < MIN_LIQUIDATOR_SHARE_BPS {
            return Err(ScalpelError::InvalidPenaltySplit);
        }
        if self.conf_multiplier_bps > MAX_CONF_MULTIPLIER_BPS
            || self.max_conf_bias_bps > MAX_CONF_BIAS_BPS
        {
            return Err(ScalpelError::InvalidConfidenceMultiplier);
        }
        if self.dust_threshold_micro_usd > MAX_DUST_THRESHOLD_USD_CENTS * 10_000 {
            return Err(ScalpelError::InvalidDustThreshold);
        }
        if self.timelock_secs > MAX_TIMELOCK_SECS || self.weight_shift_secs > MAX_WEIGHT_SHIFT_SECS
        {
            return Err(ScalpelError::InvalidTimelock);
        }
        if self.timelock_secs > 0 && self.weight_shift_secs < MIN_WEIGHT_SHIFT_SECS {
            return Err(ScalpelError::WeightShiftTooShort);
        }
        if self.full_penalty_health_ratio_bps <= MIN_FULL_PENALTY_HEALTH_RATIO_BPS
            || self.full_penalty_health_ratio_bps >= MAX_FULL_PENALTY_HEALTH_RATIO_BPS
        {
            return Err(ScalpelError::InvalidFullPenaltyRatio);
        }
        Ok(())
    }

    /// Dust threshold in USD.
    pub fn dust_threshold(&self) -> MathResult<I80F48> {
        fx(self.dust_threshold_micro_usd).div_int(1_000_000)
    }
}

/// A market's risk parameters as instruction arguments (weights and rates in bps of 1).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketParams {
    /// Init asset weight, bps.
    pub asset_weight_init_bps: u32,
    /// Maint asset weight, bps.
    pub asset_weight_maint_bps: u32,
    /// Init liability weight, bps.
    pub liab_weight_init_bps: u32,
    /// Maint liability weight, bps.
    pub liab_weight_maint_bps: u32,
    /// Liquidation penalty `π`, bps: the full penalty, at health ratios of `r_full` and below.
    pub liquidation_penalty_bps: u16,
    /// Smallest liquidation penalty `π_min`, bps: the penalty of an account liquidated at a
    /// health ratio of 1 (`π_min = π` is a flat penalty).
    pub liquidation_penalty_min_bps: u16,
    /// Largest `conf / price`, bps.
    pub max_conf_bps: u16,
    /// Oracle age for borrow and withdraw.
    pub max_age_secs: u32,
    /// Oracle age for maintenance and liquidation.
    pub max_age_liquidation_secs: u32,
    /// Deposit cap, native units (`u64::MAX`: none).
    pub deposit_cap: u64,
    /// Borrow cap, native units (`u64::MAX`: none).
    pub borrow_cap: u64,
    /// Utilization at the kink, bps.
    pub optimal_utilization_bps: u16,
    /// Annual rate at zero utilization, bps.
    pub base_rate_bps: u32,
    /// Annual rate added up to the kink, bps.
    pub slope1_bps: u32,
    /// Annual rate added above the kink, bps.
    pub slope2_bps: u32,
    /// Largest `|spot − ema| / ema`, bps, at which this market may be borrowed, or borrowed
    /// and withdrawn against (`EmaDivergenceTooLarge` beyond it).
    pub max_ema_divergence_bps: u16,
    /// Length of the net-borrow window, seconds (windows are aligned to multiples of it).
    pub net_borrow_window_secs: u32,
    /// Largest USD value, micro-USD, borrowed net of repayments within one window
    /// (`u64::MAX`: none), Mango's `net_borrow_limit_per_window_quote`.
    pub net_borrow_limit_micro_usd: u64,
    /// Total deposit value, micro-USD, above which the init asset weight scales down by
    /// `threshold / total` (`u64::MAX`: never), Mango's deposit-weight scaling.
    pub deposit_weight_scale_start_micro_usd: u64,
}

impl Default for MarketParams {
    /// A volatile-collateral market: 80/90% asset, 120/110% liability, 5% penalty, the specification's
    /// oracle defaults, no caps, the default interest curve.
    fn default() -> Self {
        use crate::constants::defaults as d;
        Self {
            asset_weight_init_bps: 8_000,
            asset_weight_maint_bps: 9_000,
            liab_weight_init_bps: 12_000,
            liab_weight_maint_bps: 11_000,
            liquidation_penalty_bps: 500,
            liquidation_penalty_min_bps: 500,
            max_conf_bps: d::MAX_CONF_BPS,
            max_age_secs: d::MAX_AGE_SECS,
            max_age_liquidation_secs: d::MAX_AGE_LIQUIDATION_SECS,
            deposit_cap: u64::MAX,
            borrow_cap: u64::MAX,
            optimal_utilization_bps: d::OPTIMAL_UTILIZATION_BPS,
            base_rate_bps: d::BASE_RATE_BPS,
            slope1_bps: d::SLOPE1_BPS,
            slope2_bps: d::SLOPE2_BPS,
            max_ema_divergence_bps: d::MAX_EMA_DIVERGENCE_BPS,
            net_borrow_window_secs: d::NET_BORROW_WINDOW_SECS,
            net_borrow_limit_micro_usd: u64::MAX,
            deposit_weight_scale_start_micro_usd: u64::MAX,
        }
    }
}

/// What the guardian may do at once; each only tightens.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardianAction {
    /// Set protocol-wide pause bits (`PAUSE_*`); bits can only be added.
    PauseProtocol {
        /// Bits to add.
        flags: u8,
    },
    /// Set a market's pause / reduce-only bits (`MARKET_*`); bits can only be added.
    PauseMarket {
        /// Bits to add.
        flags: u8,
    },
    /// Lower a market's caps (each must not exceed the current cap).
    LowerCaps {
        /// New deposit cap.
        deposit_cap: u64,
        /// New borrow cap.
        borrow_cap: u64,
    },
    /// Lower a market's init asset weight.
    LowerInitAssetWeight {
        /// New weight, bps.
        bps: u32,
    },
    /// Raise a market's init liability weight.
    RaiseInitLiabWeight {
        /// New weight, bps.
        bps: u32,
    },
    /// Pause a market's liquidations for at most `MAX_LIQUIDATION_PAUSE_SECS`; they resume by
    /// themselves, and a new pause needs a cooldown after the last one.
    PauseLiquidations {
        /// Duration.
        secs: u32,
    },
    /// Tighten a market's oracle-manipulation guards: each value at most the current one (a
    /// smaller divergence limit, net-borrow limit or deposit-weight scaling threshold), within
    /// the bounds. The window length is governance's alone.
    TightenOracleGuards {
        /// New spot/EMA divergence limit, bps.
        max_ema_divergence_bps: u16,
        /// New net-borrow limit per window, micro-USD.
        net_borrow_limit_micro_usd: u64,
        /// New deposit-weight scaling threshold, micro-USD.
        deposit_weight_scale_start_micro_usd: u64,
    },
}

/// Bounds an emergency pause of one kind (liquidations, withdrawals): the first pause opens a
/// window of `max_secs`; every later pause, of any market, must end inside it; a new window
/// opens only `cooldown_secs` after the last one closed. Pauses of different markets then cannot
/// be chained into a longer one. Returns the window start to store, or `None` if refused.
pub fn pause_window(
    window_start: i64,
    now: i64,
    secs: u32,
    max_secs: u32,
    cooldown_secs: i64,
) -> Option<i64> {
    if secs == 0 || secs > max_secs {
        return None;
    }
    if window_start != 0 {
        let window_end = window_start.saturating_add(max_secs as i64);
        if now < window_end {
            return (now.saturating_add(secs as i64) <= window_end).then_some(window_start);
        }
        if now < window_end.saturating_add(cooldown_secs) {
            return None;
        }
    }
    Some(now)
}

/// Largest liability weight accepted (5.0).
pub const MAX_LIAB_WEIGHT_BPS: u32 = 50_000;

impl MarketParams {
    /// These parameters with the full penalty `π` (if given) and the minimum `π_min` (if
    /// given). Without a `π_min`, a flat penalty stays flat (it follows `π`) and a curve keeps
    /// its minimum, capped by the new `π`: how config files and scenarios leave it out.
    pub fn with_penalty(self, penalty: Option<u16>, min: Option<u16>) -> MarketParams {
        let flat = self.liquidation_penalty_min_bps == self.liquidation_penalty_bps;
        let max = penalty.unwrap_or(self.liquidation_penalty_bps);
        let min = match (min, flat) {
            (Some(m), _) => m,
            (None, true) => max,
            (None, false) => self.liquidation_penalty_min_bps.min(max),
        };
        MarketParams {
            liquidation_penalty_bps: max,
            liquidation_penalty_min_bps: min,
            ..self
        }
    }

    /// Checks every bound; the first violation is a named error.
    pub fn validate(&self) -> core::result::Result<(), ScalpelError> {
        let one = BPS as u32;
        if !(self.asset_weight_init_bps <= self.asset_weight_maint_bps
            && self.asset_weight_maint_bps <= one)
        {
            return Err(ScalpelError::InvalidAssetWeights);
        }
        if !(one <= self.liab_weight_maint_bps
            && self.liab_weight_maint_bps <= self.liab_weight_init_bps
            && self.liab_weight_init_bps <= MAX_LIAB_WEIGHT_BPS)
        {
            return Err(ScalpelError::InvalidLiabilityWeights);
        }
        if self.liquidation_penalty_bps > MAX_LIQUIDATION_PENALTY_BPS
            || self.liquidation_penalty_min_bps > self.liquidation_penalty_bps
        {
            return Err(ScalpelError::InvalidLiquidationPenalty);
        }
        // (1 + π) · wA_maint < 1, exactly in integers: (10^4 + π) · wA < 10^8.
        let lhs = (BPS + self.liquidation_penalty_bps as u64) * self.asset_weight_maint_bps as u64;
        if lhs >= BPS * BPS {
            return Err(ScalpelError::PenaltyTooHighForWeight);
        }
        if self.max_conf_bps < MIN_MAX_CONF_BPS || self.max_conf_bps > MAX_MAX_CONF_BPS {
            return Err(ScalpelError::InvalidConfidenceLimit);
        }
        if self.max_age_secs < MIN_MAX_AGE_SECS
            || self.max_age_secs > MAX_MAX_AGE_SECS
            || self.max_age_liquidation_secs < self.max_age_secs
            || self.max_age_liquidation_secs > MAX_MAX_AGE_LIQUIDATION_SECS
        {
            return Err(ScalpelError::InvalidOracleAge);
        }
        let top = self.base_rate_bps as u64 + self.slope1_bps as u64 + self.slope2_bps as u64;
        if self.optimal_utilization_bps < MIN_OPTIMAL_UTIL_BPS
            || self.optimal_utilization_bps > MAX_OPTIMAL_UTIL_BPS
            || top > MAX_RATE_BPS as u64
        {
            return Err(ScalpelError::InvalidInterestCurve);
        }
        if self.max_ema_divergence_bps < MIN_MAX_EMA_DIVERGENCE_BPS
            || self.max_ema_divergence_bps > MAX_MAX_EMA_DIVERGENCE_BPS
        {
            return Err(ScalpelError::InvalidEmaDivergence);
        }
        if self.net_borrow_window_secs < MIN_NET_BORROW_WINDOW_SECS
            || self.net_borrow_window_secs > MAX_NET_BORROW_WINDOW_SECS
        {
            return Err(ScalpelError::InvalidNetBorrowLimit);
        }
        if self.deposit_weight_scale_start_micro_usd < MIN_DEPOSIT_WEIGHT_SCALE_START_MICRO_USD {
            return Err(ScalpelError::InvalidDepositWeightScale);
        }
        Ok(())
    }

    /// Whether `self` is `current` with only the oracle guards tightened (each at most as
    /// loose as now): what the guardian may apply at once.
    pub fn guards_tighter_or_equal(&self, current: &MarketParams) -> bool {
        self.max_ema_divergence_bps <= current.max_ema_divergence_bps
            && self.net_borrow_limit_micro_usd <= current.net_borrow_limit_micro_usd
            && self.deposit_weight_scale_start_micro_usd
                <= current.deposit_weight_scale_start_micro_usd
    }
}

/// A market ticker as stored: 1 to 16 bytes of printable ASCII (no spaces), zero-padded.
/// `None` otherwise, so listings name markets unambiguously in every client.
pub fn symbol_bytes(symbol: &str) -> Option<[u8; 16]> {
    let b = symbol.as_bytes();
    if b.is_empty() || b.len() > 16 || !b.iter().all(|c| (0x21..=0x7e).contains(c)) {
        return None;
    }
    let mut out = [0u8; 16];
    out[..b.len()].copy_from_slice(b);
    Some(out)
}

/// Whether stored ticker bytes are what [`symbol_bytes`] makes.
pub fn symbol_is_valid(bytes: &[u8; 16]) -> bool {
    let len = bytes.iter().position(|c| *c == 0).unwrap_or(16);
    len > 0
        && bytes[..len].iter().all(|c| (0x21..=0x7e).contains(c))
        && bytes[len..].iter().all(|c| *c == 0)
}

/// The ticker in stored bytes (the part before the padding; empty if not valid ASCII).
pub fn symbol_str(bytes: &[u8; 16]) -> &str {
    let len = bytes.iter().position(|c| *c == 0).unwrap_or(16);
    core::str::from_utf8(&bytes[..len]).unwrap_or("")
}

/// `v` bps as a fraction of one.
pub fn bps_fraction(v: u32) -> MathResult<I80F48> {
    fx(v as u64).div_int(BPS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_round_trip_and_refuse_what_clients_could_confuse() {
        let sol = symbol_bytes("SOL").expect("valid");
        assert_eq!(&sol[..4], b"SOL\0");
        assert!(symbol_is_valid(&sol));
        assert_eq!(symbol_str(&sol), "SOL");
        let full = symbol_bytes("ABCDEFGHIJKLMNOP").expect("16 bytes fit");
        assert_eq!(symbol_str(&full), "ABCDEFGHIJKLMNOP");
        assert!(symbol_is_valid(&full));
        for bad in ["", "S L", "SOL\n", "ABCDEFGHIJKLMNOPQ", "é"] {
            assert_eq!(symbol_bytes(bad), None, "{bad:?}");
        }
        let mut gap = sol;
        gap[5] = b'X';
        assert!(!symbol_is_valid(&gap), "bytes after the padding");
        assert!(!symbol_is_valid(&[0; 16]), "empty");
        // Any byte string: valid exactly when it is what symbol_bytes makes of its text.
        for b in [[b'A'; 16], gap, [0x7f; 16], [b' '; 16]] {
            assert_eq!(
                symbol_is_valid(&b),
                symbol_bytes(symbol_str(&b)) == Some(b),
                "{b:?}"
            );
        }
    }

    pub(crate) fn good() -> MarketParams {
        // The defaults (80/90% asset, 120/110% liability, 5% penalty, 2% conf, 60/300 s, no caps)
        // with a 1% base rate so interest tests see a non-zero curve.
        MarketParams {
            base_rate_bps: 100,
            ..MarketParams::default()
        }
    }

    #[test]
    fn market_bounds_each_named() {
        assert_eq!(good().validate(), Ok(()));
        let cases: Vec<(MarketParams, ScalpelError)> = vec![
            (
                MarketParams {
                    max_ema_divergence_bps: 49,
                    ..good()
                },
                ScalpelError::InvalidEmaDivergence,
            ),
            (
                MarketParams {
                    max_ema_divergence_bps: 10_001,
                    ..good()
                },
                ScalpelError::InvalidEmaDivergence,
            ),
            (
                MarketParams {
                    net_borrow_window_secs: 59,
                    ..good()
                },
                ScalpelError::InvalidNetBorrowLimit,
            ),
            (
                MarketParams {
                    net_borrow_window_secs: 7 * 86_400 + 1,
                    ..good()
                },
                ScalpelError::InvalidNetBorrowLimit,
            ),
            (
                MarketParams {
                    deposit_weight_scale_start_micro_usd: 999_999,
                    ..good()
                },
                ScalpelError::InvalidDepositWeightScale,
            ),
            (
                MarketParams {
                    asset_weight_init_bps: 9_500,
                    ..good()
                },
                ScalpelError::InvalidAssetWeights,
            ),
            (
                MarketParams {
                    asset_weight_maint_bps: 10_001,
                    asset_weight_init_bps: 0,
                    ..good()
                },
                ScalpelError::InvalidAssetWeights,
            ),
            (
                MarketParams {
                    liab_weight_maint_bps: 9_999,
                    ..good()
                },
                ScalpelError::InvalidLiabilityWeights,
            ),
            (
                MarketParams {
                    liab_weight_init_bps: 10_500,
                    ..good()
                },
                ScalpelError::InvalidLiabilityWeights,
            ),
            (
                MarketParams {
                    liquidation_penalty_bps: 2_501,
                    asset_weight_maint_bps: 1_000,
                    asset_weight_init_bps: 0,
                    ..good()
                },
                ScalpelError::InvalidLiquidationPenalty,
            ),
            (
                MarketParams {
                    liquidation_penalty_bps: 1_200,
                    ..good()
                },
                ScalpelError::PenaltyTooHighForWeight,
            ),
            (
                MarketParams {
                    max_conf_bps: 0,
                    ..good()
                },
                ScalpelError::InvalidConfidenceLimit,
            ),
            (
                MarketParams {
                    max_conf_bps: 1_001,
                    ..good()
                },
                ScalpelError::InvalidConfidenceLimit,
            ),
            (
                MarketParams {
                    max_age_secs: 0,
                    ..good()
                },
                ScalpelError::InvalidOracleAge,
            ),
            (
                MarketParams {
                    max_age_liquidation_secs: 30,
                    ..good()
                },
                ScalpelError::InvalidOracleAge,
            ),
            (
                MarketParams {
                    max_age_liquidation_secs: 86_401,
                    ..good()
                },
                ScalpelError::InvalidOracleAge,
            ),
            (
                MarketParams {
                    optimal_utilization_bps: 50,
                    ..good()
                },
                ScalpelError::InvalidInterestCurve,
            ),
            (
                MarketParams {
                    slope2_bps: 100_000,
                    ..good()
                },
                ScalpelError::InvalidInterestCurve,
            ),
        ];
        for (p, e) in cases {
            assert_eq!(p.validate(), Err(e), "{p:?}");
        }
        // (1 + 11.1%) * 0.9 = 0.9999 < 1 is accepted; 11.12% is not.
        assert!(MarketParams {
            liquidation_penalty_bps: 1_111,
            ..good()
        }
        .validate()
        .is_ok());
        assert!(MarketParams {
            liquidation_penalty_bps: 1_112,
            ..good()
        }
        .validate()
        .is_err());
    }

    #[test]
    fn pause_windows_cannot_be_chained() {
        let (max, cool) = (4 * 3_600, 86_400);
        // First pause opens the window at 100.
        assert_eq!(pause_window(0, 100, max, max, cool), Some(100));
        // Another market inside the window, ending no later than it.
        assert_eq!(pause_window(100, 3_700, 3_600, max, cool), Some(100));
        assert_eq!(pause_window(100, 3_700, 3_601 + 7_200, max, cool), None);
        // Right when the window ends: cooldown.
        assert_eq!(pause_window(100, 100 + max as i64, 60, max, cool), None);
        // After the cooldown, a new window.
        let t = 100 + max as i64 + cool;
        assert_eq!(pause_window(100, t, 60, max, cool), Some(t));
        assert_eq!(pause_window(0, 5, 0, max, cool), None);
        assert_eq!(pause_window(0, 5, max + 1, max, cool), None);
    }

    #[test]
    fn protocol_bounds_each_named() {
        let d = ProtocolParams::default();
        assert_eq!(d.validate(), Ok(()));
        let cases = vec![
            (
                ProtocolParams {
                    liquidation_buffer_bps: 2_001,
                    ..d
                },
                ScalpelError::InvalidLiquidationBuffer,
            ),
            (
                ProtocolParams {
                    split_bps: [4_000, 3_000, 3_000],
                    ..d
                },
                ScalpelError::InvalidPenaltySplit,
            ),
            (
                ProtocolParams {
                    split_bps: [6_000, 3_000, 3_000],
                    ..d
                },
                ScalpelError::InvalidPenaltySplit,
            ),
            (
                ProtocolParams {
                    conf_multiplier_bps: 100_001,
                    ..d
                },
                ScalpelError::InvalidConfidenceMultiplier,
            ),
            (
                ProtocolParams {
                    max_conf_bias_bps: 2_001,
                    ..d
                },
                ScalpelError::InvalidConfidenceMultiplier,
            ),
            (
                ProtocolParams {
                    dust_threshold_micro_usd: 1_000_000_001,
                    ..d
                },
                ScalpelError::InvalidDustThreshold,
            ),
            (
                ProtocolParams {
                    timelock_secs: 31 * 86_400,
                    ..d
                },
                ScalpelError::InvalidTimelock,
            ),
            (
                ProtocolParams {
                    weight_shift_secs: 86_399,
                    ..d
                },
                ScalpelError::WeightShiftTooShort,
            ),
        ];
        // Without a timelock (localnet) any shift is allowed, none included.
        assert_eq!(
            ProtocolParams {
                timelock_secs: 0,
                weight_shift_secs: 0,
                ..d
            }
            .validate(),
            Ok(())
        );
        for (p, e) in cases {
            assert_eq!(p.validate(), Err(e), "{p:?}");
        }
    }
}
