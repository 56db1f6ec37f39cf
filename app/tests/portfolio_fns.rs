//! The portfolio and token refresh over real HTTP against the emulator: figures formatted on the
//! server, an expired access token refreshed once, an expired refresh token leading to
//! "reconnect", two instances refreshing a token exactly once, and a crash between Mesh's answer
//! and the commit.
#![cfg(feature = "ssr")]

mod common;

use std::time::Duration;

use app::accounts::ConnectionSummary;
use app::error::ErrorKind;
use app::portfolio::Portfolio;
use common::{SECRET, TestApp, TestUser, app_error, payload_from_emulated_link};
use secrecy::SecretString;
use serde_json::json;
use server::clock::unix_now;
use server::config::MeshCredentials;
use server::mesh::{LinkTokenRequest, MeshClient};
use server::tokens::{LEASE, Outcome, REFRESH_MARGIN, RefreshReport, refresh_due, refresh_leased};
use server::vault::{BrokerInfo, BrokerTokens, ConnectedAccounts, NewAccount, TokenVault};

/// Connects `broker` through the emulated Link and saves it for `user`.
async fn connect(app: &TestApp, user: &TestUser, broker: &str) -> ConnectionSummary {
    let payload = payload_from_emulated_link(app, broker).await;
    let response = app
        .call_json(user, "save_connection", payload.to_string())
        .await;
    assert_eq!(response.status(), 200);
    let saved: Vec<ConnectionSummary> = response.json().await.unwrap();
    saved.into_iter().next().unwrap()
}

async fn read_portfolio(app: &TestApp, user: &TestUser, id: &str) -> reqwest::Response {
    app.call_form(user, "portfolio", &[("id", id)]).await
}

async fn list(app: &TestApp, user: &TestUser) -> Vec<ConnectionSummary> {
    app.call_form(user, "list_connections", &[])
        .await
        .json()
        .await
        .unwrap()
}

