//! How the bot behaves: [`KeeperConfig`], and the keeper's TOML config file ([`KeeperFile`],
//! `scalpel keeper --config FILE`), whose values the command line's flags override.

use crate::units::parse_usd;
use anyhow::{anyhow, bail, Context, Result};
use scalpel::math::I80F48;
use scalpel::state::Market;
use serde::{Deserialize, Deserializer, Serialize};
use solana_sdk::pubkey::Pubkey;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// How the bot pays for a liquidation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `liquidate`: the bot pays the debt from its token accounts and receives the collateral
    /// there (it holds an inventory of every debt token it repays).
    #[default]
    Wallet,
    /// `liquidate_to_account`: the bot's own Scalpel margin account takes on the debt and
    /// receives the collateral as a deposit; no tokens move, so the bot needs no inventory, only
    /// collateral in that account for its init health.
    Account,
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Wallet => "wallet",
            Mode::Account => "account",
        })
    }
}

/// The profit check's inputs (module `profit`).
#[derive(Clone, Debug, PartialEq)]
pub struct ProfitConfig {
    /// A transaction is sent only when its estimated profit exceeds this, USD (parsed from a
    /// decimal string, rounded up: [`parse_usd`]).
    pub min_profit_usd: I80F48,
    /// Cost of selling a market's collateral, bps of the value received, by the market's
    /// on-chain ticker (`Market::symbol()`).
    pub swap_cost_bps: BTreeMap<String, u16>,
    /// The swap cost of a market not in `swap_cost_bps`.
    pub default_swap_cost_bps: u16,
    /// Ticker of the market whose oracle prices the fees (a market of the native mint counts
    /// too).
    pub sol_symbol: String,
    /// SOL price for the fees when no market is SOL, USD (rounded up: a cost).
    pub sol_price_usd: I80F48,
    /// Base fee per signature, lamports.
    pub lamports_per_signature: u64,
}

impl Default for ProfitConfig {
    fn default() -> Self {
        Self {
            min_profit_usd: I80F48::ZERO,
            swap_cost_bps: BTreeMap::new(),
            default_swap_cost_bps: 0,
            sol_symbol: "SOL".to_string(),
            sol_price_usd: I80F48::from_bits(200 << 48),
            lamports_per_signature: 5_000,
        }
    }
}

impl ProfitConfig {
    /// The swap cost of selling `market`'s collateral, bps.
    pub fn swap_cost_of(&self, market: &Market) -> u16 {
        self.swap_cost_bps
            .get(market.symbol())
            .copied()
            .unwrap_or(self.default_swap_cost_bps)
    }

    /// Whether `market` is the one whose price values the fees.
    pub fn is_sol(&self, market: &Market) -> bool {
        market.mint == spl_token::native_mint::ID
            || market.symbol().eq_ignore_ascii_case(&self.sol_symbol)
    }

    /// Tickers of `swap_cost_bps` that name no market (a typo costs nothing silently).
    pub fn unknown_symbols(&self, markets: &[(Pubkey, Market)]) -> Vec<String> {
        self.swap_cost_bps
            .keys()
            .filter(|s| !markets.iter().any(|(_, m)| m.symbol() == s.as_str()))
            .cloned()
            .collect()
    }

    /// Refuses values the check cannot use.
    pub fn validate(&self) -> Result<()> {
        if self.min_profit_usd < I80F48::ZERO {
            bail!("min_profit_usd must not be negative");
        }
        if self.sol_price_usd <= I80F48::ZERO {
            bail!("sol_price_usd must be positive");
        }
        for (s, bps) in self.swap_cost_bps.iter().chain([(
            &"default_swap_cost_bps".to_string(),
            &self.default_swap_cost_bps,
        )]) {
            if *bps > 10_000 {
                bail!("swap cost of {s}: {bps} bps is above 10 000 (100%)");
            }
        }
        Ok(())
    }
}

