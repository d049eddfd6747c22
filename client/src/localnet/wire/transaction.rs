//! Transactions on the wire: decoding what `sendTransaction` / `simulateTransaction` receive,
//! and encoding a landed transaction as `getTransaction`, `getSignatureStatuses` and
//! `getSignaturesForAddress` answer (json, base58 or base64, with its status meta).

use super::{custom, invalid_params, RpcResult};
use crate::localnet::ledger::TxRecord;
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use solana_rpc_client_api::response::RpcConfirmedTransactionStatusWithSignature;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::{
    inner_instruction::InnerInstructions as RuntimeInner,
    message::{v0::LoadedAddresses, VersionedMessage},
    transaction::{TransactionVersion, VersionedTransaction},
};
use solana_transaction_status_client_types::option_serializer::OptionSerializer;
use solana_transaction_status_client_types::{
    EncodedConfirmedTransactionWithStatusMeta, EncodedTransaction,
    EncodedTransactionWithStatusMeta, InnerInstruction, InnerInstructions, ParsedAccount,
    ParsedAccountSource, TransactionBinaryEncoding, TransactionConfirmationStatus,
    TransactionStatus, TransactionStatusMeta, UiAddressTableLookup, UiCompiledInstruction,
    UiInnerInstructions, UiInstruction, UiMessage, UiParsedInstruction, UiParsedMessage,
    UiPartiallyDecodedInstruction, UiRawMessage, UiTransaction, UiTransactionEncoding,
    UiTransactionStatusMeta,
};

/// Largest wire transaction a node accepts (base64 of 1 232 bytes is 1 644 characters).
const MAX_ENCODED_LEN: usize = 1_644;

/// A transaction received as base58 or base64 (the `encoding` of the call's config).
pub fn decode(encoded: &str, encoding: UiTransactionEncoding) -> RpcResult<VersionedTransaction> {
    if encoded.len() > MAX_ENCODED_LEN {
        return Err(invalid_params(format!(
            "encoded solana_transaction::versioned::VersionedTransaction too large: {} bytes (max: encoded/raw {MAX_ENCODED_LEN}/1232)",
            encoded.len()
        )));
    }
    let bytes = match encoding.into_binary_encoding() {
        Some(TransactionBinaryEncoding::Base58) => bs58::decode(encoded)
            .into_vec()
            .map_err(|e| invalid_params(format!("invalid base58 encoding: {e:?}")))?,
        Some(TransactionBinaryEncoding::Base64) => B64
            .decode(encoded)
            .map_err(|e| invalid_params(format!("invalid base64 encoding: {e:?}")))?,
        None => {
            return Err(invalid_params(format!(
                "unsupported encoding: {encoding}. Supported encodings: base58, base64"
            )))
        }
    };
    bincode::deserialize(&bytes).map_err(|e| {
        invalid_params(format!(
            "failed to deserialize solana_transaction::versioned::VersionedTransaction: {e}"
        ))
    })
}

/// The bank's inner instructions (one list per top-level instruction) in the wire crate's type,
/// empty lists left out as a node does.
pub fn inner_instructions(list: Vec<RuntimeInner>) -> Vec<InnerInstructions> {
    list.into_iter()
        .enumerate()
        .filter(|(_, ii)| !ii.is_empty())
        .filter_map(|(index, ii)| {
            Some(InnerInstructions {
                index: u8::try_from(index).ok()?,
                instructions: ii
                    .into_iter()
                    .map(|i| InnerInstruction {
                        instruction: i.instruction,
                        stack_height: Some(u32::from(i.stack_height)),
                    })
                    .collect(),
            })
        })
        .collect()
}

/// The status meta of a landed transaction.
pub fn status_meta(r: &TxRecord) -> UiTransactionStatusMeta {
    UiTransactionStatusMeta::from(TransactionStatusMeta {
        status: match &r.err {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        },
        fee: r.fee,
        pre_balances: r.balances.0.clone(),
        post_balances: r.balances.1.clone(),
        inner_instructions: Some(r.inner_instructions.clone()),
        log_messages: Some(r.logs.clone()),
        pre_token_balances: Some(r.token_balances.0.clone()),
        post_token_balances: Some(r.token_balances.1.clone()),
        rewards: Some(Vec::new()),
        loaded_addresses: LoadedAddresses {
            writable: r.loaded.0.clone(),
            readonly: r.loaded.1.clone(),
        },
        return_data: r.return_data.clone(),
        compute_units_consumed: Some(r.units),
        cost_units: None,
    })
}

fn json_transaction(tx: &VersionedTransaction) -> UiTransaction {
    let message = &tx.message;
    let lookups = match message {
        VersionedMessage::Legacy(_) => None,
        VersionedMessage::V0(m) => Some(
            m.address_table_lookups
                .iter()
                .map(UiAddressTableLookup::from)
                .collect(),
        ),
    };
    UiTransaction {
        signatures: tx.signatures.iter().map(ToString::to_string).collect(),
        message: UiMessage::Raw(UiRawMessage {
            header: *message.header(),
            account_keys: message
                .static_account_keys()
                .iter()
                .map(ToString::to_string)
                .collect(),
            recent_blockhash: message.recent_blockhash().to_string(),
            instructions: message
                .instructions()
                .iter()
                .map(|ix| UiCompiledInstruction::from(ix, None))
                .collect(),
            address_table_lookups: lookups,
        }),
    }
}

