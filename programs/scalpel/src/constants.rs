//! Seeds, sizes and the bounds governance and users must stay within.

use anchor_lang::prelude::*;

/// Seed of the singleton `Protocol` PDA.
pub const PROTOCOL_SEED: &[u8] = b"protocol";
/// Seed of a `Market` PDA (`["market", mint]`).
pub const MARKET_SEED: &[u8] = b"market";
/// Seed of a market's liquidity vault (`["vault", market]`).
pub const VAULT_SEED: &[u8] = b"vault";
/// Seed of a market's insurance vault (`["insurance", market]`).
pub const INSURANCE_SEED: &[u8] = b"insurance";
/// Seed of a market's treasury vault (`["treasury", market]`).
pub const TREASURY_SEED: &[u8] = b"treasury";
/// Seed of a `MarginAccount` PDA (`["margin", owner, index as u16 LE]`).
pub const MARGIN_SEED: &[u8] = b"margin";

/// Positions one margin account may hold: bounds the health computation's accounts and compute.
pub const MAX_POSITIONS: usize = 8;
/// Markets the protocol may list (market indices are `u16`, a slot stores the index).
pub const MAX_MARKETS: u16 = 1024;

/// Layout version written into every account created by this program version.
pub const ACCOUNT_VERSION: u8 = 1;

/// Basis points in one.
pub const BPS: u64 = 10_000;
/// Seconds per (365-day) year, used to turn annual rates into per-second accrual.
pub const SECONDS_PER_YEAR: u64 = 31_536_000;

/// Pyth legacy push oracle program on mainnet-beta.
pub const PYTH_LEGACY_MAINNET: Pubkey = pubkey!("FsJ3A3u2vn5cTVofAjvy6y5kwABJAqYWpe4975bi2epH");
/// Pyth legacy push oracle program on devnet.
pub const PYTH_LEGACY_DEVNET: Pubkey = pubkey!("gSbePebfvPy7tRqimPoVecS2UsBvYv46ynrzWocc92s");
/// Pyth Solana receiver program that owns `PriceUpdateV2` accounts.
pub const PYTH_RECEIVER: Pubkey = pubkey!("rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ");

/// Bounds checked when parameters are set (SPEC section 8).
pub mod bounds {
    /// Largest liquidation buffer `b`: 20%.
    pub const MAX_LIQUIDATION_BUFFER_BPS: u16 = 2_000;
    /// Largest liquidation penalty `π`: 25%.
    pub const MAX_LIQUIDATION_PENALTY_BPS: u16 = 2_500;
    /// The health ratio at which the full penalty applies lies strictly between 0.5 and 1.
    pub const MIN_FULL_PENALTY_HEALTH_RATIO_BPS: u16 = 5_000;
    /// See [`MIN_FULL_PENALTY_HEALTH_RATIO_BPS`].
    pub const MAX_FULL_PENALTY_HEALTH_RATIO_BPS: u16 = 10_000;
    /// The liquidator's share of the penalty is at least 50%.
    pub const MIN_LIQUIDATOR_SHARE_BPS: u16 = 5_000;
    /// Confidence limit per market: between 0.01% and 10% of price.
    pub const MIN_MAX_CONF_BPS: u16 = 1;
    /// See [`MIN_MAX_CONF_BPS`].
    pub const MAX_MAX_CONF_BPS: u16 = 1_000;
    /// Spot/EMA divergence limit per market: 0.5% to 100% of the EMA (a limit below half a
    /// percent would refuse borrowing in ordinary markets).
    pub const MIN_MAX_EMA_DIVERGENCE_BPS: u16 = 50;
    /// See [`MIN_MAX_EMA_DIVERGENCE_BPS`].
    pub const MAX_MAX_EMA_DIVERGENCE_BPS: u16 = 10_000;
    /// Net-borrow window: 1 minute to 7 days.
    pub const MIN_NET_BORROW_WINDOW_SECS: u32 = 60;
    /// See [`MIN_NET_BORROW_WINDOW_SECS`].
    pub const MAX_NET_BORROW_WINDOW_SECS: u32 = 7 * 86_400;
    /// Deposit-weight scaling starts at 1 USD of deposits at the least.
    pub const MIN_DEPOSIT_WEIGHT_SCALE_START_MICRO_USD: u64 = 1_000_000;
    /// Oracle age for risk-increasing actions: 1 s to 1 h.
    pub const MIN_MAX_AGE_SECS: u32 = 1;
    /// See [`MIN_MAX_AGE_SECS`].
    pub const MAX_MAX_AGE_SECS: u32 = 3_600;
    /// Oracle age for maintenance and liquidation: at most 1 day, and never below the
    /// risk-increasing age.
    pub const MAX_MAX_AGE_LIQUIDATION_SECS: u32 = 86_400;
    /// Confidence multiplier `k` (in bps of 1): 0 to 10.
    pub const MAX_CONF_MULTIPLIER_BPS: u32 = 100_000;
    /// Maximum confidence bias on init prices: at most 20%.
    pub const MAX_CONF_BIAS_BPS: u16 = 2_000;
    /// Dust threshold in whole USD: at most 1 000.
    pub const MAX_DUST_THRESHOLD_USD_CENTS: u64 = 100_000;
    /// Timelock: at most 30 days.
    pub const MAX_TIMELOCK_SECS: u32 = 30 * 86_400;
    /// Maintenance-weight shift duration: at most 90 days.
    pub const MAX_WEIGHT_SHIFT_SECS: u32 = 90 * 86_400;
    /// Longest guardian pause of a market's liquidations: 4 h.
    pub const MAX_LIQUIDATION_PAUSE_SECS: u32 = 4 * 3_600;
    /// A new liquidation-pause window opens only 24 h after the last one closed, so liquidations
    /// can never be held off indefinitely.
    pub const LIQUIDATION_PAUSE_COOLDOWN_SECS: i64 = 86_400;
    /// The guardian's withdrawal pause lasts 24 h and ends by itself (the admin may set the
    /// permanent flag instead).
    pub const MAX_WITHDRAWAL_PAUSE_SECS: u32 = 86_400;
    /// A new withdrawal-pause window opens only 24 h after the last one closed.
    pub const WITHDRAWAL_PAUSE_COOLDOWN_SECS: i64 = 86_400;
    /// Shortest maintenance-weight shift while changes are timelocked (a timelock of 0, as on
    /// localnet, allows any shift, 0 included).
    pub const MIN_WEIGHT_SHIFT_SECS: u32 = 86_400;
    /// Token decimals a market may have (keeps `10^(expo - decimals)` representable).
    pub const MAX_DECIMALS: u8 = 12;
    /// Pyth exponent range accepted by the adapters.
    pub const MIN_EXPO: i32 = -20;
    /// See [`MIN_EXPO`].
    pub const MAX_EXPO: i32 = 8;
    /// Largest annual rate any point of the interest curve may reach: 1 000% (in bps).
    pub const MAX_RATE_BPS: u32 = 100_000;
    /// Optimal utilization between 1% and 99% (bps).
    pub const MIN_OPTIMAL_UTIL_BPS: u16 = 100;
    /// See [`MIN_OPTIMAL_UTIL_BPS`].
    pub const MAX_OPTIMAL_UTIL_BPS: u16 = 9_900;
}

