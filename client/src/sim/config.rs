//! What a simulation run is made of: the crash, the oracle, the liquidators, the market the
//! seized collateral is sold into, the program's parameters and the account population. A run
//! starts from a preset ([`super::presets`]); a TOML file overrides any part of it (tables merge
//! key by key, arrays replace), then the command-line flags override the counts.

use crate::scenario::{ParamsSpec, ProtocolSpec};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// A whole run.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    /// The preset this configuration starts from (`ftx_2022`, `may_2021`, `mar_2020`).
    pub preset: String,
    /// Monte Carlo price paths; every policy runs on each.
    pub paths: usize,
    /// Margin accounts in the population (the same population for every path and policy).
    pub accounts: usize,
    /// Seed of every random draw (paths, population, cross-check sample).
    pub seed: u64,
    /// Scalpel liquidations replayed as real transactions (at least 50 by default).
    pub crosscheck_samples: usize,
    /// The "Scalpel scaled" policy's `π_min`, bps, in every market: the health-scaled penalty
    /// (`PenaltyCurve`) from `π_min` at a health ratio of 1 to the market's full penalty `π` at
    /// the protocol's `full_penalty_health_ratio` (`r_full`, default 0.95) and below.
    pub scaled_penalty_min_bps: u16,
    /// The crash.
    pub event: EventConfig,
    /// Oracle publication.
    pub oracle: OracleConfig,
    /// The liquidators.
    pub liquidators: LiquidatorConfig,
    /// The market seized collateral is sold into.
    pub impact: ImpactConfig,
    /// Protocol parameters over the program defaults (as a scenario writes them).
    pub protocol: ProtocolSpec,
    /// Markets, in listing order.
    pub markets: Vec<MarketConfig>,
    /// The account population.
    pub population: PopulationConfig,
}

/// The crash whose daily facts the paths pass through.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventConfig {
    /// Event name in the facts file (`ftx_2022`, ...).
    pub name: String,
    /// A facts CSV of the same format as `data/crashes.csv` (relative to the config file);
    /// none: the repository's `data/crashes.csv`, built into the binary.
    pub facts: Option<String>,
    /// Correlation of the second asset's own noise with the first's (two-asset events).
    pub correlation: f64,
    /// Multiplies the calibrated volatility (1 = as calibrated from the daily ranges).
    pub vol_scale: f64,
    /// Minutes per step (1 = one-minute steps).
    pub step_minutes: u32,
}

/// How the oracle publishes the market price.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OracleConfig {
    /// Steps between the market price and the oracle reporting it.
    pub delay_steps: u32,
    /// Confidence in calm markets, bps of price.
    pub conf_base_bps: f64,
    /// Confidence added per unit of the step's absolute log return (0.5: a 2% move adds 1%).
    pub conf_per_return: f64,
}

/// The liquidators, pooled.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LiquidatorConfig {
    /// Steps between an account showing liquidatable and the first liquidation landing.
    pub delay_steps: u32,
    /// USD the liquidators can repay per step (recycled: they sell what they seize at once).
    pub capital_usd: f64,
}

/// The market that absorbs liquidation sales.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ImpactConfig {
    /// `linear`, `constant_product` or `none`.
    pub model: ImpactModel,
    /// Price move, bps, of selling 1% of the asset's daily volume at once (small trades; the
    /// constant-product pool is sized to match it).
    pub bps_per_pct_volume: f64,
    /// Half-life of the impact, minutes: arbitrage and new orders pull the price back.
    pub half_life_minutes: f64,
    /// Daily volume reachable by liquidators, USD, per volatile symbol (an assumption of the
    /// preset, not a fact of the crash file).
    pub daily_volume_usd: BTreeMap<String, f64>,
}

/// Market-impact models.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ImpactModel {
    /// No impact: sales never move the price (no cascade).
    None,
    /// Log price falls linearly in the USD sold.
    Linear,
    /// A constant-product pool.
    ConstantProduct,
}

