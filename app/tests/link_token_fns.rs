//! Server functions over real HTTP on a running router, with the emulator as Mesh.
#![cfg(feature = "ssr")]

mod common;

use app::error::ErrorKind;
use app::link_settings::{LinkSettings, MeshMode};
use base64::Engine;
use common::{SECRET, TestApp, app_error};

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
