//! Transactions: `sendTransaction` and `simulateTransaction` on the bank (see
//! [`crate::localnet::execute`]), statuses and history from the localnet's ledger, fees, and
//! airdrops from the bank's funded payer.

use super::add;
use crate::localnet::execute::{self, simulation_result, verify_and_simulate};
use crate::localnet::node::Node;
use crate::localnet::wire::account::{ui_account, Encoding, MAX_BASE58_BYTES};
use crate::localnet::wire::transaction::{confirmed_transaction, decode, signature_entry, status};
use crate::localnet::wire::{
    internal, invalid_params, signature, to_value, with_context, Params, RpcResult,
};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use jsonrpsee::RpcModule;
use serde_json::{json, Value};
use solana_account_decoder_client_types::{UiAccount, UiAccountEncoding};
use solana_rpc_client_api::config::{
    RpcEncodingConfigWrapper, RpcSendTransactionConfig, RpcSignaturesForAddressConfig,
    RpcSimulateTransactionConfig, RpcTransactionConfig,
};
use solana_rpc_client_api::response::RpcBlockhash;
use solana_sdk::{
    account::Account,
    message::VersionedMessage,
    pubkey::Pubkey,
    signature::{Signature, Signer},
    transaction::{Transaction, TransactionVerificationMode, VersionedTransaction},
};
use solana_transaction_status_client_types::UiTransactionEncoding;
use std::sync::Arc;

/// `getSignatureStatuses` takes at most this many signatures, like a node.
const MAX_SIGNATURE_STATUSES: usize = 256;
/// `getSignaturesForAddress` returns at most this many entries, like a node.
const MAX_SIGNATURES_FOR_ADDRESS: usize = 1_000;

pub(super) fn register(m: &mut RpcModule<Node>) -> anyhow::Result<()> {
    add(m, "sendTransaction", send_transaction)?;
    add(m, "simulateTransaction", simulate_transaction)?;
    add(m, "getSignatureStatuses", get_signature_statuses)?;
    add(m, "getTransaction", get_transaction)?;
    add(m, "getSignaturesForAddress", get_signatures_for_address)?;
    add(m, "getFeeForMessage", get_fee_for_message)?;
    add(m, "requestAirdrop", request_airdrop)
}

async fn send_transaction(node: Arc<Node>, p: Params) -> RpcResult {
    let encoded: String = p.req(0)?;
    let config: RpcSendTransactionConfig = p.config(1)?;
    let tx = decode(
        &encoded,
        config.encoding.unwrap_or(UiTransactionEncoding::Base58),
    )?;
    let sig = execute::send(&node, tx, config.skip_preflight).await?;
    Ok(json!(sig.to_string()))
}

async fn simulate_transaction(node: Arc<Node>, p: Params) -> RpcResult {
    let encoded: String = p.req(0)?;
    let config: RpcSimulateTransactionConfig = p.config(1)?;
    let mut tx = decode(
        &encoded,
        config.encoding.unwrap_or(UiTransactionEncoding::Base58),
    )?;
    if config.sig_verify && config.replace_recent_blockhash {
        return Err(invalid_params(
            "sigVerify may not be used with replaceRecentBlockhash",
        ));
    }
    let wanted: Vec<Pubkey> = match &config.accounts {
        Some(a) => a
            .addresses
            .iter()
            .map(|k| crate::localnet::wire::pubkey(k))
            .collect::<RpcResult<_>>()?,
        None => Vec::new(),
    };
    let accounts_encoding = config
        .accounts
        .as_ref()
        .and_then(|a| a.encoding)
        .unwrap_or(UiAccountEncoding::Base64);
    if matches!(
        accounts_encoding,
        UiAccountEncoding::Binary | UiAccountEncoding::Base58
    ) {
        return Err(invalid_params("base58 encoding not supported"));
    }
    let node2 = node.clone();
    let (slot, result) = node
        .chain()
        .with_bank(move |bank| -> RpcResult<_> {
            let replacement = if config.replace_recent_blockhash {
                let hash = bank.last_blockhash();
                tx.message.set_recent_blockhash(hash);
                Some(RpcBlockhash {
                    blockhash: hash.to_string(),
                    last_valid_block_height: bank
                        .get_blockhash_last_valid_block_height(&hash)
                        .unwrap_or_default(),
                })
            } else {
                None
            };
            let (_, sim) = verify_and_simulate(bank, tx, config.sig_verify)?;
            let accounts = match &config.accounts {
                None => None,
                Some(_) => {
                    let mut out = Vec::with_capacity(wanted.len());
                    for key in &wanted {
                        let after = sim
                            .post_simulation_accounts
                            .iter()
                            .find(|(k, _)| k == key)
                            .map(|(_, a)| Account::from(a.clone()))
                            .or_else(|| node2.account(key));
                        out.push(match after {
                            Some(a) => Some(
                                serde_json::from_value::<UiAccount>(ui_account(
                                    &a,
                                    Encoding {
                                        encoding: accounts_encoding,
                                        slice: None,
                                        max_base58: MAX_BASE58_BYTES,
                                    },
                                    &|m: &Pubkey| node2.mint_decimals(m),
                                )?)
                                .map_err(internal)?,
                            ),
                            None => None,
                        });
                    }
                    Some(out)
                }
            };
            let mut result = simulation_result(&sim, accounts, config.inner_instructions);
            result.replacement_blockhash = replacement;
            Ok((bank.slot(), result))
        })
        .await?;
    if let Some(e) = &result.err {
        node.diagnostics.wire_error(e);
    }
    Ok(with_context(slot, to_value(result)?))
}

