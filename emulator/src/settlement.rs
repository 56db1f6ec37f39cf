//! How an emulated transfer settles: `pending` halfway, its outcome at the end, each sent as
//! Mesh's signed webhook event (with the fault queued for it, if any).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::deliveries::deliver;
use super::state::{EmulatorState, lock};
use super::transfer_book::{Outcome, WebhookFault};
use super::wire::{json_number, unix_now};

/// Sends `pending` halfway through `settle_after` (Mesh's first webhook follows the browser's
/// callback), ends the transfer as `outcome` at its end and sends that, with `fault`.
pub(crate) async fn settle(
    state: Arc<EmulatorState>,
    id: String,
    outcome: Outcome,
    settle_after: Duration,
    fault: Option<WebhookFault>,
) {
    let pending = event(&state, &id);
    tokio::time::sleep(settle_after / 2).await;
    if fault.is_none() || fault == Some(WebhookFault::Duplicate) {
        deliver_with(&state, pending.clone(), fault).await;
    }
    tokio::time::sleep(settle_after / 2).await;
    {
        let mut book = lock(&state.transfers);
        if let Some(transfer) = book.transfers.iter_mut().find(|t| t.id == id) {
            transfer.status = outcome.as_str();
            if outcome == Outcome::Failed {
                transfer.hash = None;
            }
        }
    }
    let last = event(&state, &id);
    match fault {
        Some(WebhookFault::Drop) => {}
        Some(WebhookFault::OutOfOrder) => {
            deliver_with(&state, last, None).await;
            deliver_with(&state, pending, None).await;
        }
        other => deliver_with(&state, last, other).await,
    }
}

async fn deliver_with(state: &EmulatorState, event: Option<Value>, fault: Option<WebhookFault>) {
    let (Some(event), Some(webhook)) = (event, &state.settings.webhook) else {
        return;
    };
    deliver(&state.webhook_client, webhook, &event).await;
    if fault == Some(WebhookFault::Duplicate) {
        deliver(&state.webhook_client, webhook, &event).await;
    }
}

/// The webhook event for the transfer's current state (its `Id` and `SentTimestamp` are set
/// per attempt).
fn event(state: &EmulatorState, id: &str) -> Option<Value> {
    let book = lock(&state.transfers);
    let transfer = book.transfers.iter().find(|t| t.id == id)?;
    Some(json!({
        "EventId": uuid::Uuid::new_v4().to_string(),
        "TransferId": transfer.id,
        "Timestamp": unix_now(),
        "TransferStatus": transfer.status,
        "TransactionId": transfer.client_transaction_id,
        "TxHash": if transfer.status == "succeeded" { transfer.hash.clone() } else { None },
        "UserId": transfer.user_id,
        "Token": transfer.symbol,
        "Chain": transfer.network.name,
        "SourceAmount": json_number(transfer.amount),
        "SourceAccountProvider": transfer.from.name,
        "DestinationAmount": json_number(transfer.amount),
        "DestinationAddress": transfer.address,
    }))
}
