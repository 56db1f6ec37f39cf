//! Token refresh across a process's death, against a Mesh emulator that outlives the app: the
//! app is killed with SIGKILL while a batch of due connections is being refreshed (Mesh has
//! rotated tokens whose answers never arrive) and started again at once; or stopped with
//! SIGTERM, which lets the refreshes in flight store Mesh's answers. In both, on SQLite and
//! PostgreSQL, no connection ends up needing a reconnect and every one reads its holdings.
#![cfg(feature = "ssr")]

mod common;

use std::time::{Duration, Instant};

use common::AppProcess;
use mesh_emulator::{RunningEmulator, Settings as EmulatorSettings};
use secrecy::SecretString;
use serde_json::{Value, json};

const CLIENT_ID: &str = "refresh-crash";
const CLIENT_SECRET: &str = "sk_sandbox_refresh-crash";
const LINK_ORIGIN: &str = "http://127.0.0.1:3000";
/// Connections due for refresh in each test.
const CONNECTIONS: usize = 12;

/// An emulator whose access tokens live 10 minutes: inside the app's 15-minute margin, so
/// every connection is due as soon as it is saved.
async fn emulator() -> RunningEmulator {
    mesh_emulator::spawn(EmulatorSettings {
        addr: "127.0.0.1:0".parse().unwrap(),
        client_id: CLIENT_ID.into(),
        client_secret: SecretString::from(CLIENT_SECRET),
        allowed_origins: vec![LINK_ORIGIN.into()],
        token_ttl: Duration::from_secs(600),
        webhook: None,
        managed_tokens: false,
    })
    .await
    .unwrap()
}

/// The app in sandbox mode against `emulator`, with fixed keys so a restart reads its vault.
fn app(dir: &std::path::Path, emulator: &RunningEmulator, database_url: &str) -> AppProcess {
    let mut app = AppProcess::new(dir.to_path_buf());
    app.database_url = database_url.into();
    app.keys = (common::SESSION_KEY.into(), common::TOKEN_KEY.into());
    app.mesh = Some((
        emulator.base_url().to_string(),
        CLIENT_ID.into(),
        CLIENT_SECRET.into(),
    ));
    app
}

async fn start(app: &AppProcess, http: &reqwest::Client) -> tokio::process::Child {
    let child = app.spawn();
    app.wait_ready(http).await;
    child
}

