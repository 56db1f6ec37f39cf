//! A disconnect racing a reconnect, a renewal by another instance, or the redemption of a
//! delayed authentication, on SQLite and PostgreSQL. The rule: a disconnect deletes only the
//! version of a row whose token it revoked, and nothing it removed comes back.
#![cfg(feature = "ssr")]

mod common;

use std::time::Duration;

use app::accounts::ConnectionSummary;
use common::{TestApp, TestUser, app_error, mesh_calls_to, on_each_backend};
use serde_json::json;
use server::clock::unix_now;
use server::tokens::{LEASE, refresh_due, refresh_leased};

const ACCOUNT: &str = "/api/v1/account";

async fn connect(app: &TestApp, user: &TestUser) -> ConnectionSummary {
    let payload = common::payload_from_emulated_link(app, "robinhood").await;
    let response = app
        .call_json(user, "save_connection", payload.to_string())
        .await;
    assert_eq!(response.status(), 200);
    let saved: Vec<ConnectionSummary> = response.json().await.unwrap();
    saved.into_iter().next().unwrap()
}

async fn list(app: &TestApp, user: &TestUser) -> Vec<ConnectionSummary> {
    app.call_form(user, "list_connections", &[])
        .await
        .json()
        .await
        .unwrap()
}

async fn disconnect(app: &TestApp, user: &TestUser, id: &str) -> reqwest::Response {
    app.call_form(user, "disconnect", &[("id", id)]).await
}

/// The account is connected again while the disconnect is revoking the old token at Mesh: the
/// row keeps the new tokens (they work at Mesh) and the user is told.
#[tokio::test]
async fn a_reconnect_during_a_disconnect_keeps_the_new_tokens() {
    for app in on_each_backend().await {
        let user = app.new_user().await;
        let first = connect(&app, &user).await;
        app.queue_fault(json!({ "path": ACCOUNT, "fault": "delay", "delay_ms": 1500 }))
            .await;
        let (disconnected, again) = tokio::join!(disconnect(&app, &user, &first.id), async {
            tokio::time::sleep(Duration::from_millis(400)).await;
            connect(&app, &user).await
        });
        assert_eq!(again.id, first.id, "connected again into the same row");
        assert_eq!(disconnected.status(), 400);
        let sentence = app_error(disconnected).await.message;
        assert!(sentence.contains("connected again"), "{sentence}");
        let rows = list(&app, &user).await;
        assert!(
            rows.iter().any(|row| row.id == first.id),
            "the row was deleted"
        );
        let portfolio = app
            .call_form(&user, "portfolio", &[("id", &first.id)])
            .await;
        assert_eq!(portfolio.status(), 200, "the new tokens work at Mesh");
        // Disconnecting again now removes it.
        assert_eq!(disconnect(&app, &user, &first.id).await.status(), 200);
    }
}

/// Mesh says the token expired while another instance holds the row's refresh lease: the
/// disconnect waits for that renewal and revokes the new token before deleting.
#[tokio::test]
async fn a_disconnect_meeting_another_instances_renewal_revokes_the_new_token() {
    for app in on_each_backend().await {
        let user = app.new_user().await;
        let connection = connect(&app, &user).await;
        let mut leased = app.vault.lease_due(i64::MAX, LEASE, 10).await.unwrap();
        let leased = leased
            .drain(..)
            .find(|leased| leased.connection.id == connection.id)
            .unwrap();
        // The access token expires (the refresh token still works).
        let response = app
            .http
            .post(app.emulator.base_url().join("/_emulator/clock").unwrap())
            .json(&json!({ "advanceSeconds": 24 * 60 * 60 + 60 }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
        let before = mesh_calls_to(&app, ACCOUNT).await;
        let other_instance = async {
            tokio::time::sleep(Duration::from_millis(1000)).await;
            refresh_leased(&app.mesh, &app.vault, leased).await
        };
        let (disconnected, _) =
            tokio::join!(disconnect(&app, &user, &connection.id), other_instance);
        let status = disconnected.status();
        assert_eq!(status, 200, "{}", disconnected.text().await.unwrap());
        assert_eq!(
            mesh_calls_to(&app, ACCOUNT).await - before,
            2,
            "the expired token, then the renewed one, revoked at Mesh"
        );
        assert!(
            list(&app, &user)
                .await
                .iter()
                .all(|row| row.id != connection.id)
        );
    }
}

/// The user disconnects a delayed authentication while the background task redeems it at
/// Mesh: the accounts Mesh sends are not stored (they are revoked at Mesh instead).
#[tokio::test]
async fn a_redemption_never_brings_back_a_disconnected_delayed_authentication() {
    for app in on_each_backend().await {
        let user = app.new_user().await;
        let linked = common::payload_from_emulated_link(&app, "robinhood").await;
        let refresh_token = &linked["payload"]["accessToken"]["accountTokens"][0]["refreshToken"];
        let delayed = json!({ "payload": { "delayedAuth": {
            "refreshToken": refresh_token, "brokerType": "robinhood", "brokerName": "Robinhood",
            "brokerBrandInfo": { "brokerLogo": "" },
        }}});
        let saved = app
            .call_json(&user, "save_connection", delayed.to_string())
            .await;
        assert_eq!(saved.status(), 200);
        let pending = list(&app, &user).await[0].clone();
        assert!(pending.pending);
        app.queue_fault(
            json!({ "path": "/api/v1/token/refresh", "fault": "late", "delay_ms": 1200 }),
        )
        .await;
        let revocations = mesh_calls_to(&app, ACCOUNT).await;
        let (_, disconnected) =
            tokio::join!(refresh_due(&app.mesh, &app.vault, unix_now()), async {
                tokio::time::sleep(Duration::from_millis(400)).await;
                disconnect(&app, &user, &pending.id).await
            });
        assert_eq!(disconnected.status(), 200);
        assert!(list(&app, &user).await.is_empty(), "the accounts came back");
        assert!(
            mesh_calls_to(&app, ACCOUNT).await > revocations,
            "what Mesh sent was revoked there"
        );
    }
}
