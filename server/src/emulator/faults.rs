//! Test controls: `POST /_emulator/faults` queues a fault for the next calls to a path,
//! `DELETE /_emulator/faults` clears the queue, `POST /_emulator/clock` moves the clock of
//! token expiry forward, and `GET /_emulator/calls` counts the API calls by path.

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

use super::api::envelope_error;
use super::state::{EmulatorState, lock};

/// What a fault does to a matching call.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with `status` (and an `ApiResult` body where Mesh would send one).
    Status,
    /// Wait `delay_ms`, then answer normally.
    Delay,
    /// Answer 200 with a truncated JSON body.
    Malformed,
    /// Send the headers, then break the connection (before the call is performed).
    Drop,
    /// Perform the call (a refresh rotates the tokens), then break the connection: the client
    /// never learns what Mesh did.
    Lose,
    /// Perform the call, then answer only after `delay_ms`: a slow Mesh whose work is already
    /// done, or, past the client's timeout, one that never answers.
    Late,
    /// Answer 200 with `content` as the answer's content instead of performing the call: figures
    /// no emulated account holds (amounts past what the app can add up, say).
    Content,
}

/// One queued fault, as posted to `/_emulator/faults`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// The API path it applies to, for example `/api/v1/linktoken`.
    pub path: String,
    /// What it does.
    pub fault: FaultKind,
    /// The status for `status` faults.
    #[serde(default)]
    pub status: Option<u16>,
    /// The delay for `delay` and `late` faults.
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// How many matching calls it affects (default 1).
    #[serde(default = "one")]
    pub times: u32,
    /// The answer's content for `content` faults.
    #[serde(default)]
    pub content: Option<serde_json::Value>,
}

fn one() -> u32 {
    1
}

/// Queued faults, applied first in, first out.
#[derive(Debug, Default)]
pub struct FaultQueue(Vec<Fault>);

impl FaultQueue {
    fn take(&mut self, path: &str) -> Option<Fault> {
        let index = self.0.iter().position(|f| f.path == path)?;
        let fault = &mut self.0[index];
        fault.times -= 1;
        let taken = fault.clone();
        if fault.times == 0 {
            self.0.remove(index);
        }
        Some(taken)
    }
}

/// The `/_emulator/` control routes.
pub fn control_routes() -> axum::Router<Arc<EmulatorState>> {
    axum::Router::new()
        .route("/_emulator/faults", post(queue_fault).delete(clear_faults))
        .route("/_emulator/clock", post(advance_clock))
        .route("/_emulator/calls", get(call_counts))
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
    lock(&state.faults).0.push(fault);
    StatusCode::NO_CONTENT.into_response()
}

async fn clear_faults(State(state): State<Arc<EmulatorState>>) -> StatusCode {
    lock(&state.faults).0.clear();
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
        FaultKind::Content => super::api::ok(fault.content.unwrap_or_default()),
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
        Err::<bytes::Bytes, _>(std::io::Error::other("connection dropped by fault"))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(broken))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