/// One market of the simulated protocol.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MarketConfig {
    /// Symbol; a volatile market's symbol is its asset in the facts file.
    pub symbol: String,
    /// Token decimals.
    pub decimals: u8,
    /// A fixed price (stablecoins, decimal string); none: the event's path of `symbol`.
    pub price: Option<String>,
    /// Risk parameters over the program defaults (as a scenario's `[[markets]]` writes them).
    #[serde(flatten)]
    pub params: ParamsSpec,
}

/// The accounts.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationConfig {
    /// Median collateral per account, USD (log-normal).
    pub collateral_median_usd: f64,
    /// Log-normal sigma of the collateral.
    pub collateral_sigma: f64,
    /// Smallest collateral, USD.
    pub collateral_min_usd: f64,
    /// Largest collateral, USD.
    pub collateral_max_usd: f64,
    /// Bands of init-health usage `L_init / A_init` at opening (1 = borrowed to the limit).
    pub usage: Vec<UsageBand>,
    /// Kinds of account and their shares.
    pub mix: Vec<MixEntry>,
    /// Insurance fund at the start, USD.
    pub insurance_usd: f64,
}

/// A band of usage drawn uniformly.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UsageBand {
    /// Share of accounts.
    pub weight: f64,
    /// Lowest usage.
    pub low: f64,
    /// Highest usage.
    pub high: f64,
}

/// A kind of account: which tokens back it and which it owes.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MixEntry {
    /// Name, for the docs and the JSON.
    pub name: String,
    /// Share of accounts.
    pub weight: f64,
    /// Collateral split by symbol (fractions of the account's collateral value).
    pub deposits: BTreeMap<String, f64>,
    /// Debt split by symbol (fractions of its debt value).
    pub borrows: BTreeMap<String, f64>,
}

