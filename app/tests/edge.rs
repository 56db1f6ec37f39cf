//! The edge over real HTTP: requests sent from other sites are refused, JSON server functions
//! read only JSON, and every answer carries the security headers.
#![cfg(feature = "ssr")]

mod common;

use app::error::ErrorKind;
use common::{APP_ORIGIN, SECRET, TestApp, app_error};

const SAVE_BODY: &str = r#"{"payload":{"accessToken":{"accountTokens":[{"account":{"accountId":"a","accountName":"A"},"accessToken":"at"}],"brokerType":"robinhood","brokerName":"Robinhood"}}}"#;

/// POSTs to `endpoint` with the given browser headers (and the session of a fresh visitor).
async fn post(
    app: &TestApp,
    endpoint: &str,
    content_type: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let user = app.new_user().await;
    let mut request = app
        .http
        .post(format!("http://{}/api/{endpoint}", app.addr))
        .header("cookie", &user.cookie)
        .header("content-type", content_type)
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// Every state-changing server function, with a body it accepts.
const CALLS: [(&str, &str, &str); 3] = [
    ("save_connection", "application/json", SAVE_BODY),
    (
        "disconnect",
        "application/x-www-form-urlencoded",
        "id=6f1c2b9e-8a6b-4a8c-9d1e-2f3a4b5c6d7e",
    ),
    ("create_link_token", "application/x-www-form-urlencoded", ""),
];

#[tokio::test]
async fn requests_from_another_site_are_refused_with_a_sentence() {
    let app = TestApp::start(SECRET).await;
    let foreign: [&[(&str, &str)]; 4] = [
        &[("origin", "https://evil.example")],
        &[("origin", "null")],
        &[
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "same-origin"),
        ],
        &[("sec-fetch-site", "cross-site")],
    ];
    for (endpoint, content_type, body) in CALLS {
        for headers in foreign {
            let response = post(&app, endpoint, content_type, body, headers).await;
            assert_eq!(response.status(), 403, "{endpoint} {headers:?}");
            let error = app_error(response).await;
            assert_eq!(error.kind, ErrorKind::Forbidden);
            assert!(
                error
                    .message
                    .starts_with("This request came from another site")
            );
        }
    }
}

#[tokio::test]
async fn same_origin_and_non_browser_requests_pass() {
    let app = TestApp::start(SECRET).await;
    let allowed: [&[(&str, &str)]; 3] = [
        &[("origin", APP_ORIGIN), ("sec-fetch-site", "same-origin")],
        &[("sec-fetch-site", "same-origin")],
        &[],
    ];
    for headers in allowed {
        let response = post(
            &app,
            "save_connection",
            "application/json",
            SAVE_BODY,
            headers,
        )
        .await;
        assert_eq!(response.status(), 200, "{headers:?}");
        let response = post(
            &app,
            "create_link_token",
            "application/x-www-form-urlencoded",
            "",
            headers,
        )
        .await;
        assert_eq!(response.status(), 200, "{headers:?}");
    }
}

#[tokio::test]
async fn every_json_server_function_refuses_other_content_types() {
    let app = TestApp::start(SECRET).await;
    let json_input = app::server_fn_rules::server_fn_rules()
        .iter()
        .filter(|rule| rule.json_input)
        .map(|rule| rule.path.trim_start_matches("/api/"));
    for (endpoint, content_type) in json_input.flat_map(|endpoint| {
        [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ]
        .map(|content_type| (endpoint, content_type))
    }) {
        let response = post(&app, endpoint, content_type, SAVE_BODY, &[]).await;
        assert_eq!(response.status(), 415, "{endpoint} {content_type}");
        assert_eq!(
            app_error(response).await.kind,
            ErrorKind::UnsupportedMediaType
        );
    }
}

