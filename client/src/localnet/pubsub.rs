//! PubSub over WebSocket, in Solana's shapes: `accountSubscribe`, `signatureSubscribe`,
//! `logsSubscribe` (all / mentions), `slotSubscribe` and `rootSubscribe`, each with its
//! `...Unsubscribe` (answering `true`). Every subscription is a task following the node's event
//! stream: accounts are compared after each transaction, slot and direct write, so a change made
//! any way is notified; signatures are notified once, then the subscription ends as on a node.

use super::node::{Event, Node};
use super::wire::account::{ui_account, Encoding};
use super::wire::{invalid_params, Params, RpcResult};
use jsonrpsee::core::server::{PendingSubscriptionSink, SubscriptionSink};
use jsonrpsee::RpcModule;
use serde::Serialize;
use serde_json::{json, Value};
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcSignatureSubscribeConfig, RpcTransactionLogsFilter,
};
use solana_rpc_client_api::response::{
    ProcessedSignatureResult, ReceivedSignatureResult, RpcLogsResponse, RpcSignatureResult,
};
use solana_sdk::{account::Account, pubkey::Pubkey};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

/// Registers every subscription.
pub(super) fn register(m: &mut RpcModule<Node>) -> anyhow::Result<()> {
    sub(
        m,
        [
            "accountSubscribe",
            "accountNotification",
            "accountUnsubscribe",
        ],
        |node: &Node, p: &Params| {
            let key = p.pubkey(0)?;
            Ok((key, p.config(1)?, node.account(&key)))
        },
        watch_account,
    )?;
    sub(
        m,
        [
            "signatureSubscribe",
            "signatureNotification",
            "signatureUnsubscribe",
        ],
        |_: &Node, p: &Params| Ok((p.signature(0)?, p.config(1)?)),
        watch_signature,
    )?;
    sub(
        m,
        ["logsSubscribe", "logsNotification", "logsUnsubscribe"],
        logs_filter,
        watch_logs,
    )?;
    sub(
        m,
        ["slotSubscribe", "slotNotification", "slotUnsubscribe"],
        |_: &Node, _: &Params| Ok(false),
        watch_slots,
    )?;
    sub(
        m,
        ["rootSubscribe", "rootNotification", "rootUnsubscribe"],
        |_: &Node, _: &Params| Ok(true),
        watch_slots,
    )
}

/// A subscription whose parameters `parse` reads (a bad one is refused with its error) and whose
/// notifications `run` sends once it is accepted. The event stream is joined before the client
/// hears of the subscription, so nothing that happens after its answer is missed.
fn sub<T, P, R, Fut>(
    m: &mut RpcModule<Node>,
    [subscribe, notification, unsubscribe]: [&'static str; 3],
    parse: P,
    run: R,
) -> anyhow::Result<()>
where
    T: Send + 'static,
    P: Fn(&Node, &Params) -> RpcResult<T> + Copy + Send + Sync + 'static,
    R: Fn(Arc<Node>, SubscriptionSink, T, Events) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    m.register_subscription(
        subscribe,
        notification,
        unsubscribe,
        move |raw, pending: PendingSubscriptionSink, node, _| async move {
            let events = node.subscribe();
            match Params::parse(&raw).and_then(|p| parse(&node, &p)) {
                Err(e) => pending.reject(e).await,
                Ok(args) => {
                    if let Ok(sink) = pending.accept().await {
                        run(node, sink, args, events).await;
                    }
                }
            }
        },
    )?;
    Ok(())
}

/// Sends one notification; `false` once the client is gone.
async fn notify(sink: &SubscriptionSink, result: impl Serialize) -> bool {
    match serde_json::value::to_raw_value(&result) {
        Ok(raw) => sink.send(raw).await.is_ok(),
        Err(_) => false,
    }
}

/// A notification's `{context: {slot}, value}`.
fn in_context(slot: u64, value: impl Serialize) -> Value {
    json!({ "context": { "slot": slot }, "value": value })
}

/// The next event, `None` when the client left or the node stopped. A subscriber that fell
/// behind gets `AccountsWritten`: whatever it watches is checked again.
async fn next(
    sink: &SubscriptionSink,
    events: &mut tokio::sync::broadcast::Receiver<Event>,
) -> Option<Event> {
    tokio::select! {
        _ = sink.closed() => None,
        ev = events.recv() => match ev {
            Ok(ev) => Some(ev),
            Err(RecvError::Lagged(_)) => Some(Event::AccountsWritten),
            Err(RecvError::Closed) => None,
        },
    }
}