/// Connects `CONNECTIONS` users through the emulated Link; their session cookies.
async fn connect_users(
    app: &AppProcess,
    emulator: &RunningEmulator,
    http: &reqwest::Client,
) -> Vec<String> {
    let mut cookies = Vec::new();
    for _ in 0..CONNECTIONS {
        let cookie = app.new_session(http).await;
        let token: String = http
            .post(app.url("create_link_token"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let payload = emulator
            .connect_through_link(&token, "robinhood", LINK_ORIGIN)
            .await
            .unwrap();
        let saved = http
            .post(app.url("save_connection"))
            .header("cookie", &cookie)
            .header("content-type", "application/json")
            .body(json!({ "payload": { "accessToken": payload } }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(saved.status(), 200);
        cookies.push(cookie);
    }
    cookies
}

async fn emulator_post(
    http: &reqwest::Client,
    emulator: &RunningEmulator,
    path: &str,
    body: Value,
) {
    let response = http
        .post(emulator.base_url().join(path).unwrap())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204, "{path}");
}

/// Mesh answers normally again.
async fn clear_faults(http: &reqwest::Client, emulator: &RunningEmulator) {
    let response = http
        .delete(emulator.base_url().join("/_emulator/faults").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
}

async fn refresh_calls(http: &reqwest::Client, emulator: &RunningEmulator) -> u64 {
    let calls: Value = http
        .get(emulator.base_url().join("/_emulator/calls").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    calls["/api/v1/token/refresh"].as_u64().unwrap_or(0)
}

/// Every refresh answers 2 s after Mesh rotated the tokens; waits until the app has started
/// `at_least` of them.
async fn slow_refreshes_in_flight(
    http: &reqwest::Client,
    emulator: &RunningEmulator,
    at_least: u64,
) {
    let before = refresh_calls(http, emulator).await;
    emulator_post(
        http,
        emulator,
        "/_emulator/faults",
        json!({ "path": "/api/v1/token/refresh", "fault": "late", "delay_ms": 2000, "times": 1000 }),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while refresh_calls(http, emulator).await < before + at_least {
        assert!(
            Instant::now() < deadline,
            "the app refreshed nothing in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Lets the app settle for `settle`, then moves Mesh's clock past every access token issued so
/// far and past the grace of every refresh token it replaced: each connection must then still
/// read its holdings (refreshing with the refresh token it stored) and none may need a
/// reconnect.
async fn assert_all_settle(
    app: &AppProcess,
    emulator: &RunningEmulator,
    http: &reqwest::Client,
    cookies: &[String],
    settle: Duration,
) {
    tokio::time::sleep(settle).await;
    emulator_post(
        http,
        emulator,
        "/_emulator/clock",
        json!({ "advanceSeconds": 600 + 61 }),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(90);
    for cookie in cookies {
        loop {
            let rows = app.list(http, cookie).await;
            assert_eq!(rows.len(), 1);
            assert_eq!(
                rows[0]["needs_reconnect"], false,
                "a connection was marked \"needs reconnect\""
            );
            let id = rows[0]["id"].as_str().unwrap();
            let portfolio = http
                .post(app.url("portfolio"))
                .header("cookie", cookie)
                .form(&[("id", id)])
                .send()
                .await
                .unwrap();
            if portfolio.status() == 200 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "holdings still answer {} after 90 s",
                portfolio.status()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

async fn killed_mid_batch_then_restarted(database_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let emulator = emulator().await;
    let http = reqwest::Client::new();
    let app = app(dir.path(), &emulator, database_url);
    let mut child = start(&app, &http).await;
    let cookies = connect_users(&app, &emulator, &http).await;

    slow_refreshes_in_flight(&http, &emulator, 4).await;
    child.kill().await.unwrap(); // SIGKILL: the rotated tokens' answers are lost.
    let _child = start(&app, &http).await;
    clear_faults(&http, &emulator).await;
    // The dead instance's leases run out (32 s) and the next check (every 5 s) retries them.
    let leases_run_out = Duration::from_secs(32 + 5 + 3);
    assert_all_settle(&app, &emulator, &http, &cookies, leases_run_out).await;
}

async fn stopped_with_sigterm_mid_batch(database_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let emulator = emulator().await;
    let http = reqwest::Client::new();
    let app = app(dir.path(), &emulator, database_url);
    let mut child = start(&app, &http).await;
    let cookies = connect_users(&app, &emulator, &http).await;

    slow_refreshes_in_flight(&http, &emulator, 4).await;
    let pid = child.id().unwrap().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let exited = tokio::time::timeout(Duration::from_secs(40), child.wait())
        .await
        .expect("the app exits within a lease after SIGTERM")
        .unwrap();
    assert!(exited.success(), "{exited}");
    // Past the grace: only answers the app stored before exiting still work.
    clear_faults(&http, &emulator).await;
    emulator_post(
        &http,
        &emulator,
        "/_emulator/clock",
        json!({ "advanceSeconds": 61 }),
    )
    .await;
    let _child = start(&app, &http).await;
    assert_all_settle(&app, &emulator, &http, &cookies, Duration::ZERO).await;
}

/// A PostgreSQL database of its own (`TEST_DATABASE_URL`), or none when the run has none.
async fn postgres_database() -> Option<String> {
    let url = std::env::var("TEST_DATABASE_URL").ok()?;
    if url.trim().is_empty() {
        return None;
    }
    common::create_database(&url).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_killed_mid_refresh_settles_after_a_restart() {
    killed_mid_batch_then_restarted("").await;
    if let Some(url) = postgres_database().await {
        killed_mid_batch_then_restarted(&url).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_lets_refreshes_in_flight_store_their_answers() {
    stopped_with_sigterm_mid_batch("").await;
    if let Some(url) = postgres_database().await {
        stopped_with_sigterm_mid_batch(&url).await;
    }
}
