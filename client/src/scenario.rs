//! The scenario runner: a declarative file (TOML or JSON) of protocol parameters, markets,
//! accounts and steps, executed as real transactions against the program in-process. Prices go
//! into the bank as real `PriceUpdateV2` accounts. See `docs/SCENARIOS.md` for the schema.

use crate::health::{account_inputs, markets as load_markets, pairs_after};
use crate::pyth::{price_update_v2, PullPrice};
use crate::{decode, events, ix, pda, token, Chain, LocalChain};
use anyhow::{anyhow, bail, Context, Result};
use scalpel::events::{BadDebtResolved, LiquidationEvent};
use scalpel::health_accounts::PriceAge;
use scalpel::math::liquidation::alternatives;
use scalpel::math::{compute_health, Health, HealthPosition, I80F48};
use scalpel::params::{MarketParams, ProtocolParams};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use solana_sdk::{account::Account, pubkey::Pubkey, signature::Keypair, signer::Signer};
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
    /// Init asset weight (decimal string, e.g. "0.8").
    pub asset_weight_init: Option<String>,
    /// Maint asset weight.
    pub asset_weight_maint: Option<String>,
    /// Init liability weight.
    pub liab_weight_init: Option<String>,
    /// Maint liability weight.
    pub liab_weight_maint: Option<String>,
    /// Liquidation penalty, bps.
    pub liquidation_penalty_bps: Option<u16>,
    /// Confidence limit, bps of price.
    pub max_conf_bps: Option<u16>,
    /// Insurance seeded before the accounts, in UI units.
    pub insurance: Option<String>,
    /// Interest curve (fractions as decimal strings).
    pub interest: Option<InterestSpec>,
}

fn zero() -> String {
    "0".into()
}

/// A market's interest curve.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InterestSpec {
    /// Kink utilization.
    pub optimal_utilization: String,
    /// Rate at zero utilization.
    pub base_rate: String,
    /// Rate added up to the kink.
    pub slope1: String,
    /// Rate added above the kink.
    pub slope2: String,
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

pub use crate::units::{
    format_amount, format_signed, parse_amount, parse_bps, price_mantissa, usd,
};

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

fn health_json(h: &Health) -> Value {
    json!({
        "init": usd(h.init),
        "maint": usd(h.maint),
        "end": usd(h.end),
        "ratio": h.ratio().map(|r| format!("{r:.6}")),
    })
}

