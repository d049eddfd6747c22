//! Wire shapes: what a Solana node puts in its JSON-RPC answers, built from the
//! solana-rpc-client-api / solana-account-decoder / solana-transaction-status types that
//! `solana-rpc-client` parses (and web3.js's schemas accept). Here: errors with Solana's codes,
//! positional parameters, the `{context, value}` wrapper; `account` encodes accounts,
//! `transaction` decodes sent transactions and encodes landed ones.

pub mod account;
pub mod transaction;

use jsonrpsee::types::{ErrorObject, ErrorObjectOwned};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use solana_sdk::{hash::Hash, pubkey::Pubkey, signature::Signature};
use std::str::FromStr;

/// The node version the localnet answers `getVersion` with: the client crates' own.
pub const VERSION: &str = "2.3.13";

/// A method's answer.
pub type RpcResult<T = Value> = Result<T, ErrorObjectOwned>;

/// JSON-RPC "invalid params" (-32602), as a node words it.
pub fn invalid_params(message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObject::owned(-32602, message, None::<()>)
}

/// JSON-RPC "internal error" (-32603).
pub fn internal(e: impl std::fmt::Display) -> ErrorObjectOwned {
    ErrorObject::owned(-32603, format!("Internal error: {e}"), None::<()>)
}

/// An error with a Solana-specific code (-32002 preflight failure, -32003 signature failure…).
pub fn custom(code: i32, message: impl Into<String>, data: Option<Value>) -> ErrorObjectOwned {
    ErrorObject::owned(code, message, data)
}

/// Error -32003, what a node answers for a transaction whose signatures do not verify.
pub fn signature_failure() -> ErrorObjectOwned {
    custom(-32003, "Transaction signature verification failure", None)
}

/// Positional parameters (`"params": [...]`); a missing or `null` params is an empty list.
#[derive(Debug, Default)]
pub struct Params(Vec<Value>);

impl Params {
    /// Reads jsonrpsee's raw parameters.
    pub fn parse(raw: &jsonrpsee::types::Params<'_>) -> RpcResult<Self> {
        match raw.parse::<Value>() {
            Ok(Value::Null) => Ok(Self::default()),
            Ok(Value::Array(v)) => Ok(Self(v)),
            Ok(_) => Err(invalid_params(
                "Invalid params: expected an array of positional parameters",
            )),
            Err(e) => Err(invalid_params(format!("Invalid params: {e}"))),
        }
    }

    /// Parameter `i`, `None` when absent or null.
    pub fn opt<T: DeserializeOwned>(&self, i: usize) -> RpcResult<Option<T>> {
        match self.0.get(i) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|e| invalid_params(format!("Invalid params: parameter {i}: {e}"))),
        }
    }

    /// Parameter `i`, required.
    pub fn req<T: DeserializeOwned>(&self, i: usize) -> RpcResult<T> {
        self.opt(i)?
            .ok_or_else(|| invalid_params(format!("Invalid params: missing parameter {i}")))
    }

    /// Parameter `i`, or its default when absent.
    pub fn config<T: DeserializeOwned + Default>(&self, i: usize) -> RpcResult<T> {
        Ok(self.opt(i)?.unwrap_or_default())
    }

    /// Parameter `i` as a base-58 public key.
    pub fn pubkey(&self, i: usize) -> RpcResult<Pubkey> {
        pubkey(&self.req::<String>(i)?)
    }

    /// Parameter `i` as a base-58 signature.
    pub fn signature(&self, i: usize) -> RpcResult<Signature> {
        signature(&self.req::<String>(i)?)
    }

    /// Parameter `i` as a base-58 hash.
    pub fn hash(&self, i: usize) -> RpcResult<Hash> {
        Hash::from_str(&self.req::<String>(i)?)
            .map_err(|e| invalid_params(format!("Invalid param: {e}")))
    }
}

/// A base-58 public key.
pub fn pubkey(s: &str) -> RpcResult<Pubkey> {
    Pubkey::from_str(s).map_err(|e| invalid_params(format!("Invalid param: {s}: {e}")))
}

/// A base-58 signature.
pub fn signature(s: &str) -> RpcResult<Signature> {
    Signature::from_str(s).map_err(|e| invalid_params(format!("Invalid param: {s}: {e}")))
}

/// `{"context":{"slot":…,"apiVersion":…},"value":…}`
pub fn with_context(slot: u64, value: Value) -> Value {
    json!({
        "context": { "slot": slot, "apiVersion": VERSION },
        "value": value,
    })
}

/// Serializes a wire type.
pub fn to_value(v: impl serde::Serialize) -> RpcResult {
    serde_json::to_value(v).map_err(internal)
}
