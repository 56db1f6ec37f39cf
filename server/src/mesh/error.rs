//! Everything that can go wrong calling Mesh, typed. No variant ever holds the client secret.

use std::time::Duration;

/// A failed call to Mesh. `Display` is for logs; the UI maps variants to its own sentences.
#[derive(Debug, thiserror::Error)]
pub enum MeshError {
    /// Refused before sending: the input breaks Mesh's documented limits.
    #[error("invalid request to Mesh: {0}")]
    InvalidRequest(String),
    /// HTTP 400 with an `ApiResult` envelope.
    #[error("Mesh refused the request (HTTP 400, {error_type}): {message}")]
    BadRequest {
        /// `errorType`, or `unknown`.
        error_type: String,
        /// `message` from the envelope.
        message: String,
        /// `displayMessage` from the envelope, safe to show to end users.
        display_message: Option<String>,
    },
    /// HTTP 401: wrong or missing client id or secret.
    #[error("Mesh rejected the API keys (HTTP 401): check MESH_CLIENT_ID and MESH_CLIENT_SECRET")]
    Unauthorized,
    /// HTTP 403: the key lacks permission for this endpoint.
    #[error("Mesh denied this API key permission for {path} (HTTP 403)")]
    Forbidden {
        /// The API path.
        path: String,
    },
    /// HTTP 404: the API client or resource does not exist.
    #[error("Mesh answered 404 for {path}: the API client or resource was not found")]
    NotFound {
        /// The API path.
        path: String,
    },
    /// HTTP 429 after every retry.
    #[error("Mesh is rate limiting this app (HTTP 429) after {attempts} attempts")]
    RateLimited {
        /// Attempts made.
        attempts: u32,
    },
    /// HTTP 5xx after every retry.
    #[error("Mesh failed with HTTP {status} after {attempts} attempts")]
    Server {
        /// The last status.
        status: u16,
        /// Attempts made.
        attempts: u32,
    },
    /// Another unexpected status.
    #[error("Mesh answered with unexpected HTTP {status}")]
    UnexpectedStatus {
        /// The status.
        status: u16,
    },
    /// No complete answer within the total timeout.
    #[error("Mesh did not answer within {0:?}")]
    Timeout(Duration),
    /// Could not connect, or the connection broke, after every retry.
    #[error("could not reach Mesh at {url} after {attempts} attempts: {reason}")]
    Unreachable {
        /// The base URL (no credentials in it).
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The transport error, in words.
        reason: String,
    },
    /// A 2xx whose body is not the documented JSON.
    #[error("Mesh sent a malformed response: {0}")]
    MalformedResponse(String),
    /// The institution answered that the token no longer opens the account (`notAuthorized`).
    #[error("the institution no longer accepts this token")]
    NotAuthorized {
        /// `displayMessage`, safe to show to end users.
        display_message: Option<String>,
    },
    /// The institution failed (`failed` inside a 2xx answer).
    #[error("the institution failed: {message}")]
    InstitutionFailed {
        /// `errorMessage`, for logs.
        message: String,
        /// `displayMessage`, safe to show to end users.
        display_message: Option<String>,
    },
    /// A refresh that needs an MFA code from the user (`mfaRequired`).
    #[error("the institution asks for an MFA code to refresh this token")]
    MfaRequired,
}

/// `errorType` of a 400 for an access token that has expired.
pub const EXPIRED_AUTH_TOKEN: &str = "expiredAuthToken";
/// `errorType` of a 400 for an access token Mesh does not know (revoked, or never issued).
pub const INVALID_AUTH_TOKEN: &str = "invalidAuthToken";
/// `errorType` of a 400 for a refresh token that has expired (or was replaced long enough ago).
pub const EXPIRED_REFRESH_TOKEN: &str = "expiredRefreshToken";
/// `errorType` of a 400 for a refresh token Mesh does not know.
pub const INVALID_REFRESH_TOKEN: &str = "invalidRefreshToken";

impl MeshError {
    /// True when the fault is Mesh being unreachable (as opposed to answering with an error).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Timeout(_) | Self::Unreachable { .. })
    }

    /// True when Mesh may have performed the call though no answer says so: it timed out, the
    /// connection broke, Mesh failed on its side, or the answer was unreadable. A refresh that
    /// ends so may have rotated the tokens, and must be retried with the same refresh token.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            Self::Timeout(_)
                | Self::Unreachable { .. }
                | Self::Server { .. }
                | Self::UnexpectedStatus { .. }
                | Self::MalformedResponse(_)
        )
    }

    /// True when the access token has expired, or the institution no longer takes it: a
    /// refresh may bring it back. Read from the status and `errorType`, never the message.
    pub fn access_token_expired(&self) -> bool {
        matches!(self, Self::NotAuthorized { .. }) || self.has_error_type(&[EXPIRED_AUTH_TOKEN])
    }

    /// True when Mesh does not know the access token (revoked or never issued).
    pub fn access_token_unknown(&self) -> bool {
        self.has_error_type(&[INVALID_AUTH_TOKEN])
    }

    /// True when the refresh token can no longer be used: only the user, through Link, can
    /// connect the account again.
    pub fn refresh_token_dead(&self) -> bool {
        self.has_error_type(&[EXPIRED_REFRESH_TOKEN, INVALID_REFRESH_TOKEN])
    }

    /// Mesh's sentence for the end user, when it sent one.
    pub fn display_message(&self) -> Option<&str> {
        match self {
            Self::BadRequest {
                display_message, ..
            }
            | Self::NotAuthorized { display_message }
            | Self::InstitutionFailed {
                display_message, ..
            } => display_message.as_deref().filter(|m| !m.trim().is_empty()),
            _ => None,
        }
    }

    fn has_error_type(&self, types: &[&str]) -> bool {
        matches!(self, Self::BadRequest { error_type, .. } if types.contains(&error_type.as_str()))
    }
}
