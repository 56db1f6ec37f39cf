//! The retention sweep against the emulator: idle users' connections are revoked at Mesh and
//! deleted; one Mesh cannot revoke now is kept for the next sweep.
#![cfg(feature = "ssr")]

mod common;

use app::retention::{SweepReport, sweep};
use common::{SECRET, TestApp};
use serde_json::json;

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
