//! The localnet's transaction history, in memory only: what landed through it (the bank keeps
//! no history a node's `getTransaction` could read), indexed by signature and by the addresses
//! each transaction names.

use solana_sdk::{
    pubkey::Pubkey, signature::Signature, transaction::TransactionError,
    transaction::VersionedTransaction, transaction_context::TransactionReturnData,
};
use solana_transaction_status_client_types::{InnerInstructions, TransactionTokenBalance};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// A transaction that landed (successfully or not), with what a node's `getTransaction` returns.
#[derive(Clone, Debug)]
pub struct TxRecord {
    /// First signature.
    pub signature: Signature,
    /// Slot it landed in.
    pub slot: u64,
    /// The clock's unix time then.
    pub block_time: i64,
    /// The transaction as sent.
    pub transaction: VersionedTransaction,
    /// Every account it used, static keys first then those loaded from lookup tables.
    pub account_keys: Vec<Pubkey>,
    /// Keys loaded from address lookup tables: (writable, read-only).
    pub loaded: (Vec<Pubkey>, Vec<Pubkey>),
    /// `None` when it succeeded.
    pub err: Option<TransactionError>,
    /// Program logs.
    pub logs: Vec<String>,
    /// Compute units consumed.
    pub units: u64,
    /// Fee charged (lamports).
    pub fee: u64,
    /// Return data, when an instruction set some.
    pub return_data: Option<TransactionReturnData>,
    /// Inner instructions (CPIs) per top-level instruction.
    pub inner_instructions: Vec<InnerInstructions>,
    /// Lamports of `account_keys` before and after.
    pub balances: (Vec<u64>, Vec<u64>),
    /// Token balances of its token accounts before and after.
    pub token_balances: (Vec<TransactionTokenBalance>, Vec<TransactionTokenBalance>),
}

impl TxRecord {
    /// Whether the transaction names `key`.
    pub fn mentions(&self, key: &Pubkey) -> bool {
        self.account_keys.contains(key)
    }
}

#[derive(Default)]
struct Inner {
    by_signature: HashMap<Signature, Arc<TxRecord>>,
    /// Signatures naming each address, oldest first.
    by_address: HashMap<Pubkey, Vec<Signature>>,
}

/// The history.
#[derive(Default)]
pub struct Ledger(Mutex<Inner>);

impl Ledger {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a landed transaction.
    pub fn insert(&self, record: Arc<TxRecord>) {
        let mut inner = self.lock();
        for key in &record.account_keys {
            inner
                .by_address
                .entry(*key)
                .or_default()
                .push(record.signature);
        }
        inner.by_signature.insert(record.signature, record);
    }

    /// The transaction with this signature, if it landed here.
    pub fn get(&self, signature: &Signature) -> Option<Arc<TxRecord>> {
        self.lock().by_signature.get(signature).cloned()
    }

    /// Transactions naming `address`, newest first: those before `before` (exclusive), down to
    /// `until` (exclusive), at most `limit`.
    pub fn for_address(
        &self,
        address: &Pubkey,
        before: Option<&Signature>,
        until: Option<&Signature>,
        limit: usize,
    ) -> Vec<Arc<TxRecord>> {
        let inner = self.lock();
        let Some(sigs) = inner.by_address.get(address) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut started = before.is_none();
        for sig in sigs.iter().rev() {
            if !started {
                started = Some(sig) == before;
                continue;
            }
            if Some(sig) == until || out.len() >= limit {
                break;
            }
            if let Some(r) = inner.by_signature.get(sig) {
                out.push(r.clone());
            }
        }
        out
    }
}
