//! State read back as JSON: health, and a snapshot of every account and market.

use super::{Runner, UNLIMITED};
use crate::health::markets as load_markets;
use crate::token;
use crate::units::{format_amount, format_bps, format_signed, usd};
use anyhow::{anyhow, Result};
use scalpel::math::{Health, I80F48};
use scalpel::params::MarketParams;
use scalpel::state::Market;
use serde_json::{json, Value};
use solana_sdk::pubkey::Pubkey;

pub(super) fn health_json(h: &Health) -> Value {
    json!({
        "init": usd(h.init),
        "maint": usd(h.maint),
        "end": usd(h.end),
        "ratio": h.ratio().map(|r| format!("{r:.6}")),
    })
}

/// A position's signed balance in native units (deposit positive, debt negative) at the
/// market's stored indices.
pub(super) fn signed_balance(shares: I80F48, market: &Market) -> Result<i128> {
    Ok(if shares >= I80F48::ZERO {
        scalpel::math::shares::deposit_balance(shares, market.deposit_index.get())
            .map_err(|e| anyhow!("{e}"))? as i128
    } else {
        -(scalpel::math::shares::debt_balance(-shares, market.borrow_index.get())
            .map_err(|e| anyhow!("{e}"))? as i128)
    })
}

/// Market parameters written as a scenario writes them (weights and rates as fractions, caps in
/// UI units or `"unlimited"`): what a `set_params` step would take to set them again.
/// A micro-USD limit as scenarios write it: USD with 6 decimals, or `"unlimited"`.
fn usd_limit(v: u64) -> String {
    if v == u64::MAX {
        UNLIMITED.to_string()
    } else {
        format_amount(v, 6)
    }
}

pub(super) fn params_json(p: &MarketParams, decimals: u8) -> Value {
    let cap = |c: u64| {
        if c == u64::MAX {
            UNLIMITED.to_string()
        } else {
            format_amount(c, decimals)
        }
    };
    json!({
        "asset_weight_init": format_bps(p.asset_weight_init_bps),
        "asset_weight_maint": format_bps(p.asset_weight_maint_bps),
        "liab_weight_init": format_bps(p.liab_weight_init_bps),
        "liab_weight_maint": format_bps(p.liab_weight_maint_bps),
        "liquidation_penalty_bps": p.liquidation_penalty_bps,
        "max_conf_bps": p.max_conf_bps,
        "max_age_secs": p.max_age_secs,
        "max_age_liquidation_secs": p.max_age_liquidation_secs,
        "deposit_cap": cap(p.deposit_cap),
        "borrow_cap": cap(p.borrow_cap),
        "liquidation_penalty_min_bps": p.liquidation_penalty_min_bps,
        "max_ema_divergence_bps": p.max_ema_divergence_bps,
        "net_borrow_window_secs": p.net_borrow_window_secs,
        "net_borrow_limit_usd": usd_limit(p.net_borrow_limit_micro_usd),
        "deposit_weight_scale_start_usd": usd_limit(p.deposit_weight_scale_start_micro_usd),
        "interest": {
            "optimal_utilization": format_bps(p.optimal_utilization_bps as u32),
            "base_rate": format_bps(p.base_rate_bps),
            "slope1": format_bps(p.slope1_bps),
            "slope2": format_bps(p.slope2_bps),
        },
    })
}

impl Runner {
    /// An account's health at maintenance prices, or `{"error": ...}` when a price cannot be
    /// read.
    pub(super) async fn health_value(&self, account: &Pubkey) -> Value {
        match self.inputs(account).await {
            Ok((_, h)) => health_json(&h),
            Err(e) => json!({"error": e.to_string()}),
        }
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
                let native = signed_balance(p.shares(), mk)?;
                balances.insert(
                    spec.symbol.clone(),
                    json!(format_signed(native, spec.decimals)),
                );
            }
            let health = self.health_value(&a.account).await;
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
                // The funds' balances include their shares still held in the vault.
                "insurance": format_amount(token::balance(&self.chain, &mk.insurance_vault).await?.saturating_add(mk.insurance_pending), d),
                "treasury": format_amount(token::balance(&self.chain, &mk.treasury_vault).await?.saturating_add(mk.treasury_pending), d),
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
