//! Deposits over HTTP: the deposit link token, the browser's report (a hint only), and
//! reconciliation by polling Mesh when no webhook arrives.
#![cfg(feature = "ssr")]

mod common;

use std::time::Duration;

use app::deposits::TransferLine;
use common::{SECRET, TestApp, TestUser, app_error};
use serde_json::{Value, json};
use server::deposits::reconcile::{Round, reconcile_once};

/// Opens a deposit of $25 of the first asset (USDC on Ethereum) through the emulated Link as
/// `user`, and returns the `transferFinished` payload Link posts.
async fn deposit(app: &TestApp, user: &TestUser, broker: &str) -> Value {
    let response = app
        .call_form(
            user,
            "create_deposit_link_token",
            &[("asset", "0"), ("amount", "25")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let token: String = response.json().await.unwrap();
    app.emulator
        .transfer_through_link(&token, broker, "http://127.0.0.1:3000")
        .await
        .unwrap()
}

async fn report(app: &TestApp, user: &TestUser, payload: &Value) -> reqwest::Response {
    app.call_json(
        user,
        "report_transfer",
        json!({ "payload": payload }).to_string(),
    )
    .await
}

async fn transfers(app: &TestApp, user: &TestUser) -> Vec<TransferLine> {
    app.call_form(user, "list_transfers", &[])
        .await
        .json()
        .await
        .unwrap()
}

async fn settle_emulated_transfers(app: &TestApp, outcome: &str) {
    let response = app
        .http
        .post(
            app.emulator
                .base_url()
                .join("/_emulator/transfers")
                .unwrap(),
        )
        .json(&json!({ "outcome": outcome, "settleMs": 100 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
}

#[tokio::test]
async fn without_webhooks_a_reported_deposit_reaches_succeeded_by_polling() {
    let app = TestApp::start(SECRET).await;
    reaches_succeeded_by_polling(&app).await;
    // Nothing else is open in this app's own database.
    assert_eq!(
        reconcile_once(&app.mesh, &app.vault).await,
        Round::NothingDue
    );

    // The same on PostgreSQL, when the test run has one (CI always does).
    if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        let vault = server::vault::TokenVault::connect(&url, &common::TOKEN_KEY, 4)
            .await
            .unwrap();
        let app = TestApp::start_with_vault(SECRET, vault, &url).await;
        reaches_succeeded_by_polling(&app).await;
    }
}

/// This app's emulator sends no webhooks: only asking Mesh moves a reported deposit on.
async fn reaches_succeeded_by_polling(app: &TestApp) {
    settle_emulated_transfers(app, "succeeded").await;
    let user = app.new_user().await;
    let payload = deposit(app, &user, "coinbase").await;

    let reported: Vec<TransferLine> = report(app, &user, &payload).await.json().await.unwrap();
    assert_eq!(reported.len(), 1);
    assert_eq!(reported[0].status, "reported");
    assert_eq!(reported[0].amount, "25 USDC");
    assert_eq!(reported[0].network, "Ethereum");
    assert!(reported[0].note.contains("waiting for Mesh"));

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(reconcile_once(&app.mesh, &app.vault).await, Round::Changed);
    let line = &transfers(app, &user).await[0];
    assert_eq!((line.status.as_str(), line.open), ("succeeded", false));
    assert!(reported[0].open, "a fresh report is still checked");

    // Another user sees none of it.
    let other = app.new_user().await;
    assert!(transfers(app, &other).await.is_empty());
}

#[tokio::test]
async fn a_failed_deposit_reads_as_failed_with_a_sentence() {
    let app = TestApp::start(SECRET).await;
    settle_emulated_transfers(&app, "failed").await;
    let user = app.new_user().await;
    let payload = deposit(&app, &user, "robinhood").await;
    assert_eq!(report(&app, &user, &payload).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    reconcile_once(&app.mesh, &app.vault).await;
    let line = &transfers(&app, &user).await[0];
    assert_eq!(line.status, "failed");
    assert!(line.note.contains("nothing was deposited"), "{}", line.note);
}

#[tokio::test]
async fn bad_deposits_and_reports_get_a_sentence_and_store_nothing() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    for (asset, amount) in [("0", "0"), ("0", "12.345"), ("0", "lots"), ("7", "25")] {
        let response = app
            .call_form(
                &user,
                "create_deposit_link_token",
                &[("asset", asset), ("amount", amount)],
            )
            .await;
        assert_eq!(response.status(), 400, "{asset} {amount}");
        let error = app_error(response).await;
        assert!(
            error.message.contains("US dollars") || error.message.contains("offered assets"),
            "{}",
            error.message
        );
    }

    let mut payload = deposit(&app, &user, "robinhood").await;
    payload["toAddress"] = json!("0x000000000000000000000000000000000000bad1");
    let response = report(&app, &user, &payload).await;
    assert_eq!(response.status(), 400);
    assert!(
        app_error(response)
            .await
            .message
            .contains("not go to one of this app's deposit addresses")
    );
    payload["toAddress"] = json!("0x5e1ec7ed00c0ffee00000000000000000000dead");
    payload["transferId"] = json!("x".repeat(500));
    assert_eq!(report(&app, &user, &payload).await.status(), 400);
    assert!(transfers(&app, &user).await.is_empty());
}

/// A report for a transfer Mesh never heard of, made up by the browser.
fn made_up_report(payload: &Value, n: usize) -> Value {
    let mut made_up = payload.clone();
    made_up["transferId"] = json!(format!("made-up-{n}"));
    made_up["txId"] = json!(format!("made-up-{n}"));
    made_up
}

#[tokio::test]
async fn a_user_has_at_most_five_reports_waiting_for_mesh() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    let payload = deposit(&app, &user, "robinhood").await;
    // Each from an address of its own, so the per-address limit does not answer first.
    let mut from = 0;
    let mut report = |app: &TestApp, user: &TestUser, payload: &Value| {
        from += 1;
        app.http
            .post(format!("http://{}/api/report_transfer", app.addr))
            .header("content-type", "application/json")
            .header("cookie", &user.cookie)
            .header("x-forwarded-for", format!("203.0.113.{from}"))
            .body(json!({ "payload": payload }).to_string())
            .send()
    };
    for n in 0..5 {
        let response = report(&app, &user, &made_up_report(&payload, n))
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "report {n}");
    }
    let refused = report(&app, &user, &made_up_report(&payload, 5))
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let sentence = app_error(refused).await.message;
    assert!(sentence.contains("5 deposits waiting"), "{sentence}");
    // Reporting one already stored again is no new report.
    let again = report(&app, &user, &made_up_report(&payload, 0))
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(transfers(&app, &user).await.len(), 5);
}

/// A report Mesh never confirms is asked about at most 40 times over the day it is checked
/// (a question soon after the report, then less and less often, at most an hour apart).
#[tokio::test]
async fn a_report_mesh_never_confirms_costs_few_mesh_calls_over_its_day() {
    use server::deposits::reconcile::SCHEDULE;
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    let payload = deposit(&app, &user, "robinhood").await;
    assert_eq!(
        report(&app, &user, &made_up_report(&payload, 0))
            .await
            .status(),
        200
    );
    let start = server::clock::unix_now();
    let day = SCHEDULE.reports_checked_for.as_secs() as i64;
    let (mut now, mut questions) = (start, 0);
    while now <= start + day + 3600 {
        questions += app
            .vault
            .claim_due_transfers(now, &SCHEDULE, 10)
            .await
            .unwrap()
            .len();
        // Every second at first, then every minute: finer than any wait it checks.
        now += if now - start < 600 { 1 } else { 60 };
    }
    assert!(
        (20..=40).contains(&questions),
        "{questions} questions to Mesh about one made-up report"
    );
}
