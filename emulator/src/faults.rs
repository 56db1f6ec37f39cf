//! Test controls: `POST /_emulator/faults` queues a fault for the next calls to a path,
//! `DELETE /_emulator/faults` clears the queue, `POST /_emulator/clock` moves the clock of
//! token expiry forward, `POST /_emulator/revoke` revokes a broker's access tokens, and
//! `GET /_emulator/calls` counts the API calls by path.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::fault_queue::{Fault, FaultKind};
use super::reply::{envelope_error, ok};
use super::state::{EmulatorState, lock};

/// The `/_emulator/` control routes.
pub fn control_routes() -> axum::Router<Arc<EmulatorState>> {
    axum::Router::new()
        .route("/_emulator/faults", post(queue_fault).delete(clear_faults))
        .route("/_emulator/clock", post(advance_clock))
        .route("/_emulator/calls", get(call_counts))
        .route("/_emulator/revoke", post(revoke_broker))
}

/// The body of `POST /_emulator/revoke`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Revoke {
    /// Every access token of this `BrokerType` stops working (as when the user revokes the
    /// app's access at the exchange).
    broker_type: String,
}

/// Revokes every access token of one broker type.
async fn revoke_broker(
    State(state): State<Arc<EmulatorState>>,
    Json(revoke): Json<Revoke>,
) -> StatusCode {
    lock(&state.tokens).revoke_all(&revoke.broker_type);
    StatusCode::NO_CONTENT
}

/// API calls received so far, by path (faulted ones included).
async fn call_counts(State(state): State<Arc<EmulatorState>>) -> Json<HashMap<String, u64>> {
    Json(lock(&state.calls).clone())
}

/// The body of `POST /_emulator/clock`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Advance {
    /// Seconds to move the clock forward (0 to 10 years).
    advance_seconds: i64,
}

/// Moves the emulator's token clock forward, so tokens expire without waiting.
async fn advance_clock(
    State(state): State<Arc<EmulatorState>>,
    Json(advance): Json<Advance>,
) -> Response {
    if !(0..=10 * 365 * 24 * 60 * 60).contains(&advance.advance_seconds) {
        return (
            StatusCode::BAD_REQUEST,
            "advanceSeconds must be 0 to 10 years",
        )
            .into_response();
    }
    lock(&state.tokens).advance(advance.advance_seconds);
    StatusCode::NO_CONTENT.into_response()
}

async fn queue_fault(
    State(state): State<Arc<EmulatorState>>,
    Json(fault): Json<Fault>,
) -> Response {
    let invalid = match fault.fault {
        FaultKind::Status => !fault.status.is_some_and(|s| (100..=599).contains(&s)),
        FaultKind::Delay | FaultKind::Late => fault.delay_ms.is_none(),
        FaultKind::Content => fault.content.is_none(),
        FaultKind::Malformed | FaultKind::Drop | FaultKind::Lose => false,
    } || fault.times == 0;
    if invalid {
        return (
            StatusCode::BAD_REQUEST,
            "a status fault needs \"status\" (100-599), a delay or late fault \"delay_ms\", a content fault \"content\", and times must be at least 1",
        )
            .into_response();
    }
    lock(&state.faults).push(fault);
    StatusCode::NO_CONTENT.into_response()
}

async fn clear_faults(State(state): State<Arc<EmulatorState>>) -> StatusCode {
    lock(&state.faults).clear();
    StatusCode::NO_CONTENT
}

/// Middleware: applies the next queued fault for the request's path, if any.
pub async fn inject(
    State(state): State<Arc<EmulatorState>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    let fault = if path.starts_with("/_emulator/") {
        None
    } else {
        *lock(&state.calls).entry(path.clone()).or_default() += 1;
        lock(&state.faults).take(&path)
    };
    let Some(fault) = fault else {
        return next.run(request).await;
    };
    tracing::info!(?fault, "emulator: injecting fault");
    match fault.fault {
        FaultKind::Delay => {
            tokio::time::sleep(Duration::from_millis(fault.delay_ms.unwrap_or(0))).await;
            next.run(request).await
        }
        FaultKind::Status => {
            let status = StatusCode::from_u16(fault.status.unwrap_or(500))
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            match status {
                // Mesh documents an empty body for 401.
                StatusCode::UNAUTHORIZED => status.into_response(),
                StatusCode::TOO_MANY_REQUESTS => envelope_error(
                    status,
                    "tooManyRequest",
                    "tooManyRequest",
                    "Too many requests",
                )
                .into_response(),
                s if s.is_server_error() => {
                    envelope_error(s, "serverFailure", "serverFailure", "Internal server error")
                        .into_response()
                }
                s => envelope_error(s, "badRequest", "badRequest", "Injected failure")
                    .into_response(),
            }
        }
        FaultKind::Malformed => (
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"status":"ok","content":{"linkToken":"#,
        )
            .into_response(),
        FaultKind::Content => ok(fault.content.unwrap_or_default()),
        FaultKind::Drop => broken_answer(),
        FaultKind::Lose => {
            let _performed = next.run(request).await;
            broken_answer()
        }
        FaultKind::Late => {
            let answer = next.run(request).await;
            tokio::time::sleep(Duration::from_millis(fault.delay_ms.unwrap_or(0))).await;
            answer
        }
    }
}

/// Headers, then a broken connection instead of the body.
fn broken_answer() -> Response {
    let broken = futures_util::stream::once(async {
        Err::<axum::body::Bytes, _>(std::io::Error::other("connection dropped by fault"))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(broken))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
