//! Program accounts: zero-copy, versioned, padded, with compile-time size and alignment checks.
//! Fixed-point fields are stored as [`WrappedI80F48`](crate::math::WrappedI80F48) (alignment 1).

pub mod margin_account;
pub mod market;
pub mod protocol;

pub use margin_account::*;
pub use market::*;
pub use protocol::*;
