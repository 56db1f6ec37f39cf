//! The Mesh webhook receiver over HTTP: signatures, deduplication, order, size, concurrency.
#![cfg(feature = "ssr")]

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use common::{SECRET, TestApp, WEBHOOK_SECRET};
use serde_json::json;
use server::clock::unix_now;
use server::mesh::webhook::{SIGNATURE_HEADER, sign};
use server::vault::StoredTransfer;
use tower::ServiceExt;

/// A delivery body as Mesh sends it (milliseconds in `SentTimestamp`, as some sources show).
fn event(event_id: &str, transfer_id: &str, user: &str, status: &str) -> String {
    json!({
        "EventId": event_id,
        "Id": uuid::Uuid::new_v4().to_string(),
        "SentTimestamp": unix_now() * 1000,
        "TransferId": transfer_id,
        "Timestamp": unix_now() * 1000,
        "TransferStatus": status,
        "TransactionId": "deposit-1",
        "TxHash": if status.eq_ignore_ascii_case("succeeded") { "0xfeed" } else { "" },
        "UserId": user,
        "Token": "USDC",
        "Chain": "Ethereum",
        "SourceAmount": 25.5,
        "SourceAccountProvider": "Coinbase",
        "DestinationAmount": 25.25,
        "DestinationAddress": "0x1234",
        "SomethingNew": {"nested": true},
    })
    .to_string()
}

impl TestApp {
    async fn deliver(&self, body: &str, signature: Option<&str>) -> reqwest::StatusCode {
        let mut request = self
            .http
            .post(format!("http://{}/webhooks/mesh", self.addr))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(signature) = signature {
            request = request.header(SIGNATURE_HEADER, signature);
        }
        request.send().await.unwrap().status()
    }

    async fn deliver_signed(&self, body: &str) -> reqwest::StatusCode {
        self.deliver(
            body,
            Some(&sign(WEBHOOK_SECRET.as_bytes(), body.as_bytes())),
        )
        .await
    }

