//! Scalpel client: PDAs, instruction builders, account decoding, the [`Chain`] trait over RPC,
//! off-chain health computed by the program's own math, the keeper, quotes and config as code.
//!
//! Features (none by default, so a bot against a cluster compiles no test bank):
//! - `local`: the in-process chain ([`LocalChain`], solana-program-test), migrations and prices
//!   applied to it, and the scenario engine that runs on it.
//! - `localnet`: `local`, served as a local Solana node over JSON-RPC and PubSub
//!   (`scalpel localnet`).

pub mod admin;
pub mod chain;
pub mod decode;
pub mod events;
pub mod health;
pub mod ix;
pub mod keeper;
#[cfg(feature = "local")]
pub mod local;
#[cfg(feature = "localnet")]
pub mod localnet;
pub mod pda;
pub mod pyth;
pub mod quote;
pub mod rpc;
#[cfg(feature = "local")]
pub mod scenario;
#[cfg(feature = "sim")]
pub mod sim;
pub mod token;
pub mod trade;
pub mod units;

pub use chain::{Chain, TxFailure, TxOutcome};
#[cfg(feature = "local")]
pub use local::LocalChain;

/// The program id.
pub use scalpel::ID as PROGRAM_ID;
