//! `scalpel quote --account ADDR [--rpc URL] [--json]`: one margin account's health, the price at
//! which each position makes it liquidatable, and the exact liquidation plan the program would
//! accept now, computed by `scalpel_client::quote` with the program's own functions.

use anyhow::{bail, Context, Result};
use clap::Args;
use scalpel_client::quote::{quote, HealthQuote, PairQuote, PositionQuote, Quote, Side};
use scalpel_client::rpc::RpcChain;
use scalpel_client::Chain;
use solana_sdk::pubkey::Pubkey;
use std::io::Write;
use std::str::FromStr;

/// Arguments of `quote`.
#[derive(Debug, Args)]
pub struct QuoteArgs {
    /// Margin account address (base58).
    #[arg(long, value_name = "ADDR", value_parser = parse_pubkey)]
    pub account: Pubkey,
    /// JSON-RPC endpoint of the cluster.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8899")]
    pub rpc: String,
    /// Print one JSON document instead of tables.
    #[arg(long)]
    pub json: bool,
}

fn parse_pubkey(s: &str) -> Result<Pubkey, String> {
    Pubkey::from_str(s.trim())
        .map_err(|_| format!("{s} is not a valid public key (32 bytes, base58)"))
}

/// Runs `quote`.
pub fn execute(args: &QuoteArgs) -> Result<()> {
    let chain = RpcChain::new(&args.rpc);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let q = rt.block_on(async {
        // One cheap call first, so an unreachable endpoint is named as such.
        if let Err(e) = chain.latest_blockhash().await {
            bail!(
                "cannot reach the RPC endpoint {}: {e}\n(is a validator running there? pass \
                 --rpc URL to query another cluster)",
                args.rpc
            );
        }
        quote(&chain, &args.account)
            .await
            .with_context(|| format!("quoting {} on {}", args.account, args.rpc))
    })?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&q)?)?;
    } else {
        print_human(&mut out, &q)?;
    }
    Ok(())
}

/// The ticker and the market index, enough to tell markets apart.
fn label(index: u16, symbol: &str) -> String {
    format!("{symbol} (#{index})")
}

fn row(cells: &[String], widths: &[usize]) -> String {
    cells
        .iter()
        .zip(widths)
        .enumerate()
        .map(|(i, (c, w))| {
            if i == 0 {
                format!("{c:<w$}")
            } else {
                format!("{c:>w$}")
            }
        })
        .collect::<Vec<_>>()
        .join("  ")
}

fn table(out: &mut impl Write, head: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let h: Vec<String> = head.iter().map(|x| x.to_string()).collect();
    writeln!(out, "    {}", row(&h, &widths))?;
    for r in rows {
        writeln!(out, "    {}", row(r, &widths))?;
    }
    Ok(())
}

fn health_row(name: &str, h: &HealthQuote) -> Vec<String> {
    vec![
        name.to_string(),
        h.init.clone(),
        h.maint.clone(),
        h.end.clone(),
        h.ratio.clone().unwrap_or_else(|| "∞".into()),
    ]
}

fn position_row(p: &PositionQuote) -> Vec<String> {
    let (side, liq_when) = match p.side {
        Side::Deposit => ("deposit", "below"),
        Side::Debt => ("debt", "above"),
    };
    let liq = match (&p.liquidation_price, &p.liquidation_price_change_pct) {
        (Some(price), Some(pct)) => {
            let sign = if pct.starts_with('-') { "" } else { "+" };
            format!("{liq_when} {price} ({sign}{pct}%)")
        }
        (Some(price), None) => format!("{liq_when} {price}"),
        _ => "none".into(),
    };
    vec![
        label(p.market_index, &p.symbol),
        side.into(),
        p.amount.clone(),
        p.price.clone(),
        p.value_usd.clone(),
        p.weight_maint.clone(),
        liq,
    ]
}

