//! The JSON-RPC methods, by topic: `accounts` (reads and scans), `transactions` (send, simulate,
//! history), `cluster` (slots, blockhashes, versions), and the operator methods in
//! [`super::operator`]. Each handler takes the node and the positional parameters.

mod accounts;
mod cluster;
mod transactions;

pub(super) use transactions::airdrop;

use super::node::Node;
use super::wire::{Params, RpcResult};
use jsonrpsee::RpcModule;
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;

/// Adds one method whose handler is `f(node, params)`.
pub(super) fn add<F, Fut>(
    module: &mut RpcModule<Node>,
    name: &'static str,
    f: F,
) -> anyhow::Result<()>
where
    F: Fn(Arc<Node>, Params) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = RpcResult<Value>> + Send + 'static,
{
    module.register_async_method(name, move |raw, node, _| {
        let f = f.clone();
        async move { f(node, Params::parse(&raw)?).await }
    })?;
    Ok(())
}

/// Registers every standard method.
pub(super) fn register(module: &mut RpcModule<Node>) -> anyhow::Result<()> {
    accounts::register(module)?;
    transactions::register(module)?;
    cluster::register(module)
}
