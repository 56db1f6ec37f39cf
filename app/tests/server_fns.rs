//! Server functions over real HTTP on a running router, with the emulator as Mesh.
#![cfg(feature = "ssr")]

use std::net::SocketAddr;
use std::time::Duration;

use app::error::{AppError, ErrorKind};
use app::model::{LinkSettings, MeshMode};
use app::router::router;
use app::state::AppState;
use base64::Engine;
use leptos::prelude::LeptosOptions;
use secrecy::SecretString;
use server::config::MeshCredentials;
use server::emulator::{self, EmulatorSettings, RunningEmulator};
use server::mesh::{MeshClient, RetryPolicy, Timeouts};
use server::session::SessionConfig;

const SECRET: &str = "sk_sandbox_app-test-secret";

struct TestApp {
    addr: SocketAddr,
    emulator: RunningEmulator,
    http: reqwest::Client,
}

impl TestApp {
    async fn start(client_secret: &str) -> Self {
        let emulator = emulator::spawn(EmulatorSettings {
            addr: "127.0.0.1:0".parse().unwrap(),
            client_id: "app-test".into(),
            client_secret: SecretString::from(SECRET),
            allowed_origins: vec!["http://127.0.0.1:3000".into()],
        })
        .await
        .unwrap();
        let mesh = MeshClient::with_policy(
            emulator.base_url(),
            MeshCredentials {
                client_id: "app-test".into(),
                client_secret: SecretString::from(client_secret),
            },
            Timeouts {
                connect: Duration::from_secs(1),
                total: Duration::from_secs(2),
            },
            RetryPolicy {
                max_attempts: 2,
                base_delay: Duration::from_millis(10),
                max_delay: Duration::from_millis(20),
            },
        )
        .unwrap();
        let state = AppState {
            mesh,
            link_settings: LinkSettings {
                mode: MeshMode::Emulator,
                emulator_origin: Some(emulator.base_url().origin().ascii_serialization()),
            },
        };
        let session = SessionConfig::new(&[42u8; 64], false).unwrap();
        let options = LeptosOptions::builder()
            .output_name("mesh-link-starter")
            .build();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = router(state, session, options);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            addr,
            emulator,
            http: reqwest::Client::new(),
        }
    }

    async fn call(&self, endpoint: &str) -> reqwest::Response {
        self.http
            .post(format!("http://{}/api/{endpoint}", self.addr))
            .header("content-type", "application/x-www-form-urlencoded")
            .send()
            .await
            .unwrap()
    }

    async fn queue_fault(&self, fault: serde_json::Value) {
        let response = self
            .http
            .post(self.emulator.base_url().join("/_emulator/faults").unwrap())
            .json(&fault)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }
}

async fn app_error(response: reqwest::Response) -> AppError {
    let body = response.text().await.unwrap();
    assert!(!body.contains(SECRET), "the secret leaked: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("not an AppError ({e}): {body}"))
}

#[tokio::test]
async fn create_link_token_returns_a_token_that_decodes_to_an_http_url() {
    let app = TestApp::start(SECRET).await;
    let response = app.call("create_link_token").await;
    assert_eq!(response.status(), 200);
    let cookie = response
        .headers()
        .get("set-cookie")
        .expect("a session cookie on first visit")
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let token: String = response.json().await.unwrap();
    let url = base64::engine::general_purpose::STANDARD
        .decode(token)
        .unwrap();
    let url = url::Url::parse(std::str::from_utf8(&url).unwrap()).unwrap();
    assert!(matches!(url.scheme(), "http" | "https"));
    assert_eq!(url.origin(), app.emulator.base_url().origin());
}

#[tokio::test]
async fn a_returning_visitor_keeps_the_cookie_and_gets_no_new_one() {
    let app = TestApp::start(SECRET).await;
    let first = app.call("create_link_token").await;
    let cookie = first.headers()["set-cookie"].to_str().unwrap();
    let pair = cookie.split(';').next().unwrap().to_string();
    let second = app
        .http
        .post(format!("http://{}/api/create_link_token", app.addr))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", pair)
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 200);
    assert!(second.headers().get("set-cookie").is_none());
}

#[tokio::test]
async fn link_settings_tell_the_browser_the_emulator_origin() {
    let app = TestApp::start(SECRET).await;
    let response = app.call("link_settings").await;
    assert_eq!(response.status(), 200);
    let settings: LinkSettings = response.json().await.unwrap();
    assert_eq!(settings.mode, MeshMode::Emulator);
    assert_eq!(
        settings.emulator_origin.as_deref(),
        Some(
            app.emulator
                .base_url()
                .origin()
                .ascii_serialization()
                .as_str()
        )
    );
}

#[tokio::test]
async fn failing_mesh_gives_a_safe_sentence_and_502_not_500() {
    let app = TestApp::start(SECRET).await;
    app.queue_fault(serde_json::json!({"path": "/api/v1/linktoken", "fault": "status", "status": 500, "times": 2}))
        .await;
    let response = app.call("create_link_token").await;
    assert_eq!(response.status(), 502);
    let error = app_error(response).await;
    assert_eq!(error.kind, ErrorKind::MeshRefused);
    assert_eq!(
        error.message,
        "Mesh had a problem on its side. Please try again shortly."
    );
}

#[tokio::test]
async fn wrong_keys_say_the_keys_are_wrong() {
    let app = TestApp::start("sk_sandbox_wrong").await;
    let response = app.call("create_link_token").await;
    assert_eq!(response.status(), 502);
    let error = app_error(response).await;
    assert!(
        error.message.contains("rejected this app's API keys"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn unreachable_mesh_is_503() {
    let app = TestApp::start(SECRET).await;
    app.queue_fault(
        serde_json::json!({"path": "/api/v1/linktoken", "fault": "delay", "delay_ms": 5000}),
    )
    .await;
    let response = app.call("create_link_token").await;
    assert_eq!(response.status(), 503);
    let error = app_error(response).await;
    assert_eq!(error.kind, ErrorKind::MeshUnreachable);
}

#[tokio::test]
async fn malformed_mesh_answer_is_a_sentence_not_a_500() {
    let app = TestApp::start(SECRET).await;
    app.queue_fault(serde_json::json!({"path": "/api/v1/linktoken", "fault": "malformed"}))
        .await;
    let response = app.call("create_link_token").await;
    assert_eq!(response.status(), 502);
    let error = app_error(response).await;
    assert!(error.message.contains("server log"), "{}", error.message);
}
