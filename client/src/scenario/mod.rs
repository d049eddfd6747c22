//! The scenario runner: a declarative file (TOML or JSON) of protocol parameters, markets,
//! accounts and steps, executed as real transactions against the program in-process. Prices go
//! into the bank as real `PriceUpdateV2` accounts. See `docs/SCENARIOS.md` for the schema.

//!
//! Here: the file's types, loading and the step dispatch; `setup` builds the bank, markets and
//! accounts, `steps` runs the steps that send transactions, `report` reads state back as JSON.
//! The runner uses `admin`, `health` and `keeper`; none of them uses it.

mod report;
mod setup;
mod steps;

use crate::health::{account_inputs, markets as load_markets};
use crate::units::{parse_amount, parse_bps};
use crate::{decode, ix, pda, Chain, LocalChain};
use anyhow::{anyhow, bail, Context, Result};
use scalpel::health_accounts::PriceAge;
use scalpel::math::{compute_health, Health, HealthPosition};
use scalpel::params::{MarketParams, ProtocolParams};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};
use std::collections::BTreeMap;

/// Unix time a scenario starts at.
pub const SCENARIO_T0: i64 = 1_700_000_000;

/// A scenario file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Protocol overrides.
    #[serde(default)]
    pub protocol: ProtocolSpec,
    /// A migration file (`migrations/*.toml`, relative to this file) whose protocol and
    /// `local` markets are created through `scalpel admin`'s plan instead of `protocol` and
    /// `markets` here.
    #[serde(default)]
    pub migration: Option<String>,
    /// The loaded migration.
    #[serde(skip)]
    pub migration_config: Option<crate::admin::AdminConfig>,
    /// Insurance seeded per market symbol (UI units), for markets from a migration.
    #[serde(default)]
    pub insurance: BTreeMap<String, String>,
    /// Markets, listed in order (index 0, 1, ...).
    #[serde(default)]
    pub markets: Vec<MarketSpec>,
    /// Accounts: all deposits run before any borrow.
    #[serde(default)]
    pub accounts: Vec<AccountSpec>,
    /// Steps, in order.
    #[serde(default)]
    pub steps: Vec<Step>,
}

/// Protocol parameters a scenario may override.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolSpec {
    /// Liquidation buffer `b`, bps.
    pub liquidation_buffer_bps: Option<u16>,
    /// Penalty split.
    pub split_bps: Option<SplitSpec>,
    /// Dust threshold, USD (decimal string).
    pub dust_threshold_usd: Option<String>,
    /// Confidence multiplier `k` (decimal string).
    pub conf_multiplier: Option<String>,
    /// `r_full`: the maintenance health ratio at and below which a market's full penalty
    /// applies (decimal string, default 0.95); markets with `liquidation_penalty_min_bps` pay
    /// less above it.
    pub full_penalty_health_ratio: Option<String>,
}

impl ProtocolSpec {
    /// `base` with every parameter given here replaced (the one conversion, shared by the
    /// scenario runner and the crash simulation). Bounds are the program's to check.
    pub fn apply(&self, base: ProtocolParams) -> Result<ProtocolParams> {
        let mut params = base;
        if let Some(b) = self.liquidation_buffer_bps {
            params.liquidation_buffer_bps = b;
        }
        if let Some(sp) = self.split_bps {
            params.split_bps = [sp.liquidator, sp.insurance, sp.treasury];
        }
        if let Some(d) = &self.dust_threshold_usd {
            params.dust_threshold_micro_usd = parse_amount(d, 6).with_context(|| {
                format!("dust_threshold_usd = {d:?}: a USD amount with at most 6 decimals")
            })?;
        }
        if let Some(k) = &self.conf_multiplier {
            params.conf_multiplier_bps =
                parse_bps(k).with_context(|| format!("conf_multiplier = {k:?}"))?;
        }
        if let Some(r) = &self.full_penalty_health_ratio {
            params.full_penalty_health_ratio_bps = u16::try_from(parse_bps(r)?)
                .map_err(|_| anyhow!("full_penalty_health_ratio {r}: use a ratio below 1"))?;
        }
        Ok(params)
    }
}

