//! The server's errors as the user reads them: `From` conversions of the vault's, the Mesh
//! client's and the services' errors into [`AppError`]; the details go to the log only.

use server::accounts::DisconnectError;
use server::deposits::from_connection::FromConnectionError;
use server::deposits::reports::{DepositError, MAX_DEPOSIT_USD, MIN_DEPOSIT_USD};
use server::mesh::MeshError;
use server::tokens::TokenError;
use server::vault::{InvalidConnectionId, VaultError};

use super::{AppError, ErrorKind};

/// Logs a vault failure and returns the user's sentence.
fn vault_failure(action: &str, error: VaultError) -> AppError {
    if let VaultError::OverCap { held, cap } = error {
        return AppError::invalid(format!(
            "You have {held} connected accounts; the limit is {cap}. Disconnect some before connecting more."
        ));
    }
    tracing::error!(%error, "could not {action}");
    AppError::internal()
}

/// A failure of the token vault: logged, and a sentence for the user.
impl From<VaultError> for AppError {
    fn from(error: VaultError) -> Self {
        vault_failure("use the token vault", error)
    }
}

/// A failed call to Mesh: logged, and a sentence for the user.
impl From<MeshError> for AppError {
    fn from(error: MeshError) -> Self {
        from_mesh("complete a call to Mesh", error)
    }
}

/// A connection id that is not one is refused before the database is asked.
impl From<InvalidConnectionId> for AppError {
    fn from(_: InvalidConnectionId) -> Self {
        AppError::invalid("id must be a connection id.")
    }
}

/// The sentence for each reason a connection was kept instead of disconnected.
impl From<DisconnectError> for AppError {
    fn from(error: DisconnectError) -> Self {
        match error {
            DisconnectError::Vault { action, source } => vault_failure(action, source),
            DisconnectError::RenewedMeanwhile => AppError::invalid(
                "This account was connected again or renewed while it was being disconnected, so it is still connected with its new sign-in. Disconnect it again to remove it.",
            ),
            DisconnectError::Refused(error) => {
                let refusal = from_mesh("revoke a connection", error);
                AppError::new(
                    refusal.kind,
                    format!("{} The account is still connected.", refusal.message),
                )
            }
            DisconnectError::CannotRenew => AppError::new(
                ErrorKind::MeshRefused,
                "Mesh could not renew this account's expired sign-in to revoke it. The account is still connected; please try again shortly.",
            ),
        }
    }
}

/// The sentence for each reason a deposit was not asked for or its report not recorded.
impl From<DepositError> for AppError {
    fn from(error: DepositError) -> Self {
        let message = match error {
            DepositError::Vault { action, source } => return vault_failure(action, source),
            DepositError::NotConfigured => {
                return AppError::new(
                    ErrorKind::NotFound,
                    "Deposits are not set up on this server: set DEPOSIT_ADDRESSES.",
                );
            }
            DepositError::UnknownAsset => "Choose one of the offered assets.".to_string(),
            DepositError::BadAmount => format!(
                "Enter an amount in US dollars from {MIN_DEPOSIT_USD} to {MAX_DEPOSIT_USD}, like 25 or 25.50."
            ),
            DepositError::MalformedReport => {
                "Link's transfer report is missing its id or has fields too long to be real."
                    .to_string()
            }
            DepositError::NotOurAddress => "That transfer did not go to one of this app's deposit addresses, so it was not recorded.".to_string(),
            DepositError::NoAmount => "Link's transfer report has no valid amount.".to_string(),
            DepositError::TooManyOpen { open } => format!(
                "You have {open} deposits waiting for Mesh to confirm them; this one was not recorded. Once Mesh confirms them (or a day passes), report again."
            ),
        };
        AppError::invalid(message)
    }
}

/// The sentence for each reason a deposit from a connected account cannot start.
impl From<FromConnectionError> for AppError {
    fn from(error: FromConnectionError) -> Self {
        match error {
            FromConnectionError::Deposit(error) => error.into(),
            FromConnectionError::Token(error) => error.into(),
            FromConnectionError::Mesh { action, source } => from_mesh(action, source),
            FromConnectionError::IntegrationsUnavailable => AppError::new(
                ErrorKind::MeshUnreachable,
                "Mesh's list of exchanges could not be read just now. Please try again shortly.",
            ),
            FromConnectionError::NotACryptoSource => AppError::invalid(
                "This account cannot send crypto through Link. Choose another source.",
            ),
            FromConnectionError::NoTokenId => AppError::new(
                ErrorKind::NeedsReconnect,
                "This account was connected without a Mesh token id. Reconnect it to deposit from it.",
            ),
        }
    }
}

