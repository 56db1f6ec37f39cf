//! "Deposit from this account" over HTTP: the one answer that hands a stored token back to the
//! browser, only for the session user's own connection, renewed first when it expires soon,
//! same-origin, rate limited and never cached; and the emulated Link it opens.
#![cfg(feature = "ssr")]

mod common;

use std::time::Duration;

use app::accounts::ConnectionSummary;
use app::deposits::{DepositFromConnection, DepositSettings};
use common::{SECRET, TestApp, TestUser, app_error, mesh_calls_to, payload_from_emulated_link};
use secrecy::SecretString;
use serde_json::{Value, json};

/// Connects the sandbox `broker` account for `user`: its summary, and the access token Link
/// handed over.
async fn connect(app: &TestApp, user: &TestUser, broker: &str) -> (ConnectionSummary, String) {
    let body = payload_from_emulated_link(app, broker).await;
    let token = body["payload"]["accessToken"]["accountTokens"][0]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let response = app
        .call_json(user, "save_connection", body.to_string())
        .await;
    assert_eq!(response.status(), 200);
    let list: Vec<ConnectionSummary> = app
        .call_form(user, "list_connections", &[])
        .await
        .json()
        .await
        .unwrap();
    let summary = list
        .into_iter()
        .find(|c| c.broker_type == broker)
        .expect("connected");
    (summary, token)
}

async fn deposit_from(app: &TestApp, user: &TestUser, id: &str) -> reqwest::Response {
    app.call_form(
        user,
        "create_deposit_from_connection",
        &[("id", id), ("asset", "0"), ("amount", "25")],
    )
    .await
}

