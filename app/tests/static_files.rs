//! Static files as the release binary serves them, from a small site in `tests/fixtures/site`
//! (stand-ins for cargo-leptos's output, with `.br`/`.gz` beside some files).
#![cfg(feature = "ssr")]

use app::assets::{AssetNames, IMMUTABLE, REVALIDATE, respond};
use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "tests/fixtures/site"]
struct Fixture;

fn names() -> AssetNames {
    AssetNames::versioned::<Fixture>("app", "pkg")
}

fn get(path: &str, headers: &[(axum::http::HeaderName, &str)]) -> Option<Response> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(name.clone(), value.parse().unwrap());
    }
    respond::<Fixture>(&names(), path, &map)
}

async fn body(response: Response) -> Vec<u8> {
    axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec()
}

fn header<'a>(response: &'a Response, name: &axum::http::HeaderName) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

fn versioned(ext: &str) -> String {
    format!("pkg/{}.{ext}", names().output_name())
}

#[test]
fn the_version_hashes_the_front_end_and_leaves_other_names_alone() {
    let name = names().output_name();
    let version = name.strip_prefix("app.").expect("app.<version>");
    assert_eq!(version.len(), 30);
    assert!(version.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(get("favicon.ico", &[]).is_some());
    assert!(
        get("pkg/app.0000.js", &[]).is_none(),
        "another version is not found"
    );
    assert!(get("missing.txt", &[]).is_none());
}

#[tokio::test]
async fn precompressed_variants_follow_accept_encoding() {
    for (accept, encoding, expected) in [
        ("gzip, deflate, br, zstd", Some("br"), "BROTLI(js)"),
        ("gzip, br;q=0", Some("gzip"), "GZIP(js)"),
        ("gzip", Some("gzip"), "GZIP(js)"),
        ("identity", None, "export function hydrate() {}\n"),
    ] {
        let response = get(&versioned("js"), &[(ACCEPT_ENCODING, accept)]).unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, &CONTENT_ENCODING), encoding, "{accept}");
        assert_eq!(header(&response, &VARY), Some("accept-encoding"));
        assert_eq!(header(&response, &CONTENT_TYPE), Some("text/javascript"));
        assert_eq!(body(response).await, expected.as_bytes(), "{accept}");
    }
    // No .gz beside the wasm: a gzip-only client gets it as stored.
    let wasm = get(&versioned("wasm"), &[(ACCEPT_ENCODING, "gzip")]).unwrap();
    assert_eq!(header(&wasm, &CONTENT_ENCODING), None);
    assert_eq!(header(&wasm, &CONTENT_TYPE), Some("application/wasm"));
}

#[tokio::test]
async fn hashed_files_are_immutable_and_others_revalidate_with_an_etag() {
    for ext in ["js", "wasm", "css"] {
        let response = get(&versioned(ext), &[]).unwrap();
        assert_eq!(header(&response, &CACHE_CONTROL), Some(IMMUTABLE), "{ext}");
    }
    let favicon = get("favicon.ico", &[]).unwrap();
    assert_eq!(header(&favicon, &CACHE_CONTROL), Some(REVALIDATE));
    let etag = header(&favicon, &ETAG).unwrap().to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'));

    let again = get("favicon.ico", &[(IF_NONE_MATCH, &etag)]).unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&again, &ETAG), Some(etag.as_str()));
    assert!(body(again).await.is_empty());

    let changed = get("favicon.ico", &[(IF_NONE_MATCH, "\"something-else\"")]).unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    assert!(!body(changed).await.is_empty());
}
