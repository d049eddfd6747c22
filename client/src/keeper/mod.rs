//! The liquidator bot's core: scan every margin account with the program's own math, rank the
//! liquidatable ones by deficit, plan the pair sequence per account (chaining pairs when a
//! collateral runs out) within what the bot can fund, build transactions with compute-budget
//! instructions, re-check by simulation, check the profit, send with retries, back off from
//! accounts that keep failing, and never stop on one bad account or RPC error. The same code
//! runs against a cluster (`RpcChain`) and in-process.
//!
//! Two modes ([`Mode`]): `wallet` repays from the bot's token accounts (`liquidate`), `account`
//! settles in the bot's own margin account (`liquidate_to_account`), so the bot needs no token
//! inventory; the repay is then sized so that the account keeps `health_init ≥ 0`.

/// Retries a chain read with exponential backoff on transport errors (defined before the
/// modules that use it).
macro_rules! retry {
    ($self:ident, $call:expr) => {{
        let mut delay = $self.cfg.backoff;
        let mut attempt = 1;
        loop {
            match $call.await {
                Ok(v) => break Ok(v),
                Err(e) if attempt < $self.cfg.max_attempts.max(1) => {
                    tracing::warn!(attempt, error = %e, "read failed; backing off");
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2);
                    attempt += 1;
                }
                Err(e) => break Err(e),
            }
        }
    }};
}

pub mod backoff;
pub mod config;
mod plan;
pub mod profit;
mod scan;
mod send;
pub mod summary;
mod view;

pub use backoff::Backoff;
pub use config::{KeeperConfig, KeeperFile, Mode, ProfitConfig};
pub use plan::{PlannedPair, TargetPlan};
pub use profit::{FeePrice, Gain, Profit};
pub use scan::{BadDebtStep, Target};
use send::Stop;
pub use summary::{LiquidationEventSummary, PassSummary, Skipped};
pub use view::{ChainView, Funds};

use crate::health::{pairs_after, resolve_positions, ResolvedInput};
use crate::token::{ata, create_ata_idempotent};
use crate::{chain::TxFailure, decode, events, ix, pda, Chain};
use anchor_lang::Discriminator;
use anyhow::{anyhow, Result};
use scalpel::events::LiquidationEvent;
use scalpel::health_accounts::PriceAge;
use scalpel::math::liquidation::{
    plan_liquidation, LiquidationParams, LiquidationPlan, PenaltyCurve,
};
use scalpel::math::{compute_health, token_value, HealthPosition, I80F48};
use scalpel::state::{MarginAccount, Market, Protocol};
use solana_sdk::{
    account::Account,
    compute_budget::ComputeBudgetInstruction,
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// Signatures on a keeper transaction: the bot's.
const SIGNATURES: u64 = 1;

/// The liquidator bot.
pub struct Keeper<'a> {
    chain: &'a dyn Chain,
    liquidator: &'a Keypair,
    cfg: KeeperConfig,
    backoff: Mutex<Backoff>,
}

/// A USD amount for display and the summary (f64 only there; the checks stay fixed point).
fn usd(v: I80F48) -> f64 {
    v.to_num::<f64>()
}

