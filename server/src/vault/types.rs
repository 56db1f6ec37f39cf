//! What goes into the vault and what comes out: accounts, tokens and stored connections.

use std::fmt;

use rust_decimal::Decimal;
use secrecy::SecretString;

use super::exact;
use super::rows::{PENDING_ACCOUNT, SealedPair, StoredRow};

/// A connection's id as a browser sends it, checked to be a UUID before any query runs. It keeps
/// the text as sent, so a lookup finds exactly what an unchecked one would.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionId(String);

/// The text sent as a connection id is not a UUID.
#[derive(Debug, thiserror::Error)]
#[error("not a connection id")]
pub struct InvalidConnectionId;

impl ConnectionId {
    /// `id` if it is a UUID.
    pub fn parse(id: &str) -> Result<Self, InvalidConnectionId> {
        uuid::Uuid::parse_str(id)
            .map(|_| Self(id.to_string()))
            .map_err(|_| InvalidConnectionId)
    }

    /// The id as the vault stores it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An access token and its refresh token. Not `Serialize`; `Debug` shows nothing secret.
pub struct BrokerTokens {
    /// The access token.
    pub access_token: SecretString,
    /// The refresh token, when the broker issues one.
    pub refresh_token: Option<SecretString>,
}

impl fmt::Debug for BrokerTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BrokerTokens([redacted])")
    }
}

/// The broker a connection belongs to.
#[derive(Clone, Debug)]
pub struct BrokerInfo {
    /// Mesh's `BrokerType`.
    pub broker_type: String,
    /// Display name.
    pub broker_name: String,
    /// Base64 logo image, if kept.
    pub logo: Option<String>,
}

/// One account to store, with its tokens.
#[derive(Debug)]
pub struct NewAccount {
    /// The institution's account id.
    pub account_id: String,
    /// Display name.
    pub account_name: String,
    /// Cash, when known (exact).
    pub cash: Option<Decimal>,
    /// Fund value, when known (exact).
    pub fund: Option<Decimal>,
    /// Mesh Managed Tokens id.
    pub token_id: Option<String>,
    /// The tokens.
    pub tokens: BrokerTokens,
}

/// Accounts of one broker that Link connected together.
#[derive(Debug)]
pub struct ConnectedAccounts {
    /// The broker.
    pub broker: BrokerInfo,
    /// The accounts (1 to 50, validated by the caller).
    pub accounts: Vec<NewAccount>,
    /// Access-token lifetime.
    pub expires_in_seconds: Option<u64>,
    /// Refresh-token lifetime.
    pub refresh_expires_in_seconds: Option<u64>,
}

/// A delayed authentication: a refresh token, no account yet.
#[derive(Debug)]
pub struct PendingConnection {
    /// The broker.
    pub broker: BrokerInfo,
    /// The refresh token.
    pub refresh_token: SecretString,
    /// Its lifetime.
    pub refresh_expires_in_seconds: Option<u64>,
}

/// A stored connection without its tokens.
#[derive(Clone, Debug, PartialEq)]
pub struct Connection {
    /// Unguessable id (a random UUID).
    pub id: String,
    /// Mesh's `BrokerType`.
    pub broker_type: String,
    /// Display name of the broker.
    pub broker_name: String,
    /// Names the broker's logo for [`TokenVault::logo`](super::TokenVault::logo).
    pub logo_hash: Option<String>,
    /// The account id; `None` when pending.
    pub account_id: Option<String>,
    /// The account name; `None` when pending.
    pub account_name: Option<String>,
    /// Cash, when known (exact).
    pub cash: Option<Decimal>,
    /// Fund value, when known (exact).
    pub fund: Option<Decimal>,
    /// Mesh Managed Tokens id, when Link sent one.
    pub token_id: Option<String>,
    /// Unix seconds of the (last) connection.
    pub connected_at: i64,
    /// Unix seconds when the access token expires.
    pub expires_at: Option<i64>,
    /// Unix seconds when the refresh token expires.
    pub refresh_expires_at: Option<i64>,
    /// True when the refresh token no longer works: the user must connect the account again.
    pub needs_reconnect: bool,
}

impl Connection {
    /// True for a delayed authentication waiting for its account.
    pub fn is_pending(&self) -> bool {
        self.account_id.is_none()
    }
}

impl From<StoredRow> for Connection {
    fn from(row: StoredRow) -> Self {
        Self {
            id: row.id,
            broker_type: row.broker_type,
            broker_name: row.broker_name,
            logo_hash: row.logo_hash,
            account_id: (row.account_id != PENDING_ACCOUNT).then_some(row.account_id),
            account_name: row.account_name,
            cash: row.cash.as_deref().and_then(exact),
            fund: row.fund.as_deref().and_then(exact),
            token_id: row.token_id,
            connected_at: row.connected_at,
            expires_at: row.expires_at,
            refresh_expires_at: row.refresh_expires_at,
            needs_reconnect: row.needs_reconnect,
        }
    }
}

/// The decrypted tokens of a stored connection: both for an account, only the refresh token
/// for a pending (delayed-auth) connection. Not `Serialize`; `Debug` shows nothing secret.
pub struct StoredTokens {
    /// The access token; `None` while pending.
    pub access_token: Option<SecretString>,
    /// The refresh token, when the broker issued one.
    pub refresh_token: Option<SecretString>,
    /// The sealed tokens as read: which version of the row these are (every save and renewal
    /// seals with a fresh nonce), for [`TokenVault::delete_version`].
    pub(super) sealed: SealedPair,
}

impl fmt::Debug for StoredTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoredTokens([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::ConnectionId;

    #[test]
    fn a_connection_id_is_a_uuid_kept_as_sent() {
        let sent = "6F9619FF-8B86-D011-B42D-00C04FC964FF";
        assert_eq!(ConnectionId::parse(sent).unwrap().as_str(), sent);
        for refused in ["", "abc", "1 OR 1=1", "6f9619ff-8b86-d011-b42d-00c04fc964f"] {
            assert!(ConnectionId::parse(refused).is_err(), "{refused:?}");
        }
    }
}