    /// Waits until every stored delivery has been applied.
    async fn all_processed(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self
            .vault
            .unprocessed_webhooks(10)
            .await
            .unwrap()
            .is_empty()
        {
            assert!(Instant::now() < deadline, "stored deliveries never applied");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The user's transfers once `done` holds for them (the receiver applies in the background).
    async fn transfers_when(
        &self,
        user: &str,
        done: impl Fn(&[StoredTransfer]) -> bool,
    ) -> Vec<StoredTransfer> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let transfers = self.vault.transfers_of(user, 100).await.unwrap();
            if done(&transfers) || Instant::now() > deadline {
                return transfers;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn statuses(transfers: &[StoredTransfer]) -> Vec<&str> {
    transfers.iter().map(|t| t.status.as_str()).collect()
}

#[tokio::test]
async fn a_delivery_sent_three_times_is_stored_and_applied_once() {
    let app = TestApp::start(SECRET).await;
    let user = uuid::Uuid::new_v4().to_string();
    let body = event("event-1", "transfer-1", &user, "pending");
    for _ in 0..3 {
        assert_eq!(app.deliver_signed(&body).await, 200);
    }
    let transfers = app.transfers_when(&user, |t| !t.is_empty()).await;
    assert_eq!(statuses(&transfers), ["pending"]);
    let transfer = &transfers[0];
    assert_eq!(transfer.transfer_id, "transfer-1");
    assert_eq!(transfer.symbol.as_deref(), Some("USDC"));
    assert_eq!(transfer.network.as_deref(), Some("Ethereum"));
    assert_eq!(transfer.amount.as_deref(), Some("25.25"));
    app.all_processed().await;
}

#[tokio::test]
async fn unsigned_wrongly_signed_altered_stale_or_oversized_deliveries_are_refused() {
    let app = TestApp::start(SECRET).await;
    let user = uuid::Uuid::new_v4().to_string();
    let body = event("event-2", "transfer-2", &user, "succeeded");
    let signature = sign(WEBHOOK_SECRET.as_bytes(), body.as_bytes());

    assert_eq!(app.deliver(&body, None).await, 401, "no signature");
    let wrong = sign(b"another secret", body.as_bytes());
    assert_eq!(app.deliver(&body, Some(&wrong)).await, 401, "wrong key");
    let altered = body.replace("25.25", "2525");
    assert_eq!(
        app.deliver(&altered, Some(&signature)).await,
        401,
        "altered"
    );
    assert_eq!(app.deliver(&body, Some("garbage")).await, 401, "not base64");

    let stale = json!({
        "EventId": "event-old", "TransferId": "transfer-old", "TransferStatus": "succeeded",
        "UserId": user, "SentTimestamp": (unix_now() - 3600) * 1000,
    })
    .to_string();
    assert_eq!(app.deliver_signed(&stale).await, 401, "an hour-old attempt");

    let padding = "x".repeat(server::deposits::webhooks::MAX_WEBHOOK_BYTES);
    let huge = json!({"EventId": "e", "TransferId": "t", "TransferStatus": "pending",
                      "Padding": padding})
    .to_string();
    assert_eq!(app.deliver_signed(&huge).await, 413, "oversized");

    let not_an_event = r#"{"hello":"world"}"#;
    assert_eq!(
        app.deliver_signed(not_an_event).await,
        400,
        "signed nonsense"
    );

    // Nothing of the refused ones was stored or applied.
    assert!(app.vault.unprocessed_webhooks(10).await.unwrap().is_empty());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(app.vault.transfers_of(&user, 10).await.unwrap().is_empty());
    // The same delivery, signed, is taken.
    assert_eq!(app.deliver(&body, Some(&signature)).await, 200);
    let transfers = app.transfers_when(&user, |t| !t.is_empty()).await;
    assert_eq!(statuses(&transfers), ["succeeded"]);
}

#[tokio::test]
async fn out_of_order_deliveries_end_in_the_final_state() {
    let app = TestApp::start(SECRET).await;
    let user = uuid::Uuid::new_v4().to_string();
    let succeeded = event("event-s", "transfer-3", &user, "Succeeded");
    let pending = event("event-p", "transfer-3", &user, "pending");
    let failed_late = event("event-f", "transfer-3", &user, "failed");
    assert_eq!(app.deliver_signed(&succeeded).await, 200);
    app.transfers_when(&user, |t| statuses(t) == ["succeeded"])
        .await;
    assert_eq!(app.deliver_signed(&pending).await, 200);
    assert_eq!(app.deliver_signed(&failed_late).await, 200);
    // Both late events are stored and processed, and neither is applied.
    app.all_processed().await;
    let transfers = app.vault.transfers_of(&user, 10).await.unwrap();
    assert_eq!(statuses(&transfers), ["succeeded"]);
    assert_eq!(transfers[0].tx_hash.as_deref(), Some("0xfeed"));
}

#[tokio::test]
async fn fifty_concurrent_deliveries_are_all_answered_and_stored() {
    let app = TestApp::start(SECRET).await;
    let user = uuid::Uuid::new_v4().to_string();
    let started = Instant::now();
    let mut deliveries = tokio::task::JoinSet::new();
    for n in 0..50 {
        let (http, addr) = (app.http.clone(), app.addr);
        let body = event(
            &format!("event-c{n}"),
            &format!("transfer-c{n}"),
            &user,
            "pending",
        );
        let signature = sign(WEBHOOK_SECRET.as_bytes(), body.as_bytes());
        deliveries.spawn(async move {
            let sent = Instant::now();
            let response = http
                .post(format!("http://{addr}/webhooks/mesh"))
                .header(SIGNATURE_HEADER, signature)
                .body(body)
                .send()
                .await
                .unwrap();
            (response.status(), sent.elapsed())
        });
    }
    let answers = deliveries.join_all().await;
    let mut times: Vec<Duration> = answers.iter().map(|(_, took)| *took).collect();
    times.sort();
    // A figure for the note, not an assertion: this machine is shared.
    eprintln!(
        "50 concurrent deliveries: all answered in {:?}; p50 {:?}, p99 {:?}",
        started.elapsed(),
        times[24],
        times[49]
    );
    assert!(answers.iter().all(|(status, _)| *status == 200));
    let transfers = app.transfers_when(&user, |t| t.len() == 50).await;
    assert_eq!(transfers.len(), 50);
    assert!(transfers.iter().all(|t| t.status == "pending"));
}

#[tokio::test]
async fn without_a_secret_there_is_no_webhook_route() {
    let app = TestApp::start(SECRET).await;
    let routes = server::deposits::webhooks::webhook_routes::<()>(None, app.vault.clone());
    let response = routes
        .oneshot(
            Request::post("/webhooks/mesh")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn the_webhook_is_not_a_browser_route() {
    // No session cookie is set, and a foreign Origin (Mesh's servers send none) is not refused
    // by the forgery check: the signature alone decides.
    let app = TestApp::start(SECRET).await;
    let user = uuid::Uuid::new_v4().to_string();
    let body = event("event-o", "transfer-o", &user, "pending");
    let response = app
        .http
        .post(format!("http://{}/webhooks/mesh", app.addr))
        .header("origin", "https://elsewhere.example")
        .header(
            SIGNATURE_HEADER,
            sign(WEBHOOK_SECRET.as_bytes(), body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("set-cookie").is_none());
}
