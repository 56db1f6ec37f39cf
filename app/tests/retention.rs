//! The retention sweep against the emulator: idle users' connections are revoked at Mesh and
//! deleted; one Mesh cannot revoke now is kept for the next sweep.
#![cfg(feature = "ssr")]

mod common;

use common::{SECRET, TestApp};
use serde_json::json;
use server::retention::{SweepReport, sweep};

fn save_body(account_id: &str) -> String {
    json!({ "payload": { "accessToken": {
        "accountTokens": [{ "account": { "accountId": account_id, "accountName": "A" },
                            "accessToken": format!("access-{account_id}") }],
        "brokerType": "robinhood",
        "brokerName": "Robinhood",
    }}})
    .to_string()
}

#[tokio::test]
async fn idle_users_connections_are_revoked_and_deleted_and_failures_kept() {
    let app = TestApp::start(SECRET).await;
    let (kept_user, gone_user) = (app.new_user().await, app.new_user().await);
    for (user, account) in [(&gone_user, "gone"), (&kept_user, "kept")] {
        let response = app
            .call_json(user, "save_connection", save_body(account))
            .await;
        assert_eq!(response.status(), 200);
    }
    let far_future = i64::MAX / 2;

    // Nobody is idle yet: nothing happens.
    assert_eq!(
        sweep(&app.mesh, &app.vault, 0).await,
        SweepReport::default()
    );

    // Mesh cannot revoke anything now: every connection is kept for the next sweep.
    app.queue_fault(
        json!({"path": "/api/v1/account", "fault": "status", "status": 503, "times": 100}),
    )
    .await;
    let report = sweep(&app.mesh, &app.vault, far_future).await;
    assert_eq!(
        (report.deleted, report.kept, report.users_forgotten),
        (0, 2, 0)
    );
    app.http
        .delete(app.emulator.base_url().join("/_emulator/faults").unwrap())
        .send()
        .await
        .unwrap();

    let report = sweep(&app.mesh, &app.vault, far_future).await;
    assert_eq!(
        (report.deleted, report.kept, report.users_forgotten),
        (2, 0, 2)
    );
    for user in [&kept_user, &gone_user] {
        let listed: Vec<serde_json::Value> = app
            .call_form(user, "list_connections", &[])
            .await
            .json()
            .await
            .unwrap();
        assert!(listed.is_empty());
    }
}

/// Users in the vault's `users` table (a user row is what retention counts from).
async fn user_rows(app: &TestApp) -> usize {
    app.vault
        .users_not_seen_since(i64::MAX, 10_000)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn cookieless_page_views_write_nothing_and_a_returning_user_is_recorded() {
    let app = TestApp::start(SECRET).await;
    for _ in 0..300 {
        let response = app
            .http
            .get(format!("http://{}/", app.addr))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    // Visits are recorded in the background: leave those writes the time they would take.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(user_rows(&app).await, 0, "300 cookieless page views");

    // A user with something to keep has a row, and their visits move it.
    let user = app.new_user().await;
    let response = app
        .call_json(&user, "save_connection", save_body("kept"))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(user_rows(&app).await, 1);
}
