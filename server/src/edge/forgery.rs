//! Request forgery: a state-changing request from a browser must come from the app's own pages.

use axum::http::header::{CONTENT_TYPE, ORIGIN};
use axum::http::{HeaderMap, Method, Request};
use axum::response::{IntoResponse, Response};

use super::server_fns::{ServerFnRule, rule_for};
use super::{EdgePolicy, Refusal, RefusalKind};

// A browser says where a request comes from in `Origin` (and, in newer browsers, in
// `Sec-Fetch-Site`). When `Origin` is present it must be one of the app's public origins; when
// only `Sec-Fetch-Site` is, it must be `same-origin`. A request with neither comes from no
// browser (curl, another server, the tests) and passes: it cannot carry a visitor's cookie
// without the visitor's browser. A route that another server calls and that proves itself by
// a signature (a webhook) must be mounted outside this layer.
/// The check (installed with `ValidateRequestHeaderLayer::custom`, which calls no clone of the
/// service behind it): refuses a cross-site state-changing request with 403, and a JSON server
/// function called with another content type with 415 (so an HTML form, which can send
/// `text/plain` across sites, cannot reach it), each with a sentence.
#[allow(
    clippy::result_large_err,
    reason = "`ValidateRequest` checks return the refusal itself; it is built only on refusal"
)]
pub fn refuse_cross_site<B>(
    policy: &EdgePolicy,
    server_fns: &[ServerFnRule],
    request: &Request<B>,
) -> Result<(), Response> {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return Ok(());
    }
    if !is_same_origin(request.headers(), policy.public_url.origins()) {
        return Err(refusal(
            RefusalKind::Forbidden,
            "This request came from another site, so it was refused. Open the app at its own address and try again.",
        ));
    }
    let json_input = rule_for(server_fns, request.uri().path()).is_some_and(|rule| rule.json_input);
    if json_input && !is_json(request.headers()) {
        return Err(refusal(
            RefusalKind::UnsupportedMediaType,
            "This endpoint reads JSON: send the request with content-type: application/json.",
        ));
    }
    Ok(())
}

/// Whether the browser headers (if any) say the request comes from one of `origins`.
fn is_same_origin(headers: &HeaderMap, origins: &[String]) -> bool {
    if let Some(origin) = headers.get(ORIGIN) {
        return origin
            .to_str()
            .is_ok_and(|origin| origins.iter().any(|allowed| allowed == origin));
    }
    match headers.get("sec-fetch-site") {
        Some(site) => site == "same-origin",
        None => true,
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

fn refusal(kind: RefusalKind, message: &str) -> Response {
    Refusal::new(kind, message).into_response()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    const APP: &str = "https://app.example.com";

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    axum::http::HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                )
            })
            .collect()
    }

    #[test]
    fn origin_decides_when_present() {
        let origins = [APP.to_string()];
        assert!(is_same_origin(&headers(&[("origin", APP)]), &origins));
        for foreign in [
            "https://evil.example",
            "null",
            "https://app.example.com:8443",
        ] {
            let sent = HeaderValue::from_str(foreign).unwrap();
            let mut map = headers(&[("sec-fetch-site", "same-origin")]);
            map.insert(ORIGIN, sent);
            assert!(!is_same_origin(&map, &origins), "{foreign} passed");
        }
    }

    #[test]
    fn sec_fetch_site_decides_without_origin_and_no_headers_pass() {
        let origins = [APP.to_string()];
        assert!(is_same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            &origins
        ));
        for site in ["cross-site", "same-site", "none"] {
            let mut map = HeaderMap::new();
            map.insert("sec-fetch-site", HeaderValue::from_static(site));
            assert!(!is_same_origin(&map, &origins), "{site} passed");
        }
        assert!(is_same_origin(&HeaderMap::new(), &origins));
    }

    #[test]
    fn json_means_application_json_with_or_without_parameters() {
        assert!(is_json(&headers(&[("content-type", "application/json")])));
        assert!(is_json(&headers(&[(
            "content-type",
            "Application/JSON; charset=utf-8"
        )])));
        assert!(!is_json(&headers(&[("content-type", "text/plain")])));
        assert!(!is_json(&HeaderMap::new()));
    }
}
