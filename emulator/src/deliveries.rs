//! Webhook delivery as Mesh does it: at least once, signed, retried until a 2xx with the same
//! `EventId` and a new `Id` per attempt.

use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::wire::{SIGNATURE_HEADER, sign, unix_now};
use crate::Webhook;

/// Attempts per webhook event before the emulator gives up on it.
const MAX_DELIVERY_ATTEMPTS: u32 = 8;

/// Posts `event` until the receiver answers 2xx (or the attempts run out), each attempt with a
/// new `Id` and `SentTimestamp` and its own signature over the exact bytes sent.
pub async fn deliver(http: &reqwest::Client, webhook: &Webhook, event: &Value) {
    let mut delay = Duration::from_millis(250);
    for attempt in 1..=MAX_DELIVERY_ATTEMPTS {
        let mut body = event.clone();
        body["Id"] = json!(uuid::Uuid::new_v4().to_string());
        body["SentTimestamp"] = json!(unix_now());
        let bytes = body.to_string().into_bytes();
        let signature = sign(webhook.secret.expose_secret().as_bytes(), &bytes);
        let sent = http
            .post(webhook.url.clone())
            .header(SIGNATURE_HEADER, signature)
            .header("content-type", "application/json")
            .body(bytes)
            .send()
            .await;
        match sent {
            Ok(answer) if answer.status().is_success() => return,
            Ok(answer) => {
                tracing::warn!(status = %answer.status(), attempt, "emulated webhook refused")
            }
            Err(error) => tracing::warn!(%error, attempt, "emulated webhook not delivered"),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(8));
    }
}
