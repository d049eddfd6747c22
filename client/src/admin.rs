//! Config as code: a migration file describes the protocol and its markets; `plan` compares it
//! with the chain and returns the instructions that make the chain match (create what is missing,
//! queue what differs, nothing when they already match or the same change is already queued), and
//! `unsigned_transactions` renders them for a multisig to sign instead.

use crate::{decode, ix, pda, Chain};
use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use scalpel::params::{MarketParams, ProtocolParams};
use scalpel::state::{Market, Protocol};
use serde::{Deserialize, Serialize};
use solana_sdk::{
    hash::Hash, instruction::Instruction, message::Message, pubkey::Pubkey,
    transaction::Transaction,
};
use std::str::FromStr;

/// A migration file (`migrations/*.toml`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Protocol roles and parameters.
    pub protocol: ProtocolConfig,
    /// Markets, in listing order.
    #[serde(default)]
    pub markets: Vec<MarketConfig>,
}

/// Protocol section.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolConfig {
    /// Guardian key.
    pub guardian: String,
    /// Parameters (any left out take the program defaults).
    #[serde(flatten)]
    pub params: ProtocolParamsConfig,
}

/// Protocol parameters as written in a migration.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolParamsConfig {
    /// b, bps.
    pub liquidation_buffer_bps: Option<u16>,
    /// [liquidator, insurance, treasury], bps.
    pub split_bps: Option<[u16; 3]>,
    /// k, bps of 1.
    pub conf_multiplier_bps: Option<u32>,
    /// Bias cap, bps.
    pub max_conf_bias_bps: Option<u16>,
    /// Dust threshold, USD (decimal string).
    pub dust_threshold_usd: Option<String>,
    /// Timelock.
    pub timelock_secs: Option<u32>,
    /// Maint-weight shift duration.
    pub weight_shift_secs: Option<u32>,
    /// `r_full`, the health ratio at and below which the full penalty applies (decimal string,
    /// e.g. `"0.95"`).
    pub full_penalty_health_ratio: Option<String>,
}

impl ProtocolParamsConfig {
    /// The full parameter set.
    pub fn params(&self) -> Result<ProtocolParams> {
        let d = ProtocolParams::default();
        Ok(ProtocolParams {
            liquidation_buffer_bps: self
                .liquidation_buffer_bps
                .unwrap_or(d.liquidation_buffer_bps),
            split_bps: self.split_bps.unwrap_or(d.split_bps),
            conf_multiplier_bps: self.conf_multiplier_bps.unwrap_or(d.conf_multiplier_bps),
            max_conf_bias_bps: self.max_conf_bias_bps.unwrap_or(d.max_conf_bias_bps),
            dust_threshold_micro_usd: match &self.dust_threshold_usd {
                Some(s) => crate::units::parse_amount(s, 6)?,
                None => d.dust_threshold_micro_usd,
            },
            timelock_secs: self.timelock_secs.unwrap_or(d.timelock_secs),
            weight_shift_secs: self.weight_shift_secs.unwrap_or(d.weight_shift_secs),
            full_penalty_health_ratio_bps: match &self.full_penalty_health_ratio {
                Some(s) => u16::try_from(crate::units::parse_bps(s)?)
                    .map_err(|_| anyhow!("full_penalty_health_ratio {s} is not below 1"))?,
                None => d.full_penalty_health_ratio_bps,
            },
        })
    }
}

/// One market.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MarketConfig {
    /// Display symbol.
    pub symbol: String,
    /// Token mint.
    pub mint: String,
    /// Oracle account.
    pub oracle: String,
    /// `"pull"` (PriceUpdateV2) or `"legacy"`.
    pub oracle_kind: String,
    /// Pull feed id, hex (with or without 0x); omit for legacy.
    pub feed_id: Option<String>,
    /// Risk parameters, bps as in `MarketParams` (omitted ones take the defaults).
    #[serde(default)]
    pub params: MarketParamsConfig,
    /// With `mint = "local"` and `oracle = "local"` (in-process runs: the demo, scenarios):
    /// the decimals of the mint to create.
    pub decimals: Option<u8>,
    /// With `oracle = "local"`: the USD price to publish (decimal string).
    pub price: Option<String>,
}

/// Marks a mint or oracle that an in-process run creates.
pub const LOCAL: &str = "local";