async fn advance_emulator_clock(app: &TestApp, seconds: u64) {
    let response = app
        .http
        .post(app.emulator.base_url().join("/_emulator/clock").unwrap())
        .json(&json!({ "advanceSeconds": seconds }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
}

#[tokio::test]
async fn the_portfolio_is_read_from_mesh_and_formatted_on_the_server() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    let robinhood = connect(&app, &user, "robinhood").await;
    let response = read_portfolio(&app, &user, &robinhood.id).await;
    assert_eq!(response.status(), 200);
    let portfolio: Portfolio = response.json().await.unwrap();
    assert_eq!(portfolio.account_name, "Robinhood Individual");
    assert_eq!(portfolio.balances[0].cash, "$10,000,000.00");
    assert_eq!(portfolio.balances[0].buying_power, "$12,480,312.55");
    let symbols: Vec<_> = portfolio
        .holdings
        .iter()
        .map(|h| h.symbol.as_str())
        .collect();
    assert_eq!(symbols, ["VTI", "MSFT", "AAPL"], "largest value first");
    let apple = &portfolio.holdings[2];
    assert_eq!(
        (
            apple.quantity.as_str(),
            apple.price.as_str(),
            apple.value.as_str()
        ),
        ("12.5", "$232.14", "$2,901.75")
    );
    assert!(
        portfolio.holdings_total.starts_with("$12,35"),
        "{}",
        portfolio.holdings_total
    );
    assert_eq!(portfolio.history_kind, "Orders");
    assert_eq!(portfolio.history.len(), 3);
    assert_eq!(portfolio.history[0].description, "Buy 20.25 VTI");

    let exchange = connect(&app, &user, "binanceUs").await;
    let portfolio: Portfolio = read_portfolio(&app, &user, &exchange.id)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(portfolio.history_kind, "Transfers");
    assert_eq!(portfolio.history[0].description, "Deposit SOL on Solana");

    let other = app.new_user().await;
    let refused = app_error(read_portfolio(&app, &other, &robinhood.id).await).await;
    assert_eq!(
        refused.kind,
        ErrorKind::NotFound,
        "another user's id finds nothing"
    );
    let refused = app_error(read_portfolio(&app, &user, "not-an-id").await).await;
    assert_eq!(refused.kind, ErrorKind::InvalidInput);
}

/// Figures past what an exact decimal holds (a price times a quantity, or a sum of values)
/// give a sentence, and the connection stays: the page and the server function both answer.
#[tokio::test]
async fn figures_too_large_to_add_up_give_a_sentence_and_keep_the_connection() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    let robinhood = connect(&app, &user, "robinhood").await;
    let position = |symbol: &str, amount: &str, price: &str, value: Option<&str>| {
        let mut position = json!({ "symbol": symbol, "name": symbol,
            "amount": amount.parse::<serde_json::Number>().unwrap(),
            "lastPrice": price.parse::<serde_json::Number>().unwrap() });
        if let Some(value) = value {
            position["marketValue"] = value.parse::<serde_json::Number>().unwrap().into();
        }
        position
    };
    let too_large = [
        // Quantity times price past 7.9e28.
        vec![position(
            "BIG",
            "100000000000000000000",
            "100000000000000000000",
            None,
        )],
        // Each value fits; their sum does not.
        vec![
            position("A", "1", "1", Some("70000000000000000000000000000")),
            position("B", "1", "1", Some("70000000000000000000000000000")),
        ],
    ];
    for positions in too_large {
        app.queue_fault(
            json!({ "path": "/api/v1/holdings/get", "fault": "content", "times": 2,
            "content": { "status": "succeeded", "equityPositions": positions,
                "cryptocurrencyPositions": [] } }),
        )
        .await;
        let refused = read_portfolio(&app, &user, &robinhood.id).await;
        assert_eq!(refused.status(), 502);
        let error = app_error(refused).await;
        assert!(error.message.contains("too large"), "{}", error.message);
        let page = app
            .http
            .get(format!("http://{}/accounts/{}", app.addr, robinhood.id))
            .header("cookie", &user.cookie)
            .send()
            .await
            .unwrap();
        // The page carries the error's status, and shows its sentence.
        assert_eq!(page.status(), 502);
        assert!(page.text().await.unwrap().contains("too large to add up"));
    }
    let again = read_portfolio(&app, &user, &robinhood.id).await;
    assert_eq!(again.status(), 200, "the connection is kept");
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_once_and_the_portfolio_still_reads() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    let connection = connect(&app, &user, "robinhood").await;
    advance_emulator_clock(&app, 24 * 60 * 60).await;
    let response = read_portfolio(&app, &user, &connection.id).await;
    assert_eq!(response.status(), 200, "refreshed and read again");
    assert_eq!(list(&app, &user).await.len(), 1);
}

#[tokio::test]
async fn an_expired_refresh_token_asks_for_reconnect_and_reconnecting_replaces_the_row() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    let connection = connect(&app, &user, "robinhood").await;
    advance_emulator_clock(&app, 31 * 24 * 60 * 60).await;
    let error = app_error(read_portfolio(&app, &user, &connection.id).await).await;
    assert_eq!(error.kind, ErrorKind::NeedsReconnect);
    assert!(
        error.message.contains("Reconnect this account"),
        "{}",
        error.message
    );
    assert!(list(&app, &user).await[0].needs_reconnect);

    let again = connect(&app, &user, "robinhood").await;
    let rows = list(&app, &user).await;
    assert_eq!(rows.len(), 1, "reconnecting replaces, never duplicates");
    assert_eq!(rows[0].id, again.id);
    assert!(!rows[0].needs_reconnect);
    assert_eq!(read_portfolio(&app, &user, &again.id).await.status(), 200);

    // Refresh renews the sign-in and names the page to show next.
    let refreshed = app
        .call_form(&user, "refresh_connection", &[("id", &again.id)])
        .await;
    assert_eq!(refreshed.status(), 200);
    let next: String = refreshed.json().await.unwrap();
    assert_eq!(next, format!("/accounts/{}", again.id));
}