/// How the bot behaves.
#[derive(Clone, Debug)]
pub struct KeeperConfig {
    /// Plan and simulate but send nothing.
    pub dry_run: bool,
    /// Wallet or account mode.
    pub mode: Mode,
    /// Account mode: which of the bot's margin accounts (PDA `["margin", bot, index]`).
    pub account_index: u16,
    /// The profit check.
    pub profit: ProfitConfig,
    /// Compute-unit price, micro-lamports (priority fee).
    pub priority_fee_micro_lamports: u64,
    /// Compute-unit limit per transaction.
    pub compute_unit_limit: u32,
    /// Send attempts per transaction on transport errors.
    pub max_attempts: u32,
    /// First backoff; doubles per retry.
    pub backoff: Duration,
    /// Most passes an account that keeps failing sits out (module `backoff`).
    pub max_backoff_passes: u32,
    /// Most pairs planned per account in one pass.
    pub max_pairs_per_account: usize,
    /// Most liquidate instructions per transaction.
    pub max_ixs_per_tx: usize,
}

impl Default for KeeperConfig {
    fn default() -> Self {
        Self {
            dry_run: false,
            mode: Mode::Wallet,
            account_index: 0,
            profit: ProfitConfig::default(),
            priority_fee_micro_lamports: 0,
            compute_unit_limit: 1_400_000,
            max_attempts: 4,
            backoff: Duration::from_millis(200),
            max_backoff_passes: 32,
            max_pairs_per_account: 8,
            max_ixs_per_tx: 2,
        }
    }
}

/// The keeper's config file (TOML). Every key is optional; unknown keys are refused.
///
/// ```toml
/// mode = "account"            # or "wallet"
/// account_index = 0
/// min_profit_usd = 0.5
/// priority_fee = 10000        # micro-lamports per compute unit
/// default_swap_cost_bps = 30
/// sol_symbol = "SOL"
/// sol_price_usd = 150         # only when no market is SOL
/// max_backoff_passes = 32
///
/// [swap_cost_bps]
/// SOL = 10
/// USDC = 1
/// ```
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeeperFile {
    /// `wallet` or `account`.
    pub mode: Option<Mode>,
    /// Account mode's margin account index.
    pub account_index: Option<u16>,
    /// [`ProfitConfig::min_profit_usd`]: a number or a decimal string (`0.5`, `"0.5"`).
    #[serde(default, deserialize_with = "usd_value")]
    pub min_profit_usd: Option<I80F48>,
    /// [`KeeperConfig::priority_fee_micro_lamports`].
    pub priority_fee: Option<u64>,
    /// [`ProfitConfig::default_swap_cost_bps`].
    pub default_swap_cost_bps: Option<u16>,
    /// [`ProfitConfig::swap_cost_bps`], by ticker.
    #[serde(default)]
    pub swap_cost_bps: BTreeMap<String, u16>,
    /// [`ProfitConfig::sol_symbol`].
    pub sol_symbol: Option<String>,
    /// [`ProfitConfig::sol_price_usd`]: a number or a decimal string.
    #[serde(default, deserialize_with = "usd_value")]
    pub sol_price_usd: Option<I80F48>,
    /// [`ProfitConfig::lamports_per_signature`].
    pub lamports_per_signature: Option<u64>,
    /// [`KeeperConfig::max_backoff_passes`].
    pub max_backoff_passes: Option<u32>,
}

/// A USD value in the config file: a TOML number or string, read through its decimal text
/// ([`parse_usd`]), so `0.1` means 0.1 rounded up, not the nearest binary double.
fn usd_value<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<I80F48>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(u64),
        Float(f64),
        Text(String),
    }
    let text = match Raw::deserialize(d)? {
        Raw::Int(v) => v.to_string(),
        // `Display` of an f64 is the shortest decimal that reads back as it, never exponential.
        Raw::Float(v) if v.is_finite() => v.to_string(),
        Raw::Float(v) => return Err(serde::de::Error::custom(format!("{v} is not a USD amount"))),
        Raw::Text(s) => s,
    };
    parse_usd(&text)
        .map(Some)
        .map_err(|e| serde::de::Error::custom(format!("{e:#}")))
}

