//! The emulated Mesh API: the same paths, headers, envelopes and statuses as Mesh.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};

use super::state::EmulatorState;
use crate::mesh::MAX_USER_ID_CHARS;

/// The API routes.
pub fn routes() -> Router<Arc<EmulatorState>> {
    Router::new()
        .route("/api/v1/linktoken", post(link_token))
        .route("/api/v1/account", delete(delete_account))
}

/// An `ApiResult` error envelope: HTTP `status`, `status` field `api_status`, and `errorType`.
pub fn envelope_error(
    status: StatusCode,
    api_status: &str,
    error_type: &str,
    message: &str,
) -> Response {
    (
        status,
        axum::Json(json!({
            "status": api_status,
            "message": message,
            "displayMessage": message,
            "errorType": error_type,
        })),
    )
        .into_response()
}

/// A 400 `badRequest` envelope.
fn bad_request(error_type: &str, message: &str) -> Response {
    envelope_error(StatusCode::BAD_REQUEST, "badRequest", error_type, message)
}

fn ok(content: Value) -> Response {
    axum::Json(json!({ "status": "ok", "message": "", "content": content })).into_response()
}

/// Mesh answers 401 with an empty body when the key pair is wrong or missing.
fn authorized(state: &EmulatorState, headers: &HeaderMap) -> bool {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    header("x-client-id") == Some(state.settings.client_id.as_str())
        && header("x-client-secret") == Some(state.settings.client_secret.expose_secret())
}

/// Every field of the spec's `GetLinkTokenRequest`; unknown ones are refused as its
/// `additionalProperties: false` says.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)] // Fields are accepted for fidelity; the emulator acts on userId only.
struct GetLinkTokenRequest {
    user_id: Option<String>,
    broker_type: Option<Value>,
    restrict_multiple_accounts: Option<bool>,
    transfer_options: Option<Value>,
    integration_id: Option<String>,
    disable_api_key_generation: Option<bool>,
    verify_wallet_options: Option<Value>,
    sub_client_id: Option<String>,
}

async fn link_token(
    State(state): State<Arc<EmulatorState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorized(&state, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let request: GetLinkTokenRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return bad_request("invalidRequest", &format!("Invalid request body: {e}")),
    };
    let user_id = match request.user_id {
        Some(id) if !id.is_empty() && id.chars().count() <= MAX_USER_ID_CHARS => id,
        Some(id) if !id.is_empty() => {
            return bad_request(
                "invalidField",
                &format!("UserId must be at most {MAX_USER_ID_CHARS} characters"),
            );
        }
        _ => return bad_request("missingField", "UserId is required"),
    };
    let code = state.issue_link_session(user_id);
    let link_url = format!(
        "{}b2b-iframe/{}/broker-connect?auth_code={code}",
        state.settings.base_url(),
        state.settings.client_id
    );
    ok(json!({ "linkToken": BASE64.encode(link_url) }))
}

/// `BrokerBaseRequest`: the body of `DELETE /api/v1/account`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BrokerBaseRequest {
    auth_token: String,
    #[serde(rename = "type")]
    broker_type: String,
}

/// Revokes a connection; only tokens this emulator issued are accepted.
async fn delete_account(
    State(state): State<Arc<EmulatorState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorized(&state, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let request: BrokerBaseRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return bad_request("invalidRequest", &format!("Invalid request body: {e}")),
    };
    if request.auth_token.is_empty() {
        return bad_request("missingField", "AuthToken is required");
    }
    if state.revoke(&request.auth_token, &request.broker_type) {
        ok(Value::Null)
    } else {
        bad_request(
            "invalidAuthToken",
            "The auth token is not valid for this integration",
        )
    }
}
