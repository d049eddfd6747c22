//! Steps that send transactions: liquidation, bad debt, a keeper pass, the owners' deposits,
//! withdrawals, borrows and repayments, and governance's parameter changes.

use super::report::{health_json, params_json, signed_balance};
use super::{BalanceKind, BalanceStep, Runner, SetParamsSpec};
use crate::health::{markets as load_markets, pairs_after, pairs_after_take_over};
use crate::units::{format_amount, format_signed, parse_amount};
use crate::{events, ix, token, Chain, TxFailure, TxOutcome};
use anyhow::{anyhow, Context, Result};
use scalpel::events::{BadDebtResolved, BalanceChanged, LiquidationEvent, MarketParamsApplied};
use scalpel::math::liquidation::{alternatives, plan_liquidation};
use scalpel::math::{HealthPosition, I80F48};
use serde_json::{json, Value};
use solana_sdk::{pubkey::Pubkey, signer::Signer};
use std::collections::BTreeMap;

/// Who liquidates in a `liquidate` step.
#[derive(Clone, Copy, Debug)]
pub(super) enum LiquidatedBy<'a> {
    /// The runner's liquidator wallet, with tokens (`liquidate`).
    Wallet,
    /// The named scenario account's margin account (`liquidate_to_account`).
    Account(&'a str),
}

