//! The error every server function returns: a kind that fixes the HTTP status and a sentence
//! for the user. Details stay in the server log; secrets and Mesh's bodies never go in here.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::{Bytes, Encodes};
use serde::{Deserialize, Serialize};

/// What went wrong, which fixes the HTTP status the browser sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    /// 400: the input breaks a rule.
    InvalidInput,
    /// 413: the input is too large.
    TooLarge,
    /// 403: refused, for example a request sent from another site.
    Forbidden,
    /// 404: not found, or not this user's.
    NotFound,
    /// 415: the body is not in the format the endpoint reads.
    UnsupportedMediaType,
    /// 429: too many requests from this client; try again later.
    RateLimited,
    /// 409: the broker's sign-in expired; the user must connect the account again.
    NeedsReconnect,
    /// 502: Mesh refused or failed.
    MeshRefused,
    /// 503: Mesh could not be reached.
    MeshUnreachable,
    /// 500: a fault on our side.
    Internal,
    /// The browser could not reach our server (never sent by the server).
    Network,
}

impl ErrorKind {
    /// The HTTP status for this kind.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidInput => 400,
            Self::TooLarge => 413,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::UnsupportedMediaType => 415,
            Self::RateLimited => 429,
            Self::NeedsReconnect => 409,
            Self::MeshRefused => 502,
            Self::MeshUnreachable => 503,
            Self::Internal | Self::Network => 500,
        }
    }
}

/// A failed server function: `message` is a short sentence safe to show to the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    /// The kind, which fixes the status.
    pub kind: ErrorKind,
    /// The sentence for the user.
    pub message: String,
}

impl AppError {
    /// An error of `kind`. The response gets its status when it is sent (see
    /// [`AppError::set_page_status`] for a page that shows one).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// Gives the page being rendered on the server this error's status; nothing in the browser.
    pub fn set_page_status(&self) {
        #[cfg(feature = "ssr")]
        ssr::set_status(self.kind);
    }

    /// 400 with a sentence naming what is wrong.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// 500; the caller logs the details.
    pub fn internal() -> Self {
        Self::new(
            ErrorKind::Internal,
            "Something went wrong on our side. Please try again.",
        )
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        match error {
            ServerFnErrorErr::Args(detail)
            | ServerFnErrorErr::Deserialization(detail)
            | ServerFnErrorErr::MissingArg(detail) => {
                Self::invalid(format!("The request could not be read: {detail}"))
            }
            ServerFnErrorErr::Request(_) => Self::new(
                ErrorKind::Network,
                "Could not reach the app's server. Check your connection and try again.",
            ),
            _ => Self::internal(),
        }
    }

    /// The error as the server function's answer; on the server it also sets the answer's status
    /// (except for a plain HTML form post, which is answered with a redirect back to its page).
    fn ser(&self) -> Bytes {
        #[cfg(feature = "ssr")]
        if !ssr::is_form_post() {
            ssr::set_status(self.kind);
        }
        JsonEncoding::encode(self).unwrap_or_else(|error| {
            JsonEncoding::encode(&Self::from_server_fn_error(
                ServerFnErrorErr::Serialization(error.to_string()),
            ))
            .unwrap_or_default()
        })
    }
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr;

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use server::edge::{Refusal, RefusalKind};

    use super::{AppError, ErrorKind};

    #[test]
    fn the_edge_refusals_read_as_app_errors_with_the_same_status() {
        for (refusal, kind) in [
            (RefusalKind::Forbidden, ErrorKind::Forbidden),
            (
                RefusalKind::UnsupportedMediaType,
                ErrorKind::UnsupportedMediaType,
            ),
            (RefusalKind::RateLimited, ErrorKind::RateLimited),
            (RefusalKind::TooLarge, ErrorKind::TooLarge),
        ] {
            let json = serde_json::to_string(&Refusal::new(refusal, "Why.")).unwrap();
            let error: AppError = serde_json::from_str(&json).unwrap();
            assert_eq!(
                error,
                AppError {
                    kind,
                    message: "Why.".into()
                }
            );
            assert_eq!(refusal.status().as_u16(), kind.status());
        }
    }
}