/// Penalty split in bps.
#[derive(Clone, Copy, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SplitSpec {
    /// Liquidator share.
    pub liquidator: u16,
    /// Insurance share.
    pub insurance: u16,
    /// Treasury share.
    pub treasury: u16,
}

/// One market.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MarketSpec {
    /// Symbol used by accounts and steps.
    pub symbol: String,
    /// Token decimals.
    pub decimals: u8,
    /// Price in USD per whole token (decimal string).
    pub price: String,
    /// Confidence in USD (decimal string).
    #[serde(default = "zero")]
    pub conf: String,
    /// Insurance seeded before the accounts, in UI units.
    pub insurance: Option<String>,
    /// Risk parameters over the program defaults.
    #[serde(flatten)]
    pub params: ParamsSpec,
}

fn zero() -> String {
    "0".into()
}

/// A market's risk parameters as a scenario writes them: in a `[[markets]]` table over the
/// program defaults, in a `set_params` step over the market's parameters in force. Anything left
/// out keeps the base value; [`ParamsSpec::apply`] is the one conversion to [`MarketParams`].
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ParamsSpec {
    /// Init asset weight (decimal string, e.g. "0.8").
    pub asset_weight_init: Option<String>,
    /// Maint asset weight.
    pub asset_weight_maint: Option<String>,
    /// Init liability weight.
    pub liab_weight_init: Option<String>,
    /// Maint liability weight.
    pub liab_weight_maint: Option<String>,
    /// Liquidation penalty (the full `π`), bps.
    pub liquidation_penalty_bps: Option<u16>,
    /// Minimum penalty `π_min` at a health ratio of 1, bps (left out: a flat penalty stays
    /// flat, `MarketParams::with_penalty`).
    pub liquidation_penalty_min_bps: Option<u16>,
    /// Confidence limit, bps of price.
    pub max_conf_bps: Option<u16>,
    /// Oracle age for borrow and withdraw, seconds.
    pub max_age_secs: Option<u32>,
    /// Oracle age for maintenance health and liquidation, seconds.
    pub max_age_liquidation_secs: Option<u32>,
    /// Deposit cap, UI units, or `"unlimited"`.
    pub deposit_cap: Option<String>,
    /// Borrow cap, UI units, or `"unlimited"`.
    pub borrow_cap: Option<String>,
    /// Interest curve (fractions as decimal strings).
    pub interest: Option<InterestSpec>,
    /// Spot/EMA divergence limit for borrowing, bps of the EMA.
    pub max_ema_divergence_bps: Option<u16>,
    /// Net-borrow window, seconds.
    pub net_borrow_window_secs: Option<u32>,
    /// Net-borrow limit per window, USD (decimal string), or `"unlimited"`.
    pub net_borrow_limit_usd: Option<String>,
    /// Total deposit value, USD, above which the init asset weight scales down, or
    /// `"unlimited"` (never).
    pub deposit_weight_scale_start_usd: Option<String>,
}

/// A cap written as `"unlimited"` (`u64::MAX` in the program).
pub const UNLIMITED: &str = "unlimited";

