//! Slots move like a node's: every interval the bank goes to the next slot, so blockhashes rotate
//! (one per slot, valid for 150 of them) and `lastValidBlockHeight` means what web3.js's
//! `confirmTransaction` expects. Subscribers hear of each slot.

use super::node::{Event, Node};
use solana_rpc_client_api::response::SlotInfo;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Starts the slot task; it runs until aborted.
pub(super) fn spawn(node: Arc<Node>, interval: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut timer = tokio::time::interval(interval);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        timer.tick().await;
        loop {
            timer.tick().await;
            match node.chain().advance_slot().await {
                Ok(slot) => node.publish(Event::Slot(SlotInfo {
                    slot,
                    parent: slot.saturating_sub(1),
                    root: slot.saturating_sub(1),
                })),
                Err(e) => {
                    tracing::error!(target: "scalpel::localnet", error = %e, "slot not advanced");
                }
            }
        }
    })
}