/// Market parameters as written in a migration.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct MarketParamsConfig {
    pub asset_weight_init_bps: Option<u32>,
    pub asset_weight_maint_bps: Option<u32>,
    pub liab_weight_init_bps: Option<u32>,
    pub liab_weight_maint_bps: Option<u32>,
    pub liquidation_penalty_bps: Option<u16>,
    /// `π_min`; without it the penalty is flat (`π_min = π`).
    pub liquidation_penalty_min_bps: Option<u16>,
    pub max_conf_bps: Option<u16>,
    pub max_age_secs: Option<u32>,
    pub max_age_liquidation_secs: Option<u32>,
    pub deposit_cap: Option<u64>,
    pub borrow_cap: Option<u64>,
    pub optimal_utilization_bps: Option<u16>,
    pub base_rate_bps: Option<u32>,
    pub slope1_bps: Option<u32>,
    pub slope2_bps: Option<u32>,
    /// Spot/EMA divergence beyond which borrowing against or of the market is refused, bps.
    pub max_ema_divergence_bps: Option<u16>,
    /// Net-borrow window, seconds.
    pub net_borrow_window_secs: Option<u32>,
    /// Net-borrow limit per window, micro-USD (left out: none).
    pub net_borrow_limit_micro_usd: Option<u64>,
    /// Total deposit value, micro-USD, above which the init asset weight scales down (left
    /// out: never).
    pub deposit_weight_scale_start_micro_usd: Option<u64>,
}

impl MarketParamsConfig {
    /// The full parameter set.
    pub fn params(&self) -> MarketParams {
        let d = MarketParams::default();
        MarketParams {
            asset_weight_init_bps: self
                .asset_weight_init_bps
                .unwrap_or(d.asset_weight_init_bps),
            asset_weight_maint_bps: self
                .asset_weight_maint_bps
                .unwrap_or(d.asset_weight_maint_bps),
            liab_weight_init_bps: self.liab_weight_init_bps.unwrap_or(d.liab_weight_init_bps),
            liab_weight_maint_bps: self
                .liab_weight_maint_bps
                .unwrap_or(d.liab_weight_maint_bps),
            max_conf_bps: self.max_conf_bps.unwrap_or(d.max_conf_bps),
            max_age_secs: self.max_age_secs.unwrap_or(d.max_age_secs),
            max_age_liquidation_secs: self
                .max_age_liquidation_secs
                .unwrap_or(d.max_age_liquidation_secs),
            deposit_cap: self.deposit_cap.unwrap_or(d.deposit_cap),
            borrow_cap: self.borrow_cap.unwrap_or(d.borrow_cap),
            optimal_utilization_bps: self
                .optimal_utilization_bps
                .unwrap_or(d.optimal_utilization_bps),
            base_rate_bps: self.base_rate_bps.unwrap_or(d.base_rate_bps),
            slope1_bps: self.slope1_bps.unwrap_or(d.slope1_bps),
            slope2_bps: self.slope2_bps.unwrap_or(d.slope2_bps),
            max_ema_divergence_bps: self
                .max_ema_divergence_bps
                .unwrap_or(d.max_ema_divergence_bps),
            net_borrow_window_secs: self
                .net_borrow_window_secs
                .unwrap_or(d.net_borrow_window_secs),
            net_borrow_limit_micro_usd: self
                .net_borrow_limit_micro_usd
                .unwrap_or(d.net_borrow_limit_micro_usd),
            deposit_weight_scale_start_micro_usd: self
                .deposit_weight_scale_start_micro_usd
                .unwrap_or(d.deposit_weight_scale_start_micro_usd),
            ..d
        }
        .with_penalty(
            self.liquidation_penalty_bps,
            self.liquidation_penalty_min_bps,
        )
    }
}

impl MarketConfig {
    fn resolved(&self) -> Result<(Pubkey, Pubkey, u8, [u8; 32])> {
        if self.mint == LOCAL || self.oracle == LOCAL {
            bail!(
                "{}: mint/oracle = \"local\" are created by in-process runs (scalpel demo, scenarios); on a cluster give their addresses",
                self.symbol
            );
        }
        let mint = Pubkey::from_str(&self.mint)
            .with_context(|| format!("{}: mint is not a public key", self.symbol))?;
        let oracle = Pubkey::from_str(&self.oracle)
            .with_context(|| format!("{}: oracle is not a public key", self.symbol))?;
        let (kind, feed) = match self.oracle_kind.as_str() {
            "pull" => {
                let hex = self
                    .feed_id
                    .as_deref()
                    .ok_or_else(|| anyhow!("{}: a pull oracle needs feed_id", self.symbol))?;
                let bytes = hex::decode(hex.trim_start_matches("0x"))
                    .with_context(|| format!("{}: feed_id is not hex", self.symbol))?;
                let feed: [u8; 32] = bytes
                    .try_into()
                    .map_err(|_| anyhow!("{}: feed_id must be 32 bytes", self.symbol))?;
                (1u8, feed)
            }
            "legacy" => (0u8, [0; 32]),
            other => bail!(
                "{}: oracle_kind must be \"pull\" or \"legacy\", not {other:?}",
                self.symbol
            ),
        };
        Ok((mint, oracle, kind, feed))
    }
}

