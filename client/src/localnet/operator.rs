//! The localnet's own methods, namespaced `scalpel_*`, for operators and tests (a node has no
//! Pyth publisher, no faucet for arbitrary tokens and no clock to move):
//!
//! - `scalpel_markets []`: the program id and each market's symbol, mint, oracle, vault.
//! - `scalpel_setPrice [symbol, price, conf?, ema?, emaConf?]`: publishes a fresh `PriceUpdateV2`
//!   now, its EMA at `ema` (default: the price, a steady feed) with `emaConf` (default: `conf`).
//! - `scalpel_warp [seconds, {"republish": bool}?]`: moves the clock's unix time forward and (by
//!   default) publishes every market's price again at the new time.
//! - `scalpel_fund [owner, asset, amount, {"token": bool}?]`: `SOL` airdrops lamports; a market
//!   symbol (or `SOL` with `token: true`) mints that many UI units to the owner's associated token
//!   account, creating it.
//!
//! Operator transactions land like any other (history, logs, notifications).

use super::methods::add;
use super::node::{Event, Node, Operator};
use super::wire::{internal, invalid_params, to_value, Params, RpcResult};
use crate::local::migration::LocalMarket;
use crate::local::oracle;
use crate::units::{format_amount, parse_amount};
use crate::Chain;
use jsonrpsee::RpcModule;
use serde::Deserialize;
use serde_json::{json, Value};
use solana_sdk::{
    compute_budget::ComputeBudgetInstruction, pubkey::Pubkey, signature::Signer,
    transaction::Transaction,
};
use std::sync::Arc;

/// Native SOL, for `scalpel_fund`.
const SOL: &str = "SOL";

pub(super) fn register(m: &mut RpcModule<Node>) -> anyhow::Result<()> {
    add(m, "scalpel_markets", markets)?;
    add(m, "scalpel_setPrice", set_price)?;
    add(m, "scalpel_warp", warp)?;
    add(m, "scalpel_fund", fund)
}

fn operator(node: &Node) -> RpcResult<&Operator> {
    node.operator.as_ref().ok_or_else(|| {
        invalid_params(
            "this localnet serves a chain it did not set up: it has no markets to operate",
        )
    })
}

fn market<'a>(op: &'a Operator, symbol: &str) -> RpcResult<&'a LocalMarket> {
    op.markets
        .iter()
        .find(|m| m.symbol.eq_ignore_ascii_case(symbol))
        .ok_or_else(|| {
            let known: Vec<&str> = op.markets.iter().map(|m| m.symbol.as_str()).collect();
            invalid_params(format!(
                "unknown market symbol {symbol:?}: this localnet lists {}",
                known.join(", ")
            ))
        })
}

fn market_json(m: &LocalMarket) -> Value {
    json!({
        "symbol": m.symbol,
        "index": m.index,
        "decimals": m.decimals,
        "mint": m.mint.to_string(),
        "market": m.market.to_string(),
        "oracle": m.oracle.to_string(),
        "vault": m.vault().to_string(),
        "feedId": hex::encode(m.feed_id),
    })
}

async fn markets(node: Arc<Node>, _: Params) -> RpcResult {
    let markets: Vec<Value> = match &node.operator {
        Some(op) => op.markets.iter().map(market_json).collect(),
        None => Vec::new(),
    };
    Ok(json!({ "programId": scalpel::ID.to_string(), "markets": markets }))
}