impl Runner {
    /// Builds the protocol, markets and accounts of `s`.
    pub async fn setup(s: &Scenario) -> Result<Runner> {
        let chain = LocalChain::start(vec![]).await;
        let admin = chain.payer().insecure_clone();
        let mint_authority = Keypair::new();
        let mut params = ProtocolParams::default();
        if let Some(b) = s.protocol.liquidation_buffer_bps {
            params.liquidation_buffer_bps = b;
        }
        if let Some(sp) = s.protocol.split_bps {
            params.split_bps = [sp.liquidator, sp.insurance, sp.treasury];
        }
        if let Some(d) = &s.protocol.dust_threshold_usd {
            params.dust_threshold_micro_usd = parse_amount(d, 6)?;
        }
        if let Some(k) = &s.protocol.conf_multiplier {
            params.conf_multiplier_bps = parse_bps(k)?;
        }
        // Listed markets are quarantined until their parameters apply after the timelock: the
        // run starts one timelock early so that the markets are live at SCENARIO_T0.
        let timelock = match &s.migration_config {
            Some(cfg) => cfg.protocol.params.params()?.timelock_secs,
            None => params.timelock_secs,
        };
        chain.set_unix_time(SCENARIO_T0 - timelock as i64).await?;
        if s.migration_config.is_none() {
            let guardian = Keypair::new().pubkey();
            send(
                &chain,
                &[ix::protocol_init(&admin.pubkey(), &guardian, params)],
                &[&admin],
            )
            .await
            .context("protocol_init")?;
        }
        let mut runner = Runner {
            chain,
            admin,
            mint_authority,
            markets: Vec::new(),
            accounts: Vec::new(),
            liquidator: AccountState {
                name: "liquidator".into(),
                key: Keypair::new(),
                account: Pubkey::default(),
                tokens: BTreeMap::new(),
            },
            bot: Keypair::new(),
        };
        if let Some(cfg) = &s.migration_config {
            runner
                .apply_migration(cfg)
                .await
                .context("applying the migration")?;
        }
        for m in &s.markets {
            runner
                .add_market(runner.markets.len(), m)
                .await
                .with_context(|| format!("market {}", m.symbol))?;
        }
        runner.activate_markets().await?;
        let seeds: Vec<(String, String)> = s
            .insurance
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let liq = Keypair::new();
        runner.liquidator = runner.new_wallet("liquidator", liq).await?;
        runner.fund_bot().await.context("funding the keeper bot")?;
        let mut seeds = seeds;
        seeds.extend(
            s.markets
                .iter()
                .filter_map(|m| m.insurance.clone().map(|i| (m.symbol.clone(), i))),
        );
        for (symbol, ins) in &seeds {
            let (mint, decimals) = {
                let m = runner.market(symbol)?;
                (m.mint, m.spec.decimals)
            };
            let amount = parse_amount(ins, decimals)?;
            let t = runner.liquidator.tokens[symbol];
            token::mint_to(
                &runner.chain,
                &runner.admin,
                &runner.mint_authority,
                &mint,
                &t,
                amount,
            )
            .await?;
            let key = runner.liquidator.key.insecure_clone();
            send(
                &runner.chain,
                &[ix::insurance_fund(&key.pubkey(), &t, &mint, amount)],
                &[&runner.admin, &key],
            )
            .await
            .context("insurance seed")?;
        }
        for a in &s.accounts {
            let w = runner.new_wallet(&a.name, Keypair::new()).await?;
            send(
                &runner.chain,
                &[ix::account_create(&w.key.pubkey(), 0)],
                &[&runner.admin, &w.key],
            )
            .await
            .context("account_create")?;
            runner.accounts.push(w);
        }
        for a in &s.accounts {
            for (sym, amount) in &a.deposits {
                runner
                    .deposit(&a.name, sym, amount)
                    .await
                    .with_context(|| format!("{} deposits {amount} {sym}", a.name))?;
            }
        }
        for a in &s.accounts {
            for (sym, amount) in &a.borrows {
                runner
                    .borrow(&a.name, sym, amount)
                    .await
                    .with_context(|| format!("{} borrows {amount} {sym}", a.name))?;
            }
        }
        Ok(runner)
    }

