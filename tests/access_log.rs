//! The access log of the real binary: one line per request under its request id, with the path
//! but never the query, a cookie, a token (not even one handed back for a deposit) or the Mesh
//! secret.

mod common;

use std::process::Stdio;

use common::{AppProcess, save_payload};

#[tokio::test]
async fn the_access_log_names_each_request_and_holds_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let app = AppProcess::new(dir.path().to_path_buf());
    let mut child = app
        .command()
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    app.wait_ready(&http).await;
    let cookie = app.new_session(&http).await;

    let page = http
        .get(format!(
            "http://127.0.0.1:{}/?token=query-secret-value",
            app.app_port
        ))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let request_id = page.headers()["x-request-id"].to_str().unwrap().to_string();
    let saved = http
        .post(app.url("save_connection"))
        .header("cookie", &cookie)
        .header("content-type", "application/json")
        .body(save_payload("log-test", Some(1.5)))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200);
    let link_token = http
        .post(app.url("create_link_token"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(link_token.status(), 200);
    // The one answer that hands a stored token back (a deposit from a connected exchange): the
    // token is in the answer, and in no log line.
    let exchange = save_payload("deposit-log", None).replace("robinhood", "coinbase");
    let saved = http
        .post(app.url("save_connection"))
        .header("cookie", &cookie)
        .header("content-type", "application/json")
        .body(exchange)
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200);
    let listed: serde_json::Value = http
        .post(app.url("list_connections"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let coinbase = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["broker_type"] == "coinbase")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let deposit = http
        .post(app.url("create_deposit_from_connection"))
        .header("cookie", &cookie)
        .form(&[("id", coinbase.as_str()), ("asset", "0"), ("amount", "25")])
        .send()
        .await
        .unwrap();
    assert_eq!(deposit.status(), 200);
    assert!(deposit.text().await.unwrap().contains("access-deposit-log"));

    child.start_kill().unwrap();
    let output = child.wait_with_output().await.unwrap();
    let log = String::from_utf8_lossy(&output.stdout);
    let page_line = log
        .lines()
        .find(|line| line.contains(&request_id) && line.contains("answered"))
        .unwrap_or_else(|| panic!("no access-log line for {request_id}:\n{log}"));
    assert!(page_line.contains("method=GET"), "{page_line}");
    assert!(page_line.contains("path=/"), "{page_line}");
    assert!(page_line.contains("status=200"), "{page_line}");
    assert!(log.contains("path=/api/save_connection"), "{log}");
    let session_value = cookie.split_once('=').unwrap().1;
    for secret in [
        "query-secret-value",
        session_value,
        "access-log-test",
        "access-deposit-log",
        "emulator-secret",
    ] {
        assert!(!log.contains(secret), "the log holds {secret}:\n{log}");
    }
}
