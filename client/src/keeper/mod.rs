//! The liquidator bot's core: scan every margin account with the program's own math, rank the
//! liquidatable ones by deficit, plan the pair sequence per account (chaining pairs when a
//! collateral runs out), check the bot's balances, build transactions with compute-budget
//! instructions, re-check by simulation, send with retries and backoff, and never stop on one bad
//! account or RPC error. The same code runs against a cluster (`RpcChain`) and in-process.

use crate::health::{resolve_positions, ResolvedInput};
use crate::token::{ata, create_ata_idempotent};
use crate::{chain::TxFailure, decode, events, ix, pda, Chain};
use anchor_lang::Discriminator;
use anyhow::{anyhow, Result};
use scalpel::events::LiquidationEvent;
use scalpel::health_accounts::PriceAge;
use scalpel::math::liquidation::{plan_liquidation, LiquidationPlan};
use scalpel::math::{compute_health, token_value, HealthPosition, I80F48};
use scalpel::state::{MarginAccount, Market, Protocol};
use serde::Serialize;
use solana_sdk::{
    compute_budget::ComputeBudgetInstruction,
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};
use std::collections::HashMap;
use std::time::Duration;

/// How the bot behaves.
#[derive(Clone, Debug)]
pub struct KeeperConfig {
    /// Plan and simulate but send nothing.
    pub dry_run: bool,
    /// Compute-unit price, micro-lamports (priority fee).
    pub priority_fee_micro_lamports: u64,
    /// Compute-unit limit per transaction.
    pub compute_unit_limit: u32,
    /// Send attempts per transaction on transport errors.
    pub max_attempts: u32,
    /// First backoff; doubles per retry.
    pub backoff: Duration,
    /// Most pairs planned per account in one pass.
    pub max_pairs_per_account: usize,
    /// Most liquidate instructions per transaction.
    pub max_ixs_per_tx: usize,
}

impl Default for KeeperConfig {
    fn default() -> Self {
        Self {
            dry_run: false,
            priority_fee_micro_lamports: 0,
            compute_unit_limit: 1_400_000,
            max_attempts: 4,
            backoff: Duration::from_millis(200),
            max_pairs_per_account: 8,
            max_ixs_per_tx: 2,
        }
    }
}

/// What one pass did; the numbers a log line and the tests check.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct PassSummary {
    /// Margin accounts read.
    pub scanned: usize,
    /// Liquidatable at the start of the pass.
    pub liquidatable: usize,
    /// Accounts that received at least one liquidation.
    pub liquidated: usize,
    /// `liquidate` instructions that landed.
    pub liquidations: usize,
    /// USD value repaid (at oracle prices).
    pub repaid_usd: f64,
    /// USD value of the liquidator's bonus (collateral received minus repaid).
    pub bonus_usd: f64,
    /// Accounts, transactions or reads that failed (the pass continued).
    pub failures: usize,
    /// Pairs skipped because the bot holds none of the liability token.
    pub skipped_no_funds: usize,
    /// Insolvent accounts (no collateral left) whose debt was sent to `bad_debt_resolve`.
    pub bad_debt_resolved: usize,
    /// Compute units the landed liquidation transactions consumed (as the node reports them;
    /// real SBF units on a cluster or with `SBF_OUT_DIR`, a builtin's flat cost natively).
    pub compute_units: u64,
    /// Landed liquidations, as the program's events report them.
    #[serde(skip)]
    pub events: Vec<LiquidationEventSummary>,
}

/// One landed liquidation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LiquidationEventSummary {
    /// Liquidated account.
    pub account: Pubkey,
    /// Asset market index.
    pub asset_index: u16,
    /// Liability market index.
    pub liab_index: u16,
    /// `x`.
    pub repaid: u64,
    /// `S`.
    pub seized: u64,
    /// Liquidator's share.
    pub to_liquidator: u64,
    /// Insurance share.
    pub to_insurance: u64,
    /// Treasury share.
    pub to_treasury: u64,
    /// `health_end` after (USD).
    pub end_after: f64,
}

/// One planned `liquidate` call.
#[derive(Clone, Debug)]
pub struct PlannedPair {
    /// Collateral market index.
    pub asset_index: u16,
    /// Liability market index.
    pub liab_index: u16,
    /// What the program will execute.
    pub plan: LiquidationPlan,
    /// USD value of the repay at the scanned price.
    pub repaid_usd: f64,
    /// USD value of the liquidator's share minus the repay.
    pub bonus_usd: f64,
}

