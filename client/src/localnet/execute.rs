//! Running a transaction as a node does. The bank verifies its signatures and sanitizes it; the
//! preflight simulation (blockhash age, status cache, execution) refuses it with error -32002 and
//! the simulation's result as `data`, nothing landed; with `skipPreflight` it is executed anyway
//! and lands as failed (fee charged, `err` in its status) when it fails. Everything for one
//! transaction happens under the chain's lock, so slots and other writes cannot interleave.

use super::ledger::TxRecord;
use super::node::{Event, Node};
use super::wire::account::{token_account, token_amount};
use super::wire::transaction::inner_instructions;
use super::wire::{custom, invalid_params, signature_failure, to_value, RpcResult};
use solana_rpc_client_api::response::RpcSimulateTransactionResult;
use solana_runtime::bank::{Bank, TransactionSimulationResult};
use solana_sdk::{
    account::Account,
    pubkey::Pubkey,
    signature::Signature,
    transaction::{TransactionError, TransactionVerificationMode, VersionedTransaction},
};
use solana_transaction_status_client_types::{TransactionTokenBalance, UiTransactionReturnData};
use std::sync::Arc;

/// A transaction the bank accepted for execution (signatures checked unless told otherwise).
pub(super) struct Verified {
    pub tx: VersionedTransaction,
    pub signature: Signature,
    /// Static keys, then keys loaded from lookup tables.
    pub keys: Vec<Pubkey>,
    /// Loaded keys: (writable, read-only).
    pub loaded: (Vec<Pubkey>, Vec<Pubkey>),
}

/// Sanitizes `tx` against `bank` and, with `sig_verify`, checks its signatures (a failure is error
/// -32003, any other refusal -32602 `invalid transaction`, as on a node); then simulates it.
pub(super) fn verify_and_simulate(
    bank: &Bank,
    tx: VersionedTransaction,
    sig_verify: bool,
) -> RpcResult<(Verified, TransactionSimulationResult)> {
    let mode = if sig_verify {
        TransactionVerificationMode::FullVerification
    } else {
        TransactionVerificationMode::HashOnly
    };
    let rtx = bank
        .verify_transaction(tx.clone(), mode)
        .map_err(|e| match e {
            TransactionError::SignatureFailure => signature_failure(),
            e => invalid_params(format!("invalid transaction: {e}")),
        })?;
    let message = rtx.message();
    let keys: Vec<Pubkey> = message.account_keys().iter().copied().collect();
    let statics = message.static_account_keys().len().min(keys.len());
    let writable_loaded: usize = message
        .message_address_table_lookups()
        .iter()
        .map(|l| l.writable_indexes.len())
        .sum();
    let dynamic = &keys[statics..];
    let split = writable_loaded.min(dynamic.len());
    let loaded = (dynamic[..split].to_vec(), dynamic[split..].to_vec());
    let sim = bank.simulate_transaction_unchecked(&rtx, true);
    let signature = *rtx.signature();
    Ok((
        Verified {
            tx,
            signature,
            keys,
            loaded,
        },
        sim,
    ))
}

/// The simulation as `simulateTransaction` (and a failed preflight's `data`) puts it.
pub(super) fn simulation_result(
    sim: &TransactionSimulationResult,
    accounts: Option<Vec<Option<solana_account_decoder_client_types::UiAccount>>>,
    inner: bool,
) -> RpcSimulateTransactionResult {
    RpcSimulateTransactionResult {
        err: sim.result.clone().err(),
        logs: Some(sim.logs.clone()),
        accounts,
        units_consumed: Some(sim.units_consumed),
        loaded_accounts_data_size: Some(sim.loaded_accounts_data_size),
        return_data: sim.return_data.clone().map(UiTransactionReturnData::from),
        inner_instructions: inner.then(|| {
            inner_instructions(sim.inner_instructions.clone().unwrap_or_default())
                .into_iter()
                .map(Into::into)
                .collect()
        }),
        replacement_blockhash: None,
    }
}

fn token_balances(
    node: &Node,
    bank: &Bank,
    keys: &[Pubkey],
) -> (Vec<u64>, Vec<TransactionTokenBalance>) {
    let mut lamports = Vec::with_capacity(keys.len());
    let mut tokens = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let Some(a) = bank.get_account(key).map(Account::from) else {
            lamports.push(0);
            continue;
        };
        lamports.push(a.lamports);
        let (Some(t), Ok(index)) = (token_account(&a), u8::try_from(i)) else {
            continue;
        };
        let Some(decimals) = node.mint_decimals(&t.mint) else {
            continue;
        };
        tokens.push(TransactionTokenBalance {
            account_index: index,
            mint: t.mint.to_string(),
            ui_token_amount: token_amount(t.amount, decimals),
            owner: t.owner.to_string(),
            program_id: a.owner.to_string(),
        });
    }
    (lamports, tokens)
}

/// What became of a sent transaction.
enum Sent {
    /// It landed (possibly failed), recorded.
    Landed(Arc<TxRecord>),
    /// It had landed before: a node answers with its signature again.
    Known(Signature),
    /// Sent with `skipPreflight` and refused before execution (expired blockhash, fee payer
    /// cannot pay...): a node drops it, so its signature never gets a status.
    Dropped(Signature, TransactionError),
}

/// `sendTransaction`: the transaction's signature, or the node's error.
pub(super) async fn send(
    node: &Node,
    tx: VersionedTransaction,
    skip_preflight: bool,
) -> RpcResult<Signature> {
    let sent = node
        .chain()
        .with_bank(|bank| -> RpcResult<Sent> {
            if let Some(sig) = tx.signatures.first() {
                if node.ledger.get(sig).is_some() {
                    return Ok(Sent::Known(*sig));
                }
            }
            let (v, sim) = verify_and_simulate(bank, tx, true)?;
            if let (Err(err), false) = (&sim.result, skip_preflight) {
                node.diagnostics.wire_error(err);
                let data = to_value(simulation_result(&sim, None, false))?;
                return Err(custom(
                    -32002,
                    format!("Transaction simulation failed: {err}"),
                    Some(data),
                ));
            }
            let (pre, pre_tokens) = token_balances(node, bank, &v.keys);
            let committed = match bank.process_transaction_with_metadata(v.tx.clone()) {
                Ok(c) => c,
                Err(e) => return Ok(Sent::Dropped(v.signature, e)),
            };
            let (post, post_tokens) = token_balances(node, bank, &v.keys);
            Ok(Sent::Landed(Arc::new(TxRecord {
                signature: v.signature,
                slot: bank.slot(),
                block_time: bank.clock().unix_timestamp,
                transaction: v.tx,
                account_keys: v.keys,
                loaded: v.loaded,
                err: committed.status.err(),
                logs: committed.log_messages.unwrap_or_default(),
                units: committed.executed_units,
                fee: committed.fee_details.total_fee(),
                return_data: committed.return_data,
                inner_instructions: inner_instructions(sim.inner_instructions.unwrap_or_default()),
                balances: (pre, post),
                token_balances: (pre_tokens, post_tokens),
            })))
        })
        .await?;
    Ok(match sent {
        Sent::Landed(record) => {
            if let Some(e) = &record.err {
                node.diagnostics.wire_error(e);
            }
            super::names::log_landed(&record);
            node.ledger.insert(record.clone());
            let sig = record.signature;
            node.publish(Event::Transaction(record));
            sig
        }
        Sent::Known(sig) => sig,
        Sent::Dropped(sig, e) => {
            tracing::warn!(
                target: "scalpel::localnet",
                signature = %sig,
                error = %e,
                "dropped without preflight: {e}"
            );
            sig
        }
    })
}