/// Opens the Link page of `link_token` and hands it `access_token`, as the browser does:
/// whether the emulated Link went straight to the transfer, and its page.
async fn hand_to_link(app: &TestApp, link_token: &str, access_token: &Value) -> (bool, String) {
    use base64::Engine as _;
    let url = base64::engine::general_purpose::STANDARD
        .decode(link_token)
        .unwrap();
    let page = reqwest::get(String::from_utf8(url).unwrap())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = page.find("\"session\":\"").unwrap() + 11;
    let session = &page[start..start + 32];
    let answer: Value = app
        .http
        .post(
            app.emulator
                .base_url()
                .join(&format!("/_link/{session}/access-tokens"))
                .unwrap(),
        )
        .json(&json!({ "accessTokens": [access_token], "hostOrigin": "http://127.0.0.1:3000" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (answer["status"] == "connected", page)
}

#[tokio::test]
async fn a_connected_exchange_hands_link_its_own_token_and_link_skips_the_sign_in() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    let (coinbase, stored) = connect(&app, &user, "coinbase").await;
    let (robinhood, _) = connect(&app, &user, "robinhood").await;
    // The integrations list is read in the background for listings: ask again once it is in.
    let mut listed = Vec::new();
    for _ in 0..50 {
        listed = app
            .call_form(&user, "list_connections", &[])
            .await
            .json::<Vec<ConnectionSummary>>()
            .await
            .unwrap();
        if listed.iter().any(|c| c.can_deposit) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let can = |broker: &str| {
        listed
            .iter()
            .find(|c| c.broker_type == broker)
            .unwrap()
            .can_deposit
    };
    assert!(can("coinbase"), "an exchange that sends crypto");
    assert!(!can("robinhood"), "a brokerage that does not");
    let settings: DepositSettings = app
        .call_form(&user, "deposit_settings", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(settings.sources.len(), 1);
    assert_eq!(settings.sources[0].id, coinbase.id);

    let response = deposit_from(&app, &user, &coinbase.id).await;
    assert_eq!(response.status(), 200);
    let cache = response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cache.contains("no-store"), "{cache}");
    let answer: DepositFromConnection = response.json().await.unwrap();
    assert_eq!(
        answer.access_token.access_token, stored,
        "the account's own token"
    );
    assert_eq!(answer.access_token.broker_type, "coinbase");
    assert_eq!(answer.access_token.account_name, "Coinbase Wallet");
    let (connected, page) = hand_to_link(
        &app,
        &answer.link_token,
        &serde_json::to_value(&answer.access_token).unwrap(),
    )
    .await;
    assert!(
        page.contains("\"integration\":{\"brokerType\":\"coinbase\""),
        "opened on Coinbase"
    );
    assert!(page.contains("\"transfer\":{"), "with the deposit");
    assert!(connected, "Link took the token: no sign-in");

    // A brokerage is no source, and the token goes nowhere else: not in the pages.
    let refused = deposit_from(&app, &user, &robinhood.id).await;
    assert_eq!(refused.status(), 400);
    assert!(
        app_error(refused)
            .await
            .message
            .contains("cannot send crypto")
    );
    for page in ["/", "/deposit", &format!("/accounts/{}", coinbase.id)] {
        let html = app
            .http
            .get(format!("http://{}{page}", app.addr))
            .header("cookie", &user.cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!html.contains(&stored), "{page} holds the token");
    }
}

#[tokio::test]
async fn another_users_connection_is_not_found_and_carries_no_token() {
    let app = TestApp::start(SECRET).await;
    let owner = app.new_user().await;
    let (coinbase, stored) = connect(&app, &owner, "coinbase").await;
    let stranger = app.new_user().await;
    let response = deposit_from(&app, &stranger, &coinbase.id).await;
    assert_eq!(response.status(), 404);
    let body = response.text().await.unwrap();
    assert!(!body.contains(&stored));
    for bad in ["not-an-id", ""] {
        let response = deposit_from(&app, &owner, bad).await;
        assert_eq!(response.status(), 400, "{bad:?}");
    }
    let response = app
        .call_form(
            &owner,
            "create_deposit_from_connection",
            &[
                ("id", coinbase.id.as_str()),
                ("asset", "0"),
                ("amount", "0.5"),
            ],
        )
        .await;
    assert_eq!(response.status(), 400, "the amount is checked first");
}

#[tokio::test]
async fn a_request_from_another_site_is_refused() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    let (coinbase, stored) = connect(&app, &user, "coinbase").await;
    let response = app
        .http
        .post(format!(
            "http://{}/api/create_deposit_from_connection",
            app.addr
        ))
        .header("cookie", &user.cookie)
        .header("origin", "http://evil.test")
        .form(&[
            ("id", coinbase.id.as_str()),
            ("asset", "0"),
            ("amount", "25"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(!response.text().await.unwrap().contains(&stored));
}

#[tokio::test]
async fn an_access_token_that_expires_soon_is_renewed_before_it_is_handed_over() {
    // Mesh's tokens live two minutes here: always within the renewal margin.
    let app = TestApp::start_with_token_ttl(SECRET, Duration::from_secs(120)).await;
    let user = app.new_user().await;
    let (coinbase, before) = connect(&app, &user, "coinbase").await;
    let refreshes = mesh_calls_to(&app, "/api/v1/token/refresh").await;
    let response = deposit_from(&app, &user, &coinbase.id).await;
    assert_eq!(response.status(), 200);
    let answer: DepositFromConnection = response.json().await.unwrap();
    assert_eq!(
        mesh_calls_to(&app, "/api/v1/token/refresh").await,
        refreshes + 1
    );
    assert_ne!(answer.access_token.access_token, before, "a renewed token");
    app.mesh
        .holdings(
            &SecretString::from(answer.access_token.access_token.clone()),
            "coinbase",
        )
        .await
        .expect("the handed token works at Mesh");
}

#[tokio::test]
async fn the_rate_limit_applies() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    let (coinbase, _) = connect(&app, &user, "coinbase").await;
    let mut statuses = Vec::new();
    for _ in 0..30 {
        statuses.push(
            deposit_from(&app, &user, &coinbase.id)
                .await
                .status()
                .as_u16(),
        );
    }
    assert!(statuses.contains(&200));
    assert!(statuses.contains(&429), "{statuses:?}");
}