/// Two vaults on one database are two app instances. Both reach for the due connection at once:
/// exactly one gets its lease, and while it holds it the other's refresh finds nothing to do.
async fn two_instances_refresh_once(app: &TestApp, first: &TokenVault, second: &TokenVault) {
    let user = app.new_user().await;
    let connection = connect(app, &user, "robinhood").await;
    // Due now: the check looks REFRESH_MARGIN past the access token's expiry (a day away).
    let at = unix_now() + 24 * 60 * 60 + 60;
    let (a, b) = tokio::join!(
        first.lease_due(at, LEASE, 10),
        second.lease_due(at, LEASE, 10)
    );
    // (A shared PostgreSQL may hold other runs' rows: only this connection counts.)
    let mut leased: Vec<_> = a
        .unwrap()
        .into_iter()
        .chain(b.unwrap())
        .filter(|leased| leased.connection.id == connection.id)
        .collect();
    assert_eq!(leased.len(), 1, "exactly one instance holds the lease");
    let (a, b) = tokio::join!(
        refresh_due(&app.mesh, first, at),
        refresh_due(&app.mesh, second, at)
    );
    assert_eq!((a.renewed, b.renewed), (0, 0), "the lease keeps both away");
    // The holder refreshes (either vault can store it: the lease is in the database).
    let holder = leased.pop().unwrap();
    assert_eq!(
        refresh_leased(&app.mesh, first, holder).await,
        Outcome::Renewed
    );
    let (a, b) = tokio::join!(
        refresh_due(&app.mesh, first, unix_now()),
        refresh_due(&app.mesh, second, unix_now())
    );
    assert_eq!(a.renewed + b.renewed, 0, "nothing is due any more");
}

#[tokio::test]
async fn two_instances_on_one_database_refresh_a_due_token_exactly_once() {
    assert!(REFRESH_MARGIN < Duration::from_secs(24 * 60 * 60));
    let app = TestApp::start(SECRET).await;
    let second = TokenVault::connect(&app.database_url, &common::TOKEN_KEY, 4)
        .await
        .unwrap();
    two_instances_refresh_once(&app, &app.vault, &second).await;

    // The same on PostgreSQL, when the test run has one (CI always does).
    if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        let first = TokenVault::connect(&url, &common::TOKEN_KEY, 4)
            .await
            .unwrap();
        let second = TokenVault::connect(&url, &common::TOKEN_KEY, 4)
            .await
            .unwrap();
        let app = TestApp::start_with_vault(SECRET, first, &url).await;
        two_instances_refresh_once(&app, &app.vault, &second).await;
    }
}

/// Leases the one due connection with a lease that has already run out (as it has when the
/// instance restarts), has Mesh rotate its tokens, and stores nothing: a crash before the commit.
async fn crash(app: &TestApp, due: i64) {
    let mut leased = app.vault.lease_due(due, Duration::ZERO, 10).await.unwrap();
    assert_eq!(leased.len(), 1);
    let leased = leased.pop().unwrap();
    let refresh = leased.tokens.refresh_token.as_ref().unwrap();
    app.mesh
        .refresh_token(refresh, "robinhood", true)
        .await
        .unwrap();
}

/// A crash between Mesh's answer and the commit: Mesh rotated the tokens, the new ones were
/// never stored, and the lease runs out. The next refresh retries with the stored (replaced)
/// refresh token: within Mesh's 60 s grace it works; past it the connection is marked "needs
/// reconnect" and stays readable.
#[tokio::test]
async fn a_crash_after_mesh_answered_is_recovered_within_the_grace_and_marked_past_it() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    let connection = connect(&app, &user, "robinhood").await;
    let due = unix_now() + 24 * 60 * 60 + 60;

    crash(&app, due).await;
    let report = refresh_due(&app.mesh, &app.vault, due).await;
    assert_eq!(report.renewed, 1, "retried within the grace: {report:?}");
    assert_eq!(
        read_portfolio(&app, &user, &connection.id).await.status(),
        200
    );

    crash(&app, due).await;
    advance_emulator_clock(&app, 61).await;
    let report = refresh_due(&app.mesh, &app.vault, due).await;
    assert_eq!(report.needs_reconnect, 1, "past the grace: {report:?}");
    let rows = list(&app, &user).await;
    assert!(rows[0].needs_reconnect);
    assert_eq!(rows[0].id, connection.id, "kept, not corrupted or deleted");
}

