//! For whoever runs the app: health checks for the load balancer, and one access-log line per
//! request, under the request's id, that never holds a query string, a cookie or a token.

use std::sync::Arc;
use std::time::Duration;

use crate::vault::TokenVault;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use axum::routing::get;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnBodyChunk, DefaultOnEos, TraceLayer};
use tracing::Span;

/// `GET /healthz`: the process answers. `GET /readyz`: the database answers too, else 503.
/// Neither sets a session cookie.
pub fn health_routes<S: Clone + Send + Sync + 'static>(vault: Arc<TokenVault>) -> Router<S> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let vault = vault.clone();
                async move {
                    match vault.ping().await {
                        Ok(()) => (StatusCode::OK, "ready"),
                        Err(error) => {
                            tracing::warn!(%error, "not ready: the database does not answer");
                            (
                                StatusCode::SERVICE_UNAVAILABLE,
                                "the database does not answer",
                            )
                        }
                    }
                }
            }),
        )
}

/// The access log: a span per request (method, path without its query, request id) that every
/// log line of the request carries, and one line when it is answered (status, latency).
pub type AccessLog = TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    fn(&Request<Body>) -> Span,
    (),
    fn(&Response<Body>, Duration, &Span),
    DefaultOnBodyChunk,
    DefaultOnEos,
    (),
>;

/// The [`AccessLog`] layer, to install inside the request-id layers.
pub fn access_log() -> AccessLog {
    TraceLayer::new_for_http()
        .make_span_with(request_span as fn(&Request<Body>) -> Span)
        .on_request(())
        // The "answered" line already gives the status of a failed request.
        .on_failure(())
        .on_response(log_answer as fn(&Response<Body>, Duration, &Span))
}

fn request_span(request: &Request<Body>) -> Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|id| id.to_str().ok())
        .unwrap_or("-");
    // At error level so it is enabled, and its id printed, whatever RUST_LOG says.
    tracing::error_span!(
        "request",
        id,
        method = %request.method(),
        path = %request.uri().path(),
    )
}

fn log_answer(response: &Response<Body>, latency: Duration, _: &Span) {
    tracing::info!(
        status = response.status().as_u16(),
        ms = latency.as_millis() as u64,
        "answered"
    );
}