impl ParamsSpec {
    /// `base` with every parameter given here replaced; caps are in UI units of a token with
    /// `decimals`. Bounds are the program's to check.
    pub fn apply(&self, base: MarketParams, decimals: u8) -> Result<MarketParams> {
        let weight = |name: &str, v: &Option<String>, base: u32| -> Result<u32> {
            match v {
                Some(s) => parse_bps(s).with_context(|| format!("{name} = {s:?}")),
                None => Ok(base),
            }
        };
        let cap = |name: &str, v: &Option<String>, base: u64| -> Result<u64> {
            match v.as_deref() {
                Some(UNLIMITED) => Ok(u64::MAX),
                Some(s) => parse_amount(s, decimals).with_context(|| {
                    format!("{name} = {s:?}: a UI amount with at most {decimals} decimals, or \"{UNLIMITED}\"")
                }),
                None => Ok(base),
            }
        };
        let mut p = MarketParams {
            asset_weight_init_bps: weight(
                "asset_weight_init",
                &self.asset_weight_init,
                base.asset_weight_init_bps,
            )?,
            asset_weight_maint_bps: weight(
                "asset_weight_maint",
                &self.asset_weight_maint,
                base.asset_weight_maint_bps,
            )?,
            liab_weight_init_bps: weight(
                "liab_weight_init",
                &self.liab_weight_init,
                base.liab_weight_init_bps,
            )?,
            liab_weight_maint_bps: weight(
                "liab_weight_maint",
                &self.liab_weight_maint,
                base.liab_weight_maint_bps,
            )?,
            max_conf_bps: self.max_conf_bps.unwrap_or(base.max_conf_bps),
            max_age_secs: self.max_age_secs.unwrap_or(base.max_age_secs),
            max_age_liquidation_secs: self
                .max_age_liquidation_secs
                .unwrap_or(base.max_age_liquidation_secs),
            deposit_cap: cap("deposit_cap", &self.deposit_cap, base.deposit_cap)?,
            borrow_cap: cap("borrow_cap", &self.borrow_cap, base.borrow_cap)?,
            ..base
        }
        .with_penalty(
            self.liquidation_penalty_bps,
            self.liquidation_penalty_min_bps,
        );
        let usd = |name: &str, v: &Option<String>, base: u64| -> Result<u64> {
            match v.as_deref() {
                Some(UNLIMITED) => Ok(u64::MAX),
                Some(s) => parse_amount(s, 6).with_context(|| {
                    format!(
                        "{name} = {s:?}: a USD amount with at most 6 decimals, or \"{UNLIMITED}\""
                    )
                }),
                None => Ok(base),
            }
        };
        p.max_ema_divergence_bps = self
            .max_ema_divergence_bps
            .unwrap_or(base.max_ema_divergence_bps);
        p.net_borrow_window_secs = self
            .net_borrow_window_secs
            .unwrap_or(base.net_borrow_window_secs);
        p.net_borrow_limit_micro_usd = usd(
            "net_borrow_limit_usd",
            &self.net_borrow_limit_usd,
            base.net_borrow_limit_micro_usd,
        )?;
        p.deposit_weight_scale_start_micro_usd = usd(
            "deposit_weight_scale_start_usd",
            &self.deposit_weight_scale_start_usd,
            base.deposit_weight_scale_start_micro_usd,
        )?;
        if let Some(c) = &self.interest {
            let util = weight(
                "interest.optimal_utilization",
                &c.optimal_utilization,
                base.optimal_utilization_bps as u32,
            )?;
            p.optimal_utilization_bps = u16::try_from(util).with_context(|| {
                format!("interest.optimal_utilization = {util} bps is too large")
            })?;
            p.base_rate_bps = weight("interest.base_rate", &c.base_rate, base.base_rate_bps)?;
            p.slope1_bps = weight("interest.slope1", &c.slope1, base.slope1_bps)?;
            p.slope2_bps = weight("interest.slope2", &c.slope2, base.slope2_bps)?;
        }
        Ok(p)
    }
}

/// A market's interest curve; each point left out keeps the base value.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InterestSpec {
    /// Kink utilization.
    pub optimal_utilization: Option<String>,
    /// Rate at zero utilization.
    pub base_rate: Option<String>,
    /// Rate added up to the kink.
    pub slope1: Option<String>,
    /// Rate added above the kink.
    pub slope2: Option<String>,
}

