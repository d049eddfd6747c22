//! What the localnet saw: every method called, methods it does not serve, every transaction
//! error it put on the wire, and errors that did not survive the trip. Tests assert on these (a
//! client that needs an unserved method, or an error that changes on the wire, is a bug to see at
//! once); the JSON-RPC layer records calls through [`Recorder`], a jsonrpsee middleware.

use jsonrpsee::server::middleware::rpc::{Batch, BatchEntry, Notification, Request, RpcServiceT};
use solana_sdk::transaction::TransactionError;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// The localnet's record of calls and errors.
#[derive(Debug, Default)]
pub struct Diagnostics {
    served: OnceLock<BTreeSet<String>>,
    calls: Mutex<Vec<String>>,
    unknown: Mutex<Vec<String>>,
    wire_errors: Mutex<Vec<TransactionError>>,
    mismatches: Mutex<Vec<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Diagnostics {
    /// Sets the methods the server serves (once, when they are registered).
    pub(super) fn set_served(&self, methods: impl IntoIterator<Item = String>) {
        let _ = self.served.set(methods.into_iter().collect());
    }

    fn record(&self, method: &str) {
        lock(&self.calls).push(method.to_string());
        if self.served.get().is_some_and(|s| !s.contains(method)) {
            tracing::warn!(target: "scalpel::localnet", method, "method not served");
            lock(&self.unknown).push(method.to_string());
        }
    }

    /// Records a `TransactionError` sent to a client, and whether it reads back the same from
    /// its JSON (what a client decodes).
    pub(super) fn wire_error(&self, err: &TransactionError) {
        let back = serde_json::to_value(err)
            .ok()
            .and_then(|v| serde_json::from_value::<TransactionError>(v).ok());
        if back.as_ref() != Some(err) {
            let m = format!("{err:?} reads back from its JSON as {back:?}");
            tracing::warn!(target: "scalpel::localnet", "{m}");
            lock(&self.mismatches).push(m);
        }
        lock(&self.wire_errors).push(err.clone());
    }

    /// Every method called so far, in order.
    pub fn calls(&self) -> Vec<String> {
        lock(&self.calls).clone()
    }

    /// How many times each method was called.
    pub fn call_counts(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for c in lock(&self.calls).iter() {
            *out.entry(c.clone()).or_default() += 1;
        }
        out
    }

    /// Methods asked for that the localnet does not serve.
    pub fn unknown_methods(&self) -> Vec<String> {
        lock(&self.unknown).clone()
    }

    /// Every `TransactionError` sent to a client (failed preflights, simulations, statuses).
    pub fn wire_errors(&self) -> Vec<TransactionError> {
        lock(&self.wire_errors).clone()
    }

    /// Errors that did not read back the same from their JSON (should stay empty).
    pub fn mismatches(&self) -> Vec<String> {
        lock(&self.mismatches).clone()
    }
}

/// jsonrpsee middleware recording each call (batched ones included) in [`Diagnostics`].
#[derive(Clone)]
pub(super) struct Recorder<S> {
    pub(super) service: S,
    pub(super) diagnostics: Arc<Diagnostics>,
}

impl<S> RpcServiceT for Recorder<S>
where
    S: RpcServiceT + Clone + Send + Sync + 'static,
{
    type MethodResponse = S::MethodResponse;
    type NotificationResponse = S::NotificationResponse;
    type BatchResponse = S::BatchResponse;

    fn call<'a>(&self, req: Request<'a>) -> impl Future<Output = Self::MethodResponse> + Send + 'a {
        self.diagnostics.record(req.method_name());
        self.service.call(req)
    }

    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = Self::BatchResponse> + Send + 'a {
        for entry in batch.iter().flatten() {
            if let BatchEntry::Call(req) = entry {
                self.diagnostics.record(req.method_name());
            }
        }
        self.service.batch(batch)
    }

    /// Notifications get no answer; web3.js sends `ping` ones on its socket.
    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl Future<Output = Self::NotificationResponse> + Send + 'a {
        self.service.notification(n)
    }
}