/// Defaults suggested by SPEC section 8; governance may change them within [`bounds`].
pub mod defaults {
    /// Liquidation buffer `b`: 2%.
    pub const LIQUIDATION_BUFFER_BPS: u16 = 200;
    /// Liquidator / insurance / treasury shares of the penalty.
    pub const SPLIT_BPS: [u16; 3] = [6_000, 2_500, 1_500];
    /// Health ratio `A_maint / L_maint` at and below which a market's full penalty applies
    /// (`r_full`): 0.95.
    pub const FULL_PENALTY_HEALTH_RATIO_BPS: u16 = 9_500;
    /// Confidence multiplier `k = 2.12`.
    pub const CONF_MULTIPLIER_BPS: u32 = 21_200;
    /// Maximum bias applied to init prices: 5%.
    pub const MAX_CONF_BIAS_BPS: u16 = 500;
    /// Dust threshold: 1 USD.
    pub const DUST_THRESHOLD_USD_CENTS: u64 = 100;
    /// Timelock: 24 h.
    pub const TIMELOCK_SECS: u32 = 86_400;
    /// Maintenance-weight shift duration: 24 h.
    pub const WEIGHT_SHIFT_SECS: u32 = 86_400;
    /// Market confidence limit: 2% of price.
    pub const MAX_CONF_BPS: u16 = 200;
    /// Spot/EMA divergence beyond which borrowing is refused: 10% (Kamino's and Drift's guards
    /// sit in this range; Pyth's EMA spans about an hour).
    pub const MAX_EMA_DIVERGENCE_BPS: u16 = 1_000;
    /// Net-borrow window: 1 hour.
    pub const NET_BORROW_WINDOW_SECS: u32 = 3_600;
    /// Oracle age for risk-increasing actions.
    pub const MAX_AGE_SECS: u32 = 60;
    /// Oracle age for maintenance and liquidation.
    pub const MAX_AGE_LIQUIDATION_SECS: u32 = 300;
    /// Interest curve kink: 80% utilization.
    pub const OPTIMAL_UTILIZATION_BPS: u16 = 8_000;
    /// Annual rate at zero utilization.
    pub const BASE_RATE_BPS: u32 = 0;
    /// Annual rate added up to the kink.
    pub const SLOPE1_BPS: u32 = 400;
    /// Annual rate added above the kink.
    pub const SLOPE2_BPS: u32 = 7_500;
}
