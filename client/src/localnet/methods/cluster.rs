//! The cluster's state: slots and block height (moved by the localnet's slot task), blockhashes
//! and their validity as the bank keeps them, epoch, version, identity, health.

use super::add;
use crate::localnet::node::Node;
use crate::localnet::wire::{to_value, with_context, Params, RpcResult, VERSION};
use jsonrpsee::RpcModule;
use serde_json::{json, Value};
use solana_rpc_client_api::response::{RpcBlockhash, RpcIdentity, RpcVersionInfo};
use std::sync::Arc;

pub(super) fn register(m: &mut RpcModule<Node>) -> anyhow::Result<()> {
    add(
        m,
        "getSlot",
        |node, _| async move { Ok(json!(node.slot())) },
    )?;
    add(m, "getBlockHeight", |node: Arc<Node>, _| async move {
        Ok(json!(node.bank().block_height()))
    })?;
    add(m, "getEpochInfo", |node: Arc<Node>, _| async move {
        to_value(node.bank().get_epoch_info())
    })?;
    add(m, "getEpochSchedule", |node: Arc<Node>, _| async move {
        to_value(node.bank().epoch_schedule().clone())
    })?;
    add(m, "getLatestBlockhash", get_latest_blockhash)?;
    add(m, "isBlockhashValid", is_blockhash_valid)?;
    add(m, "getVersion", |node: Arc<Node>, _| async move {
        to_value(RpcVersionInfo {
            solana_core: VERSION.to_string(),
            feature_set: Some(feature_set_id(&node)),
        })
    })?;
    add(m, "getHealth", |_, _| async move { Ok(json!("ok")) })?;
    add(m, "getGenesisHash", |node: Arc<Node>, _| async move {
        Ok(json!(node.chain().genesis_hash().to_string()))
    })?;
    add(m, "getIdentity", |node: Arc<Node>, _| async move {
        to_value(RpcIdentity {
            identity: node.identity().to_string(),
        })
    })?;
    add(
        m,
        "getFirstAvailableBlock",
        |_, _| async move { Ok(json!(0)) },
    )?;
    // Fees are flat here: no recent prioritization fees to report (wallets ask).
    add(m, "getRecentPrioritizationFees", |_, _| async move {
        Ok(Value::Array(Vec::new()))
    })
}

/// An identifier of the bank's active features (web3.js wants a number here; a node sends the
/// first bytes of its feature set's id).
fn feature_set_id(node: &Node) -> u32 {
    let bank = node.bank();
    let mut active: Vec<_> = bank.feature_set.active().keys().copied().collect();
    active.sort();
    let bytes: Vec<&[u8]> = active.iter().map(|k| k.as_ref()).collect();
    let hash = solana_sdk::hash::hashv(&bytes);
    let mut first = [0u8; 4];
    first.copy_from_slice(&hash.as_ref()[..4]);
    u32::from_le_bytes(first)
}

async fn get_latest_blockhash(node: Arc<Node>, _: Params) -> RpcResult {
    let bank = node.bank();
    let hash = bank.last_blockhash();
    let last_valid_block_height = bank
        .get_blockhash_last_valid_block_height(&hash)
        .unwrap_or_else(|| bank.block_height() + solana_sdk::clock::MAX_PROCESSING_AGE as u64);
    Ok(with_context(
        bank.slot(),
        to_value(RpcBlockhash {
            blockhash: hash.to_string(),
            last_valid_block_height,
        })?,
    ))
}

async fn is_blockhash_valid(node: Arc<Node>, p: Params) -> RpcResult {
    let hash = p.hash(0)?;
    let bank = node.bank();
    Ok(with_context(
        bank.slot(),
        json!(bank.is_blockhash_valid(&hash)),
    ))
}
