//! The Mesh client against the emulator over real HTTP: every success and error path.

mod common;

use std::time::Duration;

use base64::Engine;
use mesh_emulator::{self as emulator, RunningEmulator};
use secrecy::SecretString;
use serde_json::json;
use server::config::MeshCredentials;
use server::mesh::{LinkTokenRequest, MeshClient, MeshError, RetryPolicy, Timeouts};

use common::{CLIENT_ID, emulator_settings};

const SECRET: &str = "sk_sandbox_never-print-me";

async fn start_emulator() -> RunningEmulator {
    emulator::spawn(emulator_settings(SECRET))
        .await
        .expect("emulator starts")
}

fn client_for(emulator: &RunningEmulator, secret: &str) -> MeshClient {
    client_with_timeout(emulator.base_url(), secret, Duration::from_secs(5))
}

fn client_with_timeout(base_url: url::Url, secret: &str, total: Duration) -> MeshClient {
    MeshClient::with_policy(
        base_url,
        MeshCredentials {
            client_id: CLIENT_ID.into(),
            client_secret: SecretString::from(secret),
        },
        Timeouts {
            connect: Duration::from_secs(1),
            total,
        },
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
        },
    )
    .unwrap()
}

async fn queue_fault(emulator: &RunningEmulator, fault: serde_json::Value) {
    let response = reqwest::Client::new()
        .post(emulator.base_url().join("/_emulator/faults").unwrap())
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204, "fault accepted");
}

fn request() -> LinkTokenRequest {
    LinkTokenRequest::for_user("5f0c8a52-2b63-4bde-8a55-3a7c7f1c3a10")
}

fn assert_secret_hidden(error: &MeshError) {
    assert!(
        !error.to_string().contains(SECRET),
        "Display leaks: {error}"
    );
    assert!(
        !format!("{error:?}").contains(SECRET),
        "Debug leaks: {error:?}"
    );
    assert!(
        !error.to_string().contains("never-print"),
        "Display leaks: {error}"
    );
}

#[tokio::test]
async fn link_token_decodes_to_a_link_url_on_the_emulator() {
    let emulator = start_emulator().await;
    let content = client_for(&emulator, SECRET)
        .create_link_token(&request())
        .await
        .expect("link token");
    let url = base64::engine::general_purpose::STANDARD
        .decode(&content.link_token)
        .expect("standard base64");
    let url = url::Url::parse(std::str::from_utf8(&url).unwrap()).unwrap();
    assert_eq!(url.scheme(), "http");
    assert_eq!(url.origin(), emulator.base_url().origin());
    assert!(url.path().starts_with("/b2b-iframe/test-client/"));
    assert!(
        url.query_pairs()
            .any(|(k, v)| k == "auth_code" && v.len() == 32)
    );
}

#[tokio::test]
async fn wrong_secret_is_unauthorized() {
    let emulator = start_emulator().await;
    let error = client_for(&emulator, "sk_sandbox_wrong")
        .create_link_token(&request())
        .await
        .unwrap_err();
    assert!(matches!(error, MeshError::Unauthorized), "{error:?}");
    assert_secret_hidden(&error);
}

#[tokio::test]
async fn bad_request_envelope_is_typed() {
    let emulator = start_emulator().await;
    queue_fault(
        &emulator,
        json!({"path": "/api/v1/linktoken", "fault": "status", "status": 400}),
    )
    .await;
    let error = client_for(&emulator, SECRET)
        .create_link_token(&request())
        .await
        .unwrap_err();
    match &error {
        MeshError::BadRequest {
            error_type,
            display_message,
            ..
        } => {
            assert_eq!(error_type, "badRequest");
            assert!(display_message.is_some());
        }
        other => panic!("expected BadRequest, got {other:?}"),
    }
    assert_secret_hidden(&error);
}

#[tokio::test]
async fn user_id_is_validated_before_sending() {
    let client = client_with_timeout(
        "http://127.0.0.1:9/".parse().unwrap(),
        SECRET,
        Duration::from_secs(1),
    );
    for user_id in [String::new(), "x".repeat(301)] {
        let error = client
            .create_link_token(&LinkTokenRequest::for_user(user_id))
            .await
            .unwrap_err();
        assert!(matches!(error, MeshError::InvalidRequest(_)), "{error:?}");
    }
}

