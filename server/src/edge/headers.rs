//! Headers on every response: a Content-Security-Policy (a fresh nonce per page, which the pages
//! put on their scripts), no MIME sniffing, no framing, a referrer policy, and HSTS when the app
//! is served over https.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::EdgePolicy;

/// The policy of everything that is not a page (server-function answers, static files, logos):
/// it may load nothing, submit no form and be framed by nobody, and opened as a document it is
/// sandboxed (no script, an opaque origin), so an SVG logo that holds a form is inert.
const NON_PAGE_POLICY: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox";

/// The CSP nonce of one request, in its extensions: 16 random bytes, URL-safe Base64 (as Leptos
/// makes its own). A page being rendered puts it on its scripts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageNonce(pub Arc<str>);

impl PageNonce {
    fn new() -> Self {
        Self(URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>()).into())
    }
}

/// The middleware: gives the request a [`PageNonce`], then sets the headers on the response.
pub async fn security_headers(
    State(policy): State<Arc<EdgePolicy>>,
    mut request: Request,
    next: Next,
) -> Response {
    let nonce = PageNonce::new();
    request.extensions_mut().insert(nonce.clone());
    let mut response = next.run(request).await;
    let is_page = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"text/html"));
    let csp = if is_page {
        HeaderValue::from_str(&page_policy(&policy, &nonce)).ok()
    } else {
        Some(HeaderValue::from_static(NON_PAGE_POLICY))
    };
    let headers = response.headers_mut();
    if let Some(csp) = csp {
        headers.insert(CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    if policy.public_url.is_https() {
        headers.insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    response
}

/// The policy of a page: scripts only by nonce (and what they load), styles from the app and by
/// nonce (the Link overlay's sheet carries the page's nonce), frames only from Link's origin.
fn page_policy(policy: &EdgePolicy, PageNonce(nonce): &PageNonce) -> String {
    let mut connect = String::from("'self'");
    if let Some(port) = policy.live_reload_port {
        // Whatever host the page was opened under: the script connects to that host's port.
        connect.push_str(&format!(" ws://*:{port} wss://*:{port}"));
    }
    format!(
        "default-src 'self'; \
         script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self' 'nonce-{nonce}'; \
         frame-src {frames}; \
         connect-src {connect}; \
         img-src 'self' data: https:; \
         form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        frames = policy.link_frame_src,
    )
}

#[cfg(test)]
mod tests {
    use crate::config::PublicUrl;

    use super::*;

    #[test]
    fn the_page_policy_names_the_link_origin_and_the_nonce() {
        let policy = EdgePolicy {
            public_url: PublicUrl::from_origins(vec!["http://127.0.0.1:3000".into()]),
            link_frame_src: "http://127.0.0.1:3100".into(),
            live_reload_port: Some(3001),
            rate_limit: Default::default(),
        };
        let nonce = PageNonce("abc".into());
        let csp = page_policy(&policy, &nonce);
        assert!(csp.contains("script-src 'nonce-abc' 'strict-dynamic' 'wasm-unsafe-eval';"));
        assert!(csp.contains("style-src 'self' 'nonce-abc';"));
        assert!(csp.contains("frame-src http://127.0.0.1:3100;"));
        assert!(csp.contains("connect-src 'self' ws://*:3001 wss://*:3001;"));
        assert!(csp.ends_with("frame-ancestors 'none'; base-uri 'none'; object-src 'none'"));
        assert!(!csp.contains("unsafe-inline"));
    }
}
