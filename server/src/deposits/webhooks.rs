//! `POST /webhooks/mesh`: Mesh's signed transfer webhooks, the source of truth for deposits
//! (the browser's `transferFinished` is only a hint).

use std::sync::Arc;
use std::time::Duration;

use crate::clock::unix_now;
use crate::mesh::webhook::{SIGNATURE_HEADER, TransferEvent, TransferStatus, signature_matches};
use crate::vault::{DepositStatus, TokenVault, TransferUpdate};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Notify;

/// The path Mesh's dashboard is given (after the app's public URL).
pub use crate::config::emulator_settings::WEBHOOK_PATH;

/// The largest delivery accepted (Mesh's events are a few hundred bytes).
pub const MAX_WEBHOOK_BYTES: usize = 64 * 1024;

/// How far a delivery's `SentTimestamp` may be from now: an older one is a replay.
pub const MAX_DELIVERY_AGE_SECONDS: i64 = 300;

/// How often stored deliveries are looked at even without a new one (after a crash, or a
/// database error on the first try).
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// How long the applying task waits after a new delivery, so a burst is applied as one batch
/// (one commit) instead of competing with the burst's own inserts.
const GATHER_FOR: Duration = Duration::from_millis(50);

struct Receiver {
    secret: SecretString,
    vault: Arc<TokenVault>,
    wake: Arc<Notify>,
}

/// The webhook route with its applying task, or no route at all when no secret is configured
/// (the path then answers 404 like any unknown one). Call it inside the Tokio runtime.
pub fn webhook_routes<S: Clone + Send + Sync + 'static>(
    secret: Option<SecretString>,
    vault: Arc<TokenVault>,
) -> Router<S> {
    let Some(secret) = secret else {
        return Router::new();
    };
    let wake = Arc::new(Notify::new());
    tokio::spawn(apply_stored_forever(vault.clone(), wake.clone()));
    Router::new()
        .route(WEBHOOK_PATH, post(receive))
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES))
        .with_state(Arc::new(Receiver {
            secret,
            vault,
            wake,
        }))
}

// A delivery is checked against `MESH_WEBHOOK_SECRET` before anything is parsed, stored once
// per `EventId`, answered, and only then applied, by one background task, so the answer stays
// well within Mesh's 200 ms and a crash after the answer loses nothing. Mesh calls this route
// from its servers: it is mounted outside the browser-origin check, the session cookie and the
// per-address limits, and proves itself by its signature alone.
async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    // Refusals are logged without the body: it is not trusted, and may hold user data.
    let Some(signature) = headers
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok())
    else {
        tracing::warn!("webhook refused: no {SIGNATURE_HEADER} header");
        return StatusCode::UNAUTHORIZED;
    };
    let secret = receiver.secret.expose_secret().as_bytes();
    if !signature_matches(secret, &body, signature) {
        tracing::warn!(
            bytes = body.len(),
            "webhook refused: the signature does not match"
        );
        return StatusCode::UNAUTHORIZED;
    }
    let event: TransferEvent = match serde_json::from_slice(&body) {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(%error, "webhook refused: signed, but not a transfer event");
            return StatusCode::BAD_REQUEST;
        }
    };
    let now = unix_now();
    if let Some(sent) = event.sent_at_seconds()
        && (now - sent).abs() > MAX_DELIVERY_AGE_SECONDS
    {
        tracing::warn!(
            event = %event.event_id,
            age_seconds = now - sent,
            "webhook refused: stale delivery"
        );
        return StatusCode::UNAUTHORIZED;
    }
    // The body parsed as JSON, so it is UTF-8.
    let body = String::from_utf8_lossy(&body);
    match receiver
        .vault
        .record_webhook(&event.event_id, &body, now)
        .await
    {
        Ok(first) => {
            if first {
                receiver.wake.notify_one();
            }
            tracing::info!(event = %event.event_id, first, "webhook stored");
            StatusCode::OK
        }
        Err(error) => {
            // Not stored, so not acknowledged: Mesh tries again.
            tracing::error!(%error, "webhook not stored");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

/// The applying task: after each new delivery, and every minute, applies what is stored.
async fn apply_stored_forever(vault: Arc<TokenVault>, wake: Arc<Notify>) {
    loop {
        apply_stored(&vault).await;
        tokio::select! {
            () = wake.notified() => tokio::time::sleep(GATHER_FOR).await,
            () = tokio::time::sleep(SWEEP_EVERY) => {}
        }
    }
}

/// Applies every stored delivery not yet applied, a batch per transaction; returns how many were
/// marked done. A database error stops the pass (the next one tries again).
pub async fn apply_stored(vault: &TokenVault) -> usize {
    const BATCH: i64 = 100;
    let mut done = 0;
    loop {
        let batch = match vault.unprocessed_webhooks(BATCH).await {
            Ok(batch) if !batch.is_empty() => batch,
            Ok(_) => return done,
            Err(error) => {
                tracing::error!(%error, "could not read stored webhooks");
                return done;
            }
        };
        let events: Vec<_> = batch
            .into_iter()
            .map(|(event_id, body)| (event_id, transfer_update(&body)))
            .collect();
        match vault.apply_webhooks(&events, unix_now()).await {
            Ok(set_aside) => {
                for (event, reason) in set_aside {
                    tracing::error!(%event, %reason, "a stored webhook could not be applied; set aside (webhook_events.set_aside_reason)");
                }
            }
            Err(error) => {
                tracing::error!(%error, "could not apply stored webhooks");
                return done;
            }
        }
        done += events.len();
    }
}

/// The update a stored delivery makes, or none (a state this app does not act on, or no user).
fn transfer_update(body: &str) -> Option<TransferUpdate> {
    let event: TransferEvent = serde_json::from_str(body)
        .inspect_err(|error| tracing::error!(%error, "a stored webhook no longer parses"))
        .ok()?;
    let status = match &event.transfer_status {
        TransferStatus::Pending => DepositStatus::Pending,
        TransferStatus::Succeeded => DepositStatus::Succeeded,
        TransferStatus::Failed => DepositStatus::Failed,
        TransferStatus::Other(other) => {
            tracing::info!(event = %event.event_id, status = %other, "webhook state not acted on");
            return None;
        }
    };
    let Some(user_id) = event.user_id.clone() else {
        tracing::warn!(event = %event.event_id, "webhook without a UserId: not applied");
        return None;
    };
    // Mesh leaves some fields empty until they are known (a pending transfer's hash).
    let known = |field: Option<String>| field.filter(|text| !text.trim().is_empty());
    Some(TransferUpdate {
        transfer_id: event.transfer_id,
        user_id,
        status,
        symbol: known(event.token),
        network: known(event.chain),
        amount: event
            .destination_amount
            .or(event.source_amount)
            .map(|amount| amount.0.normalize().to_string()),
        destination: known(event.destination_address),
        tx_hash: known(event.tx_hash),
        at: unix_now(),
    })
}
