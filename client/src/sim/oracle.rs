//! Oracle publication: each step the oracle publishes the market price of `delay` steps ago as a
//! Pyth mantissa at exponent −8, with a confidence that widens with the step's move. The
//! program's own `normalized` turns it into a price and its own `check_price` judges it: a
//! publication wider than the market's `max_conf_bps` fails, so the program values deposits of
//! that market at zero and refuses to liquidate against them for that step (`position_price`).

use super::config::OracleConfig;
use super::program::{SimMarket, T0};
use anyhow::{anyhow, bail, Result};
use scalpel::oracle::{
    check_price, normalized, OracleConfig as ProgramOracle, OraclePrice, RawDetail, RawPrice,
};

/// Exponent of every simulated publication.
pub const EXPO: i32 = -8;

/// One publication of one market.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tick {
    /// Price mantissa.
    pub mantissa: i64,
    /// Confidence mantissa.
    pub conf: u64,
    /// Exponent.
    pub expo: i32,
    /// The price the program reads (per whole token).
    pub price: OraclePrice,
    /// Whether the program accepts it (confidence within the market's limit).
    pub valid: bool,
    /// The price as `f64`, for the simulation's own bookkeeping.
    pub usd: f64,
}

/// The publication of `price` USD whose step moved the price by `ret` (log return), at step
/// `step`, for market `m`.
pub fn publish(
    m: &SimMarket,
    price: f64,
    ret: f64,
    step: usize,
    cfg: &OracleConfig,
) -> Result<Tick> {
    let (mantissa, expo) = match m.fixed {
        Some(f) => f,
        None => {
            let scaled = (price * 1e8).round();
            if !(scaled.is_finite() && scaled >= 1.0 && scaled < i64::MAX as f64) {
                bail!(
                    "{} price {price} cannot be published at exponent -8",
                    m.symbol
                );
            }
            (scaled as i64, EXPO)
        }
    };
    let width = cfg.conf_base_bps / 1e4 + cfg.conf_per_return * ret.abs();
    let conf = (mantissa as f64 * width)
        .round()
        .clamp(0.0, u64::MAX as f64) as u64;
    let now = T0 + step as i64 * 60;
    let raw = RawPrice {
        price: mantissa,
        conf,
        expo,
        publish_time: now,
        ema_price: mantissa,
        ema_conf: conf,
        detail: RawDetail::Pull {
            partial_signatures: None,
            feed_id: [0; 32],
            posted_slot: 0,
        },
    };
    let check = ProgramOracle {
        kind: scalpel::oracle::OracleKind::PythPull,
        feed_id: [0; 32],
        decimals: m.decimals,
        max_conf_bps: m.params.max_conf_bps,
        max_future_secs: m.params.max_age_secs,
        // Liquidation reads: spot only, as the program's maintenance health.
        with_ema: false,
    };
    let valid = check_price(&raw, &check, now, m.params.max_age_liquidation_secs).is_ok();
    let price = normalized(&raw, m.decimals, false)
        .map_err(|e| anyhow!("{} price {price}: {}", m.symbol, e.name()))?;
    Ok(Tick {
        mantissa,
        conf,
        expo,
        price,
        valid,
        usd: price.token_price.to_num::<f64>(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::{config::SimConfig, facts, program::SimProgram};
    use super::*;

    #[test]
    fn wide_publications_are_refused_by_the_program() {
        let cfg = super::super::presets::preset("ftx_2022").unwrap();
        let f = facts::load(facts::BUNDLED, "x", "ftx_2022").unwrap();
        let p = SimProgram::build(&cfg, &f).unwrap();
        let sol = &p.markets[0];
        let calm = publish(sol, 20.123456789, 0.001, 3, &cfg.oracle).unwrap();
        assert_eq!((calm.mantissa, calm.expo), (2_012_345_679, -8));
        assert!(calm.valid);
        // 5 bps + 0.5 · 5% = 2.55% > the default 2% limit.
        let wild = publish(sol, 20.0, -0.05, 3, &cfg.oracle).unwrap();
        assert!(!wild.valid);
        let usdc = publish(&p.markets[1], 123.0, 0.5, 3, &cfg.oracle).unwrap();
        assert_eq!(usdc.usd, 1.0);
        let _: &SimConfig = &cfg;
    }
}
