//! State read back as JSON: health, and a snapshot of every account and market.

use super::Runner;
use crate::health::markets as load_markets;
use crate::token;
use crate::units::{format_amount, format_signed, usd};
use anyhow::{anyhow, Result};
use scalpel::math::{Health, I80F48};
use serde_json::{json, Value};

pub(super) fn health_json(h: &Health) -> Value {
    json!({
        "init": usd(h.init),
        "maint": usd(h.maint),
        "end": usd(h.end),
        "ratio": h.ratio().map(|r| format!("{r:.6}")),
    })
}

impl Runner {
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
