//! `mesh-link-starter rotate-token-key` on the real binary: tokens saved under one TOKEN_KEY are
//! re-encrypted under the next, and read with the old key gone.

mod common;

use common::{AppProcess, save_payload};

/// Test keys only: base64 of 32 bytes each, and of 64 bytes for the session.
const OLD_KEY: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
const NEW_KEY: &str = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
const SESSION_KEY: &str =
    "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw==";

#[tokio::test]
async fn rotate_then_drop_the_old_key_and_every_token_still_reads() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = AppProcess::new(dir.path().to_path_buf());
    app.keys = (SESSION_KEY.into(), OLD_KEY.into());
    let http = reqwest::Client::new();

    let first = app.spawn();
    app.wait_ready(&http).await;
    let cookie = app.new_session(&http).await;
    let saved = http
        .post(app.url("save_connection"))
        .header("cookie", &cookie)
        .header("content-type", "application/json")
        .body(save_payload("rotated", None))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200);
    drop(first);

    let rotation = app
        .command()
        .arg("rotate-token-key")
        .env("TOKEN_KEY", NEW_KEY)
        .env("TOKEN_KEY_PREVIOUS", OLD_KEY)
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&rotation.stdout);
    assert!(
        rotation.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&rotation.stderr)
    );
    assert!(
        said.starts_with("1 connections re-encrypted under the current TOKEN_KEY, 0 sealed"),
        "{said}"
    );

    // The new key alone: disconnecting opens the stored token to revoke it at Mesh.
    app.keys.1 = NEW_KEY.into();
    let _second = app.spawn();
    app.wait_ready(&http).await;
    let listed = app.list(&http, &cookie).await;
    assert_eq!(listed.len(), 1);
    let id = listed[0]["id"].as_str().unwrap();
    let disconnected = http
        .post(app.url("disconnect"))
        .header("cookie", &cookie)
        .form(&[("id", id)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        disconnected.status(),
        200,
        "{}",
        disconnected.text().await.unwrap()
    );
}
