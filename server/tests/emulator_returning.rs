//! A returning user's tokens in the emulated Link (`frontAccessTokens`) over HTTP: the
//! integrations list, a link token opened on one integration, a valid token that skips the
//! sign-in, and every token that falls back to it; Mesh-managed tokens (`tokenId`).

mod common;

use mesh_emulator::{self as emulator, RunningEmulator};
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde_json::{Value, json};
use server::mesh::{
    Amount, LinkTokenRequest, MeshClient, MeshError, NETWORKS, ToAddress, TransferOptions,
};

use common::{HOST, client, emulator_settings};

/// Coinbase's integration id in the emulator (and in Mesh's own example).
const COINBASE: &str = "47624467-e52e-4938-a41a-7926b6c27acf";

async fn start(managed_tokens: bool) -> (RunningEmulator, MeshClient) {
    let emulator = emulator::spawn(emulator::Settings {
        managed_tokens,
        ..emulator_settings("secret")
    })
    .await
    .unwrap();
    let client = client(&emulator, "secret", 2);
    (emulator, client)
}

/// A deposit of $25 of USDC, opened on `integration_id` when given.
fn deposit(integration_id: Option<&str>) -> LinkTokenRequest {
    LinkTokenRequest {
        transfer_options: Some(TransferOptions {
            to_addresses: vec![ToAddress {
                network_id: NETWORKS[0].id.into(),
                symbol: "USDC".into(),
                address: "0x5e1ec7ed00c0ffee00000000000000000000dead".into(),
                amount: None,
            }],
            amount_in_fiat: Some(Amount(Decimal::from(25))),
            transfer_type: Some("deposit".into()),
            transaction_id: None,
        }),
        integration_id: integration_id.map(String::from),
        ..LinkTokenRequest::for_user("user-1")
    }
}

/// Opens the Link page of a link token for `request`: its session id and the page.
async fn open(client: &MeshClient, request: &LinkTokenRequest) -> (String, String) {
    let token = client.create_link_token(request).await.unwrap().link_token;
    let url = String::from_utf8(
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, token).unwrap(),
    )
    .unwrap();
    let page = reqwest::get(url).await.unwrap().text().await.unwrap();
    let start = page.find("\"session\":\"").expect("a session in the page") + 11;
    (page[start..start + 32].to_string(), page)
}

