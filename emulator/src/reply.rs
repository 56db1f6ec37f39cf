//! The shapes of Mesh's answers: the `ApiResult` envelope around content, or around an error.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

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
pub fn bad_request(error_type: &str, message: &str) -> Response {
    envelope_error(StatusCode::BAD_REQUEST, "badRequest", error_type, message)
}

/// A 200 `ok` envelope around `content`.
pub fn ok(content: Value) -> Response {
    axum::Json(json!({ "status": "ok", "message": "", "content": content })).into_response()
}
