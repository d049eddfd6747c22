//! Account reads: single and batched, program scans over the whole bank with memcmp / dataSize /
//! token-account filters, balances and SPL Token views.

use super::add;
use crate::localnet::node::Node;
use crate::localnet::wire::account::{
    filter_allows, is_token_program, token_account, token_amount, token_mint, ui_account,
    verify_filters, Encoding, MAX_BASE58_BYTES,
};
use crate::localnet::wire::RpcResult;
use crate::localnet::wire::{internal, invalid_params, pubkey, to_value, with_context, Params};
use jsonrpsee::RpcModule;
use serde_json::{json, Value};
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_accounts_db::accounts_index::{ScanConfig, ScanOrder};
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcTokenAccountsFilter,
};
use solana_rpc_client_api::filter::RpcFilterType;
use solana_sdk::{account::Account, pubkey::Pubkey};
use std::sync::Arc;

/// `getMultipleAccounts` takes at most this many keys, like a node.
const MAX_MULTIPLE_ACCOUNTS: usize = 100;

pub(super) fn register(m: &mut RpcModule<Node>) -> anyhow::Result<()> {
    add(m, "getAccountInfo", get_account_info)?;
    add(m, "getMultipleAccounts", get_multiple_accounts)?;
    add(m, "getProgramAccounts", get_program_accounts)?;
    add(m, "getBalance", get_balance)?;
    add(m, "getMinimumBalanceForRentExemption", get_minimum_balance)?;
    add(m, "getTokenAccountBalance", get_token_account_balance)?;
    add(m, "getTokenSupply", get_token_supply)?;
    add(m, "getTokenAccountsByOwner", get_token_accounts_by_owner)
}

fn encode(
    node: &Node,
    a: &Account,
    config: &RpcAccountInfoConfig,
    default: UiAccountEncoding,
) -> RpcResult {
    let how = Encoding {
        encoding: config.encoding.unwrap_or(default),
        slice: config.data_slice.as_ref(),
        max_base58: MAX_BASE58_BYTES,
    };
    ui_account(a, how, &|mint: &Pubkey| node.mint_decimals(mint))
}

async fn get_account_info(node: Arc<Node>, p: Params) -> RpcResult {
    let key = p.pubkey(0)?;
    let config: RpcAccountInfoConfig = p.config(1)?;
    let value = match node.account(&key) {
        Some(a) => encode(&node, &a, &config, UiAccountEncoding::Binary)?,
        None => Value::Null,
    };
    Ok(with_context(node.slot(), value))
}

async fn get_multiple_accounts(node: Arc<Node>, p: Params) -> RpcResult {
    let keys: Vec<String> = p.req(0)?;
    if keys.len() > MAX_MULTIPLE_ACCOUNTS {
        return Err(invalid_params(format!(
            "Too many inputs provided; max {MAX_MULTIPLE_ACCOUNTS}"
        )));
    }
    let config: RpcAccountInfoConfig = p.config(1)?;
    let slot = node.slot();
    let mut value = Vec::with_capacity(keys.len());
    for k in &keys {
        value.push(match node.account(&pubkey(k)?) {
            Some(a) => encode(&node, &a, &config, UiAccountEncoding::Base64)?,
            None => Value::Null,
        });
    }
    Ok(with_context(slot, Value::Array(value)))
}

/// Every account owned by `program` that passes `keep`, sorted by address.
fn scan(
    node: &Node,
    program: &Pubkey,
    keep: impl Fn(&Account) -> bool,
) -> RpcResult<Vec<(Pubkey, Account)>> {
    let found = node
        .bank()
        .get_filtered_program_accounts(
            program,
            |a| keep(&Account::from(a.clone())),
            &ScanConfig::new(ScanOrder::Sorted),
        )
        .map_err(internal)?;
    Ok(found
        .into_iter()
        .map(|(k, a)| (k, Account::from(a)))
        .collect())
}