async fn post(emulator: &RunningEmulator, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(emulator.base_url().join(path).unwrap())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

/// Connects the sandbox `broker` account through Link (with the sandbox code where it asks one)
/// and returns its account token as Link posts it.
async fn connect(emulator: &RunningEmulator, client: &MeshClient, broker: &str) -> Value {
    let (session, _) = open(client, &LinkTokenRequest::for_user("user-1")).await;
    let mut body = post(
        emulator,
        &format!("/_link/{session}/sign-in"),
        json!({"brokerType": broker, "username": "Mesh", "password": "Pass123", "hostOrigin": HOST}),
    )
    .await;
    if body["status"] == "mfaRequired" {
        body = post(
            emulator,
            &format!("/_link/{session}/mfa"),
            json!({"code": "123456", "hostOrigin": HOST}),
        )
        .await;
    }
    assert_eq!(body["status"], "connected");
    body["payload"]["accountTokens"][0].clone()
}

/// Hands `access_token` (labelled as `broker_type`'s) to a Link session, as `frontAccessTokens`.
async fn hand_over(
    emulator: &RunningEmulator,
    session: &str,
    access_token: &str,
    broker_type: &str,
) -> Value {
    post(
        emulator,
        &format!("/_link/{session}/access-tokens"),
        json!({
            "accessTokens": [{
                "accountId": "acc", "accountName": "Coinbase Wallet",
                "accessToken": access_token, "brokerType": broker_type, "brokerName": "Coinbase",
            }],
            "hostOrigin": HOST,
        }),
    )
    .await
}

/// Moves the emulator's token clock two days on: past every access token's lifetime.
async fn two_days_later(emulator: &RunningEmulator) {
    reqwest::Client::new()
        .post(emulator.base_url().join("/_emulator/clock").unwrap())
        .json(&json!({"advanceSeconds": 2 * 24 * 60 * 60}))
        .send()
        .await
        .unwrap();
}

/// Asserts that Link left the user at the sign-in, for a reason containing `reason`.
fn assert_sign_in(answer: &Value, reason: &str) {
    assert_eq!(answer["status"], "signIn", "{answer}");
    let said = answer["reason"].as_str().unwrap_or_default();
    assert!(said.contains(reason), "{said}");
}

/// The access token of an account token as Link posts it.
fn access(token: &Value) -> &str {
    token["accessToken"].as_str().unwrap()
}

/// Whether the session can go on to the transfer: its preview answers.
async fn can_preview(emulator: &RunningEmulator, session: &str) -> bool {
    let response = reqwest::Client::new()
        .post(
            emulator
                .base_url()
                .join(&format!("/_link/{session}/transfer/preview"))
                .unwrap(),
        )
        .json(&json!({"index": 0, "hostOrigin": HOST}))
        .send()
        .await
        .unwrap();
    response.status() == 200
}

#[tokio::test]
async fn the_integrations_list_names_the_ids_a_link_token_opens_on() {
    let (_emulator, client) = start(false).await;
    let integrations = client.integrations().await.unwrap();
    let coinbase = integrations
        .iter()
        .find(|i| i.broker_type == "coinbase")
        .expect("coinbase");
    assert_eq!(coinbase.id, COINBASE);
    assert!(coinbase.crypto_transfers_supported);
    let robinhood = integrations
        .iter()
        .find(|i| i.broker_type == "robinhood")
        .expect("robinhood");
    assert!(!robinhood.crypto_transfers_supported);

    let (_, page) = open(&client, &deposit(Some(COINBASE))).await;
    assert!(
        page.contains("\"integration\":{\"brokerType\":\"coinbase\""),
        "the page opens on Coinbase"
    );
    let (_, page) = open(&client, &deposit(None)).await;
    assert!(page.contains("\"integration\":null"));

    let unknown = client
        .create_link_token(&deposit(Some("00000000-0000-0000-0000-000000000000")))
        .await;
    assert!(
        matches!(unknown, Err(MeshError::BadRequest { ref message, .. }) if message.contains("IntegrationId")),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn a_valid_token_of_the_integration_skips_the_sign_in() {
    let (emulator, client) = start(false).await;
    let token = connect(&emulator, &client, "coinbase").await;
    assert!(
        token.get("tokenId").is_none(),
        "no tokenId without managed tokens"
    );
    let access = access(&token);
    let (session, _) = open(&client, &deposit(Some(COINBASE))).await;
    assert!(!can_preview(&emulator, &session).await, "not signed in yet");
    let answer = hand_over(&emulator, &session, access, "coinbase").await;
    assert_eq!(answer["status"], "connected", "{answer}");
    assert!(
        can_preview(&emulator, &session).await,
        "straight to the transfer"
    );
}

#[tokio::test]
async fn expired_revoked_and_other_brokers_tokens_fall_back_to_the_sign_in() {
    let (emulator, client) = start(false).await;
    let coinbase = connect(&emulator, &client, "coinbase").await;
    let robinhood = connect(&emulator, &client, "robinhood").await;

    // Another broker's token, and one labelled as Coinbase's that is not.
    let (session, _) = open(&client, &deposit(Some(COINBASE))).await;
    let answer = hand_over(&emulator, &session, access(&robinhood), "robinhood").await;
    assert_sign_in(&answer, "No token of this integration");
    let answer = hand_over(&emulator, &session, access(&robinhood), "coinbase").await;
    assert_sign_in(&answer, "not valid");
    assert!(!can_preview(&emulator, &session).await);

    // Expired: past the access token's lifetime.
    two_days_later(&emulator).await;
    let (session, _) = open(&client, &deposit(Some(COINBASE))).await;
    let answer = hand_over(&emulator, &session, access(&coinbase), "coinbase").await;
    assert_sign_in(&answer, "expired");

    // Revoked: a fresh token, then DELETE /api/v1/account.
    let fresh = connect(&emulator, &client, "coinbase").await;
    let access = access(&fresh);
    client
        .delete_account(&SecretString::from(access), "coinbase")
        .await
        .unwrap();
    let (session, _) = open(&client, &deposit(Some(COINBASE))).await;
    let answer = hand_over(&emulator, &session, access, "coinbase").await;
    assert_sign_in(&answer, "not valid");
    assert!(!can_preview(&emulator, &session).await);
}

#[tokio::test]
async fn without_an_integration_id_the_tokens_are_not_used() {
    let (emulator, client) = start(false).await;
    let token = connect(&emulator, &client, "coinbase").await;
    let (session, _) = open(&client, &deposit(None)).await;
    let answer = hand_over(&emulator, &session, access(&token), "coinbase").await;
    assert_sign_in(&answer, "not a transfer from one integration");
    assert!(!can_preview(&emulator, &session).await);
}

#[tokio::test]
async fn under_managed_tokens_the_token_id_stands_for_the_account() {
    let (emulator, client) = start(true).await;
    let token = connect(&emulator, &client, "coinbase").await;
    let token_id = token["tokenId"].as_str().expect("a tokenId").to_string();
    // Accepted wherever an access token is: a data call, and Link's returning-user tokens,
    // even once the access token itself has expired (Mesh keeps it fresh behind the id).
    two_days_later(&emulator).await;
    client
        .holdings(&SecretString::from(token_id.clone()), "coinbase")
        .await
        .expect("holdings with the tokenId");
    let (session, _) = open(&client, &deposit(Some(COINBASE))).await;
    let answer = hand_over(&emulator, &session, &token_id, "coinbase").await;
    assert_eq!(answer["status"], "connected", "{answer}");
    assert!(can_preview(&emulator, &session).await);

    // Revoking by the tokenId ends it.
    client
        .delete_account(&SecretString::from(token_id.clone()), "coinbase")
        .await
        .unwrap();
    let (session, _) = open(&client, &deposit(Some(COINBASE))).await;
    let answer = hand_over(&emulator, &session, &token_id, "coinbase").await;
    assert_sign_in(&answer, "not valid");
}

#[tokio::test]
async fn without_managed_tokens_a_token_id_is_no_token() {
    let (emulator, client) = start(false).await;
    let token = connect(&emulator, &client, "coinbase").await;
    let token_id = format!("tok_{}", token["account"]["accountId"].as_str().unwrap());
    let (session, _) = open(&client, &deposit(Some(COINBASE))).await;
    let answer = hand_over(&emulator, &session, &token_id, "coinbase").await;
    assert_sign_in(&answer, "not valid");
}

#[tokio::test]
async fn a_refresh_under_managed_tokens_carries_the_token_id() {
    let (emulator, client) = start(true).await;
    let token = connect(&emulator, &client, "robinhood").await;
    let refreshed = client
        .refresh_token(
            &SecretString::from(token["refreshToken"].as_str().unwrap()),
            "robinhood",
            true,
        )
        .await
        .unwrap();
    let entry = &refreshed.broker_account_tokens.unwrap()[0];
    assert_eq!(entry.token_id.as_deref(), token["tokenId"].as_str());
}