/// One account: deposits then borrows, amounts in UI units.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSpec {
    /// Name used by steps.
    pub name: String,
    /// Deposits by symbol.
    #[serde(default)]
    pub deposits: BTreeMap<String, String>,
    /// Borrows by symbol.
    #[serde(default)]
    pub borrows: BTreeMap<String, String>,
}

/// One step.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Publish a new price (and confidence) now.
    SetPrice {
        /// Market symbol.
        symbol: String,
        /// USD per whole token.
        price: String,
        /// Confidence in USD (default 0).
        conf: Option<String>,
        /// The feed's EMA price in USD (default: `price`, a steady feed). A pumped spot with a
        /// lagging EMA is how an oracle manipulation looks to the program.
        ema: Option<String>,
        /// The EMA's confidence in USD (default: `conf`).
        ema_conf: Option<String>,
    },
    /// Move the clock forward by this many seconds (prices are not refreshed).
    AdvanceTime(i64),
    /// Liquidate one pair of an account with the runner's liquidator wallet.
    Liquidate {
        /// Account name.
        account: String,
        /// Collateral symbol (`i`).
        asset: String,
        /// Liability symbol (`j`).
        liab: String,
        /// Most to repay, UI units of `liab` (default: no limit).
        max_repay: Option<String>,
        /// `"wallet"` (default: `liquidate`, the runner's liquidator pays and receives tokens)
        /// or `"account"` (`liquidate_to_account` into the margin account of `liquidator`).
        mode: Option<String>,
        /// With `mode = "account"`: the scenario account whose margin account liquidates.
        liquidator: Option<String>,
    },
    /// Resolve an insolvent account's debt in a market.
    BadDebtResolve {
        /// Account name.
        account: String,
        /// Market symbol.
        market: String,
    },
    /// Report every account and market.
    Snapshot {},
    /// A line of narration, echoed in the output (the demo uses it).
    Say(String),
    /// One pass of the liquidator bot (`scalpel keeper`'s loop body) with the runner's own bot
    /// wallet, funded with every market's token.
    Keeper {},
    /// The account's owner deposits; its wallet is first minted what it lacks.
    Deposit(BalanceStep),
    /// The owner withdraws (`"all"`: the whole deposit, which closes the position).
    Withdraw(BalanceStep),
    /// The owner borrows (health pairs include the market's new slot).
    Borrow(BalanceStep),
    /// The owner repays (`"all"`: the debt at the accrued index); its wallet is first minted
    /// what it lacks.
    Repay(BalanceStep),
    /// Governance: queue parameters for a market (its parameters in force with the ones given
    /// replaced), let the protocol's timelock pass (every price published again at the new
    /// time) and apply them.
    SetParams(Box<SetParamsSpec>),
}

/// A deposit, withdrawal, borrow or repayment by an account's owner.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BalanceStep {
    /// Account name.
    pub account: String,
    /// Market symbol.
    pub market: String,
    /// UI units, or `"all"` (withdraw and repay only).
    pub amount: String,
}

/// A governance change of one market's parameters.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SetParamsSpec {
    /// Market symbol.
    pub market: String,
    /// Parameters to change, written as in `[[markets]]`.
    #[serde(flatten)]
    pub params: ParamsSpec,
}

/// The four balance steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BalanceKind {
    /// `deposit`.
    Deposit,
    /// `withdraw`.
    Withdraw,
    /// `borrow`.
    Borrow,
    /// `repay`.
    Repay,
}

/// The amount that means everything (withdraw and repay).
pub const ALL: &str = "all";