impl AdminConfig {
    /// Reads a TOML migration.
    pub fn load(path: &std::path::Path) -> Result<AdminConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read migration {}", path.display()))?;
        toml::from_str(&text)
            .with_context(|| format!("{} is not a valid migration", path.display()))
    }
}

/// One step of a plan.
#[derive(Clone, Debug)]
pub struct Action {
    /// What it does, for humans.
    pub description: String,
    /// The instruction (signed by the admin; the admin also pays).
    pub instruction: Instruction,
}

/// The instructions that bring the chain to `config`, for `admin` as the governance key: create
/// what is missing, queue what differs, apply what was queued and is due. Run again after a
/// timelock to apply (a new listing stays quarantined until then).
pub async fn plan(chain: &dyn Chain, config: &AdminConfig, admin: &Pubkey) -> Result<Vec<Action>> {
    let mut actions = Vec::new();
    let guardian = Pubkey::from_str(&config.protocol.guardian)
        .context("protocol.guardian is not a public key")?;
    let want = config.protocol.params.params()?;
    want.validate()
        .map_err(|e| anyhow!("protocol parameters out of bounds: {}", e.name()))?;
    let now = chain.clock().await?.unix_timestamp;
    // The timelock a new listing waits out before its parameters apply.
    let timelock = match chain.account(&pda::protocol()).await? {
        None => {
            actions.push(Action {
                description: "create the protocol".into(),
                instruction: ix::protocol_init(admin, &guardian, want),
            });
            want.timelock_secs
        }
        Some(a) => {
            let p: Protocol = decode::protocol(&a.data)?;
            if p.admin != *admin {
                bail!(
                    "the protocol's admin is {}, not {admin}: sign with the admin key",
                    p.admin
                );
            }
            if p.guardian != guardian {
                actions.push(Action {
                    description: format!("set guardian {guardian}"),
                    instruction: ix::guardian_set(admin, &guardian),
                });
            }
            let current = p.params().map_err(|e| anyhow!("{e}"))?;
            let queued = (p.pending.active != 0).then(|| p.pending_params());
            if current != want && queued == Some(want) && p.pending.eta <= now {
                actions.push(Action {
                    description: "apply the queued protocol parameters".into(),
                    instruction: ix::params_apply_protocol(),
                });
            } else if current != want && queued != Some(want) {
                actions.push(Action {
                    description: format!(
                        "queue protocol parameters (timelock {} s)",
                        p.timelock_secs
                    ),
                    instruction: ix::params_queue_protocol(admin, want),
                });
            }
            p.timelock_secs
        }
    };
    for m in &config.markets {
        let (mint, oracle, kind, feed) = m.resolved()?;
        let params = m.params.params();
        params
            .validate()
            .map_err(|e| anyhow!("{}: parameters out of bounds: {}", m.symbol, e.name()))?;
        let symbol = scalpel::params::symbol_bytes(&m.symbol).ok_or_else(|| {
            anyhow!(
                "market symbol {:?}: use 1 to 16 printable ASCII characters, without spaces",
                m.symbol
            )
        })?;
        match chain.account(&pda::market(&mint)).await? {
            None => {
                actions.push(Action {
                    description: if timelock == 0 {
                        format!("list {} ({mint})", m.symbol)
                    } else {
                        format!(
                            "list {} ({mint}), quarantined for the {timelock} s timelock: run admin apply again after it to activate",
                            m.symbol
                        )
                    },
                    instruction: ix::market_add(
                        admin, admin, symbol, &mint, &oracle, kind, feed, params,
                    ),
                });
                // Without a timelock the listed parameters apply at once.
                if timelock == 0 {
                    actions.push(Action {
                        description: format!("activate {}", m.symbol),
                        instruction: ix::params_apply_market(&mint, &oracle),
                    });
                }
            }
            Some(a) => {
                let market: Market = decode::market(&a.data)?;
                let current = market.params().map_err(|e| anyhow!("{e}"))?;
                let same_now = current == params
                    && market.oracle == oracle
                    && market.oracle_kind == kind
                    && market.feed_id == feed;
                let pend = &market.pending;
                let same_queued = pend.active != 0
                    && pend.params() == params
                    && pend.oracle == oracle
                    && pend.oracle_kind == kind
                    && pend.feed_id == feed;
                if !same_now && same_queued && pend.eta <= now {
                    let what = if market.flags & scalpel::state::MARKET_QUARANTINED != 0 {
                        "activate"
                    } else {
                        "apply the queued parameters of"
                    };
                    actions.push(Action {
                        description: format!("{what} {}", m.symbol),
                        instruction: ix::params_apply_market(&mint, &oracle),
                    });
                } else if !same_now && !same_queued {
                    actions.push(Action {
                        description: format!("queue {} parameters", m.symbol),
                        instruction: ix::params_queue_market(
                            admin, &mint, &oracle, kind, feed, params,
                        ),
                    });
                }
            }
        }
    }
    Ok(actions)
}