impl KeeperFile {
    /// Parses a config file's text.
    pub fn parse(text: &str) -> Result<Self> {
        let file: KeeperFile = toml::from_str(text).map_err(|e| anyhow!("{e}"))?;
        let mut check = KeeperConfig::default();
        file.apply(&mut check);
        check.profit.validate()?;
        Ok(file)
    }

    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the keeper config {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in the keeper config {}", path.display()))
    }

    /// Writes the file's values over `cfg` (the command line's flags go over them after).
    pub fn apply(&self, cfg: &mut KeeperConfig) {
        if let Some(m) = self.mode {
            cfg.mode = m;
        }
        if let Some(i) = self.account_index {
            cfg.account_index = i;
        }
        if let Some(v) = self.min_profit_usd {
            cfg.profit.min_profit_usd = v;
        }
        if let Some(v) = self.priority_fee {
            cfg.priority_fee_micro_lamports = v;
        }
        if let Some(v) = self.default_swap_cost_bps {
            cfg.profit.default_swap_cost_bps = v;
        }
        cfg.profit.swap_cost_bps.extend(self.swap_cost_bps.clone());
        if let Some(v) = &self.sol_symbol {
            cfg.profit.sol_symbol = v.clone();
        }
        if let Some(v) = self.sol_price_usd {
            cfg.profit.sol_price_usd = v;
        }
        if let Some(v) = self.lamports_per_signature {
            cfg.profit.lamports_per_signature = v;
        }
        if let Some(v) = self.max_backoff_passes {
            cfg.max_backoff_passes = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_parses_and_applies() {
        let file = KeeperFile::parse(include_str!("../../../docs/keeper.example.toml")).unwrap();
        let mut cfg = KeeperConfig::default();
        file.apply(&mut cfg);
        assert_eq!(cfg.mode, Mode::Account);
        assert_eq!(cfg.profit.min_profit_usd, I80F48::from_num(0.5));
        assert_eq!(cfg.profit.sol_price_usd, I80F48::from_num(150));
        assert!(!cfg.profit.swap_cost_bps.is_empty());
        cfg.profit.validate().unwrap();
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        assert!(KeeperFile::parse("min_profit = 1").is_err());
        assert!(KeeperFile::parse("mode = \"tokens\"").is_err());
        assert!(KeeperFile::parse("default_swap_cost_bps = 20000").is_err());
        assert!(KeeperFile::parse("[swap_cost_bps]\nSOL = 10001").is_err());
        assert!(KeeperFile::parse("sol_price_usd = 0").is_err());
        assert!(KeeperFile::parse("min_profit_usd = -1").is_err());
        assert!(KeeperFile::parse("min_profit_usd = 0.0000000001").is_err());
        let f = KeeperFile::parse("min_profit_usd = \"1.25\"\nsol_price_usd = 90").unwrap();
        assert_eq!(f.min_profit_usd, Some(I80F48::from_num(1.25)));
        assert_eq!(f.sol_price_usd, Some(I80F48::from_num(90)));
        // A float's decimal text, rounded up: 0.1 is the step above the binary 0.1.
        let f = KeeperFile::parse("min_profit_usd = 0.1").unwrap();
        assert_eq!(f.min_profit_usd, Some(parse_usd("0.1").unwrap()));
        let f = KeeperFile::parse("[swap_cost_bps]\nSOL = 12").unwrap();
        let mut cfg = KeeperConfig::default();
        f.apply(&mut cfg);
        assert_eq!(cfg.profit.swap_cost_bps["SOL"], 12);
        assert_eq!(cfg.profit.default_swap_cost_bps, 0);
        assert_eq!(cfg.mode, Mode::Wallet);
    }
}
