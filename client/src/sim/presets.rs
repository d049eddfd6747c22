//! The three crashes as ready-made runs. Every number here that is not in `data/crashes.csv` is an
//! assumption, documented in docs/SIMULATION.md, and any of them can be overridden by a file.

use super::config::*;
use crate::scenario::{ParamsSpec, ProtocolSpec};
use anyhow::{bail, Result};
use std::collections::BTreeMap;

/// The preset names.
pub const PRESETS: [&str; 3] = ["ftx_2022", "may_2021", "mar_2020"];

/// The preset `name`.
pub fn preset(name: &str) -> Result<SimConfig> {
    let (markets, mix, volume) = match name {
        "ftx_2022" => (sol_markets(), sol_mix(), [("SOL", 400e6)].as_slice()),
        "may_2021" => (sol_markets(), sol_mix(), [("SOL", 250e6)].as_slice()),
        "mar_2020" => (
            eth_btc_markets(),
            eth_btc_mix(),
            [("ETH", 1.5e9), ("BTC", 3e9)].as_slice(),
        ),
        other => bail!(
            "unknown preset {other:?}: use one of {} (or give a file)",
            PRESETS.join(", ")
        ),
    };
    Ok(SimConfig {
        preset: name.to_string(),
        paths: 200,
        accounts: 10_000,
        seed: 1,
        crosscheck_samples: 60,
        scaled_penalty_min_bps: 200,
        event: EventConfig {
            name: name.to_string(),
            facts: None,
            correlation: 0.9,
            vol_scale: 1.0,
            step_minutes: 1,
        },
        oracle: OracleConfig {
            delay_steps: 1,
            conf_base_bps: 5.0,
            conf_per_return: 0.5,
        },
        liquidators: LiquidatorConfig {
            delay_steps: 1,
            capital_usd: 3e6,
        },
        impact: ImpactConfig {
            model: ImpactModel::Linear,
            bps_per_pct_volume: 100.0,
            half_life_minutes: 30.0,
            daily_volume_usd: volume.iter().map(|(s, v)| (s.to_string(), *v)).collect(),
        },
        protocol: ProtocolSpec::default(),
        markets,
        population: PopulationConfig {
            collateral_median_usd: 4_000.0,
            collateral_sigma: 1.4,
            collateral_min_usd: 100.0,
            collateral_max_usd: 2e6,
            usage: vec![
                UsageBand {
                    weight: 0.3,
                    low: 0.9,
                    high: 0.99,
                },
                UsageBand {
                    weight: 0.4,
                    low: 0.6,
                    high: 0.9,
                },
                UsageBand {
                    weight: 0.3,
                    low: 0.3,
                    high: 0.6,
                },
            ],
            mix,
            insurance_usd: 500_000.0,
        },
    })
}

/// A volatile market at the program's default parameters (80/90% asset, 120/110% liability, 5%
/// penalty).
fn volatile(symbol: &str, decimals: u8) -> MarketConfig {
    MarketConfig {
        symbol: symbol.into(),
        decimals,
        price: None,
        params: ParamsSpec::default(),
    }
}

/// A dollar stablecoin: 90/95% asset, 105/100% liability, 5% penalty.
fn stable(symbol: &str) -> MarketConfig {
    MarketConfig {
        symbol: symbol.into(),
        decimals: 6,
        price: Some("1".into()),
        params: ParamsSpec {
            asset_weight_init: Some("0.9".into()),
            asset_weight_maint: Some("0.95".into()),
            liab_weight_init: Some("1.05".into()),
            liab_weight_maint: Some("1".into()),
            ..ParamsSpec::default()
        },
    }
}

fn sol_markets() -> Vec<MarketConfig> {
    vec![volatile("SOL", 9), stable("USDC"), stable("USDT")]
}

fn eth_btc_markets() -> Vec<MarketConfig> {
    vec![
        volatile("ETH", 8),
        volatile("BTC", 8),
        stable("USDC"),
        stable("USDT"),
    ]
}

fn entry(name: &str, weight: f64, deposits: &[(&str, f64)], borrows: &[(&str, f64)]) -> MixEntry {
    let map = |v: &[(&str, f64)]| -> BTreeMap<String, f64> {
        v.iter().map(|(s, w)| (s.to_string(), *w)).collect()
    };
    MixEntry {
        name: name.into(),
        weight,
        deposits: map(deposits),
        borrows: map(borrows),
    }
}

fn sol_mix() -> Vec<MixEntry> {
    vec![
        entry("long SOL", 0.55, &[("SOL", 1.0)], &[("USDC", 1.0)]),
        entry(
            "SOL + USDT collateral",
            0.2,
            &[("SOL", 0.7), ("USDT", 0.3)],
            &[("USDC", 1.0)],
        ),
        entry(
            "long SOL, two debts",
            0.1,
            &[("SOL", 1.0)],
            &[("USDC", 0.6), ("USDT", 0.4)],
        ),
        entry("short SOL", 0.15, &[("USDC", 1.0)], &[("SOL", 1.0)]),
    ]
}

fn eth_btc_mix() -> Vec<MixEntry> {
    vec![
        entry("long ETH", 0.35, &[("ETH", 1.0)], &[("USDC", 1.0)]),
        entry("long BTC", 0.25, &[("BTC", 1.0)], &[("USDC", 1.0)]),
        entry(
            "ETH + BTC collateral",
            0.2,
            &[("ETH", 0.5), ("BTC", 0.5)],
            &[("USDC", 0.7), ("USDT", 0.3)],
        ),
        entry("short ETH", 0.1, &[("USDC", 1.0)], &[("ETH", 1.0)]),
        entry("short BTC", 0.1, &[("USDT", 1.0)], &[("BTC", 1.0)]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid() {
        for p in PRESETS {
            preset(p).unwrap().validate().unwrap();
        }
    }
}