/// The applications that are due now: every queued change (protocol or market, a new listing's
/// activation included) whose timelock has expired. Anyone may send them.
pub async fn due_applications(chain: &dyn Chain) -> Result<Vec<Action>> {
    let now = chain.clock().await?.unix_timestamp;
    let mut actions = Vec::new();
    if let Some(a) = chain.account(&pda::protocol()).await? {
        let p: Protocol = decode::protocol(&a.data)?;
        if p.pending.active != 0 && p.pending.eta <= now {
            actions.push(Action {
                description: "apply the queued protocol parameters".into(),
                instruction: ix::params_apply_protocol(),
            });
        }
    }
    for (_, m) in crate::health::markets(chain).await? {
        if m.pending.active != 0 && m.pending.eta <= now {
            let what = if m.flags & scalpel::state::MARKET_QUARANTINED != 0 {
                "activate the listing of"
            } else {
                "apply the queued parameters of"
            };
            actions.push(Action {
                description: format!("{what} market {} ({})", m.market_index, m.mint),
                instruction: ix::params_apply_market(&m.mint, &m.pending.oracle),
            });
        }
    }
    Ok(actions)
}

/// Each action as an unsigned legacy transaction (base64 of its wire bytes) paid by `admin`, for
/// a multisig or offline signer; `blockhash` should be recent when they sign.
pub fn unsigned_transactions(
    actions: &[Action],
    admin: &Pubkey,
    blockhash: Hash,
) -> Result<Vec<String>> {
    actions
        .iter()
        .map(|a| {
            let msg = Message::new_with_blockhash(
                std::slice::from_ref(&a.instruction),
                Some(admin),
                &blockhash,
            );
            let tx = Transaction::new_unsigned(msg);
            Ok(base64::engine::general_purpose::STANDARD.encode(bincode::serialize(&tx)?))
        })
        .collect()
}

/// Decodes one of [`unsigned_transactions`]' strings.
pub fn decode_transaction(b64: &str) -> Result<Transaction> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64.trim())?;
    Ok(bincode::deserialize(&bytes)?)
}

/// The live governance state, for `scalpel admin show`.
#[derive(Clone, Debug, Serialize)]
pub struct Live {
    /// Admin key.
    pub admin: String,
    /// Proposed admin, if any.
    pub pending_admin: Option<String>,
    /// Guardian key.
    pub guardian: String,
    /// Parameters in force.
    #[serde(serialize_with = "debug_str")]
    pub params: ProtocolParams,
    /// Protocol pause bits.
    pub pause_flags: u8,
    /// Queued protocol change: (eta, parameters).
    #[serde(serialize_with = "debug_str")]
    pub pending: Option<(i64, ProtocolParams)>,
    /// Markets in index order.
    pub markets: Vec<LiveMarket>,
}

/// One market's live governance state.
#[derive(Clone, Debug, Serialize)]
pub struct LiveMarket {
    /// Market index.
    pub index: u16,
    /// Market PDA.
    pub market: String,
    /// Mint.
    pub mint: String,
    /// Oracle.
    pub oracle: String,
    /// Parameters in force (stored weights).
    #[serde(serialize_with = "debug_str")]
    pub params: MarketParams,
    /// Market flags.
    pub flags: u8,
    /// Queued change: (eta, parameters, oracle).
    #[serde(serialize_with = "debug_str")]
    pub pending: Option<(i64, MarketParams, String)>,
    /// End of a maint-weight shift in progress.
    pub shift_end: Option<i64>,
    /// Liquidations paused until (0: not paused).
    pub liquidation_paused_until: i64,
}

