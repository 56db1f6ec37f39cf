//! The emulated Link page and its sign-in API over HTTP: single-use tokens, the allowed-origin
//! check, MFA, and revocation of only the tokens the emulator issued.

mod common;

use base64::Engine;
use mesh_emulator::{self as emulator, RunningEmulator};
use serde_json::{Value, json};
use server::mesh::{LinkTokenRequest, MeshClient};

use common::{CLIENT_ID, HOST, client, emulator_settings};

async fn start() -> (RunningEmulator, MeshClient) {
    let emulator = emulator::spawn(emulator_settings("secret")).await.unwrap();
    let client = client(&emulator, "secret", 2);
    (emulator, client)
}

async fn link_url(client: &MeshClient) -> String {
    let token = client
        .create_link_token(&LinkTokenRequest::for_user("user-1"))
        .await
        .unwrap()
        .link_token;
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(token)
            .unwrap(),
    )
    .unwrap()
}

/// Opens the Link page and returns the Link session id embedded in its config.
async fn open_session(client: &MeshClient) -> String {
    let page = reqwest::get(link_url(client).await)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = page.find("\"session\":\"").expect("a session in the page") + 11;
    page[start..start + 32].to_string()
}

async fn post(emulator: &RunningEmulator, path: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(emulator.base_url().join(path).unwrap())
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_link_token_opens_the_page_once() {
    let (_emulator, client) = start().await;
    let url = link_url(&client).await;
    let first = reqwest::get(&url).await.unwrap();
    // Like Mesh's page, only the allowed origins may frame it.
    assert_eq!(
        first.headers()["content-security-policy"],
        format!("frame-ancestors {HOST}")
    );
    let first = first.text().await.unwrap();
    assert!(first.contains("\"error\":null"), "first use works");
    let second = reqwest::get(&url).await.unwrap().text().await.unwrap();
    assert!(second.contains("already used"));
}

#[tokio::test]
async fn sign_in_connects_with_sandbox_credentials_and_the_documented_payload() {
    let (emulator, client) = start().await;
    let session = open_session(&client).await;
    let (status, body) = post(
        &emulator,
        &format!("/_link/{session}/sign-in"),
        json!({"brokerType": "robinhood", "username": "Mesh", "password": "Pass123", "hostOrigin": HOST}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "connected");
    let payload = &body["payload"];
    assert_eq!(payload["brokerType"], "robinhood");
    assert_eq!(payload["expiresInSeconds"], 86400);
    let token = &payload["accountTokens"][0];
    assert!(
        token["accessToken"]
            .as_str()
            .unwrap()
            .starts_with("emu_at_")
    );
    assert!(token["refreshToken"].is_string());
    // A tokenId comes only under Mesh-managed tokens (tests/emulator_returning.rs).
    assert!(token.get("tokenId").is_none());
    assert_eq!(token["account"]["cash"], 10_000_000.0);
    assert!(
        !payload["brokerBrandInfo"]["brokerLogo"]
            .as_str()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn wrong_password_and_disallowed_origin_are_refused() {
    let (emulator, client) = start().await;
    let session = open_session(&client).await;
    let path = format!("/_link/{session}/sign-in");
    let (status, body) = post(
        &emulator,
        &path,
        json!({"brokerType": "robinhood", "username": "Mesh", "password": "nope", "hostOrigin": HOST}),
    )
    .await;
    assert_eq!(status, 401);
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("Invalid username or password")
    );
    let (status, body) = post(
        &emulator,
        &path,
        json!({"brokerType": "robinhood", "username": "Mesh", "password": "Pass123", "hostOrigin": "http://evil.test"}),
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .starts_with("Domain not allowed")
    );
}

#[tokio::test]
async fn mfa_brokers_need_the_sandbox_code() {
    let (emulator, client) = start().await;
    let session = open_session(&client).await;
    let (_, body) = post(
        &emulator,
        &format!("/_link/{session}/sign-in"),
        json!({"brokerType": "coinbase", "username": "Mesh", "password": "Pass123", "hostOrigin": HOST}),
    )
    .await;
    assert_eq!(body["status"], "mfaRequired");
    let mfa = format!("/_link/{session}/mfa");
    let (status, _) = post(
        &emulator,
        &mfa,
        json!({"code": "000000", "hostOrigin": HOST}),
    )
    .await;
    assert_eq!(status, 401);
    let (status, body) = post(
        &emulator,
        &mfa,
        json!({"code": "123456", "hostOrigin": HOST}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["payload"]["brokerType"], "coinbase");
}

#[tokio::test]
async fn delete_account_accepts_only_tokens_the_emulator_issued() {
    let (emulator, client) = start().await;
    let session = open_session(&client).await;
    let (_, body) = post(
        &emulator,
        &format!("/_link/{session}/sign-in"),
        json!({"brokerType": "binanceUs", "username": "Mesh", "password": "Pass123", "hostOrigin": HOST}),
    )
    .await;
    let token = body["payload"]["accountTokens"][0]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let delete = |auth: String, broker: &str| {
        reqwest::Client::new()
            .delete(emulator.base_url().join("/api/v1/account").unwrap())
            .header("X-Client-Id", CLIENT_ID)
            .header("X-Client-Secret", "secret")
            .json(&json!({"authToken": auth, "type": broker}))
            .send()
    };
    assert_eq!(
        delete("made-up".into(), "binanceUs")
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        delete(token.clone(), "robinhood").await.unwrap().status(),
        400
    );
    assert_eq!(
        delete(token.clone(), "binanceUs").await.unwrap().status(),
        200
    );
    assert_eq!(
        delete(token, "binanceUs").await.unwrap().status(),
        400,
        "revoked once"
    );
}