impl SimConfig {
    /// The preset `name`, with the file at `path` (if any) merged over it. A file may name its
    /// own `preset`; the command line's `--preset` is the default.
    pub fn load(
        preset: &str,
        path: Option<&Path>,
    ) -> Result<(SimConfig, Option<std::path::PathBuf>)> {
        let Some(path) = path else {
            return Ok((super::presets::preset(preset)?, None));
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read simulation file {}", path.display()))?;
        let over: toml::Value = toml::from_str(&text)
            .with_context(|| format!("{} is not valid TOML", path.display()))?;
        let base_name = over
            .get("preset")
            .and_then(|v| v.as_str())
            .unwrap_or(preset)
            .to_string();
        let base = toml::Value::try_from(super::presets::preset(&base_name)?)?;
        let merged = merge(base, over);
        let cfg: SimConfig = merged.try_into().with_context(|| {
            format!(
                "{}: not a simulation configuration (docs/SIMULATION.md lists every key)",
                path.display()
            )
        })?;
        Ok((cfg, path.parent().map(Path::to_path_buf)))
    }

    /// Checks what the program's own validation does not: counts, fractions and references.
    pub fn validate(&self) -> Result<()> {
        if self.paths == 0 || self.accounts == 0 {
            bail!("--paths and --accounts must be at least 1");
        }
        if self.event.step_minutes == 0 || 1440 % self.event.step_minutes != 0 {
            bail!(
                "event.step_minutes = {}: use a divisor of 1440 (1, 2, 5, 15, ...)",
                self.event.step_minutes
            );
        }
        if !(0.0..=1.0).contains(&self.event.correlation) {
            bail!(
                "event.correlation = {}: use a value in [0, 1]",
                self.event.correlation
            );
        }
        if !non_negative(self.event.vol_scale) {
            bail!("event.vol_scale must be a non-negative number");
        }
        let finite_pos = |name: &str, v: f64| -> Result<()> {
            if !(v.is_finite() && v >= 0.0) {
                bail!("{name} = {v}: use a non-negative number");
            }
            Ok(())
        };
        finite_pos("liquidators.capital_usd", self.liquidators.capital_usd)?;
        finite_pos("impact.bps_per_pct_volume", self.impact.bps_per_pct_volume)?;
        finite_pos("impact.half_life_minutes", self.impact.half_life_minutes)?;
        finite_pos("oracle.conf_base_bps", self.oracle.conf_base_bps)?;
        finite_pos("oracle.conf_per_return", self.oracle.conf_per_return)?;
        finite_pos("population.insurance_usd", self.population.insurance_usd)?;
        let p = &self.population;
        if !(p.collateral_min_usd > 0.0
            && p.collateral_min_usd <= p.collateral_median_usd
            && p.collateral_median_usd <= p.collateral_max_usd)
        {
            bail!("population: need 0 < collateral_min_usd <= collateral_median_usd <= collateral_max_usd");
        }
        if p.usage.is_empty() || p.mix.is_empty() {
            bail!("population.usage and population.mix need at least one entry each");
        }
        for u in &p.usage {
            if !(u.weight > 0.0 && 0.0 < u.low && u.low <= u.high && u.high <= 1.0) {
                bail!(
                    "population.usage band {{weight {}, low {}, high {}}}: need weight > 0 and 0 < low <= high <= 1",
                    u.weight, u.low, u.high
                );
            }
        }
        let symbols: Vec<&str> = self.markets.iter().map(|m| m.symbol.as_str()).collect();
        for m in &p.mix {
            if !positive(m.weight) || m.deposits.is_empty() || m.borrows.is_empty() {
                bail!(
                    "population.mix {:?}: need weight > 0, deposits and borrows",
                    m.name
                );
            }
            for (sym, share) in m.deposits.iter().chain(&m.borrows) {
                if !symbols.contains(&sym.as_str()) {
                    bail!(
                        "population.mix {:?} names {sym:?}, not a market (markets: {})",
                        m.name,
                        symbols.join(", ")
                    );
                }
                if !positive(*share) {
                    bail!("population.mix {:?}: share of {sym} must be > 0", m.name);
                }
            }
            if m.deposits.keys().any(|k| m.borrows.contains_key(k)) {
                bail!(
                    "population.mix {:?}: a market is a deposit or a debt, never both (one position per market)",
                    m.name
                );
            }
            if m.deposits.len() + m.borrows.len() > 8 {
                bail!("population.mix {:?}: at most 8 positions", m.name);
            }
        }
        Ok(())
    }
}

/// `v > 0`, false for NaN.
fn positive(v: f64) -> bool {
    v > 0.0
}

/// `v ≥ 0`, false for NaN.
fn non_negative(v: f64) -> bool {
    v >= 0.0
}

/// `over` merged into `base`: tables key by key, anything else replaced.
fn merge(base: toml::Value, over: toml::Value) -> toml::Value {
    match (base, over) {
        (toml::Value::Table(mut b), toml::Value::Table(o)) => {
            for (k, v) in o {
                let merged = match b.remove(&k) {
                    Some(old) => merge(old, v),
                    None => v,
                };
                b.insert(k, merged);
            }
            toml::Value::Table(b)
        }
        (_, o) => o,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_overrides_the_preset_key_by_key() {
        let dir = std::env::temp_dir().join(format!("scalpel-sim-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("sim.toml");
        std::fs::write(
            &f,
            "preset = \"may_2021\"\npaths = 3\n[impact]\nmodel = \"none\"\n",
        )
        .unwrap();
        let (cfg, _) = SimConfig::load("ftx_2022", Some(&f)).unwrap();
        assert_eq!(cfg.event.name, "may_2021");
        assert_eq!(cfg.paths, 3);
        assert_eq!(cfg.impact.model, ImpactModel::None);
        // The rest of the impact table is the preset's.
        assert!(cfg.impact.half_life_minutes > 0.0);
        cfg.validate().unwrap();

        std::fs::write(&f, "[impact]\nhalf_life = 3\n").unwrap();
        let e = SimConfig::load("ftx_2022", Some(&f)).unwrap_err();
        assert!(format!("{e:#}").contains("half_life"), "{e:#}");
        let e = SimConfig::load("ftx_2023", None).unwrap_err();
        assert!(
            format!("{e:#}").contains("ftx_2022, may_2021, mar_2020"),
            "{e:#}"
        );
    }
}