/// A delayed authentication holds only a refresh token. When the broker has finished signing
/// in, a refresh redeems it for accounts, which replace the pending row; a refresh token Mesh
/// refuses marks it "needs reconnect".
#[tokio::test]
async fn a_delayed_authentication_is_redeemed_through_refresh() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    // A refresh token the emulator issued, handed over as a delayed authentication.
    let linked = payload_from_emulated_link(&app, "robinhood").await;
    let refresh_token =
        linked["payload"]["accessToken"]["accountTokens"][0]["refreshToken"].clone();
    let delayed = |refresh_token: serde_json::Value| {
        json!({ "payload": { "delayedAuth": {
            "refreshToken": refresh_token,
            "refreshTokenExpiresInSeconds": 2_592_000,
            "brokerType": "robinhood",
            "brokerName": "Robinhood",
            "brokerBrandInfo": { "brokerLogo": "" },
        }}})
        .to_string()
    };
    let saved = app
        .call_json(&user, "save_connection", delayed(refresh_token))
        .await;
    assert_eq!(saved.status(), 200);
    let pending = list(&app, &user).await;
    assert!(pending[0].pending);
    let waiting = app_error(read_portfolio(&app, &user, &pending[0].id).await).await;
    assert!(
        waiting.message.contains("waiting for the broker"),
        "{}",
        waiting.message
    );

    let report = refresh_due(&app.mesh, &app.vault, unix_now()).await;
    assert_eq!(report.renewed, 1, "{report:?}");
    let rows = list(&app, &user).await;
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].pending, "the pending row became the account");
    assert_eq!(
        rows[0].account_name.as_deref(),
        Some("Robinhood Individual")
    );
    assert_eq!(read_portfolio(&app, &user, &rows[0].id).await.status(), 200);

    let other = app.new_user().await;
    let saved = app
        .call_json(&other, "save_connection", delayed(json!("never-issued")))
        .await;
    assert_eq!(saved.status(), 200);
    let report = refresh_due(&app.mesh, &app.vault, unix_now()).await;
    assert_eq!(report.needs_reconnect, 1, "{report:?}");
    assert!(list(&app, &other).await[0].needs_reconnect);
}

/// When every due connection is refreshed: a day and a minute from now.
fn all_due() -> i64 {
    unix_now() + 24 * 60 * 60 + 60
}

/// What a settled connection looks like: not waiting for the user, and its stored tokens open
/// the account at Mesh.
async fn assert_usable(app: &TestApp, user: &TestUser, id: &str) {
    let rows = list(app, user).await;
    assert!(!rows[0].needs_reconnect, "{id} needs reconnecting");
    assert_eq!(read_portfolio(app, user, id).await.status(), 200, "{id}");
}

/// Mesh performs the refresh (rotating the tokens) and the answer is lost: the connection
/// breaks (`lose`), or the answer comes after the client gave up (`late`). The refresh is
/// retried at once with the same refresh token, inside Mesh's grace.
async fn a_lost_answer_is_retried_at_once(app: &TestApp) {
    for fault in [
        // More times than the Mesh client retries on its own.
        json!({ "path": "/api/v1/token/refresh", "fault": "lose", "times": 3 }),
        // Past the test client's 2 s timeout.
        json!({ "path": "/api/v1/token/refresh", "fault": "late", "delay_ms": 3000 }),
    ] {
        let user = app.new_user().await;
        let connection = connect(app, &user, "robinhood").await;
        app.queue_fault(fault.clone()).await;
        let report = refresh_due(&app.mesh, &app.vault, all_due()).await;
        assert!(
            report.renewed >= 1 && report.failed == 0 && report.needs_reconnect == 0,
            "{fault}: {report:?}"
        );
        assert_usable(app, &user, &connection.id).await;
    }
}