/// The sentence for each reason a stored connection cannot be used.
impl From<TokenError> for AppError {
    fn from(error: TokenError) -> Self {
        let (kind, message) = match error {
            TokenError::Vault { action, source } => return vault_failure(action, source),
            TokenError::Mesh { action, source } => return from_mesh(action, source),
            TokenError::NotFound => (
                ErrorKind::NotFound,
                "That connection does not exist (it may have been disconnected).",
            ),
            TokenError::DisconnectedMeanwhile => (
                ErrorKind::NotFound,
                "That connection was disconnected while its sign-in was being finished.",
            ),
            TokenError::NeedsReconnect => (
                ErrorKind::NeedsReconnect,
                "The broker's sign-in for this account has expired. Reconnect this account.",
            ),
            TokenError::AwaitingBroker => (
                ErrorKind::NeedsReconnect,
                "This account is waiting for the broker to finish signing in. Press Refresh to check again; if it stays, reconnect this account.",
            ),
            TokenError::RenewalFailed => (
                ErrorKind::MeshRefused,
                "Mesh could not renew this account's sign-in just now. Please try again shortly.",
            ),
            TokenError::RenewalBusy => (
                ErrorKind::MeshRefused,
                "This account's sign-in could not be renewed. Please try again shortly.",
            ),
        };
        AppError::new(kind, message)
    }
}

/// Sets the status of the response being made to `kind`'s.
pub fn set_status(kind: ErrorKind) {
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
        && let Ok(status) = axum::http::StatusCode::from_u16(kind.status())
    {
        response.set_status(status);
    }
}

/// A POST from an HTML form (it accepts HTML, where the page's code asks for JSON).
pub fn is_form_post() -> bool {
    leptos::prelude::use_context::<axum::http::request::Parts>().is_some_and(|parts| {
        parts.method == axum::http::Method::POST
            && parts
                .headers
                .get(axum::http::header::ACCEPT)
                .and_then(|accept| accept.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"))
    })
}

/// Logs `error` (never the secret: no `MeshError` holds it) and returns the user's sentence.
fn from_mesh(action: &str, error: MeshError) -> AppError {
    tracing::warn!(%error, "could not {action}");
    // Mesh's `displayMessage` is written for end users: show it when there is one.
    if let Some(sentence) = error.display_message() {
        return AppError::new(ErrorKind::MeshRefused, sentence.to_string());
    }
    let (kind, message) = match error {
        MeshError::Unauthorized => (
            ErrorKind::MeshRefused,
            "Mesh rejected this app's API keys: check MESH_CLIENT_ID and MESH_CLIENT_SECRET.",
        ),
        MeshError::Forbidden { .. } => (
            ErrorKind::MeshRefused,
            "Mesh refused: this app's API key lacks the permission for that.",
        ),
        MeshError::RateLimited { .. } => (
            ErrorKind::MeshRefused,
            "Mesh is receiving too many requests from this app. Please try again in a minute.",
        ),
        MeshError::Server { .. } => (
            ErrorKind::MeshRefused,
            "Mesh had a problem on its side. Please try again shortly.",
        ),
        MeshError::Timeout(_) | MeshError::Unreachable { .. } => (
            ErrorKind::MeshUnreachable,
            "Mesh could not be reached. Please try again shortly.",
        ),
        MeshError::NotAuthorized { .. } | MeshError::MfaRequired => (
            ErrorKind::NeedsReconnect,
            "The broker no longer accepts this connection. Reconnect this account.",
        ),
        MeshError::InstitutionFailed { .. } => (
            ErrorKind::MeshRefused,
            "The broker did not answer Mesh. Please try again shortly.",
        ),
        MeshError::BadRequest { .. }
        | MeshError::NotFound { .. }
        | MeshError::UnexpectedStatus { .. }
        | MeshError::MalformedResponse(_) => (
            ErrorKind::MeshRefused,
            "Mesh could not complete the request. The details are in the server log.",
        ),
        MeshError::InvalidRequest(_) => return AppError::internal(),
    };
    AppError::new(kind, message)
}
