//! The accounts' wire type: a connection as the browser sees it (no token).

use serde::{Deserialize, Serialize};

/// One connected account (or pending connection) as the browser sees it: never a token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectionSummary {
    /// An unguessable id for this connection.
    pub id: String,
    /// Mesh's `BrokerType`, for example `robinhood`.
    pub broker_type: String,
    /// The broker's display name.
    pub broker_name: String,
    /// Where the broker's logo is served (`/logos/<hash>`), when Link sent one.
    pub logo_url: Option<String>,
    /// The account's name; `None` for a pending (delayed-auth) connection.
    pub account_name: Option<String>,
    /// Cash, when Link reported it, formatted (`$12.50`).
    pub cash: Option<String>,
    /// Fund value, when Link reported it, formatted.
    pub fund: Option<String>,
    /// When it connected (`2026-11-27 17:13 UTC`).
    pub connected: String,
    /// When its access token expires, when it does.
    pub expires: Option<String>,
    /// True for a delayed authentication: a refresh token, no account yet.
    pub pending: bool,
    /// True when the broker's sign-in expired and the user must connect the account again.
    pub needs_reconnect: bool,
    /// True when a deposit can come from it: an exchange Mesh lists as sending crypto, with
    /// deposits set up on this server.
    pub can_deposit: bool,
}
