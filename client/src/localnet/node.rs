//! The node behind the servers: the bank (through its [`LocalChain`]), the transaction history,
//! the event stream PubSub subscribers follow, what the operator methods act on, and the
//! diagnostics. Every method handler gets an `Arc<Node>`.

use super::diagnostics::Diagnostics;
use super::ledger::{Ledger, TxRecord};
use crate::local::migration::LocalMarket;
use crate::LocalChain;
use solana_rpc_client_api::response::SlotInfo;
use solana_runtime::bank::Bank;
use solana_sdk::{
    account::{Account, ReadableAccount},
    pubkey::Pubkey,
    signature::{Keypair, Signer},
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Whatever owns the [`LocalChain`] a localnet serves (the chain itself, or a test fixture that
/// holds one).
pub trait ChainHost: Send + Sync + 'static {
    /// The chain.
    fn local_chain(&self) -> &LocalChain;
}

impl ChainHost for LocalChain {
    fn local_chain(&self) -> &LocalChain {
        self
    }
}

/// Something subscribers may want to hear about.
#[derive(Clone, Debug)]
pub enum Event {
    /// The bank moved to a new slot.
    Slot(SlotInfo),
    /// A transaction landed through the localnet.
    Transaction(Arc<TxRecord>),
    /// Accounts were written outside a transaction (operator prices, the clock).
    AccountsWritten,
}

/// What the operator methods (`scalpel_setPrice`, `scalpel_fund`, ...) act on: the markets a
/// migration created and the keys that can mint their tokens and pay.
pub struct Operator {
    /// Markets by listing order.
    pub markets: Vec<LocalMarket>,
    /// Authority of every local mint.
    pub mint_authority: Keypair,
}

/// The shared state.
pub struct Node {
    host: Arc<dyn ChainHost>,
    pub(super) ledger: Ledger,
    pub(super) diagnostics: Arc<Diagnostics>,
    events: broadcast::Sender<Event>,
    pub(super) operator: Option<Operator>,
    faucet: Keypair,
    nonce: AtomicU64,
}

impl Node {
    pub(super) fn new(
        host: Arc<dyn ChainHost>,
        operator: Option<Operator>,
        diagnostics: Arc<Diagnostics>,
    ) -> Self {
        let faucet = host.local_chain().payer().insecure_clone();
        let (events, _) = broadcast::channel(1024);
        Self {
            host,
            ledger: Ledger::default(),
            diagnostics,
            events,
            operator,
            faucet,
            nonce: AtomicU64::new(1),
        }
    }

    /// The chain served.
    pub fn chain(&self) -> &LocalChain {
        self.host.local_chain()
    }

    /// The working bank, for reads.
    pub fn bank(&self) -> Arc<Bank> {
        self.chain().working_bank()
    }

    /// The slot answers are given at.
    pub fn slot(&self) -> u64 {
        self.bank().slot()
    }

    /// The key that pays airdrops and operator transactions (the bank's funded payer).
    pub fn faucet(&self) -> &Keypair {
        &self.faucet
    }

    /// The node's identity (`getIdentity`): the faucet's key.
    pub fn identity(&self) -> Pubkey {
        self.faucet.pubkey()
    }

    /// A number that makes each transaction the localnet signs itself unique (a compute-unit
    /// price in micro-lamports: identical transactions in one slot would share a signature).
    pub(super) fn next_nonce(&self) -> u64 {
        self.nonce.fetch_add(1, Ordering::Relaxed) % 10_000
    }

    /// Tells subscribers.
    pub(super) fn publish(&self, event: Event) {
        // No receiver is not an error: nobody subscribed yet.
        let _ = self.events.send(event);
    }

    /// A receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// An account at the working bank.
    pub fn account(&self, key: &Pubkey) -> Option<Account> {
        self.bank().get_account(key).map(Account::from)
    }

    /// The decimals of `mint` when it is an SPL Token mint (to parse token accounts).
    pub fn mint_decimals(&self, mint: &Pubkey) -> Option<u8> {
        let a = self.account(mint)?;
        super::wire::account::token_mint(&a).map(|m| m.decimals)
    }

    /// Lamports of `key` (0 when absent).
    pub fn lamports(&self, key: &Pubkey) -> u64 {
        self.bank().get_account(key).map_or(0, |a| a.lamports())
    }
}