/// An instruction as `jsonParsed` shows one it does not parse: program and accounts by address.
fn partially_decoded(
    keys: &[Pubkey],
    program: u8,
    accounts: &[u8],
    data: &[u8],
    stack_height: Option<u32>,
) -> UiInstruction {
    let key = |i: u8| {
        keys.get(usize::from(i))
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    UiInstruction::Parsed(UiParsedInstruction::PartiallyDecoded(
        UiPartiallyDecodedInstruction {
            program_id: key(program),
            accounts: accounts.iter().map(|a| key(*a)).collect(),
            data: bs58::encode(data).into_string(),
            stack_height,
        },
    ))
}

/// The `jsonParsed` form: account keys with their roles, instructions partially decoded (the
/// localnet parses no program's instructions).
fn parsed_transaction(r: &TxRecord) -> UiTransaction {
    let message = &r.transaction.message;
    let statics = message.static_account_keys();
    let mut account_keys: Vec<ParsedAccount> = statics
        .iter()
        .enumerate()
        .map(|(i, k)| ParsedAccount {
            pubkey: k.to_string(),
            writable: message.is_maybe_writable(i, None),
            signer: message.is_signer(i),
            source: Some(ParsedAccountSource::Transaction),
        })
        .collect();
    for (keys, writable) in [(&r.loaded.0, true), (&r.loaded.1, false)] {
        account_keys.extend(keys.iter().map(|k| ParsedAccount {
            pubkey: k.to_string(),
            writable,
            signer: false,
            source: Some(ParsedAccountSource::LookupTable),
        }));
    }
    let lookups = match message {
        VersionedMessage::Legacy(_) => None,
        VersionedMessage::V0(m) => Some(
            m.address_table_lookups
                .iter()
                .map(UiAddressTableLookup::from)
                .collect(),
        ),
    };
    UiTransaction {
        signatures: r
            .transaction
            .signatures
            .iter()
            .map(ToString::to_string)
            .collect(),
        message: UiMessage::Parsed(UiParsedMessage {
            account_keys,
            recent_blockhash: message.recent_blockhash().to_string(),
            instructions: message
                .instructions()
                .iter()
                .map(|ix| {
                    partially_decoded(
                        &r.account_keys,
                        ix.program_id_index,
                        &ix.accounts,
                        &ix.data,
                        None,
                    )
                })
                .collect(),
            address_table_lookups: lookups,
        }),
    }
}

/// The meta's inner instructions in the `jsonParsed` form.
fn parsed_inner(r: &TxRecord) -> Vec<UiInnerInstructions> {
    r.inner_instructions
        .iter()
        .map(|ii| UiInnerInstructions {
            index: ii.index,
            instructions: ii
                .instructions
                .iter()
                .map(|i| {
                    let c = &i.instruction;
                    partially_decoded(
                        &r.account_keys,
                        c.program_id_index,
                        &c.accounts,
                        &c.data,
                        i.stack_height,
                    )
                })
                .collect(),
        })
        .collect()
}

/// `getTransaction`'s answer for a landed transaction. `max_version` is the caller's
/// `maxSupportedTransactionVersion`: a v0 transaction needs `Some(0)`, as on a node.
pub fn confirmed_transaction(
    r: &TxRecord,
    encoding: UiTransactionEncoding,
    max_version: Option<u8>,
) -> RpcResult<EncodedConfirmedTransactionWithStatusMeta> {
    let version = r.transaction.version();
    if let TransactionVersion::Number(v) = version {
        if max_version.is_none_or(|max| v > max) {
            return Err(custom(
                -32015,
                format!(
                    "Transaction version ({v}) is not supported by the requesting client. Please \
                     try the request again with the following configuration parameter: \
                     \"maxSupportedTransactionVersion\": {v}"
                ),
                None,
            ));
        }
    }
    let bytes = || bincode::serialize(&r.transaction).map_err(super::internal);
    let mut meta = status_meta(r);
    let transaction = match encoding {
        UiTransactionEncoding::Json => EncodedTransaction::Json(json_transaction(&r.transaction)),
        UiTransactionEncoding::JsonParsed => {
            meta.inner_instructions = OptionSerializer::Some(parsed_inner(r));
            EncodedTransaction::Json(parsed_transaction(r))
        }
        UiTransactionEncoding::Binary => {
            EncodedTransaction::LegacyBinary(bs58::encode(bytes()?).into_string())
        }
        UiTransactionEncoding::Base58 => EncodedTransaction::Binary(
            bs58::encode(bytes()?).into_string(),
            TransactionBinaryEncoding::Base58,
        ),
        UiTransactionEncoding::Base64 => {
            EncodedTransaction::Binary(B64.encode(bytes()?), TransactionBinaryEncoding::Base64)
        }
    };
    Ok(EncodedConfirmedTransactionWithStatusMeta {
        slot: r.slot,
        transaction: EncodedTransactionWithStatusMeta {
            transaction,
            meta: Some(meta),
            version: max_version.map(|_| version),
        },
        block_time: Some(r.block_time),
    })
}

/// A landed transaction's status: finalized at once (the localnet has no forks to wait out).
pub fn status(r: &TxRecord) -> TransactionStatus {
    TransactionStatus {
        slot: r.slot,
        confirmations: None,
        status: match &r.err {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        },
        err: r.err.clone(),
        confirmation_status: Some(TransactionConfirmationStatus::Finalized),
    }
}

/// One entry of `getSignaturesForAddress`.
pub fn signature_entry(r: &TxRecord) -> RpcConfirmedTransactionStatusWithSignature {
    RpcConfirmedTransactionStatusWithSignature {
        signature: r.signature.to_string(),
        slot: r.slot,
        err: r.err.clone(),
        memo: None,
        block_time: Some(r.block_time),
        confirmation_status: Some(TransactionConfirmationStatus::Finalized),
    }
}