/// The node's events, as one subscription follows them.
type Events = tokio::sync::broadcast::Receiver<Event>;

/// The account, its config, and its state when subscribed.
type AccountArgs = (Pubkey, RpcAccountInfoConfig, Option<Account>);

async fn watch_account(
    node: Arc<Node>,
    sink: SubscriptionSink,
    (key, config, mut last): AccountArgs,
    mut events: Events,
) {
    let encoding = config.encoding.unwrap_or(UiAccountEncoding::Binary);
    while next(&sink, &mut events).await.is_some() {
        let now = node.account(&key);
        if now == last {
            continue;
        }
        // A closed account is notified as an empty one owned by the system program.
        let shown = now.clone().unwrap_or_else(|| Account {
            owner: solana_sdk::system_program::ID,
            ..Account::default()
        });
        let how = Encoding {
            encoding,
            slice: config.data_slice.as_ref(),
            max_base58: usize::MAX,
        };
        let Ok(value) = ui_account(&shown, how, &|m: &Pubkey| node.mint_decimals(m)) else {
            return;
        };
        if !notify(&sink, in_context(node.slot(), value)).await {
            return;
        }
        last = now;
    }
}

type SignatureArgs = (
    solana_sdk::signature::Signature,
    RpcSignatureSubscribeConfig,
);

async fn watch_signature(
    node: Arc<Node>,
    sink: SubscriptionSink,
    (sig, config): SignatureArgs,
    mut events: Events,
) {
    let processed = |r: &super::ledger::TxRecord| {
        in_context(
            r.slot,
            RpcSignatureResult::ProcessedSignature(ProcessedSignatureResult { err: r.err.clone() }),
        )
    };
    // The events were joined before this look at the ledger: a transaction landing in between
    // is in one or the other.
    if let Some(r) = node.ledger.get(&sig) {
        notify(&sink, processed(&r)).await;
        return;
    }
    while let Some(ev) = next(&sink, &mut events).await {
        let Event::Transaction(r) = ev else { continue };
        if r.signature != sig {
            continue;
        }
        if config.enable_received_notification == Some(true) {
            let received =
                RpcSignatureResult::ReceivedSignature(ReceivedSignatureResult::ReceivedSignature);
            if !notify(&sink, in_context(r.slot, received)).await {
                return;
            }
        }
        notify(&sink, processed(&r)).await;
        return;
    }
}

/// `None`: every transaction; `Some(k)`: those naming `k`.
type LogsArgs = Option<Pubkey>;

fn logs_filter(_: &Node, p: &Params) -> RpcResult<LogsArgs> {
    match p.req::<RpcTransactionLogsFilter>(0)? {
        RpcTransactionLogsFilter::All | RpcTransactionLogsFilter::AllWithVotes => Ok(None),
        RpcTransactionLogsFilter::Mentions(keys) => match keys.as_slice() {
            [k] => Ok(Some(super::wire::pubkey(k)?)),
            _ => Err(invalid_params("Invalid Request: Only 1 address supported")),
        },
    }
}

async fn watch_logs(
    _node: Arc<Node>,
    sink: SubscriptionSink,
    mentions: LogsArgs,
    mut events: Events,
) {
    while let Some(ev) = next(&sink, &mut events).await {
        let Event::Transaction(r) = ev else { continue };
        if mentions.is_some_and(|k| !r.mentions(&k)) {
            continue;
        }
        let value = RpcLogsResponse {
            signature: r.signature.to_string(),
            err: r.err.clone(),
            logs: r.logs.clone(),
        };
        if !notify(&sink, in_context(r.slot, value)).await {
            return;
        }
    }
}

/// Slot notifications (`SlotInfo`), or with `roots` the new root alone.
async fn watch_slots(_node: Arc<Node>, sink: SubscriptionSink, roots: bool, mut events: Events) {
    while let Some(ev) = next(&sink, &mut events).await {
        let Event::Slot(info) = ev else { continue };
        let sent = if roots {
            notify(&sink, info.root).await
        } else {
            notify(&sink, info).await
        };
        if !sent {
            return;
        }
    }
}
