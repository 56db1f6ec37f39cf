//! Deposits through the emulated Link: the transfer steps, the `transferFinished` payload, the
//! managed-transfers answer against Mesh's spec, and signed webhooks with their retries and faults.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use mesh_emulator::Webhook as EmulatorWebhook;
use mesh_emulator::{self as emulator, RunningEmulator, Settings as EmulatorSettings};
use secrecy::SecretString;
use serde_json::{Value, json};
use server::mesh::webhook::{SIGNATURE_HEADER, signature_matches};
use server::mesh::{Amount, LinkTokenRequest, MeshClient, NETWORKS, ToAddress, TransferOptions};

use common::{CLIENT_ID, HOST, client, emulator_settings};

const SECRET: &str = "whsec-test";

/// What the test receiver got: each attempt's body, and whether its signature held.
#[derive(Clone, Default)]
struct Received {
    attempts: Arc<Mutex<Vec<(Value, bool)>>>,
    /// Refuse the first attempt of every event (500), so each event is retried once.
    refuse_first: bool,
}

async fn receive(State(received): State<Received>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let valid = signature_matches(SECRET.as_bytes(), &body, signature);
    let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut attempts = received.attempts.lock().unwrap();
    let first = !attempts
        .iter()
        .any(|(seen, _)| seen["EventId"] == event["EventId"]);
    attempts.push((event, valid));
    if received.refuse_first && first {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

async fn start(refuse_first: bool) -> (RunningEmulator, MeshClient, Received) {
    let received = Received {
        refuse_first,
        ..Received::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(received.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let emulator = emulator::spawn(EmulatorSettings {
        webhook: Some(EmulatorWebhook {
            url: format!("http://{receiver}/hook").parse().unwrap(),
            secret: SecretString::from(SECRET),
        }),
        ..emulator_settings("secret")
    })
    .await
    .unwrap();
    let client = client(&emulator, "secret", 2);
    (emulator, client, received)
}

fn deposit(user: &str, transaction_id: &str) -> LinkTokenRequest {
    LinkTokenRequest {
        transfer_options: Some(TransferOptions {
            to_addresses: vec![ToAddress {
                network_id: NETWORKS[0].id.into(),
                symbol: "USDC".into(),
                address: "0x5e1ec7ed00c0ffee00000000000000000000dead".into(),
                amount: None,
            }],
            amount_in_fiat: Some(Amount("25.50".parse().unwrap())),
            transfer_type: Some("deposit".into()),
            transaction_id: Some(transaction_id.into()),
        }),
        ..LinkTokenRequest::for_user(user)
    }
}

async fn transfer(
    emulator: &RunningEmulator,
    client: &MeshClient,
    broker: &str,
    user: &str,
) -> Value {
    let token = client
        .create_link_token(&deposit(user, "deposit-1"))
        .await
        .unwrap()
        .link_token;
    emulator
        .transfer_through_link(&token, broker, HOST)
        .await
        .unwrap()
}

/// Waits until the receiver got `n` attempts (or fails after 15 s).
async fn attempts(received: &Received, n: usize) -> Vec<(Value, bool)> {
    for _ in 0..150 {
        let attempts = received.attempts.lock().unwrap().clone();
        if attempts.len() >= n {
            return attempts;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "only {} webhook attempts arrived",
        received.attempts.lock().unwrap().len()
    );
}

fn statuses(attempts: &[(Value, bool)]) -> Vec<String> {
    attempts
        .iter()
        .map(|(event, _)| {
            event["TransferStatus"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn a_deposit_with_mfa_posts_the_documented_payload_and_is_listed_as_the_spec_says() {
    let (emulator, client, _) = start(false).await;
    let payload = transfer(&emulator, &client, "coinbase", "user-1").await;

    // `TransferFinishedPayload` of web-link-sdk 3.11: these fields, `status` "success".
    let required = [
        "status",
        "txId",
        "fromAddress",
        "toAddress",
        "symbol",
        "amount",
        "networkId",
    ];
    let optional = [
        "userId",
        "clientTransactionId",
        "amountInFiat",
        "totalAmountInFiat",
        "networkName",
        "txHash",
        "transferId",
        "refundAddress",
    ];
    for field in required {
        assert!(!payload[field].is_null(), "{field} missing from {payload}");
    }
    for field in payload.as_object().unwrap().keys() {
        assert!(
            required.contains(&field.as_str()) || optional.contains(&field.as_str()),
            "{field} is not in the SDK's TransferFinishedPayload"
        );
    }
    assert_eq!(payload["status"], "success");
    assert!(payload["amount"].is_number() && payload["amountInFiat"].is_number());
    assert_eq!(payload["amount"], json!(25.5), "USDC at the emulated $1");
    assert_eq!(payload["userId"], "user-1");
    assert_eq!(payload["clientTransactionId"], "deposit-1");
    assert_eq!(payload["networkId"], NETWORKS[0].id);

    // The managed-transfers answer: the spec's `TransferModel` names and types, nothing else.
    let id = payload["transferId"].as_str().unwrap();
    let raw: Value = reqwest::Client::new()
        .get(
            emulator
                .base_url()
                .join("/api/v1/transfers/managed/mesh")
                .unwrap(),
        )
        .query(&[("UserId", "user-1"), ("Count", "5")])
        .header("X-Client-Id", CLIENT_ID)
        .header("X-Client-Secret", "secret")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(raw["status"], "ok");
    assert_eq!(raw["content"]["total"], 1);
    let model = &raw["content"]["items"][0];
    let spec_numbers = [
        "amountInFiat",
        "amountToReceiveInFiat",
        "amount",
        "amountToReceive",
        "sourceAmount",
        "destinationAmount",
        "totalFeesAmountInFiat",
        "totalTransactionAmountInFiat",
    ];
    let spec_others = [
        "id",
        "clientTransactionId",
        "institutionTransactionId",
        "userId",
        "status",
        "amountInFiatCurrencyCode",
        "symbol",
        "tokenAddress",
        "networkName",
        "networkId",
        "networkLogoUrl",
        "createdTimestamp",
        "from",
        "hash",
        "subClientId",
        "infoUrl",
        "gasFee",
        "withdrawalFee",
        "processingFee",
        "executedTimestamp",
        "transferType",
        "isFeeIncluded",
        "destinationAmountInFiat",
        "fundingMethods",
        "destinationAddress",
        "refundAddress",
        "bridgingDetails",
    ];
    for (field, value) in model.as_object().unwrap() {
        assert!(
            spec_numbers.contains(&field.as_str()) || spec_others.contains(&field.as_str()),
            "{field} is not a TransferModel property"
        );
        if spec_numbers.contains(&field.as_str()) {
            assert!(value.is_number(), "{field} must be a number, not {value}");
        }
    }
    assert_eq!(model["id"], id);
    assert!(["pending", "succeeded", "failed"].contains(&model["status"].as_str().unwrap()));
    assert!(model["createdTimestamp"].is_i64() && model["isFeeIncluded"].is_boolean());
    assert_eq!(model["transferType"], "deposit");
    assert_eq!(model["from"]["type"], "coinbase");
    assert_eq!(model["gasFee"]["feeInFiat"], json!(1.25));

    // The typed client reads the same transfer by id, and nothing for an unknown one.
    let listed = client.managed_transfer(id).await.unwrap().unwrap();
    assert_eq!(listed.client_transaction_id.as_deref(), Some("deposit-1"));
    assert_eq!(listed.amount, Some(Amount("25.5".parse().unwrap())));
    assert!(
        client
            .managed_transfer("8e25acb5-a9e2-4d00-8772-a255f010a2a9")
            .await
            .unwrap()
            .is_none()
    );
    emulator.stop();
}

#[tokio::test]
async fn webhooks_are_signed_retried_with_the_same_event_id_and_end_in_the_chosen_state() {
    let (emulator, client, received) = start(true).await;
    let payload = transfer(&emulator, &client, "robinhood", "user-2").await;
    // pending and succeeded, each refused once and delivered again.
    let got = attempts(&received, 4).await;
    assert!(
        got.iter().all(|(_, valid)| *valid),
        "every attempt is signed"
    );
    assert_eq!(
        statuses(&got),
        ["pending", "pending", "succeeded", "succeeded"]
    );
    assert_eq!(got[0].0["EventId"], got[1].0["EventId"]);
    assert_ne!(got[0].0["Id"], got[1].0["Id"], "a new Id per attempt");
    assert_ne!(got[1].0["EventId"], got[2].0["EventId"]);
    let succeeded = &got[3].0;
    assert_eq!(succeeded["TransferId"], payload["transferId"]);
    assert_eq!(succeeded["UserId"], "user-2");
    assert_eq!(succeeded["Token"], "USDC");
    assert_eq!(succeeded["Chain"], "Ethereum");
    assert_eq!(succeeded["DestinationAmount"], json!(25.5));
    assert!(
        succeeded["TxHash"]
            .as_str()
            .is_some_and(|h| h.starts_with("0x"))
    );
    assert!(succeeded["SentTimestamp"].is_i64());

    // Tests choose a failed outcome through `/_emulator/transfers`.
    let control = emulator.base_url();
    let http = reqwest::Client::new();
    http.post(control.join("/_emulator/transfers").unwrap())
        .json(&json!({ "outcome": "failed", "settleMs": 50 }))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let failed = transfer(&emulator, &client, "robinhood", "user-2").await;
    let got = attempts(&received, 8).await;
    assert_eq!(
        statuses(&got[4..]),
        ["pending", "pending", "failed", "failed"]
    );
    let listed = client
        .managed_transfer(failed["transferId"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(listed.status, "failed");
    emulator.stop();
}

#[tokio::test]
async fn webhook_faults_drop_duplicate_and_reorder_deliveries() {
    let (emulator, client, received) = start(false).await;
    let http = reqwest::Client::new();
    let control = |path: &str| emulator.base_url().join(path).unwrap();
    http.post(control("/_emulator/transfers"))
        .json(&json!({ "outcome": "succeeded", "settleMs": 50 }))
        .send()
        .await
        .unwrap();
    for fault in ["drop", "duplicate", "outOfOrder"] {
        http.post(control("/_emulator/webhooks"))
            .json(&json!({ "fault": fault }))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
    }
    // Dropped: nothing arrives, but Mesh's API knows the final state.
    let dropped = transfer(&emulator, &client, "robinhood", "user-3").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(received.attempts.lock().unwrap().is_empty());
    let listed = client
        .managed_transfer(dropped["transferId"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(listed.status, "succeeded");
    // Duplicated: every event twice, same EventId.
    transfer(&emulator, &client, "robinhood", "user-3").await;
    let got = attempts(&received, 4).await;
    assert_eq!(
        statuses(&got),
        ["pending", "pending", "succeeded", "succeeded"]
    );
    assert_eq!(got[0].0["EventId"], got[1].0["EventId"]);
    // Out of order: the final state first, then a late pending.
    transfer(&emulator, &client, "robinhood", "user-3").await;
    let got = attempts(&received, 6).await;
    assert_eq!(statuses(&got[4..]), ["succeeded", "pending"]);
    emulator.stop();
}

#[tokio::test]
async fn the_transfer_steps_refuse_what_mesh_would() {
    let (emulator, client, _) = start(false).await;
    // A destination on a network Mesh does not know is refused when the token is asked for.
    let mut request = deposit("user-4", "x");
    if let Some(options) = request.transfer_options.as_mut() {
        options.to_addresses[0].network_id = "not-a-network".into();
    }
    let refused = client.create_link_token(&request).await.unwrap_err();
    assert!(refused.to_string().contains("NetworkId"), "{refused}");
    // A token without transferOptions has no transfer steps.
    let token = client
        .create_link_token(&LinkTokenRequest::for_user("user-4"))
        .await
        .unwrap()
        .link_token;
    let error = emulator
        .transfer_through_link(&token, "robinhood", HOST)
        .await
        .unwrap_err();
    assert!(error.contains("400"), "{error}");
    emulator.stop();
}