/// A slow Mesh (each refresh answered 2 s after it rotated the tokens) and 100 connections due:
/// each lease covers its own refresh, so none runs out before its turn. The connections are
/// made through the emulated Link and stored straight in the vault (the per-address limits of
/// the HTTP edge are not what this tests).
async fn a_slow_mesh_with_a_hundred_due(app: &TestApp) {
    let mut connections = Vec::new();
    for n in 0..100 {
        let user = format!("slow-mesh-user-{n}");
        let token = app
            .mesh
            .create_link_token(&LinkTokenRequest::for_user(user.clone()))
            .await
            .unwrap()
            .link_token;
        let linked = app
            .emulator
            .connect_through_link(&token, "robinhood", "http://127.0.0.1:3000")
            .await
            .unwrap();
        let entry = &linked["accountTokens"][0];
        let tokens = BrokerTokens {
            access_token: SecretString::from(entry["accessToken"].as_str().unwrap()),
            refresh_token: entry["refreshToken"].as_str().map(SecretString::from),
        };
        let account = NewAccount {
            account_id: entry["account"]["accountId"].as_str().unwrap().into(),
            account_name: "Individual".into(),
            cash: None,
            fund: None,
            token_id: None,
            tokens,
        };
        let connected = ConnectedAccounts {
            broker: BrokerInfo {
                broker_type: "robinhood".into(),
                broker_name: "Robinhood".into(),
                logo: None,
            },
            accounts: vec![account],
            expires_in_seconds: linked["expiresInSeconds"].as_u64(),
            refresh_expires_in_seconds: linked["refreshTokenExpiresInSeconds"].as_u64(),
        };
        let saved = app.vault.save_accounts(&user, connected).await.unwrap();
        connections.push((user, saved[0].id.clone()));
    }
    app.queue_fault(json!({
        "path": "/api/v1/token/refresh", "fault": "late", "delay_ms": 2000, "times": 100
    }))
    .await;
    // The app's own timeouts, not the test client's 2 s.
    let mesh = MeshClient::new(
        app.emulator.base_url(),
        MeshCredentials {
            client_id: "app-test".into(),
            client_secret: SecretString::from(SECRET),
        },
    )
    .unwrap();
    let started = std::time::Instant::now();
    let report = refresh_due(&mesh, &app.vault, all_due()).await;
    eprintln!("slow Mesh: 100 refreshes in {:?}", started.elapsed());
    assert_eq!(
        report,
        RefreshReport {
            renewed: 100,
            ..RefreshReport::default()
        }
    );
    // Nothing is due any more, and every connection's stored token opens it at Mesh.
    assert_eq!(
        refresh_due(&mesh, &app.vault, unix_now()).await,
        RefreshReport::default()
    );
    for (user, id) in &connections {
        let (connection, tokens) = app.vault.find_with_tokens(user, id).await.unwrap().unwrap();
        assert!(!connection.needs_reconnect, "{id}");
        let access = tokens.access_token.unwrap();
        assert!(mesh.holdings(&access, "robinhood").await.is_ok(), "{id}");
    }
}

/// Runs `scenario` against an app on SQLite, then on a PostgreSQL database of its own when the
/// run has one (the refresher leases every due row in its database).
macro_rules! on_sqlite_and_postgres {
    ($scenario:ident) => {{
        let app = TestApp::start(SECRET).await;
        $scenario(&app).await;
        if let Some(url) = common::isolated_postgres().await {
            let vault = TokenVault::connect(&url, &common::TOKEN_KEY, 4)
                .await
                .unwrap();
            let app = TestApp::start_with_vault(SECRET, vault, &url).await;
            $scenario(&app).await;
        }
    }};
}

#[tokio::test]
async fn a_refresh_whose_answer_is_lost_leaves_a_working_connection() {
    on_sqlite_and_postgres!(a_lost_answer_is_retried_at_once);
}

#[tokio::test]
async fn a_slow_mesh_with_a_hundred_connections_due_renews_them_all() {
    on_sqlite_and_postgres!(a_slow_mesh_with_a_hundred_due);
}