/// A liquidatable account and its planned pairs.
#[derive(Clone, Debug)]
pub struct Target {
    /// Margin account.
    pub account: Pubkey,
    /// Owner (may not liquidate itself).
    pub owner: Pubkey,
    /// `−health_end`, USD: the ranking key.
    pub deficit: I80F48,
    /// The pairs, in order, with the plan each will execute.
    pub steps: Vec<PlannedPair>,
    /// Health pairs before each step.
    pub health: Vec<Vec<(Pubkey, Pubkey)>>,
    /// Insolvent with no collateral left worth the dust threshold: resolve the debt in these
    /// markets instead, in order.
    pub bad_debt: Vec<BadDebtStep>,
}

/// One `bad_debt_resolve` of a target.
#[derive(Clone, Debug)]
pub struct BadDebtStep {
    /// Mint of the debt's market.
    pub mint: Pubkey,
    /// Health pairs at that point.
    pub pairs: Vec<(Pubkey, Pubkey)>,
}

/// Retries a chain read with exponential backoff on transport errors.
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

/// Planned pairs (asset index, liability index, plan), the health pairs before each, and how
/// many pairs were skipped for lack of funds.
type PlannedSteps = (Vec<PlannedPair>, Vec<Vec<(Pubkey, Pubkey)>>, usize);

/// The liquidator bot.
pub struct Keeper<'a> {
    chain: &'a dyn Chain,
    liquidator: &'a Keypair,
    cfg: KeeperConfig,
}

fn usd(v: I80F48) -> f64 {
    v.to_num::<f64>()
}

impl<'a> Keeper<'a> {
    /// A bot signing with `liquidator`.
    pub fn new(chain: &'a dyn Chain, liquidator: &'a Keypair, cfg: KeeperConfig) -> Self {
        Self {
            chain,
            liquidator,
            cfg,
        }
    }

