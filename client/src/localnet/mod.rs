//! `scalpel localnet`: the in-process bank (the Scalpel program natively or as its SBF build,
//! SPL Token, Pyth `PriceUpdateV2` accounts) served as a local Solana node, so that
//! `solana-rpc-client`, `@solana/web3.js`, Anchor's TypeScript client and wallets work against it
//! unchanged: JSON-RPC over HTTP, PubSub over WebSocket, slots every 400 ms, transactions verified
//! and executed by the bank, their history kept in memory. `docs/LOCALNET.md` lists what is served
//! and how it differs from `solana-test-validator`.
//!
//! One idea per module: [`server`] (the two jsonrpsee servers), [`node`] (the shared state),
//! `execute` (running a transaction as a node does), `methods` (the standard methods),
//! `pubsub` (subscriptions), `operator` (the `scalpel_*` methods) and [`remote`] (calling them),
//! `ticker` (slots), `ledger` (history), [`wire`] (JSON shapes), [`diagnostics`], `names`
//! (instruction names for the console), [`genesis`] (a fresh chain from a migration).

pub mod diagnostics;
mod execute;
pub mod genesis;
mod ledger;
mod methods;
mod names;
pub mod node;
mod operator;
mod pubsub;
pub mod remote;
pub mod server;
mod ticker;
pub mod wire;

pub use diagnostics::Diagnostics;
pub use ledger::TxRecord;
pub use names::{instruction_names, result_name};
pub use node::{ChainHost, Event, Operator};
pub use remote::Remote;
pub use server::{Localnet, LocalnetConfig, DEFAULT_RPC_PORT, SLOT_INTERVAL};