    /// Creates the migration's `local` mints and oracles, then creates the protocol and lists
    /// the markets through `admin::plan`, exactly as `scalpel admin apply` does on a cluster.
    async fn apply_migration(&mut self, cfg: &crate::admin::AdminConfig) -> Result<()> {
        let mut resolved = cfg.clone();
        for (i, m) in resolved.markets.iter_mut().enumerate() {
            if m.mint != crate::admin::LOCAL || m.oracle != crate::admin::LOCAL {
                bail!(
                    "{}: in-process runs create their own mints and oracles (use \"local\")",
                    m.symbol
                );
            }
            let decimals = m
                .decimals
                .ok_or_else(|| anyhow!("{}: a local market needs decimals", m.symbol))?;
            let price = m
                .price
                .clone()
                .ok_or_else(|| anyhow!("{}: a local market needs a price", m.symbol))?;
            let mint = token::create_mint(
                &self.chain,
                &self.admin,
                &self.mint_authority.pubkey(),
                decimals,
            )
            .await?;
            let mut feed_id = [0u8; 32];
            feed_id[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            let n = m.symbol.len().min(24);
            feed_id[8..8 + n].copy_from_slice(&m.symbol.as_bytes()[..n]);
            let spec = MarketSpec {
                symbol: m.symbol.clone(),
                decimals,
                price: price.clone(),
                conf: zero(),
                asset_weight_init: None,
                asset_weight_maint: None,
                liab_weight_init: None,
                liab_weight_maint: None,
                liquidation_penalty_bps: None,
                max_conf_bps: None,
                insurance: None,
                interest: None,
            };
            let state = MarketState {
                spec,
                mint,
                market: pda::market(&mint),
                oracle: Pubkey::new_unique(),
                feed_id,
                index: i as u16,
            };
            self.write_price(&state, &price, "0").await?;
            m.mint = mint.to_string();
            m.oracle = state.oracle.to_string();
            m.oracle_kind = "pull".into();
            m.feed_id = Some(feed_id.iter().map(|b| format!("{b:02x}")).collect());
            self.markets.push(state);
        }
        let admin = self.admin.insecure_clone();
        for a in crate::admin::plan(&self.chain, &resolved, &admin.pubkey()).await? {
            send(&self.chain, std::slice::from_ref(&a.instruction), &[&admin])
                .await
                .with_context(|| a.description.clone())?;
        }
        Ok(())
    }

    async fn add_market(&mut self, i: usize, m: &MarketSpec) -> Result<()> {
        let mint = token::create_mint(
            &self.chain,
            &self.admin,
            &self.mint_authority.pubkey(),
            m.decimals,
        )
        .await?;
        let mut feed_id = [0u8; 32];
        feed_id[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
        feed_id[8..8 + m.symbol.len().min(24)]
            .copy_from_slice(&m.symbol.as_bytes()[..m.symbol.len().min(24)]);
        let oracle = Pubkey::new_unique();
        let state = MarketState {
            spec: m.clone(),
            mint,
            market: pda::market(&mint),
            oracle,
            feed_id,
            index: i as u16,
        };
        self.write_price(&state, &m.price, &m.conf).await?;
        let d = MarketParams::default();
        let w = |v: &Option<String>, default: u32| -> Result<u32> {
            v.as_deref()
                .map(parse_bps)
                .transpose()
                .map(|o| o.unwrap_or(default))
        };
        let mut p = MarketParams {
            asset_weight_init_bps: w(&m.asset_weight_init, d.asset_weight_init_bps)?,
            asset_weight_maint_bps: w(&m.asset_weight_maint, d.asset_weight_maint_bps)?,
            liab_weight_init_bps: w(&m.liab_weight_init, d.liab_weight_init_bps)?,
            liab_weight_maint_bps: w(&m.liab_weight_maint, d.liab_weight_maint_bps)?,
            liquidation_penalty_bps: m
                .liquidation_penalty_bps
                .unwrap_or(d.liquidation_penalty_bps),
            max_conf_bps: m.max_conf_bps.unwrap_or(d.max_conf_bps),
            ..d
        };
        if let Some(c) = &m.interest {
            p.optimal_utilization_bps = u16::try_from(parse_bps(&c.optimal_utilization)?)?;
            p.base_rate_bps = parse_bps(&c.base_rate)?;
            p.slope1_bps = parse_bps(&c.slope1)?;
            p.slope2_bps = parse_bps(&c.slope2)?;
        }
        let admin = self.admin.pubkey();
        send(
            &self.chain,
            &[ix::market_add(
                &admin, &admin, &mint, &oracle, 1, feed_id, p,
            )],
            &[&self.admin],
        )
        .await
        .map_err(|e| anyhow!("market_add refused: {e}"))?;
        self.markets.push(state);
        Ok(())
    }

    /// Moves the clock to `SCENARIO_T0` (the end of the listing timelock), applies every market's
    /// listed parameters still queued, and publishes every price again at the new time.
    async fn activate_markets(&self) -> Result<()> {
        self.chain.set_unix_time(SCENARIO_T0).await?;
        let admin = self.admin.insecure_clone();
        for a in crate::admin::due_applications(&self.chain).await? {
            send(&self.chain, std::slice::from_ref(&a.instruction), &[&admin])
                .await
                .with_context(|| a.description.clone())?;
        }
        for m in &self.markets {
            self.write_price(m, &m.spec.price, &m.spec.conf).await?;
        }
        Ok(())
    }

    async fn new_wallet(&self, name: &str, key: Keypair) -> Result<AccountState> {
        let fund = solana_system_interface::instruction::transfer(
            &self.admin.pubkey(),
            &key.pubkey(),
            1_000_000_000,
        );
        send(&self.chain, &[fund], &[&self.admin]).await?;
        let mut tokens = BTreeMap::new();
        for m in &self.markets {
            let t = token::create_token_account(&self.chain, &self.admin, &m.mint, &key.pubkey())
                .await?;
            tokens.insert(m.spec.symbol.clone(), t);
        }
        let account = pda::margin_account(&key.pubkey(), 0);
        Ok(AccountState {
            name: name.to_string(),
            key,
            account,
            tokens,
        })
    }

    fn market(&self, symbol: &str) -> Result<&MarketState> {
        self.markets
            .iter()
            .find(|m| m.spec.symbol == symbol)
            .ok_or_else(|| anyhow!("unknown market symbol {symbol}"))
    }

    fn account(&self, name: &str) -> Result<&AccountState> {
        self.accounts
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| anyhow!("unknown account {name}"))
    }

    async fn write_price(&self, m: &MarketState, price: &str, conf: &str) -> Result<()> {
        let (mantissa, expo) = price_mantissa(price)?;
        let conf_m =
            parse_amount(conf, (-expo) as u8).with_context(|| format!("confidence {conf}"))?;
        let now = self.chain.clock().await?.unix_timestamp;
        let data = price_update_v2(&PullPrice {
            feed_id: m.feed_id,
            price: mantissa,
            conf: conf_m,
            expo,
            publish_time: now,
            partial_signatures: None,
        })?;
        self.chain
            .set_account(
                &m.oracle,
                Account {
                    lamports: 10_000_000,
                    data,
                    owner: scalpel::constants::PYTH_RECEIVER,
                    executable: false,
                    rent_epoch: 0,
                },
            )
            .await;
        Ok(())
    }

    fn mv(&self, a: &AccountState, m: &MarketState) -> ix::TokenMove {
        ix::TokenMove {
            owner: a.key.pubkey(),
            margin_account: a.account,
            mint: m.mint,
            user_token: a.tokens[&m.spec.symbol],
        }
    }

    async fn deposit(&self, name: &str, symbol: &str, amount: &str) -> Result<()> {
        let a = self.account(name)?;
        let m = self.market(symbol)?;
        let native = parse_amount(amount, m.spec.decimals)?;
        token::mint_to(
            &self.chain,
            &self.admin,
            &self.mint_authority,
            &m.mint,
            &a.tokens[symbol],
            native,
        )
        .await?;
        send(
            &self.chain,
            &[ix::deposit(&self.mv(a, m), native)],
            &[&self.admin, &a.key],
        )
        .await
        .map_err(|e| anyhow!("deposit refused: {e}"))
    }

    async fn borrow(&self, name: &str, symbol: &str, amount: &str) -> Result<()> {
        let a = self.account(name)?;
        let m = self.market(symbol)?;
        let native = parse_amount(amount, m.spec.decimals)?;
        let acc = self.margin(&a.account).await?;
        let markets = load_markets(&self.chain).await?;
        let pairs = pairs_after(&acc, &markets, Some(m.index), None)?;
        send(
            &self.chain,
            &[ix::borrow(&self.mv(a, m), native, &pairs)],
            &[&self.admin, &a.key],
        )
        .await
        .map_err(|e| anyhow!("borrow refused: {e}"))
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
        let inputs = account_inputs(&self.chain, &acc, &markets, PriceAge::Maintenance).await?;
        let hp: Vec<HealthPosition> = inputs.iter().map(|r| r.input).collect();
        let h = compute_health(&hp, &proto.health_params().map_err(|e| anyhow!("{e}"))?)
            .map_err(|e| anyhow!("{e}"))?;
        Ok((inputs, h))
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
            } => {
                let m = self.market(symbol)?;
                self.write_price(m, price, conf.as_deref().unwrap_or("0"))
                    .await?;
                Ok(json!({"kind": "set_price", "ok": true, "symbol": symbol, "price": price}))
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
            } => {
                self.liquidate(account, asset, liab, max_repay.as_deref())
                    .await
            }
            Step::BadDebtResolve { account, market } => self.bad_debt(account, market).await,
            Step::Snapshot {} => self.snapshot().await,
            Step::Keeper {} => self.keeper().await,
            Step::Say(text) => Ok(json!({"kind": "say", "ok": true, "text": text})),
        }
    }

    async fn liquidate(
        &self,
        name: &str,
        asset: &str,
        liab: &str,
        max_repay: Option<&str>,
    ) -> Result<Value> {
        let a = self.account(name)?;
        let mi = self.market(asset)?;
        let mj = self.market(liab)?;
        let max_native = match max_repay {
            Some(s) => parse_amount(s, mj.spec.decimals)?,
            None => u64::MAX,
        };
        let acc = self.margin(&a.account).await?;
        let markets = load_markets(&self.chain).await?;
        let pairs = pairs_after(&acc, &markets, None, None)?;
        let mut out = json!({"kind": "liquidate", "account": name, "asset": asset, "liab": liab});
        let before = self.inputs(&a.account).await;
        // What a full and a 50% close-factor liquidation would take, same prices and penalty.
        if let Ok((inputs, h)) = &before {
            out["health_before"] = health_json(h);
            let ai = inputs.iter().position(|r| r.market_index == mi.index);
            let li = inputs.iter().position(|r| r.market_index == mj.index);
            if let (Some(ai), Some(li)) = (ai, li) {
                let hp: Vec<HealthPosition> = inputs.iter().map(|r| r.input).collect();
                if let Ok((full, half)) = alternatives(&hp, ai, li, inputs[ai].penalty) {
                    out["alternatives"] = json!({
                        "full": {"repaid": format_amount(full.repay, mj.spec.decimals), "seized": format_amount(full.seized, mi.spec.decimals)},
                        "close_factor_50": {"repaid": format_amount(half.repay, mj.spec.decimals), "seized": format_amount(half.seized, mi.spec.decimals)},
                    });
                }
                // Fund the liquidator with the debt it may repay.
                let need = hp[li].debt.min(max_native);
                let t = self.liquidator.tokens[liab];
                token::mint_to(
                    &self.chain,
                    &self.admin,
                    &self.mint_authority,
                    &mj.mint,
                    &t,
                    need,
                )
                .await?;
            }
        }
        let l = &self.liquidator;
        let accounts = ix::LiquidateAccounts {
            liquidatee: a.account,
            asset_mint: mi.mint,
            liab_mint: mj.mint,
            liquidator: l.key.pubkey(),
            liquidator_liab_token: l.tokens[liab],
            liquidator_asset_token: l.tokens[asset],
        };
        match self
            .chain
            .send(
                &[ix::liquidate(&accounts, max_native, &pairs)],
                &[&self.admin, &l.key],
            )
            .await?
        {
            Ok(o) => {
                let e = events::parse::<LiquidationEvent>(&o.logs)
                    .into_iter()
                    .next()
                    .ok_or_else(|| anyhow!("no LiquidationEvent"))?;
                out["ok"] = json!(true);
                out["repaid"] = json!(format_amount(e.repaid, mj.spec.decimals));
                out["seized"] = json!(format_amount(e.seized, mi.spec.decimals));
                out["to_liquidator"] = json!(format_amount(e.to_liquidator, mi.spec.decimals));
                out["to_insurance"] = json!(format_amount(e.to_insurance, mi.spec.decimals));
                out["to_treasury"] = json!(format_amount(e.to_treasury, mi.spec.decimals));
                out["penalty_effective"] =
                    json!(format!("{:.6}", I80F48::from_bits(e.penalty_effective)));
                out["being_liquidated"] = json!(e.being_liquidated);
                out["compute_units"] = json!(o.compute_units);
                if let Ok((_, h)) = self.inputs(&a.account).await {
                    out["health_after"] = health_json(&h);
                }
            }
            Err(f) => {
                out["ok"] = json!(false);
                out["error"] = json!(f.name);
            }
        }
        Ok(out)
    }

    async fn bad_debt(&self, name: &str, symbol: &str) -> Result<Value> {
        let a = self.account(name)?;
        let m = self.market(symbol)?;
        let acc = self.margin(&a.account).await?;
        let markets = load_markets(&self.chain).await?;
        let pairs = pairs_after(&acc, &markets, None, None)?;
        let mut out = json!({"kind": "bad_debt_resolve", "account": name, "market": symbol});
        match self
            .chain
            .send(
                &[ix::bad_debt_resolve(
                    &a.account,
                    &m.mint,
                    &pairs,
                    &crate::health::deposit_markets(&acc, &markets),
                )],
                &[&self.admin],
            )
            .await?
        {
            Ok(o) => {
                let e = events::parse::<BadDebtResolved>(&o.logs)
                    .into_iter()
                    .next()
                    .ok_or_else(|| anyhow!("no BadDebtResolved event"))?;
                let d = m.spec.decimals;
                out["ok"] = json!(true);
                out["debt"] = json!(format_amount(e.debt, d));
                out["covered"] = json!(format_amount(e.covered, d));
                out["socialized"] = json!(format_amount(e.socialized, d));
                out["deficit"] = json!(format_amount(e.deficit, d));
                out["deposit_index"] = json!(format!("{}", I80F48::from_bits(e.deposit_index)));
            }
            Err(f) => {
                out["ok"] = json!(false);
                out["error"] = json!(f.name);
            }
        }
        Ok(out)
    }

    async fn fund_bot(&self) -> Result<()> {
        let bot = self.bot.insecure_clone();
        let fund = solana_system_interface::instruction::transfer(
            &self.admin.pubkey(),
            &bot.pubkey(),
            10_000_000_000,
        );
        send(&self.chain, &[fund], &[&self.admin]).await?;
        let k =
            crate::keeper::Keeper::new(&self.chain, &bot, crate::keeper::KeeperConfig::default());
        k.ensure_token_accounts().await?;
        for m in &self.markets {
            // A large float of every token: 10^9 whole tokens.
            let amount = 10u64.saturating_pow(9 + m.spec.decimals as u32);
            let ata = crate::keeper::ata(&bot.pubkey(), &m.mint);
            token::mint_to(
                &self.chain,
                &self.admin,
                &self.mint_authority,
                &m.mint,
                &ata,
                amount,
            )
            .await?;
        }
        Ok(())
    }

    /// One keeper pass; each liquidation is reported with what a full liquidation of the same
    /// pair would have taken from the account before the pass.
    async fn keeper(&self) -> Result<Value> {
        let mut before = BTreeMap::new();
        for a in &self.accounts {
            if let Ok((inputs, _)) = self.inputs(&a.account).await {
                before.insert(a.account, inputs);
            }
        }
        let bot = self.bot.insecure_clone();
        let k =
            crate::keeper::Keeper::new(&self.chain, &bot, crate::keeper::KeeperConfig::default());
        let summary = k.pass().await?;
        let name_of = |key: &Pubkey| {
            self.accounts
                .iter()
                .find(|a| a.account == *key)
                .map(|a| a.name.clone())
                .unwrap_or_else(|| key.to_string())
        };
        let mut liqs = Vec::new();
        for e in &summary.events {
            let (mi, mj) = (
                &self.markets[e.asset_index as usize],
                &self.markets[e.liab_index as usize],
            );
            let mut row = json!({
                "account": name_of(&e.account),
                "asset": mi.spec.symbol,
                "liab": mj.spec.symbol,
                "repaid": format_amount(e.repaid, mj.spec.decimals),
                "seized": format_amount(e.seized, mi.spec.decimals),
                "to_liquidator": format_amount(e.to_liquidator, mi.spec.decimals),
                "to_insurance": format_amount(e.to_insurance, mi.spec.decimals),
                "to_treasury": format_amount(e.to_treasury, mi.spec.decimals),
                "end_after": format!("{:.6}", e.end_after),
            });
            if let Some(inputs) = before.get(&e.account) {
                let ai = inputs.iter().position(|r| r.market_index == e.asset_index);
                let li = inputs.iter().position(|r| r.market_index == e.liab_index);
                if let (Some(ai), Some(li)) = (ai, li) {
                    let hp: Vec<HealthPosition> = inputs.iter().map(|r| r.input).collect();
                    if let Ok((full, half)) = alternatives(&hp, ai, li, inputs[ai].penalty) {
                        row["full"] = json!({"repaid": format_amount(full.repay, mj.spec.decimals), "seized": format_amount(full.seized, mi.spec.decimals)});
                        row["close_factor_50"] = json!({"repaid": format_amount(half.repay, mj.spec.decimals), "seized": format_amount(half.seized, mi.spec.decimals)});
                    }
                }
            }
            liqs.push(row);
        }
        Ok(json!({
            "kind": "keeper",
            "ok": true,
            "summary": {
                "scanned": summary.scanned,
                "liquidatable": summary.liquidatable,
                "liquidated": summary.liquidated,
                "liquidations": summary.liquidations,
                "bad_debt_resolved": summary.bad_debt_resolved,
                "repaid_usd": format!("{:.6}", summary.repaid_usd),
                "bonus_usd": format!("{:.6}", summary.bonus_usd),
                "failures": summary.failures,
            },
            "liquidations": liqs,
        }))
    }

    /// Every account's balances, health and flag, every market's vaults, indices and deficit.
    pub async fn snapshot(&self) -> Result<Value> {
        let markets = load_markets(&self.chain).await?;
        let mut accounts = Vec::new();
        for a in &self.accounts {
            let acc = self.margin(&a.account).await?;
            let mut balances = serde_json::Map::new();
            for p in acc.active_positions() {
                let (_, mk) = markets
                    .iter()
                    .find(|(_, m)| m.market_index == p.market_index)
                    .ok_or_else(|| anyhow!("market"))?;
                let spec = &self.markets[p.market_index as usize].spec;
                let s = p.shares();
                let native: i128 = if s >= I80F48::ZERO {
                    scalpel::math::shares::deposit_balance(s, mk.deposit_index.get())
                        .map_err(|e| anyhow!("{e}"))? as i128
                } else {
                    -(scalpel::math::shares::debt_balance(-s, mk.borrow_index.get())
                        .map_err(|e| anyhow!("{e}"))? as i128)
                };
                balances.insert(
                    spec.symbol.clone(),
                    json!(format_signed(native, spec.decimals)),
                );
            }
            let health = match self.inputs(&a.account).await {
                Ok((_, h)) => health_json(&h),
                Err(e) => json!({"error": e.to_string()}),
            };
            accounts.push(json!({"name": a.name, "balances": balances, "health": health, "being_liquidated": acc.being_liquidated != 0}));
        }
        let mut ms = Vec::new();
        for m in &self.markets {
            let (_, mk) = markets
                .iter()
                .find(|(k, _)| *k == m.market)
                .ok_or_else(|| anyhow!("market"))?;
            let d = m.spec.decimals;
            ms.push(json!({
                "symbol": m.spec.symbol,
                "vault": format_amount(token::balance(&self.chain, &mk.vault).await?, d),
                "insurance": format_amount(token::balance(&self.chain, &mk.insurance_vault).await?, d),
                "treasury": format_amount(token::balance(&self.chain, &mk.treasury_vault).await?, d),
                "deposit_index": format!("{}", mk.deposit_index.get()),
                "borrow_index": format!("{}", mk.borrow_index.get()),
                "total_deposits": format_amount(mk.total_deposits().map_err(|e| anyhow!("{e}"))?, d),
                "total_borrows": format_amount(mk.total_borrows().map_err(|e| anyhow!("{e}"))?, d),
                "deficit": format_amount(mk.deficit, d),
            }));
        }
        Ok(json!({"kind": "snapshot", "ok": true, "accounts": accounts, "markets": ms}))
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
