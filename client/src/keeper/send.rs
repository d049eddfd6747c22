//! Working one target: the profit check before and after the re-check simulation, the send
//! with retries, the bookkeeping of what landed, and why the bot stopped ([`Stop`]).

use super::*;

/// Why the bot stopped working on an account, for the summary and the backoff.
pub(super) enum Stop {
    Unprofitable,
    Unfunded,
    NoPlan,
    Refused(String),
    SendRefused(String),
    Rpc,
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

impl Keeper<'_> {
    /// Sends an insolvent account's debts to `bad_debt_resolve` (no profit check: a public-good
    /// call that earns the bot nothing). Whether one landed, and why it stopped if it did.
    pub(super) async fn resolve(&self, t: &Target, s: &mut PassSummary) -> (bool, Option<Stop>) {
        let mut landed = false;
        for b in &t.bad_debt {
            let mint = &b.mint;
            let ixs = [ix::bad_debt_resolve(&t.account, mint, &b.pairs)];
            if self.cfg.dry_run {
                tracing::info!(account = %t.account, market = %mint, "dry run: would resolve bad debt");
                continue;
            }
            match self.send_with_retry(&ixs).await {
                Ok(Ok(_)) => {
                    landed = true;
                    s.bad_debt_resolved += 1;
                    tracing::info!(account = %t.account, market = %mint, "bad debt resolved");
                }
                Ok(Err(f)) => {
                    tracing::warn!(account = %t.account, error = %f.name, "bad debt resolution failed");
                    return (landed, Some(Stop::SendRefused(f.name)));
                }
                Err(e) => {
                    tracing::warn!(account = %t.account, error = %e, "bad debt resolution failed");
                    return (landed, Some(Stop::Rpc));
                }
            }
        }
        (landed, None)
    }

    /// Plans `t` within `funds`, then per transaction: the profit estimate before the
    /// simulation (no priority fee yet), the re-check simulation, the full profit check, the
    /// send. Landed liquidations update `funds`. Whether one landed, and why it stopped if it
    /// stopped short.
    pub(super) async fn liquidate(
        &self,
        view: &ChainView<'_>,
        t: &Target,
        funds: &mut Funds,
        sol: FeePrice,
        markets: &[(Pubkey, Market)],
        s: &mut PassSummary,
    ) -> (bool, Option<Stop>) {
        let planned = self.plan(view, t, funds);
        if planned.steps.is_empty() {
            let stop = if planned.unfunded > 0 {
                Stop::Unfunded
            } else {
                Stop::NoPlan
            };
            return (false, Some(stop));
        }
        let mut landed = false;
        for chunk in planned.steps.chunks(self.cfg.max_ixs_per_tx.max(1)) {
            let profit_cfg = &self.cfg.profit;
            let estimate = |compute| {
                profit::estimate(
                    chunk.iter().map(|p| &p.gain),
                    profit_cfg,
                    sol,
                    SIGNATURES,
                    compute,
                )
            };
            // Before the simulation: the priority fee can only lower the profit.
            match estimate(None) {
                Ok(p) if p.passes(profit_cfg) => {}
                Ok(p) => {
                    tracing::info!(account = %t.account, profit_usd = p.profit_usd, bonus_usd = p.bonus_usd, swap_cost_usd = p.swap_cost_usd, fee_usd = p.fee_usd, min_profit_usd = %profit_cfg.min_profit_usd, "unprofitable; skipping");
                    return (landed, Some(Stop::Unprofitable));
                }
                Err(_) => return (landed, Some(Stop::Unprofitable)),
            }
            let mut ixs = vec![
                ComputeBudgetInstruction::set_compute_unit_limit(self.cfg.compute_unit_limit),
                ComputeBudgetInstruction::set_compute_unit_price(
                    self.cfg.priority_fee_micro_lamports,
                ),
            ];
            ixs.extend(chunk.iter().map(|step| self.instruction(view, t, step)));
            // Re-check: prices or the account may have moved since the scan. The simulation's
            // units then size the limit (with a margin), so priority fees pay for no more.
            let mut limit = u64::from(self.cfg.compute_unit_limit);
            match retry!(self, self.chain.simulate(&ixs, &[self.liquidator])) {
                Ok(Ok(sim)) => {
                    if sim.compute_units > 0 {
                        limit = (sim.compute_units.saturating_mul(11) / 10 + 1_000).min(limit);
                        ixs[0] = ComputeBudgetInstruction::set_compute_unit_limit(limit as u32);
                    }
                }
                Ok(Err(f)) => {
                    tracing::info!(account = %t.account, error = %f.name, "re-check refused; skipping");
                    return (landed, Some(Stop::Refused(f.name)));
                }
                Err(e) => {
                    tracing::warn!(account = %t.account, error = %e, "simulation failed; skipping");
                    return (landed, Some(Stop::Rpc));
                }
            }
            let profit = match estimate(Some((limit, self.cfg.priority_fee_micro_lamports))) {
                Ok(p) if p.passes(profit_cfg) => p,
                Ok(p) => {
                    tracing::info!(account = %t.account, profit_usd = p.profit_usd, bonus_usd = p.bonus_usd, priority_fee_usd = p.priority_fee_usd, swap_cost_usd = p.swap_cost_usd, fee_usd = p.fee_usd, min_profit_usd = %profit_cfg.min_profit_usd, "unprofitable; skipping");
                    return (landed, Some(Stop::Unprofitable));
                }
                Err(_) => return (landed, Some(Stop::Unprofitable)),
            };
            if self.cfg.dry_run {
                tracing::info!(account = %t.account, instructions = chunk.len(), profit_usd = profit.profit_usd, "dry run: would liquidate");
                continue;
            }
            let outcome = match self.send_with_retry(&ixs).await {
                Ok(Ok(o)) => o,
                Ok(Err(f)) => {
                    tracing::warn!(account = %t.account, error = %f.name, "liquidation failed: program refused");
                    return (landed, Some(Stop::SendRefused(f.name)));
                }
                Err(e) => {
                    tracing::warn!(account = %t.account, error = %e, "liquidation failed");
                    return (landed, Some(Stop::Rpc));
                }
            };
            landed = true;
            s.profit_usd += profit.profit_usd;
            self.record(t, chunk, &outcome, markets, s);
            self.commit(view, chunk, funds).await;
            tracing::info!(
                account = %t.account,
                liquidations = chunk.len(),
                compute_units = outcome.compute_units,
                profit_usd = profit.profit_usd,
                "liquidated"
            );
        }
        (landed, None)
    }