#[tokio::test]
async fn a_page_carries_a_fresh_nonce_policy_and_the_security_headers() {
    let app = TestApp::start(SECRET).await;
    let url = format!("http://{}/", app.addr);
    let first = app.http.get(&url).send().await.unwrap();
    let headers = first.headers().clone();
    let html = first.text().await.unwrap();
    let csp = headers["content-security-policy"].to_str().unwrap();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap();
    assert!(nonce.len() >= 22, "a 128-bit nonce: {nonce}");
    assert!(html.contains(&format!("<script type=\"module\" nonce=\"{nonce}\">")));
    let link_origin = app.emulator.base_url().origin().ascii_serialization();
    assert!(csp.contains(&format!("frame-src {link_origin};")), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(
        headers["referrer-policy"],
        "strict-origin-when-cross-origin"
    );
    // The test app's PUBLIC_URL is https.
    assert_eq!(
        headers["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );

    let second = app.http.get(&url).send().await.unwrap();
    assert_ne!(
        second.headers()["content-security-policy"],
        csp,
        "a nonce per page"
    );
}

#[tokio::test]
async fn answers_that_are_not_pages_get_the_strict_policy_and_pages_are_compressed() {
    let app = TestApp::start(SECRET).await;
    let response = app.call("link_settings").await;
    assert_eq!(
        response.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox"
    );
    // A browser's own header (Chrome, Firefox) gets zstd; one without zstd (Safari) brotli.
    for (accepted, encoding) in [
        ("gzip, deflate, br, zstd", "zstd"),
        ("gzip, deflate, br", "br"),
        ("gzip", "gzip"),
    ] {
        let page = app
            .http
            .get(format!("http://{}/", app.addr))
            .header("accept-encoding", accepted)
            .send()
            .await
            .unwrap();
        assert_eq!(page.headers()["content-encoding"], encoding, "{accepted}");
    }
}

#[tokio::test]
async fn health_checks_answer_without_a_session() {
    let app = TestApp::start(SECRET).await;
    for (path, body) in [("healthz", "ok"), ("readyz", "ready")] {
        let response = app
            .http
            .get(format!("http://{}/{path}", app.addr))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(response.headers().get("set-cookie").is_none(), "{path}");
        assert_eq!(response.text().await.unwrap(), body);
    }
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_keeps_one_set_by_a_proxy() {
    let app = TestApp::start(SECRET).await;
    let first = app.call("link_settings").await;
    let id = first.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let second = app.call("link_settings").await;
    assert_ne!(second.headers()["x-request-id"], id.as_str());
    let proxied = app
        .http
        .get(format!("http://{}/healthz", app.addr))
        .header("x-request-id", "from-the-proxy-1")
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.headers()["x-request-id"], "from-the-proxy-1");
}

/// `create_link_token` as the client at `address` (behind the trusted proxy at 127.0.0.1).
async fn link_token_from(app: &TestApp, address: &str) -> reqwest::Response {
    app.http
        .post(format!("http://{}/api/create_link_token", app.addr))
        .header("x-forwarded-for", address)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn one_address_past_its_burst_gets_429_with_retry_after_and_others_do_not() {
    let app = TestApp::start(SECRET).await;
    // The test app allows a burst of 20, then one a second.
    for _ in 0..20 {
        assert_eq!(link_token_from(&app, "203.0.113.1").await.status(), 200);
    }
    let refused = link_token_from(&app, "203.0.113.1").await;
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let error = app_error(refused).await;
    assert_eq!(error.kind, ErrorKind::RateLimited);
    assert!(
        error
            .message
            .starts_with("Too many requests from your network.")
    );
    assert_eq!(link_token_from(&app, "203.0.113.2").await.status(), 200);
}

/// Connects a broker for a new visitor through the emulated Link; the visitor and the
/// connection's id.
async fn connected_visitor(app: &TestApp) -> (common::TestUser, String) {
    let user = app.new_user().await;
    let payload = common::payload_from_emulated_link(app, "robinhood").await;
    let saved = app
        .call_json(&user, "save_connection", payload.to_string())
        .await;
    assert_eq!(saved.status(), 200);
    let saved: Vec<app::accounts::ConnectionSummary> = saved.json().await.unwrap();
    (user, saved[0].id.clone())
}

/// API calls the emulator has received so far, all paths together.
async fn mesh_calls(app: &TestApp) -> u64 {
    common::mesh_call_counts(app).await.values().sum()
}

#[tokio::test]
async fn a_portfolio_page_loaded_over_and_over_meets_the_limit_and_spares_mesh() {
    let app = TestApp::start(SECRET).await;
    let (user, id) = connected_visitor(&app).await;
    let url = format!("http://{}/accounts/{id}", app.addr);
    let load = || {
        app.http
            .get(&url)
            .header("cookie", &user.cookie)
            .header("x-forwarded-for", "203.0.113.9")
            .send()
    };
    let first = load().await.unwrap();
    assert_eq!(first.status(), 200);
    let before = mesh_calls(&app).await;
    let calls_per_page = {
        let again = load().await.unwrap();
        assert_eq!(again.status(), 200);
        mesh_calls(&app).await - before
    };
    assert!(calls_per_page >= 1, "a portfolio page reads Mesh");

    let mut refused = 0;
    for _ in 0..40 {
        let page = load().await.unwrap();
        match page.status().as_u16() {
            200 => {}
            429 => {
                assert!(page.headers().contains_key("retry-after"));
                let sentence = page.text().await.unwrap();
                assert!(
                    sentence.starts_with("Too many requests from your network."),
                    "{sentence}"
                );
                refused += 1;
            }
            status => panic!("a page load answered {status}"),
        }
    }
    // The test app allows a burst of 20 per address and endpoint, then one a second.
    let loads_that_reached_mesh = (mesh_calls(&app).await - before) / calls_per_page;
    assert!(refused >= 15, "{refused} of 40 loads refused");
    assert!(
        loads_that_reached_mesh <= 22,
        "{loads_that_reached_mesh} page loads called Mesh"
    );
    // Another address still reads its page.
    let other = app
        .http
        .get(&url)
        .header("cookie", &user.cookie)
        .header("x-forwarded-for", "203.0.113.10")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
}

/// Reports of deposits cost Mesh calls for a day each: one address may make 5 at once, then 12
/// an hour.
#[tokio::test]
async fn transfer_reports_from_one_address_are_limited_per_hour() {
    let app = TestApp::start(SECRET).await;
    let report_from = |address: &'static str| {
        app.http
            .post(format!("http://{}/api/report_transfer", app.addr))
            .header("content-type", "application/json")
            .header("x-forwarded-for", address)
            .body("{}")
            .send()
    };
    for _ in 0..5 {
        // Refused for its empty payload, but counted.
        assert_eq!(report_from("203.0.113.20").await.unwrap().status(), 400);
    }
    let refused = report_from("203.0.113.20").await.unwrap();
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((60..=301).contains(&retry_after), "{retry_after}");
    assert_eq!(report_from("203.0.113.21").await.unwrap().status(), 400);
}