impl Runner {
    pub(super) async fn liquidate(
        &self,
        name: &str,
        asset: &str,
        liab: &str,
        max_repay: Option<&str>,
        by: LiquidatedBy<'_>,
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
        if let LiquidatedBy::Account(l) = by {
            out["mode"] = json!("account");
            out["liquidator"] = json!(l);
        }
        let before = self.inputs(&a.account).await;
        // In account mode the liquidator's health accounts after come from the shared plan and
        // the program's `take_over`.
        let mut take_over = None;
        // What a full and a 50% close-factor liquidation would take, same prices and penalty.
        if let Ok((inputs, h)) = &before {
            out["health_before"] = health_json(h);
            let ai = inputs.iter().position(|r| r.market_index == mi.index);
            let li = inputs.iter().position(|r| r.market_index == mj.index);
            if let (Some(ai), Some(li)) = (ai, li) {
                let hp: Vec<HealthPosition> = inputs.iter().map(|r| r.input).collect();
                if let Ok((full, half)) = alternatives(&hp, ai, li, inputs[ai].penalty.max) {
                    out["alternatives"] = json!({
                        "full": {"repaid": format_amount(full.repay, mj.spec.decimals), "seized": format_amount(full.seized, mi.spec.decimals)},
                        "close_factor_50": {"repaid": format_amount(half.repay, mj.spec.decimals), "seized": format_amount(half.seized, mi.spec.decimals)},
                    });
                }
                match by {
                    LiquidatedBy::Wallet => {
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
                    LiquidatedBy::Account(_) => {
                        let params = self
                            .protocol()
                            .await?
                            .liquidation_params()
                            .map_err(|e| anyhow!("{e}"))?;
                        let being = acc.being_liquidated != 0;
                        take_over = plan_liquidation(
                            &hp,
                            ai,
                            li,
                            inputs[ai].penalty,
                            being,
                            max_native,
                            &params,
                        )
                        .ok()
                        .map(|p| (p.to_liquidator, p.repay));
                    }
                }
            }
        }
        let (ixs, signer) = match by {
            LiquidatedBy::Wallet => {
                let l = &self.liquidator;
                let accounts = ix::LiquidateAccounts {
                    liquidatee: a.account,
                    asset_mint: mi.mint,
                    liab_mint: mj.mint,
                    liquidator: l.key.pubkey(),
                    liquidator_liab_token: l.tokens[liab],
                    liquidator_asset_token: l.tokens[asset],
                };
                (ix::liquidate(&accounts, max_native, &pairs), &l.key)
            }
            LiquidatedBy::Account(lname) => {
                let l = self.account(lname)?;
                let mine = self.margin(&l.account).await?;
                let now = self.chain.clock().await?.unix_timestamp;
                // Without a plan the program refuses; its current accounts are then enough.
                let after = match take_over {
                    Some((collateral, debt)) => pairs_after_take_over(
                        &mine,
                        &markets,
                        (mi.index, collateral),
                        (mj.index, debt),
                        now,
                    )?,
                    None => pairs_after(&mine, &markets, None, None)?,
                };
                let accounts = ix::LiquidateToAccountAccounts {
                    liquidatee: a.account,
                    asset_mint: mi.mint,
                    liab_mint: mj.mint,
                    liquidator: l.key.pubkey(),
                    liquidator_account: l.account,
                };
                (
                    ix::liquidate_to_account(&accounts, max_native, &pairs, &after),
                    &l.key,
                )
            }
        };
        match self.chain.send(&[ixs], &[&self.admin, signer]).await? {
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
                out["penalty"] = json!(format!("{:.6}", I80F48::from_bits(e.penalty)));
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

    pub(super) async fn bad_debt(&self, name: &str, symbol: &str) -> Result<Value> {
        let a = self.account(name)?;
        let m = self.market(symbol)?;
        let acc = self.margin(&a.account).await?;
        let markets = load_markets(&self.chain).await?;
        let pairs = pairs_after(&acc, &markets, None, None)?;
        let mut out = json!({"kind": "bad_debt_resolve", "account": name, "market": symbol});
        match self
            .chain
            .send(
                &[ix::bad_debt_resolve(&a.account, &m.mint, &pairs)],
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

    /// One keeper pass; each liquidation is reported with what a full liquidation of the same
    /// pair would have taken from the account before the pass.
    pub(super) async fn keeper(&self) -> Result<Value> {
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
                    if let Ok((full, half)) = alternatives(&hp, ai, li, inputs[ai].penalty.max) {
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
                "compute_units": summary.compute_units,
            },
            "liquidations": liqs,
        }))
    }

    /// Sends one deposit, withdrawal, borrow or repayment of `name`'s owner, after minting to
    /// its wallet what a deposit or repayment lacks (repay `"all"`: the debt at the index accrued
    /// to now). Health pairs are the ones after: a borrow opens the market's slot, a withdrawal
    /// of the whole deposit closes it. The program's refusal is a result, not an error.
    pub(super) async fn send_balance(
        &self,
        kind: BalanceKind,
        name: &str,
        symbol: &str,
        amount: &str,
    ) -> Result<BalanceSent> {
        let a = self.account(name)?;
        let m = self.market(symbol)?;
        let native = kind.amount(amount, m.spec.decimals)?;
        let acc = self.margin(&a.account).await?;
        let markets = load_markets(&self.chain).await?;
        let market = self.market_account(m).await?;
        let now = self.chain.clock().await?.unix_timestamp;
        let accrued = market.accrued(now).map_err(|e| anyhow!("{e}"))?;
        let shares = acc
            .find(m.index)
            .map(|slot| acc.positions[slot].shares())
            .unwrap_or(I80F48::ZERO);
        let mv = self.mv(a, m);
        let (instruction, need) = match kind {
            BalanceKind::Deposit => (ix::deposit(&mv, native), native),
            BalanceKind::Repay => {
                let need = if native != u64::MAX {
                    native
                } else if shares < I80F48::ZERO {
                    scalpel::math::shares::debt_balance(-shares, accrued.borrow_index)
                        .map_err(|e| anyhow!("{e}"))?
                } else {
                    0
                };
                (ix::repay(&mv, native), need)
            }
            BalanceKind::Withdraw => {
                let whole = native == u64::MAX
                    || (shares > I80F48::ZERO
                        && scalpel::math::shares::deposit_balance(shares, accrued.deposit_index)
                            .map_err(|e| anyhow!("{e}"))?
                            == native);
                let pairs = pairs_after(&acc, &markets, None, whole.then_some(m.index))?;
                (ix::withdraw(&mv, native, &pairs), 0)
            }
            BalanceKind::Borrow => {
                // No free slot: the current pairs, and the program names the refusal.
                let pairs = pairs_after(&acc, &markets, Some(m.index), None)
                    .or_else(|_| pairs_after(&acc, &markets, None, None))?;
                (ix::borrow(&mv, native, &pairs), 0)
            }
        };
        let wallet = a.tokens[symbol];
        let minted = need.saturating_sub(token::balance(&self.chain, &wallet).await?);
        if minted > 0 {
            token::mint_to(
                &self.chain,
                &self.admin,
                &self.mint_authority,
                &m.mint,
                &wallet,
                minted,
            )
            .await?;
        }
        let result = self
            .chain
            .send(&[instruction], &[&self.admin, &a.key])
            .await?;
        Ok(BalanceSent { minted, result })
    }

    /// A `deposit`, `withdraw`, `borrow` or `repay` step, reported with the account's position,
    /// flag and health after it (unchanged when refused).
    pub(super) async fn balance_step(&self, kind: BalanceKind, b: &BalanceStep) -> Result<Value> {
        let sent = self
            .send_balance(kind, &b.account, &b.market, &b.amount)
            .await?;
        let m = self.market(&b.market)?;
        let d = m.spec.decimals;
        let mut out = json!({
            "kind": kind.name(),
            "account": b.account,
            "market": b.market,
            "amount": b.amount,
            "minted": format_amount(sent.minted, d),
        });
        match &sent.result {
            Ok(o) => {
                let e = events::parse::<BalanceChanged>(&o.logs)
                    .into_iter()
                    .next()
                    .ok_or_else(|| anyhow!("no BalanceChanged event"))?;
                out["ok"] = json!(true);
                out["moved"] = json!(format_amount(e.amount, d));
            }
            Err(f) => {
                out["ok"] = json!(false);
                out["error"] = json!(f.name);
            }
        }
        let a = self.account(&b.account)?;
        let acc = self.margin(&a.account).await?;
        let market = self.market_account(m).await?;
        let native = match acc.find(m.index) {
            Some(slot) => signed_balance(acc.positions[slot].shares(), &market)?,
            None => 0,
        };
        out["balance_after"] = json!(format_signed(native, d));
        out["being_liquidated"] = json!(acc.being_liquidated != 0);
        out["health_after"] = self.health_value(&a.account).await;
        Ok(out)
    }

    /// A `set_params` step: the market's parameters in force with the given ones replaced,
    /// queued by the runner's admin; the clock then moves on by the protocol's timelock, every
    /// price is published again at the new time, and the change is applied. A tightening of the
    /// maintenance weights then shifts as the program shifts it.
    pub(super) async fn set_params(&self, spec: &SetParamsSpec) -> Result<Value> {
        let m = self.market(&spec.market)?;
        let market = self.market_account(m).await?;
        let current = market.params().map_err(|e| anyhow!("{e}"))?;
        let params = spec
            .params
            .apply(current, m.spec.decimals)
            .with_context(|| format!("set_params of {}", spec.market))?;
        let queued_at = self.chain.clock().await?.unix_timestamp;
        let mut out = json!({
            "kind": "set_params",
            "market": spec.market,
            "params": params_json(&params, m.spec.decimals),
            "queued_at": queued_at,
        });
        let queue = ix::params_queue_market(
            &self.admin.pubkey(),
            &m.mint,
            &market.oracle,
            market.oracle_kind,
            market.feed_id,
            params,
        );
        if let Err(f) = self.chain.send(&[queue], &[&self.admin]).await? {
            out["ok"] = json!(false);
            out["error"] = json!(f.name);
            return Ok(out);
        }
        let timelock = self.protocol().await?.timelock_secs;
        self.chain.advance_time(timelock as i64).await?;
        self.republish_prices().await?;
        let now = self.chain.clock().await?.unix_timestamp;
        let apply = ix::params_apply_market(&m.mint, &market.oracle);
        match self.chain.send(&[apply], &[&self.admin]).await? {
            Ok(o) => {
                let e = events::parse::<MarketParamsApplied>(&o.logs)
                    .into_iter()
                    .next()
                    .ok_or_else(|| anyhow!("no MarketParamsApplied event"))?;
                let after = self.market_account(m).await?;
                out["ok"] = json!(true);
                out["params"] = params_json(&e.new, m.spec.decimals);
                out["applied_at"] = json!(now);
                out["shift_end"] = json!((e.shift_end != 0).then_some(e.shift_end));
                out["penalty_bps_in_force"] = json!(after.penalty_bps_at(now));
            }
            Err(f) => {
                out["ok"] = json!(false);
                out["error"] = json!(f.name);
            }
        }
        Ok(out)
    }
}

/// What [`Runner::send_balance`] did.
pub(super) struct BalanceSent {
    /// Native units minted to the owner's wallet first.
    pub minted: u64,
    /// The transaction, or the program's refusal.
    pub result: Result<TxOutcome, TxFailure>,
}