impl<'a> Keeper<'a> {
    /// A bot signing with `liquidator`.
    pub fn new(chain: &'a dyn Chain, liquidator: &'a Keypair, cfg: KeeperConfig) -> Self {
        Self {
            chain,
            liquidator,
            backoff: Mutex::new(Backoff::new(cfg.max_backoff_passes)),
            cfg,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &KeeperConfig {
        &self.cfg
    }

    /// Failures in a row and passes still to sit out of `account`, if it has failed.
    pub fn backoff_state(&self, account: &Pubkey) -> Option<(u32, u32)> {
        self.backoff().state(account)
    }

    /// The failure records (a panic elsewhere while holding them leaves them usable).
    fn backoff(&self) -> std::sync::MutexGuard<'_, Backoff> {
        self.backoff.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Account mode's margin account: `["margin", bot, account_index]`.
    pub fn liquidator_account(&self) -> Pubkey {
        pda::margin_account(&self.liquidator.pubkey(), self.cfg.account_index)
    }

    /// One pass: scan, rank, plan within the bot's funds, re-check, check the profit, send.
    /// Errors on single accounts are counted, not raised.
    pub async fn pass(&self) -> Result<PassSummary> {
        // One read of the markets serves the funds, the scan and the instructions.
        let markets = retry!(self, crate::health::markets(self.chain))?;
        let mut funds = self.funds(&markets).await?;
        let funds_at_start = funds.fingerprint();
        let view = self.view(&markets).await?;
        let (scanned, targets, failures) = self.scan(&view).await?;
        let sol = profit::fee_price(&self.cfg.profit, &markets, &view.oracles, view.now);
        let mut s = PassSummary {
            mode: self.cfg.mode.to_string(),
            scanned,
            liquidatable: targets.len(),
            failures,
            ..PassSummary::default()
        };
        let live: HashSet<Pubkey> = targets.iter().map(|t| t.account).collect();
        self.backoff().retain(&live);
        let me = self.liquidator.pubkey();
        for t in &targets {
            if t.owner == me {
                s.skipped.own_account += 1;
                continue;
            }
            if self
                .backoff()
                .skip(&t.account, t.fingerprint, funds_at_start)
            {
                tracing::debug!(account = %t.account, "backing off");
                s.skipped.backing_off += 1;
                continue;
            }
            let (landed, stop) = if t.bad_debt.is_empty() {
                self.liquidate(&view, t, &mut funds, sol, &markets, &mut s)
                    .await
            } else {
                self.resolve(t, &mut s).await
            };
            if landed {
                s.liquidated += usize::from(t.bad_debt.is_empty());
                self.backoff().succeeded(&t.account);
            }
            let Some(stop) = stop else { continue };
            // What failed backs off, unless part of the account's liquidation landed (its data
            // changed: the next pass sees a new account). Unprofitable plans are checked again
            // every pass (prices move); transport errors say nothing about the account.
            let backs_off = match stop {
                Stop::Unprofitable => {
                    s.skipped.unprofitable += 1;
                    None
                }
                Stop::Unfunded => {
                    match self.cfg.mode {
                        Mode::Wallet => s.skipped.insufficient_inventory += 1,
                        Mode::Account => s.skipped.insufficient_account_health += 1,
                    }
                    Some(Some(funds_at_start))
                }
                Stop::NoPlan => {
                    s.skipped.no_plan += 1;
                    Some(None)
                }
                Stop::Refused(name) => {
                    *s.skipped.recheck_refused.entry(name).or_default() += 1;
                    s.failures += 1;
                    Some(None)
                }
                Stop::SendRefused(name) => {
                    *s.skipped.send_refused.entry(name).or_default() += 1;
                    s.failures += 1;
                    Some(None)
                }
                Stop::Rpc => {
                    s.skipped.rpc_errors += 1;
                    s.failures += 1;
                    None
                }
            };
            if let (Some(funds), false) = (backs_off, landed) {
                self.backoff().failed(&t.account, t.fingerprint, funds);
            }
        }
        tracing::info!(
            mode = %self.cfg.mode,
            scanned = s.scanned,
            liquidatable = s.liquidatable,
            liquidated = s.liquidated,
            liquidations = s.liquidations,
            repaid_usd = s.repaid_usd,
            bonus_usd = s.bonus_usd,
            profit_usd = s.profit_usd,
            bad_debt_resolved = s.bad_debt_resolved,
            failures = s.failures,
            skipped = s.skipped.total(),
            skip_reasons = %s.skipped,
            skipped_unprofitable = s.skipped.unprofitable,
            skipped_backing_off = s.skipped.backing_off,
            skipped_insufficient_inventory = s.skipped.insufficient_inventory,
            skipped_insufficient_account_health = s.skipped.insufficient_account_health,
            skipped_no_plan = s.skipped.no_plan,
            skipped_own_account = s.skipped.own_account,
            skipped_rpc_errors = s.skipped.rpc_errors,
            recheck_refused = %Skipped::by_name(&s.skipped.recheck_refused),
            send_refused = %Skipped::by_name(&s.skipped.send_refused),
            "keeper pass"
        );
        Ok(s)
    }
}