async fn set_price(node: Arc<Node>, p: Params) -> RpcResult {
    let symbol: String = p.req(0)?;
    let price: String = p.req(1)?;
    let conf: String = p.opt(2)?.unwrap_or_else(|| "0".into());
    let ema: Option<String> = p.opt(3)?;
    let ema_conf: Option<String> = p.opt(4)?;
    let m = market(operator(&node)?, &symbol)?;
    let quote = oracle::Quote {
        price: &price,
        conf: &conf,
        ema: ema
            .as_deref()
            .map(|e| (e, ema_conf.as_deref().unwrap_or(conf.as_str()))),
    };
    let written = oracle::write_price(node.chain(), &m.oracle, m.feed_id, quote)
        .await
        .map_err(|e| invalid_params(format!("{e:#}")))?;
    node.publish(Event::AccountsWritten);
    tracing::info!(target: "scalpel::localnet", symbol = %m.symbol, %price, %conf, "price published");
    Ok(json!({
        "symbol": m.symbol,
        "oracle": m.oracle.to_string(),
        "price": price,
        "conf": conf,
        "mantissa": written.price,
        "emaMantissa": written.ema.map_or(written.price, |e| e.0),
        "emaConfMantissa": written.ema.map_or(written.conf, |e| e.1),
        "expo": written.expo,
        "publishTime": written.publish_time,
    }))
}

#[derive(Debug, Default, Deserialize)]
struct WarpConfig {
    republish: Option<bool>,
}

async fn warp(node: Arc<Node>, p: Params) -> RpcResult {
    let secs: i64 = p.req(0)?;
    let config: WarpConfig = p.config(1)?;
    if secs <= 0 {
        return Err(invalid_params(format!(
            "warp moves the clock forward: {secs} is not a positive number of seconds"
        )));
    }
    node.chain().advance_time(secs).await.map_err(internal)?;
    let mut republished = Vec::new();
    if config.republish.unwrap_or(true) {
        if let Some(op) = &node.operator {
            let oracles: Vec<Pubkey> = op.markets.iter().map(|m| m.oracle).collect();
            oracle::republish(node.chain(), &oracles)
                .await
                .map_err(internal)?;
            republished = op.markets.iter().map(|m| m.symbol.clone()).collect();
        }
    }
    node.publish(Event::AccountsWritten);
    let now = node.chain().clock().await.map_err(internal)?.unix_timestamp;
    tracing::info!(target: "scalpel::localnet", seconds = secs, unix_time = now, "clock warped");
    Ok(json!({ "unixTimestamp": now, "republished": republished }))
}

#[derive(Debug, Default, Deserialize)]
struct FundConfig {
    /// With `SOL`: the SOL market's token rather than lamports.
    token: Option<bool>,
}

async fn fund(node: Arc<Node>, p: Params) -> RpcResult {
    let owner = p.pubkey(0)?;
    let asset: String = p.req(1)?;
    let amount: String = p.req(2)?;
    let config: FundConfig = p.config(3)?;
    if asset.eq_ignore_ascii_case(SOL) && !config.token.unwrap_or(false) {
        let lamports = parse_amount(&amount, 9).map_err(|e| invalid_params(format!("{e:#}")))?;
        let sig = super::methods::airdrop(&node, &owner, lamports).await?;
        return Ok(json!({
            "signature": sig.to_string(),
            "asset": SOL,
            "lamports": lamports,
            "balance": node.lamports(&owner),
        }));
    }
    let op = operator(&node)?;
    let m = market(op, &asset)?;
    let native = parse_amount(&amount, m.decimals).map_err(|e| invalid_params(format!("{e:#}")))?;
    let faucet = node.faucet();
    let ata = crate::token::ata(&owner, &m.mint);
    let ixs = [
        ComputeBudgetInstruction::set_compute_unit_price(node.next_nonce()),
        crate::token::create_ata_idempotent(&faucet.pubkey(), &owner, &m.mint),
        spl_token::instruction::mint_to(
            &spl_token::ID,
            &m.mint,
            &ata,
            &op.mint_authority.pubkey(),
            &[],
            native,
        )
        .map_err(internal)?,
    ];
    let tx = Transaction::new_signed_with_payer(
        &ixs,
        Some(&faucet.pubkey()),
        &[faucet, &op.mint_authority],
        node.bank().last_blockhash(),
    );
    let sig = super::execute::send(&node, tx.into(), false).await?;
    let balance = crate::token::balance(node.chain(), &ata)
        .await
        .map_err(internal)?;
    to_value(json!({
        "signature": sig.to_string(),
        "asset": m.symbol,
        "tokenAccount": ata.to_string(),
        "amount": native.to_string(),
        "balance": format_amount(balance, m.decimals),
    }))
}
