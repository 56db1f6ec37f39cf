//! How the edge refuses a request before it reaches a server function: the same JSON as a
//! server function's error (`{"kind": …, "message": …}`), so the page shows the sentence.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The kinds of refusal the edge makes, named as the app's error kinds are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum RefusalKind {
    /// 403: a cross-site request.
    Forbidden,
    /// 415: a JSON server function called with another content type.
    UnsupportedMediaType,
    /// 429: over a rate limit.
    RateLimited,
    /// 413: a body over the size limit.
    TooLarge,
}

impl RefusalKind {
    /// The HTTP status of the refusal.
    pub fn status(self) -> StatusCode {
        match self {
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }
}

/// A refusal with its sentence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// What was refused.
    pub kind: RefusalKind,
    /// Why, for the user.
    pub message: String,
}

impl Refusal {
    /// A refusal of `kind` saying `message`.
    pub fn new(kind: RefusalKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.kind.status(), axum::Json(self)).into_response()
    }
}
