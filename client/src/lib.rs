//! Scalpel client: PDAs, instruction builders, account decoding, the [`Chain`] trait with its
//! in-process implementation, and off-chain health computed by the program's own math.

pub mod admin;
pub mod chain;
pub mod decode;
pub mod events;
pub mod health;
pub mod ix;
pub mod keeper;
pub mod local;
pub mod pda;
pub mod pyth;
pub mod quote;
pub mod rpc;
pub mod scenario;
pub mod token;
pub mod trade;
pub mod units;

pub use chain::{Chain, TxFailure, TxOutcome};
pub use local::LocalChain;

/// The program id.
pub use scalpel::ID as PROGRAM_ID;