async fn get_program_accounts(node: Arc<Node>, p: Params) -> RpcResult {
    let program = p.pubkey(0)?;
    let config: RpcProgramAccountsConfig = p.config(1)?;
    let filters = config.filters.clone().unwrap_or_default();
    verify_filters(&filters)?;
    let slot = node.slot();
    let found = scan(&node, &program, |a| {
        filters.iter().all(|f| filter_allows(f, a))
    })?;
    let mut value = Vec::with_capacity(found.len());
    for (key, a) in found {
        value.push(json!({
            "pubkey": key.to_string(),
            "account": encode(&node, &a, &config.account_config, UiAccountEncoding::Binary)?,
        }));
    }
    Ok(if config.with_context.unwrap_or(false) {
        with_context(slot, Value::Array(value))
    } else {
        Value::Array(value)
    })
}

async fn get_balance(node: Arc<Node>, p: Params) -> RpcResult {
    let key = p.pubkey(0)?;
    Ok(with_context(node.slot(), json!(node.lamports(&key))))
}

async fn get_minimum_balance(node: Arc<Node>, p: Params) -> RpcResult {
    let len: usize = p.req(0)?;
    Ok(json!(node
        .bank()
        .get_minimum_balance_for_rent_exemption(len)))
}

async fn get_token_account_balance(node: Arc<Node>, p: Params) -> RpcResult {
    let key = p.pubkey(0)?;
    let t = node
        .account(&key)
        .as_ref()
        .and_then(token_account)
        .ok_or_else(|| invalid_params("Invalid param: not a Token account"))?;
    let decimals = node
        .mint_decimals(&t.mint)
        .ok_or_else(|| invalid_params("Invalid param: mint could not be unpacked"))?;
    Ok(with_context(
        node.slot(),
        to_value(token_amount(t.amount, decimals))?,
    ))
}

async fn get_token_supply(node: Arc<Node>, p: Params) -> RpcResult {
    let key = p.pubkey(0)?;
    let mint = node
        .account(&key)
        .as_ref()
        .and_then(token_mint)
        .ok_or_else(|| invalid_params("Invalid param: not a Token mint"))?;
    Ok(with_context(
        node.slot(),
        to_value(token_amount(mint.supply, mint.decimals))?,
    ))
}

async fn get_token_accounts_by_owner(node: Arc<Node>, p: Params) -> RpcResult {
    let owner = p.pubkey(0)?;
    let filter: RpcTokenAccountsFilter = p.req(1)?;
    let config: RpcAccountInfoConfig = p.config(2)?;
    let (program, mint) = match filter {
        RpcTokenAccountsFilter::Mint(mint) => {
            let mint = pubkey(&mint)?;
            let owner_program = node
                .account(&mint)
                .filter(|a| token_mint(a).is_some())
                .map(|a| a.owner)
                .ok_or_else(|| invalid_params("Invalid param: could not find mint"))?;
            (owner_program, Some(mint))
        }
        RpcTokenAccountsFilter::ProgramId(program) => {
            let program = pubkey(&program)?;
            if !is_token_program(&program) {
                return Err(invalid_params(
                    "Invalid param: unrecognized Token program id",
                ));
            }
            (program, None)
        }
    };
    let owner_filter = RpcFilterType::Memcmp(solana_rpc_client_api::filter::Memcmp::new_raw_bytes(
        32,
        owner.to_bytes().to_vec(),
    ));
    let slot = node.slot();
    let found = scan(&node, &program, |a| {
        filter_allows(&owner_filter, a)
            && token_account(a).is_some_and(|t| mint.is_none_or(|m| t.mint == m))
    })?;
    let mut value = Vec::with_capacity(found.len());
    for (key, a) in found {
        value.push(json!({
            "pubkey": key.to_string(),
            "account": encode(&node, &a, &config, UiAccountEncoding::Binary)?,
        }));
    }
    Ok(with_context(slot, Value::Array(value)))
}