impl BalanceKind {
    /// Its step name.
    pub fn name(self) -> &'static str {
        match self {
            BalanceKind::Deposit => "deposit",
            BalanceKind::Withdraw => "withdraw",
            BalanceKind::Borrow => "borrow",
            BalanceKind::Repay => "repay",
        }
    }

    /// The instruction's native amount for a step's `amount` in a token with `decimals`:
    /// `"all"` is `u64::MAX` (withdraw and repay only).
    pub fn amount(self, amount: &str, decimals: u8) -> Result<u64> {
        if amount.trim() == ALL {
            return match self {
                BalanceKind::Withdraw | BalanceKind::Repay => Ok(u64::MAX),
                _ => bail!(
                    "{} amount \"{ALL}\": only withdraw and repay take \"{ALL}\"; give a decimal amount",
                    self.name()
                ),
            };
        }
        parse_amount(amount, decimals).with_context(|| {
            format!(
                "{} amount {amount:?}: a decimal in UI units with at most {decimals} decimals{}",
                self.name(),
                match self {
                    BalanceKind::Withdraw | BalanceKind::Repay => format!(", or \"{ALL}\""),
                    _ => String::new(),
                }
            )
        })
    }
}

impl Scenario {
    /// Reads a `.toml` or `.json` file.
    pub fn load(path: &std::path::Path) -> Result<Scenario> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read scenario file {}", path.display()))?;
        let mut scenario: Scenario = match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => toml::from_str(&text)
                .with_context(|| format!("{} is not a valid scenario (TOML)", path.display()))?,
            Some("json") => serde_json::from_str(&text)
                .with_context(|| format!("{} is not a valid scenario (JSON)", path.display()))?,
            _ => bail!("{}: scenario files end in .toml or .json", path.display()),
        };
        if let Some(m) = &scenario.migration {
            let base = path.parent().unwrap_or(std::path::Path::new("."));
            scenario.migration_config = Some(crate::admin::AdminConfig::load(&base.join(m))?);
        }
        Ok(scenario)
    }
}

struct MarketState {
    spec: MarketSpec,
    mint: Pubkey,
    market: Pubkey,
    oracle: Pubkey,
    feed_id: [u8; 32],
    index: u16,
}

struct AccountState {
    name: String,
    key: Keypair,
    account: Pubkey,
    tokens: BTreeMap<String, Pubkey>,
}

/// A running scenario: the bank, its markets, accounts and the runner's liquidator.
pub struct Runner {
    /// The in-process chain.
    pub chain: LocalChain,
    admin: Keypair,
    mint_authority: Keypair,
    markets: Vec<MarketState>,
    accounts: Vec<AccountState>,
    liquidator: AccountState,
    bot: Keypair,
}

impl Runner {
    fn market(&self, symbol: &str) -> Result<&MarketState> {
        self.markets
            .iter()
            .find(|m| m.spec.symbol == symbol)
            .ok_or_else(|| {
                let known: Vec<&str> = self
                    .markets
                    .iter()
                    .map(|m| m.spec.symbol.as_str())
                    .collect();
                anyhow!(
                    "unknown market symbol {symbol:?} (the scenario's markets: {})",
                    known.join(", ")
                )
            })
    }