    /// Books a landed transaction in the summary, from the program's events when the logs came
    /// back, else from the plans (the program executed exactly the plan the re-check simulated).
    fn record(
        &self,
        t: &Target,
        chunk: &[PlannedPair],
        outcome: &crate::TxOutcome,
        markets: &[(Pubkey, Market)],
        s: &mut PassSummary,
    ) {
        let evs = events::parse::<LiquidationEvent>(&outcome.logs);
        for e in &evs {
            let (ai, li) = (
                index_of(markets, &e.asset_market),
                index_of(markets, &e.liab_market),
            );
            s.repaid_usd += usd(value(e.repaid, e.liab_price, markets, li));
            s.bonus_usd += usd(value(e.to_liquidator, e.asset_price, markets, ai))
                - usd(value(e.repaid, e.liab_price, markets, li));
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
            for p in chunk {
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
            s.liquidations += chunk.len();
        } else {
            s.liquidations += evs.len();
        }
        s.compute_units += outcome.compute_units;
    }

    /// The funds after a landed transaction: the wallet pays the repays and receives the
    /// collateral; the bot's margin account is read again (its plan's state if the read fails).
    async fn commit(&self, view: &ChainView<'_>, chunk: &[PlannedPair], funds: &mut Funds) {
        match funds {
            Funds::Wallet(budget) => {
                for p in chunk {
                    let b = budget.entry(view.mint(p.liab_index)).or_default();
                    *b = b.saturating_sub(p.plan.repay);
                    let b = budget.entry(view.mint(p.asset_index)).or_default();
                    *b = b.saturating_add(p.plan.to_liquidator);
                }
            }
            Funds::Account { key, account } => {
                let read = self.chain.account(key).await.ok().flatten();
                match read.and_then(|a| decode::margin_account(&a.data).ok()) {
                    Some(a) => **account = a,
                    None => {
                        if let Some(after) = chunk.last().and_then(|p| p.liquidator_after.clone()) {
                            *account = after;
                        }
                    }
                }
            }
        }
    }

    /// Sends with retries on transport errors; a program refusal comes back at once.
    async fn send_with_retry(
        &self,
        ixs: &[Instruction],
    ) -> Result<Result<crate::TxOutcome, TxFailure>> {
        let mut delay = self.cfg.backoff;
        let mut last = anyhow!("not sent");
        for attempt in 1..=self.cfg.max_attempts.max(1) {
            match self.chain.send(ixs, &[self.liquidator]).await {
                Ok(r) => return Ok(r),
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