    /// Scans and plans without sending: every liquidatable account, ranked by deficit.
    pub async fn scan(
        &self,
        balances: &HashMap<Pubkey, u64>,
        markets: &[(Pubkey, Market)],
    ) -> Result<(usize, Vec<Target>, usize)> {
        let protocol_account = retry!(self, self.chain.account(&pda::protocol()))?
            .ok_or_else(|| anyhow!("no Scalpel protocol on this cluster"))?;
        let protocol: Protocol = decode::protocol(&protocol_account.data)?;
        let params = protocol.liquidation_params().map_err(|e| anyhow!("{e}"))?;
        let oracles = retry!(self, crate::health::oracles(self.chain, markets))?;
        let now = retry!(self, self.chain.clock())?.unix_timestamp;
        let by_index: HashMap<u16, (Pubkey, &Market)> = markets
            .iter()
            .map(|(k, m)| (m.market_index, (*k, m)))
            .collect();
        let raw = retry!(
            self,
            self.chain.program_accounts(MarginAccount::DISCRIMINATOR)
        )?;
        let scanned = raw.len();
        let mut failures = 0;
        let mut targets = Vec::new();
        for (key, acc) in raw {
            let account = match decode::margin_account(&acc.data) {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(account = %key, error = %e, "undecodable margin account");
                    failures += 1;
                    continue;
                }
            };
            let slots = match resolve_positions(
                &account,
                markets,
                &oracles,
                now,
                PriceAge::Maintenance,
            ) {
                Ok(slots) => slots,
                Err(e) => {
                    tracing::debug!(account = %key, error = %e, "position not priced; skipping account");
                    continue;
                }
            };
            let inputs: Vec<HealthPosition> = slots.iter().map(|s| s.input).collect();
            let Ok(h) = compute_health(&inputs, &params.health) else {
                failures += 1;
                continue;
            };
            let being = account.being_liquidated != 0;
            if !h.is_liquidatable(being) {
                continue;
            }
            if h.is_bad_debt(params.dust_threshold) {
                // Nothing left to seize: the debt goes to insurance and depositors. The first
                // resolution forfeits every deposit to its market's insurance; the rest see
                // debts only.
                let mut remaining: Vec<ResolvedInput> = slots.clone();
                let mut bad_debt = Vec::new();
                for s in slots.iter().filter(|s| s.input.debt > 0) {
                    let pairs = remaining
                        .iter()
                        .filter_map(|r| by_index.get(&r.market_index).map(|(k, m)| (*k, m.oracle)))
                        .collect();
                    if let Some((_, m)) = by_index.get(&s.market_index) {
                        bad_debt.push(BadDebtStep {
                            mint: m.mint,
                            pairs,
                        });
                    }
                    remaining
                        .retain(|r| r.market_index != s.market_index && r.shares < I80F48::ZERO);
                }
                targets.push(Target {
                    account: key,
                    owner: account.owner,
                    deficit: I80F48::ZERO.saturating_sub(h.end),
                    steps: Vec::new(),
                    health: Vec::new(),
                    bad_debt,
                });
                continue;
            }
            let (steps, health, skipped) =
                self.plan_steps(&slots, being, &params, &by_index, balances);
            if steps.is_empty() && skipped == 0 {
                continue;
            }
            targets.push(Target {
                account: key,
                owner: account.owner,
                deficit: I80F48::ZERO.saturating_sub(h.end),
                steps,
                health,
                bad_debt: Vec::new(),
            });
        }
        targets.sort_by_key(|t| std::cmp::Reverse(t.deficit));
        Ok((scanned, targets, failures))
    }

    /// Chains pairs until `health_end ≥ 0`: each step takes the plan that restores the most
    /// health (a `Need` plan finishes the account), applies it to a copy of the balances and goes
    /// on while the account stays below target.
    fn plan_steps(
        &self,
        slots: &[ResolvedInput],
        mut being: bool,
        params: &scalpel::math::liquidation::LiquidationParams,
        by_index: &HashMap<u16, (Pubkey, &Market)>,
        balances: &HashMap<Pubkey, u64>,
    ) -> PlannedSteps {
        let mut slots = slots.to_vec();
        let mut budget = balances.clone();
        let mut steps = Vec::new();
        let mut health = Vec::new();
        let mut skipped = 0;
        for _ in 0..self.cfg.max_pairs_per_account {
            let inputs: Vec<HealthPosition> = slots.iter().map(|s| s.input).collect();
            let mut best: Option<(usize, usize, LiquidationPlan)> = None;
            // `liquidate` refuses a pair whose prices fail a check: plan valid pairs only.
            for (li, l) in slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.input.debt > 0 && s.priced())
            {
                let mint = by_index
                    .get(&l.market_index)
                    .map(|(_, m)| m.mint)
                    .unwrap_or_default();
                let have = budget.get(&mint).copied().unwrap_or(0);
                if have == 0 {
                    skipped += 1;
                    continue;
                }
                for (ai, a) in slots
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.input.deposit > 0 && s.priced())
                {
                    if let Ok(p) = plan_liquidation(&inputs, ai, li, a.penalty, being, have, params)
                    {
                        let better = match &best {
                            None => true,
                            Some((_, _, b)) => p.health_after.end > b.health_after.end,
                        };
                        if better {
                            best = Some((ai, li, p));
                        }
                    }
                }
            }
            let Some((ai, li, plan)) = best else { break };
            health.push(
                slots
                    .iter()
                    .filter_map(|s| by_index.get(&s.market_index).map(|(k, m)| (*k, m.oracle)))
                    .collect(),
            );
            let liab_mint = by_index
                .get(&slots[li].market_index)
                .map(|(_, m)| m.mint)
                .unwrap_or_default();
            if let Some(b) = budget.get_mut(&liab_mint) {
                *b = b.saturating_sub(plan.repay);
            }
            let (a, l) = (slots[ai].input, slots[li].input);
            let repaid = token_value(plan.repay, l.price, l.decimals).unwrap_or(I80F48::ZERO);
            let got = token_value(plan.to_liquidator, a.price, a.decimals).unwrap_or(I80F48::ZERO);
            steps.push(PlannedPair {
                asset_index: slots[ai].market_index,
                liab_index: slots[li].market_index,
                plan,
                repaid_usd: usd(repaid),
                bonus_usd: usd(got) - usd(repaid),
            });
            slots[ai].input.deposit = slots[ai].input.deposit.saturating_sub(plan.seized);
            slots[li].input.debt = slots[li].input.debt.saturating_sub(plan.repay);
            // Emptied positions leave the account (and the next step's health accounts).
            slots.retain(|s| s.input.deposit > 0 || s.input.debt > 0);
            being = plan.health_after.end < I80F48::ZERO;
            if !being {
                break;
            }
        }
        (steps, health, skipped)
    }

    /// The bot's balance of every market mint (its associated token accounts).
    pub async fn balances(&self, markets: &[(Pubkey, Market)]) -> Result<HashMap<Pubkey, u64>> {
        let mut out = HashMap::new();
        for (_, m) in markets {
            let me = self.liquidator.pubkey();
            let amount = retry!(self, crate::token::balance(self.chain, &ata(&me, &m.mint)))?;
            out.insert(m.mint, amount);
        }
        Ok(out)
    }

    /// Creates the bot's associated token accounts for every market that lacks one.
    pub async fn ensure_token_accounts(&self) -> Result<usize> {
        let me = self.liquidator.pubkey();
        let markets = crate::health::markets(self.chain).await?;
        let mut created = 0;
        for (_, m) in &markets {
            if self.chain.account(&ata(&me, &m.mint)).await?.is_none() {
                let ixs = [create_ata_idempotent(&me, &me, &m.mint)];
                self.chain
                    .send(&ixs, &[self.liquidator])
                    .await?
                    .map_err(|f| anyhow!("creating the token account of {}: {}", m.mint, f.name))?;
                created += 1;
            }
        }
        Ok(created)
    }

    /// One pass: scan, rank, re-check, send. Errors on single accounts are counted, not raised.
    pub async fn pass(&self) -> Result<PassSummary> {
        // One read of the markets serves the balances, the scan and the instructions.
        let markets = retry!(self, crate::health::markets(self.chain))?;
        let balances = self.balances(&markets).await?;
        let (scanned, targets, failures) = self.scan(&balances, &markets).await?;
        let mint_of: HashMap<u16, Pubkey> = markets
            .iter()
            .map(|(_, m)| (m.market_index, m.mint))
            .collect();
        let mut s = PassSummary {
            scanned,
            liquidatable: targets.len(),
            failures,
            ..PassSummary::default()
        };
        let me = self.liquidator.pubkey();
        for t in &targets {
            if t.owner == me {
                continue;
            }
            if !t.bad_debt.is_empty() {
                for b in &t.bad_debt {
                    let mint = &b.mint;
                    let ixs = [ix::bad_debt_resolve(&t.account, mint, &b.pairs)];
                    if self.cfg.dry_run {
                        tracing::info!(account = %t.account, market = %mint, "dry run: would resolve bad debt");
                        continue;
                    }
                    match self.send_with_retry(&ixs).await {
                        Ok(_) => {
                            s.bad_debt_resolved += 1;
                            tracing::info!(account = %t.account, market = %mint, "bad debt resolved");
                        }
                        Err(e) => {
                            tracing::warn!(account = %t.account, error = %e, "bad debt resolution failed");
                            s.failures += 1;
                            break;
                        }
                    }
                }
                continue;
            }
            if t.steps.is_empty() {
                s.skipped_no_funds += 1;
                continue;
            }
            let mut landed_here = false;
            let all: Vec<(Instruction, &PlannedPair)> = t
                .steps
                .iter()
                .zip(&t.health)
                .filter_map(|(step, pairs)| {
                    let (ai, li, plan) = (&step.asset_index, &step.liab_index, &step.plan);
                    let (asset_mint, liab_mint) = (mint_of.get(ai)?, mint_of.get(li)?);
                    let accounts = ix::LiquidateAccounts {
                        liquidatee: t.account,
                        asset_mint: *asset_mint,
                        liab_mint: *liab_mint,
                        liquidator: me,
                        liquidator_liab_token: ata(&me, liab_mint),
                        liquidator_asset_token: ata(&me, asset_mint),
                    };
                    Some((ix::liquidate(&accounts, plan.repay, pairs), step))
                })
                .collect();
            for chunk_steps in all.chunks(self.cfg.max_ixs_per_tx.max(1)) {
                let chunk: Vec<Instruction> = chunk_steps.iter().map(|(i, _)| i.clone()).collect();
                let mut ixs = vec![
                    ComputeBudgetInstruction::set_compute_unit_limit(self.cfg.compute_unit_limit),
                    ComputeBudgetInstruction::set_compute_unit_price(
                        self.cfg.priority_fee_micro_lamports,
                    ),
                ];
                ixs.extend_from_slice(&chunk);
                // Re-check: prices or the account may have moved since the scan. The simulation's
                // units then size the limit (with a margin), so priority fees pay for no more.
                match retry!(self, self.chain.simulate(&ixs, &[self.liquidator])) {
                    Ok(Ok(sim)) => {
                        if sim.compute_units > 0 {
                            let limit = sim.compute_units.saturating_mul(11) / 10 + 1_000;
                            let limit = limit.min(u64::from(self.cfg.compute_unit_limit)) as u32;
                            ixs[0] = ComputeBudgetInstruction::set_compute_unit_limit(limit);
                        }
                    }
                    Ok(Err(f)) => {
                        tracing::info!(account = %t.account, error = %f.name, "re-check refused; skipping");
                        s.failures += 1;
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(account = %t.account, error = %e, "simulation failed; skipping");
                        s.failures += 1;
                        break;
                    }
                }
                if self.cfg.dry_run {
                    tracing::info!(account = %t.account, instructions = chunk.len(), "dry run: would liquidate");
                    continue;
                }
                match self.send_with_retry(&ixs).await {
                    Ok(outcome) => {
                        let evs = events::parse::<LiquidationEvent>(&outcome.logs);
                        for e in &evs {
                            let (ai, li) = (
                                index_of(&markets, &e.asset_market),
                                index_of(&markets, &e.liab_market),
                            );
                            s.repaid_usd += usd(value(e.repaid, e.liab_price, &markets, li));
                            s.bonus_usd += usd(value(e.to_liquidator, e.asset_price, &markets, ai))
                                - usd(value(e.repaid, e.liab_price, &markets, li));
                            s.events.push(LiquidationEventSummary {
                                account: e.liquidatee,
                                asset_index: ai,
                                liab_index: li,
                                repaid: e.repaid,
                                seized: e.seized,
                                to_liquidator: e.to_liquidator,
                                to_insurance: e.to_insurance,
                                to_treasury: e.to_treasury,
                                end_after: usd(I80F48::from_bits(e.end_after)),
                            });
                        }
                        if evs.is_empty() {
                            // An RPC send returns no logs: account with the plans that landed
                            // (the program executed exactly the plan the re-check simulated).
                            for (_, p) in chunk_steps {
                                s.repaid_usd += p.repaid_usd;
                                s.bonus_usd += p.bonus_usd;
                                s.events.push(LiquidationEventSummary {
                                    account: t.account,
                                    asset_index: p.asset_index,
                                    liab_index: p.liab_index,
                                    repaid: p.plan.repay,
                                    seized: p.plan.seized,
                                    to_liquidator: p.plan.to_liquidator,
                                    to_insurance: p.plan.to_insurance,
                                    to_treasury: p.plan.to_treasury,
                                    end_after: usd(p.plan.health_after.end),
                                });
                            }
                            s.liquidations += chunk_steps.len();
                        } else {
                            s.liquidations += evs.len();
                        }
                        landed_here = true;
                        s.compute_units += outcome.compute_units;
                        tracing::info!(
                            account = %t.account,
                            liquidations = evs.len(),
                            compute_units = outcome.compute_units,
                            "liquidated"
                        );
                    }
                    Err(e) => {
                        tracing::warn!(account = %t.account, error = %e, "liquidation failed");
                        s.failures += 1;
                        break;
                    }
                }
            }
            if landed_here {
                s.liquidated += 1;
            }
        }
        tracing::info!(
            scanned = s.scanned,
            liquidatable = s.liquidatable,
            liquidated = s.liquidated,
            liquidations = s.liquidations,
            repaid_usd = s.repaid_usd,
            bonus_usd = s.bonus_usd,
            failures = s.failures,
            "keeper pass"
        );
        Ok(s)
    }

    async fn send_with_retry(&self, ixs: &[Instruction]) -> Result<crate::TxOutcome> {
        let mut delay = self.cfg.backoff;
        let mut last = anyhow!("not sent");
        for attempt in 1..=self.cfg.max_attempts.max(1) {
            match self.chain.send(ixs, &[self.liquidator]).await {
                Ok(Ok(o)) => return Ok(o),
                Ok(Err(TxFailure { name, .. })) => return Err(anyhow!("program refused: {name}")),
                Err(e) => {
                    tracing::warn!(attempt, error = %e, "send failed; backing off");
                    last = e;
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2);
                }
            }
        }
        Err(last)
    }
}

fn index_of(markets: &[(Pubkey, Market)], key: &Pubkey) -> u16 {
    markets
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, m)| m.market_index)
        .unwrap_or(u16::MAX)
}

fn value(amount: u64, price_bits: i128, markets: &[(Pubkey, Market)], index: u16) -> I80F48 {
    let decimals = markets
        .iter()
        .find(|(_, m)| m.market_index == index)
        .map(|(_, m)| m.decimals)
        .unwrap_or(0);
    token_value(amount, I80F48::from_bits(price_bits), decimals).unwrap_or(I80F48::ZERO)
}
