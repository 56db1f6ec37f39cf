//! Static files as the release binary serves them, from a small site in `tests/fixtures/site`
//! (stand-ins for cargo-leptos's output, with `.br`/`.gz` beside some files).

use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use rust_embed::Embed;
use server::edge::assets::{AssetNames, IMMUTABLE, REVALIDATE, respond};

#[derive(Embed)]
#[folder = "tests/fixtures/site"]
struct Fixture;

/// The JS glue of a lazy island built without `--split`: it imports cargo-leptos's placeholder.
#[derive(Embed)]
#[folder = "tests/fixtures/unsplit"]
struct Unsplit;

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
    format!("{}/app.{ext}", names().pkg_dir())
}

#[test]
fn the_version_hashes_the_front_end_and_leaves_other_names_alone() {
    let folder = names().pkg_dir();
    let version = folder.strip_prefix("pkg/").expect("pkg/<version>");
    assert_eq!(version.len(), 30);
    assert!(version.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(get("favicon.ico", &[]).is_some());
    assert!(
        get("pkg/0000/app.js", &[]).is_none(),
        "another version is not found"
    );
    assert!(get("missing.txt", &[]).is_none());
}

#[test]
fn a_front_end_built_without_split_is_told_apart() {
    let plain = AssetNames::unversioned("app", "pkg");
    assert!(plain.built_without_split::<Unsplit>());
    assert!(!plain.built_without_split::<Fixture>());
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
    for file in ["app.js", "app.wasm", "app.css", "split_panel.wasm"] {
        // A lazy island's chunk is versioned with the rest: the loader fetches it by a
        // path relative to its own.
        let response = get(&format!("{}/{file}", names().pkg_dir()), &[]).unwrap();
        assert_eq!(header(&response, &CACHE_CONTROL), Some(IMMUTABLE), "{file}");
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
