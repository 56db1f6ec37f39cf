//! The emulated Link's transfer steps: the preview of the chosen asset, then its execution,
//! behind the broker's code where it asks one.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;

use super::brokers::{Broker, SANDBOX_MFA_CODE};
use super::link_ui::{LinkUiError, authorize, link_error};
use super::state::EmulatorState;
use super::transfers;

/// The transfer steps' calls, made by the Link page to its own origin.
pub fn routes() -> Router<Arc<EmulatorState>> {
    Router::new()
        .route("/_link/{session}/transfer/preview", post(preview_transfer))
        .route("/_link/{session}/transfer/execute", post(execute_transfer))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PreviewRequest {
    index: usize,
    host_origin: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecuteRequest {
    preview_id: String,
    #[serde(default)]
    code: Option<String>,
    host_origin: String,
}

/// The signed-in session with a transfer to make, or the refusal the page shows.
fn transfer_session(
    state: &EmulatorState,
    session: &str,
    host_origin: &str,
) -> Result<super::state::SignedIn, LinkUiError> {
    authorize(state, session, host_origin)?;
    state.transfer_session(session).ok_or_else(|| {
        link_error(
            StatusCode::BAD_REQUEST,
            "This Link session has no transfer, or no account is connected yet.",
        )
    })
}

/// Previews sending the chosen asset: amount, fee and destination.
async fn preview_transfer(
    State(state): State<Arc<EmulatorState>>,
    Path(session): Path<String>,
    Json(request): Json<PreviewRequest>,
) -> Response {
    let signed_in = match transfer_session(&state, &session, &request.host_origin) {
        Ok(signed_in) => signed_in,
        Err(refusal) => return refusal.into_response(),
    };
    match transfers::preview(&signed_in.transfer, request.index) {
        Ok(preview) => {
            let shown = transfers::preview_json(&signed_in.transfer, &preview);
            state.set_preview(&session, Some(preview));
            Json(json!({ "status": "previewed", "preview": shown })).into_response()
        }
        Err(message) => link_error(StatusCode::BAD_REQUEST, message).into_response(),
    }
}

/// Executes the previewed transfer, asking for the broker's code first where it wants one.
async fn execute_transfer(
    State(state): State<Arc<EmulatorState>>,
    Path(session): Path<String>,
    Json(request): Json<ExecuteRequest>,
) -> Response {
    let signed_in = match transfer_session(&state, &session, &request.host_origin) {
        Ok(signed_in) => signed_in,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(preview) = signed_in
        .preview
        .filter(|preview| preview.id == request.preview_id)
    else {
        return link_error(
            StatusCode::BAD_REQUEST,
            "This preview has expired: preview again.",
        )
        .into_response();
    };
    let Some(broker) = Broker::find(&signed_in.broker_type) else {
        return link_error(StatusCode::BAD_REQUEST, "Unknown integration.").into_response();
    };
    if broker.needs_mfa {
        match request.code.as_deref().map(str::trim) {
            None => return Json(json!({ "status": "mfaRequired" })).into_response(),
            Some(SANDBOX_MFA_CODE) => {}
            Some(_) => {
                return link_error(
                    StatusCode::UNAUTHORIZED,
                    "Invalid code. The sandbox code is 123456.",
                )
                .into_response();
            }
        }
    }
    // One execution per preview: a second click cannot send twice.
    state.set_preview(&session, None);
    let payload = transfers::execute(
        &state,
        &signed_in.user_id,
        broker,
        &signed_in.transfer,
        &preview,
    );
    Json(json!({ "status": "executed", "payload": payload })).into_response()
}