/// The program's parameter structs carry no serde (the on-chain crate stays lean): they are
/// written as their `Debug` text, which names every field.
fn debug_str<T: std::fmt::Debug, S: serde::Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{v:?}"))
}

/// Reads the live governance state.
pub async fn live(chain: &dyn Chain) -> Result<Live> {
    let account = chain.account(&pda::protocol()).await?.ok_or_else(|| {
        anyhow!(
            "no Scalpel protocol at {}: run `scalpel admin apply` first",
            pda::protocol()
        )
    })?;
    let p: Protocol = decode::protocol(&account.data)?;
    let markets = crate::health::markets(chain).await?;
    let none_if_default = |k: Pubkey| (k != Pubkey::default()).then(|| k.to_string());
    Ok(Live {
        admin: p.admin.to_string(),
        pending_admin: none_if_default(p.pending_admin),
        guardian: p.guardian.to_string(),
        params: p.params().map_err(|e| anyhow!("{e}"))?,
        pause_flags: p.pause_flags,
        pending: (p.pending.active != 0).then(|| (p.pending.eta, p.pending_params())),
        markets: markets
            .iter()
            .map(|(k, m)| {
                Ok(LiveMarket {
                    index: m.market_index,
                    market: k.to_string(),
                    mint: m.mint.to_string(),
                    oracle: m.oracle.to_string(),
                    params: m.params().map_err(|e| anyhow!("{e}"))?,
                    flags: m.flags,
                    pending: (m.pending.active != 0).then(|| {
                        (
                            m.pending.eta,
                            m.pending.params(),
                            m.pending.oracle.to_string(),
                        )
                    }),
                    shift_end: (m.shift.active != 0).then_some(m.shift.end_ts),
                    liquidation_paused_until: m.liquidation_paused_until,
                })
            })
            .collect::<Result<Vec<_>>>()?,
    })
}

/// `live` as readable text.
pub fn render(l: &Live) -> String {
    let p = &l.params;
    let mut out = String::new();
    out.push_str(&format!("admin      {}\n", l.admin));
    if let Some(a) = &l.pending_admin {
        out.push_str(&format!("proposed   {a} (must sign admin_accept)\n"));
    }
    out.push_str(&format!("guardian   {}\n", l.guardian));
    out.push_str(&format!(
        "protocol   buffer {} bps, split {}/{}/{} bps, k {} bps, bias cap {} bps, dust {} micro-USD, timelock {} s, shift {} s, pause flags {:#04b}\n",
        p.liquidation_buffer_bps, p.split_bps[0], p.split_bps[1], p.split_bps[2], p.conf_multiplier_bps,
        p.max_conf_bias_bps, p.dust_threshold_micro_usd, p.timelock_secs, p.weight_shift_secs, l.pause_flags
    ));
    if let Some((eta, q)) = &l.pending {
        out.push_str(&format!(
            "  queued   {q:?}, applicable from unix time {eta}\n"
        ));
    }
    for m in &l.markets {
        let q = &m.params;
        out.push_str(&format!(
            "market {}   {} (mint {}, oracle {})\n  weights  asset {}/{} liab {}/{} bps, penalty {} bps, conf ≤ {} bps, ages {}/{} s, caps {}/{}, curve {}@{} +{} +{} bps, flags {:#06b}\n",
            m.index, m.market, m.mint, m.oracle, q.asset_weight_init_bps, q.asset_weight_maint_bps,
            q.liab_weight_init_bps, q.liab_weight_maint_bps, q.liquidation_penalty_bps, q.max_conf_bps,
            q.max_age_secs, q.max_age_liquidation_secs, q.deposit_cap, q.borrow_cap, q.base_rate_bps,
            q.optimal_utilization_bps, q.slope1_bps, q.slope2_bps, m.flags
        ));
        if m.flags & scalpel::state::MARKET_QUARANTINED != 0 {
            out.push_str(
                "  listing  quarantined: no collateral value and no borrowing until its listed parameters apply\n",
            );
        }
        if let Some((eta, q, oracle)) = &m.pending {
            out.push_str(&format!(
                "  queued   {q:?} with oracle {oracle}, applicable from unix time {eta}\n"
            ));
        }
        if let Some(end) = m.shift_end {
            out.push_str(&format!(
                "  shift    maintenance weights moving to target until unix time {end}\n"
            ));
        }
        if m.liquidation_paused_until > 0 {
            out.push_str(&format!(
                "  paused   liquidations until unix time {}\n",
                m.liquidation_paused_until
            ));
        }
    }
    out
}