    fn account(&self, name: &str) -> Result<&AccountState> {
        self.accounts
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| {
                let known: Vec<&str> = self.accounts.iter().map(|a| a.name.as_str()).collect();
                anyhow!(
                    "unknown account {name:?} (the scenario's accounts: {})",
                    known.join(", ")
                )
            })
    }

    fn mv(&self, a: &AccountState, m: &MarketState) -> ix::TokenMove {
        ix::TokenMove {
            owner: a.key.pubkey(),
            margin_account: a.account,
            mint: m.mint,
            user_token: a.tokens[&m.spec.symbol],
        }
    }

    async fn margin(&self, key: &Pubkey) -> Result<scalpel::state::MarginAccount> {
        let a = self
            .chain
            .account(key)
            .await?
            .ok_or_else(|| anyhow!("margin account {key} missing"))?;
        decode::margin_account(&a.data)
    }

    async fn inputs(&self, key: &Pubkey) -> Result<(Vec<crate::health::ResolvedInput>, Health)> {
        let acc = self.margin(key).await?;
        let markets = load_markets(&self.chain).await?;
        let proto = self.protocol().await?;
        let inputs = account_inputs(&self.chain, &acc, &markets, PriceAge::View).await?;
        let hp: Vec<HealthPosition> = inputs.iter().map(|r| r.input).collect();
        let h = compute_health(&hp, &proto.health_params().map_err(|e| anyhow!("{e}"))?)
            .map_err(|e| anyhow!("{e}"))?;
        Ok((inputs, h))
    }

    async fn market_account(&self, m: &MarketState) -> Result<scalpel::state::Market> {
        let a = self
            .chain
            .account(&m.market)
            .await?
            .ok_or_else(|| anyhow!("market {} missing", m.spec.symbol))?;
        decode::market(&a.data)
    }

    async fn protocol(&self) -> Result<scalpel::state::Protocol> {
        let a = self
            .chain
            .account(&pda::protocol())
            .await?
            .ok_or_else(|| anyhow!("protocol missing"))?;
        decode::protocol(&a.data)
    }

    /// Runs one step; `Ok(json)` always carries `kind` and `ok`.
    pub async fn step(&self, step: &Step) -> Result<Value> {
        match step {
            Step::SetPrice {
                symbol,
                price,
                conf,
                ema,
                ema_conf,
            } => {
                let m = self.market(symbol)?;
                let conf = conf.as_deref().unwrap_or("0");
                let quote = crate::local::oracle::Quote {
                    price,
                    conf,
                    ema: ema
                        .as_deref()
                        .map(|e| (e, ema_conf.as_deref().unwrap_or(conf))),
                };
                self.write_price(m, quote).await?;
                let mut out =
                    json!({"kind": "set_price", "ok": true, "symbol": symbol, "price": price});
                if let Some(e) = ema {
                    out["ema"] = json!(e);
                }
                Ok(out)
            }
            Step::AdvanceTime(secs) => {
                self.chain.advance_time(*secs).await?;
                let now = self.chain.clock().await?.unix_timestamp;
                Ok(json!({"kind": "advance_time", "ok": true, "seconds": secs, "unix_time": now}))
            }
            Step::Liquidate {
                account,
                asset,
                liab,
                max_repay,
                mode,
                liquidator,
            } => {
                let by = match (mode.as_deref(), liquidator) {
                    (None | Some("wallet"), None) => steps::LiquidatedBy::Wallet,
                    (None | Some("wallet"), Some(_)) => bail!(
                        "liquidate: `liquidator` names an account for mode = \"account\"; \
                         add it, or drop `liquidator`"
                    ),
                    (Some("account"), Some(name)) => steps::LiquidatedBy::Account(name),
                    (Some("account"), None) => bail!(
                        "liquidate: mode = \"account\" needs `liquidator = \"NAME\"`, the \
                         scenario account whose margin account takes the debt and collateral"
                    ),
                    (Some(other), _) => {
                        bail!("liquidate: mode {other:?} is not \"wallet\" or \"account\"")
                    }
                };
                self.liquidate(account, asset, liab, max_repay.as_deref(), by)
                    .await
            }
            Step::BadDebtResolve { account, market } => self.bad_debt(account, market).await,
            Step::Snapshot {} => self.snapshot().await,
            Step::Keeper {} => self.keeper().await,
            Step::Say(text) => Ok(json!({"kind": "say", "ok": true, "text": text})),
            Step::Deposit(b) => self.balance_step(BalanceKind::Deposit, b).await,
            Step::Withdraw(b) => self.balance_step(BalanceKind::Withdraw, b).await,
            Step::Borrow(b) => self.balance_step(BalanceKind::Borrow, b).await,
            Step::Repay(b) => self.balance_step(BalanceKind::Repay, b).await,
            Step::SetParams(p) => self.set_params(p).await,
        }
    }
}

async fn send(
    chain: &LocalChain,
    ixs: &[solana_sdk::instruction::Instruction],
    signers: &[&Keypair],
) -> Result<()> {
    chain
        .send(ixs, signers)
        .await?
        .map(|_| ())
        .map_err(|f| anyhow!("{}", f.name))
}