async fn get_signature_statuses(node: Arc<Node>, p: Params) -> RpcResult {
    let sigs: Vec<String> = p.req(0)?;
    if sigs.len() > MAX_SIGNATURE_STATUSES {
        return Err(invalid_params(format!(
            "Too many inputs provided; max {MAX_SIGNATURE_STATUSES}"
        )));
    }
    let mut value = Vec::with_capacity(sigs.len());
    for s in &sigs {
        value.push(match node.ledger.get(&signature(s)?) {
            Some(r) => to_value(status(&r))?,
            None => Value::Null,
        });
    }
    Ok(with_context(node.slot(), Value::Array(value)))
}

async fn get_transaction(node: Arc<Node>, p: Params) -> RpcResult {
    let sig = p.signature(0)?;
    let config = p
        .opt::<RpcEncodingConfigWrapper<RpcTransactionConfig>>(1)?
        .map(|c| c.convert_to_current())
        .unwrap_or_default();
    let Some(r) = node.ledger.get(&sig) else {
        return Ok(Value::Null);
    };
    to_value(confirmed_transaction(
        &r,
        config.encoding.unwrap_or(UiTransactionEncoding::Json),
        config.max_supported_transaction_version,
    )?)
}

async fn get_signatures_for_address(node: Arc<Node>, p: Params) -> RpcResult {
    let address = p.pubkey(0)?;
    let config: RpcSignaturesForAddressConfig = p.config(1)?;
    let limit = config.limit.unwrap_or(MAX_SIGNATURES_FOR_ADDRESS);
    if limit == 0 || limit > MAX_SIGNATURES_FOR_ADDRESS {
        return Err(invalid_params(format!(
            "Invalid limit; max {MAX_SIGNATURES_FOR_ADDRESS}"
        )));
    }
    let before: Option<Signature> = config.before.as_deref().map(signature).transpose()?;
    let until: Option<Signature> = config.until.as_deref().map(signature).transpose()?;
    let found = node
        .ledger
        .for_address(&address, before.as_ref(), until.as_ref(), limit);
    to_value(found.iter().map(|r| signature_entry(r)).collect::<Vec<_>>())
}

async fn get_fee_for_message(node: Arc<Node>, p: Params) -> RpcResult {
    let encoded: String = p.req(0)?;
    let bytes = B64
        .decode(&encoded)
        .map_err(|e| invalid_params(format!("invalid base64 encoding: {e:?}")))?;
    let message: VersionedMessage = bincode::deserialize(&bytes)
        .map_err(|e| invalid_params(format!("failed to deserialize message: {e}")))?;
    // The bank sanitizes (and resolves lookup tables) for a transaction; unsigned is fine here.
    let signatures =
        vec![Signature::default(); usize::from(message.header().num_required_signatures)];
    let tx = VersionedTransaction {
        signatures,
        message,
    };
    let bank = node.bank();
    let rtx = bank
        .verify_transaction(tx, TransactionVerificationMode::HashOnly)
        .map_err(|e| invalid_params(format!("invalid message: {e}")))?;
    let fee = bank.get_fee_for_message(rtx.message());
    Ok(with_context(bank.slot(), json!(fee)))
}

async fn request_airdrop(node: Arc<Node>, p: Params) -> RpcResult {
    let to = p.pubkey(0)?;
    let lamports: u64 = p.req(1)?;
    let sig = airdrop(&node, &to, lamports).await?;
    Ok(json!(sig.to_string()))
}

/// A transfer of `lamports` from the bank's funded payer to `to`, landed like any transaction.
pub(in crate::localnet) async fn airdrop(
    node: &Node,
    to: &Pubkey,
    lamports: u64,
) -> RpcResult<Signature> {
    let faucet = node.faucet();
    // The price makes two airdrops of the same amount in one slot distinct transactions.
    let ixs = [
        solana_sdk::compute_budget::ComputeBudgetInstruction::set_compute_unit_price(
            node.next_nonce(),
        ),
        solana_system_interface::instruction::transfer(&faucet.pubkey(), to, lamports),
    ];
    let tx = Transaction::new_signed_with_payer(
        &ixs,
        Some(&faucet.pubkey()),
        &[faucet],
        node.bank().last_blockhash(),
    );
    execute::send(node, tx.into(), false).await
}