#[tokio::test]
async fn emulator_refuses_unknown_fields_and_missing_user_id_with_an_envelope() {
    let emulator = start_emulator().await;
    let http = reqwest::Client::new();
    let url = emulator.base_url().join("/api/v1/linktoken").unwrap();
    for body in [
        json!({"userId": "u", "colour": "red"}),
        json!({}),
        json!({"userId": "x".repeat(301)}),
    ] {
        let response = http
            .post(url.clone())
            .header("X-Client-Id", CLIENT_ID)
            .header("X-Client-Secret", SECRET)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        let envelope: serde_json::Value = response.json().await.unwrap();
        assert_eq!(envelope["status"], "badRequest");
        assert!(envelope["errorType"].is_string());
    }
    let response = http
        .post(url)
        .json(&json!({"userId": "u"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(
        response.bytes().await.unwrap().is_empty(),
        "401 has an empty body"
    );
}

#[tokio::test]
async fn rate_limit_is_retried_then_succeeds() {
    let emulator = start_emulator().await;
    queue_fault(
        &emulator,
        json!({"path": "/api/v1/linktoken", "fault": "status", "status": 429, "times": 2}),
    )
    .await;
    let content = client_for(&emulator, SECRET)
        .create_link_token(&request())
        .await;
    assert!(content.is_ok(), "{content:?}");
}

#[tokio::test]
async fn server_errors_are_retried_until_attempts_run_out() {
    let emulator = start_emulator().await;
    queue_fault(
        &emulator,
        json!({"path": "/api/v1/linktoken", "fault": "status", "status": 503, "times": 3}),
    )
    .await;
    let error = client_for(&emulator, SECRET)
        .create_link_token(&request())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            MeshError::Server {
                status: 503,
                attempts: 3
            }
        ),
        "{error:?}"
    );
    assert_secret_hidden(&error);
    // The three faults were used up by the three attempts: the next call succeeds.
    assert!(
        client_for(&emulator, SECRET)
            .create_link_token(&request())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn slow_answer_times_out() {
    let emulator = start_emulator().await;
    queue_fault(
        &emulator,
        json!({"path": "/api/v1/linktoken", "fault": "delay", "delay_ms": 2000}),
    )
    .await;
    let client = client_with_timeout(emulator.base_url(), SECRET, Duration::from_millis(300));
    let error = client.create_link_token(&request()).await.unwrap_err();
    assert!(matches!(error, MeshError::Timeout(_)), "{error:?}");
    assert!(error.is_unreachable());
    assert_secret_hidden(&error);
}

#[tokio::test]
async fn malformed_body_is_reported() {
    let emulator = start_emulator().await;
    queue_fault(
        &emulator,
        json!({"path": "/api/v1/linktoken", "fault": "malformed"}),
    )
    .await;
    let error = client_for(&emulator, SECRET)
        .create_link_token(&request())
        .await
        .unwrap_err();
    assert!(
        matches!(error, MeshError::MalformedResponse(_)),
        "{error:?}"
    );
    assert_secret_hidden(&error);
}

#[tokio::test]
async fn dropped_connections_are_retried_then_reported() {
    let emulator = start_emulator().await;
    queue_fault(
        &emulator,
        json!({"path": "/api/v1/linktoken", "fault": "drop", "times": 3}),
    )
    .await;
    let error = client_for(&emulator, SECRET)
        .create_link_token(&request())
        .await
        .unwrap_err();
    assert!(
        matches!(error, MeshError::Unreachable { attempts: 3, .. }),
        "{error:?}"
    );
    assert_secret_hidden(&error);
}

#[tokio::test]
async fn connection_refused_is_unreachable_after_retries() {
    // Bind then drop a listener: the port is free and nothing answers on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = client_with_timeout(
        format!("http://127.0.0.1:{port}/").parse().unwrap(),
        SECRET,
        Duration::from_secs(2),
    );
    let error = client.create_link_token(&request()).await.unwrap_err();
    assert!(
        matches!(error, MeshError::Unreachable { attempts: 3, .. }),
        "{error:?}"
    );
    assert!(error.is_unreachable());
    assert_secret_hidden(&error);
}

#[tokio::test]
async fn link_tokens_are_unique() {
    let emulator = start_emulator().await;
    let client = client_for(&emulator, SECRET);
    let a = client.create_link_token(&request()).await.unwrap();
    let b = client.create_link_token(&request()).await.unwrap();
    assert_ne!(a.link_token, b.link_token);
}

#[tokio::test]
async fn an_answer_larger_than_the_limit_is_refused_not_held() {
    use server::mesh::MAX_ANSWER_BYTES;
    // A server that answers every call with a body just over the limit.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = url::Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let huge = axum::Router::new().fallback(|| async { vec![b'x'; MAX_ANSWER_BYTES + 1] });
    tokio::spawn(async move { axum::serve(listener, huge).await });

    let error = client_with_timeout(base, SECRET, Duration::from_secs(5))
        .create_link_token(&request())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, MeshError::MalformedResponse(why) if why.contains("larger than 4 MiB")),
        "{error:?}"
    );
}
