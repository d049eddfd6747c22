//! Steps that send transactions: liquidation, bad debt, a keeper pass.

use super::report::health_json;
use super::Runner;
use crate::health::{markets as load_markets, pairs_after};
use crate::units::{format_amount, parse_amount};
use crate::{events, ix, token, Chain};
use anyhow::{anyhow, Result};
use scalpel::events::{BadDebtResolved, LiquidationEvent};
use scalpel::math::liquidation::alternatives;
use scalpel::math::{HealthPosition, I80F48};
use serde_json::{json, Value};
use solana_sdk::{pubkey::Pubkey, signer::Signer};
use std::collections::BTreeMap;

impl Runner {
    pub(super) async fn liquidate(
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
}