fn print_pair(out: &mut impl Write, q: &Quote, pair: &PairQuote) -> std::io::Result<()> {
    let asset = label(pair.asset_market_index, &pair.asset_symbol);
    let liab = label(pair.liab_market_index, &pair.liab_symbol);
    writeln!(out, "\n  collateral {asset}, debt {liab}")?;
    let Some(p) = &pair.plan else {
        writeln!(
            out,
            "    refused by the program: {}",
            pair.error.as_deref().unwrap_or("unknown")
        )?;
        return Ok(());
    };
    if let Some(b) = &pair.blocked_by {
        writeln!(out, "    liquidate would fail now: {b}")?;
    }
    writeln!(
        out,
        "    repay {} of {liab} ({} USD; {} needed to reach the target, bound: {})",
        p.repay, p.repay_usd, p.repay_needed, p.bound
    )?;
    writeln!(
        out,
        "    seize {} of {asset} ({} USD): {} to the liquidator ({} USD), {} to insurance, {} to \
         the treasury",
        p.seized, p.seized_usd, p.to_liquidator, p.to_liquidator_usd, p.to_insurance, p.to_treasury
    )?;
    writeln!(
        out,
        "    penalty π_e {} = liquidator {} + insurance {} + treasury {}; κ {}",
        p.penalty_effective, p.bonus_liquidator, p.bonus_insurance, p.bonus_treasury, p.kappa
    )?;
    writeln!(out)?;
    table(
        out,
        &["health USD", "init", "maint", "end", "ratio"],
        &[
            health_row("now", &q.health),
            health_row("after", &p.health_after),
        ],
    )?;
    if let Some(alt) = &pair.alternatives {
        writeln!(out)?;
        table(
            out,
            &["design", "repaid", "seized"],
            &[
                vec![
                    "Scalpel (partial)".into(),
                    p.repay.clone(),
                    p.seized.clone(),
                ],
                vec![
                    "full liquidation".into(),
                    alt.full.repay.clone(),
                    alt.full.seized.clone(),
                ],
                vec![
                    "50% close factor".into(),
                    alt.close_factor_50.repay.clone(),
                    alt.close_factor_50.seized.clone(),
                ],
            ],
        )?;
    }
    Ok(())
}

fn print_human(out: &mut impl Write, q: &Quote) -> std::io::Result<()> {
    writeln!(out, "margin account {}", q.account)?;
    writeln!(out, "owner          {}", q.owner)?;
    writeln!(
        out,
        "at             slot {}, unix time {}",
        q.slot, q.unix_time
    )?;
    let status = match (q.liquidatable, q.being_liquidated) {
        (true, true) => "LIQUIDATABLE (liquidation in progress: continues while end < 0)",
        (true, false) => "LIQUIDATABLE (maint < 0)",
        (false, true) => "healthy (flagged as being liquidated until the next liquidation)",
        (false, false) => "healthy",
    };
    writeln!(out, "status         {status}\n")?;
    table(
        out,
        &["health USD", "init", "maint", "end", "ratio"],
        &[health_row("now", &q.health)],
    )?;
    writeln!(
        out,
        "    deposits {} USD, debts {} USD at oracle prices",
        q.health.asset_value, q.health.liab_value
    )?;
    if q.init_at_spot != q.health.init {
        writeln!(
            out,
            "    init {} USD at spot prices alone: borrowing and withdrawing use the EMA-bounded {}",
            q.init_at_spot, q.health.init
        )?;
    }
    writeln!(out)?;
    if q.positions.is_empty() {
        writeln!(out, "no positions")?;
    } else {
        writeln!(
            out,
            "positions (liquidation price: every other price fixed)"
        )?;
        let rows: Vec<Vec<String>> = q.positions.iter().map(position_row).collect();
        table(
            out,
            &[
                "market",
                "side",
                "amount",
                "price USD",
                "value USD",
                "maint weight",
                "liquidatable when price is",
            ],
            &rows,
        )?;
    }
    if q.liquidatable {
        writeln!(
            out,
            "\nliquidation plans: what `liquidate` with no max_repay executes now, per pair"
        )?;
        if q.plans.is_empty() {
            writeln!(out, "  none: no (collateral, debt) pair")?;
        }
        for pair in &q.plans {
            print_pair(out, q, pair)?;
        }
    } else {
        writeln!(out, "\nnot liquidatable now: no liquidation plan")?;
    }
    Ok(())
}
