//! Serde types that cross the wire between server and browser.

use serde::{Deserialize, Serialize};

/// Which Mesh the server talks to, as the browser needs to know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MeshMode {
    /// The embedded offline emulator.
    Emulator,
    /// Mesh's sandbox.
    Sandbox,
    /// Mesh's production.
    Production,
}

/// What the Link client needs from the server before it opens Link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkSettings {
    /// Which Mesh is in use.
    pub mode: MeshMode,
    /// In emulator mode, the only origin Link may be loaded from (`http://127.0.0.1:3100`).
    pub emulator_origin: Option<String>,
}

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
    /// Cash, when Link reported it.
    pub cash: Option<f64>,
    /// Fund value, when Link reported it.
    pub fund: Option<f64>,
    /// Unix seconds when it connected.
    pub connected_at: i64,
    /// Unix seconds when its access token expires, when it does.
    pub expires_at: Option<i64>,
    /// True for a delayed authentication: a refresh token, no account yet.
    pub pending: bool,
}