/// Runs a whole scenario; `progress` is called before each step with (index, total).
pub async fn run(s: &Scenario, mut progress: impl FnMut(usize, usize)) -> Result<Value> {
    let runner = Runner::setup(s).await?;
    let mut steps = Vec::new();
    for (i, step) in s.steps.iter().enumerate() {
        progress(i, s.steps.len());
        steps.push(
            runner
                .step(step)
                .await
                .with_context(|| format!("step {} ({step:?})", i + 1))?,
        );
    }
    Ok(json!({ "steps": steps }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{format_amount, format_signed, price_mantissa};

    const TOML_STEPS: &str = r#"
[[markets]]
symbol = "SOL"
decimals = 9
price = "100"
asset_weight_maint = "0.9"
max_age_secs = 30
deposit_cap = "1000000"
interest = { slope1 = "0.05" }

[[steps]]
deposit = { account = "alice", market = "SOL", amount = "5.000000000" }
[[steps]]
withdraw = { account = "alice", market = "SOL", amount = "all" }
[[steps]]
borrow = { account = "alice", market = "USDC", amount = "0.015000000" }
[[steps]]
repay = { account = "alice", market = "USDC", amount = "all" }
[[steps]]
set_params = { market = "SOL", asset_weight_maint = "0.75", liquidation_penalty_bps = 2400, max_age_liquidation_secs = 600, borrow_cap = "unlimited", interest = { base_rate = "0.01" } }
"#;

    const JSON_STEPS: &str = r#"{
  "steps": [
    {"deposit": {"account": "alice", "market": "SOL", "amount": "5.000000000"}},
    {"withdraw": {"account": "alice", "market": "SOL", "amount": "all"}},
    {"borrow": {"account": "alice", "market": "USDC", "amount": "0.015000000"}},
    {"repay": {"account": "alice", "market": "USDC", "amount": "all"}},
    {"set_params": {"market": "SOL", "asset_weight_maint": "0.75", "liquidation_penalty_bps": 2400,
      "max_age_liquidation_secs": 600, "borrow_cap": "unlimited", "interest": {"base_rate": "0.01"}}}
  ]
}"#;

    fn balance(step: &Step) -> (BalanceKind, &BalanceStep) {
        match step {
            Step::Deposit(b) => (BalanceKind::Deposit, b),
            Step::Withdraw(b) => (BalanceKind::Withdraw, b),
            Step::Borrow(b) => (BalanceKind::Borrow, b),
            Step::Repay(b) => (BalanceKind::Repay, b),
            other => panic!("not a balance step: {other:?}"),
        }
    }

    fn check_steps(steps: &[Step]) {
        assert_eq!(steps.len(), 5);
        let kinds = [
            BalanceKind::Deposit,
            BalanceKind::Withdraw,
            BalanceKind::Borrow,
            BalanceKind::Repay,
        ];
        // Native amounts in a 9-decimal (SOL) and a 6-decimal (USDC) token.
        let natives = [5_000_000_000, u64::MAX, 15_000, u64::MAX];
        let decimals = [9, 9, 6, 6];
        for (i, step) in steps[..4].iter().enumerate() {
            let (kind, b) = balance(step);
            assert_eq!(kind, kinds[i]);
            assert_eq!(b.account, "alice");
            assert_eq!(kind.amount(&b.amount, decimals[i]).unwrap(), natives[i]);
        }
        let Step::SetParams(p) = &steps[4] else {
            panic!("{:?}", steps[4]);
        };
        assert_eq!(p.market, "SOL");
        let base = MarketParams {
            borrow_cap: 7,
            ..MarketParams::default()
        };
        let got = p.params.apply(base, 9).unwrap();
        assert_eq!(
            got,
            MarketParams {
                asset_weight_maint_bps: 7_500,
                liquidation_penalty_bps: 2_400,
                // A flat penalty stays flat when only its full value is given.
                liquidation_penalty_min_bps: 2_400,
                max_age_liquidation_secs: 600,
                borrow_cap: u64::MAX,
                base_rate_bps: 100,
                ..base
            }
        );
    }

    #[test]
    fn steps_parse_from_toml_and_json() {
        let toml: Scenario = toml::from_str(TOML_STEPS).unwrap();
        check_steps(&toml.steps);
        let json: Scenario = serde_json::from_str(JSON_STEPS).unwrap();
        check_steps(&json.steps);
        // The market table takes the same parameters over the program defaults.
        let m = &toml.markets[0];
        assert_eq!(
            m.params.apply(MarketParams::default(), m.decimals).unwrap(),
            MarketParams {
                max_age_secs: 30,
                deposit_cap: 1_000_000_000_000_000,
                slope1_bps: 500,
                ..MarketParams::default()
            }
        );
    }

    #[test]
    fn bad_step_input_is_refused_with_the_fix() {
        for bad in [
            r#"steps = [{ deposit = { account = "a", market = "SOL" } }]"#,
            r#"steps = [{ deposit = { account = "a", market = "SOL", amount = "1", extra = 1 } }]"#,
            r#"steps = [{ set_params = { market = "SOL", asset_weight = "0.5" } }]"#,
            r#"steps = [{ set_params = { market = "SOL", interest = { slope3 = "0" } } }]"#,
            r#"markets = [{ symbol = "S", decimals = 6, price = "1", penalty = 1 }]"#,
        ] {
            assert!(toml::from_str::<Scenario>(bad).is_err(), "{bad}");
        }
        let e = BalanceKind::Deposit.amount("all", 6).unwrap_err();
        assert!(
            format!("{e:#}").contains("only withdraw and repay"),
            "{e:#}"
        );
        let e = BalanceKind::Borrow.amount("all", 6).unwrap_err();
        assert!(
            format!("{e:#}").contains("only withdraw and repay"),
            "{e:#}"
        );
        let e = BalanceKind::Repay.amount("0.0150001", 6).unwrap_err();
        assert!(
            format!("{e:#}").contains("at most 6 decimals, or \"all\""),
            "{e:#}"
        );
        assert!(BalanceKind::Withdraw.amount("-1", 6).is_err());
        assert!(BalanceKind::Withdraw.amount("", 6).is_err());
        let spec = ParamsSpec {
            asset_weight_init: Some("0.8.1".into()),
            ..ParamsSpec::default()
        };
        let e = spec.apply(MarketParams::default(), 6).unwrap_err();
        assert!(
            format!("{e:#}").contains("asset_weight_init = \"0.8.1\""),
            "{e:#}"
        );
        let spec = ParamsSpec {
            deposit_cap: Some("1.0000001".into()),
            ..ParamsSpec::default()
        };
        let e = spec.apply(MarketParams::default(), 6).unwrap_err();
        assert!(format!("{e:#}").contains("or \"unlimited\""), "{e:#}");
    }

    #[test]
    fn amounts_roundtrip_exactly() {
        assert_eq!(parse_amount("1.5", 6).unwrap(), 1_500_000);
        assert_eq!(parse_amount("7", 9).unwrap(), 7_000_000_000);
        assert!(parse_amount("0.0000001", 6).is_err());
        assert!(parse_amount("-1", 6).is_err());
        assert_eq!(format_amount(7_875_000_000, 9), "7.875000000");
        assert_eq!(format_amount(5, 6), "0.000005");
        assert_eq!(format_signed(-150_000_000, 6), "-150.000000");
        assert_eq!(parse_bps("0.8").unwrap(), 8_000);
        assert_eq!(price_mantissa("80").unwrap(), (8_000_000_000, -8));
        assert_eq!(price_mantissa("0.123456789").unwrap(), (123_456_789, -9));
    }
}
