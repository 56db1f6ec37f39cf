//! The rows the vault's SQL writes and reads, with their tokens still sealed.

/// A row as written: identity, display fields and tokens already sealed.
#[derive(Debug)]
pub(crate) struct SealedRow {
    pub id: String,
    pub account_id: String,
    pub account_name: Option<String>,
    /// Exact decimal text (`cash_amount`).
    pub cash: Option<String>,
    /// Exact decimal text (`fund_amount`).
    pub fund: Option<String>,
    pub access_token: Option<Vec<u8>>,
    pub refresh_token: Option<Vec<u8>>,
    pub token_id: Option<String>,
    pub expires_at: Option<i64>,
}

/// One save: the rows of one broker for one user, written in one transaction, replacing the
/// user's pending connection of that broker.
#[derive(Debug)]
pub(crate) struct Save {
    pub user_id: String,
    pub broker_type: String,
    pub broker_name: String,
    /// The logo, stored once under `logo_hash` (the SHA-256 of its text).
    pub broker_logo: Option<String>,
    pub logo_hash: Option<String>,
    pub key_id: String,
    pub connected_at: i64,
    pub refresh_expires_at: Option<i64>,
    pub rows: Vec<SealedRow>,
    /// Most connections the user may hold after the save; `None` for no cap.
    pub cap: Option<u64>,
    /// The pending row (id, refresh lease) a redemption replaces: the save is refused when it
    /// is gone (disconnected meanwhile) or no longer leased by this instance.
    pub replaces: Option<(String, String)>,
}

/// Why a save was not written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SaveError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// It would have given the user more than `cap` connections; nothing was written.
    #[error("the user holds {held} connections; the cap is {cap}")]
    OverCap { held: u64, cap: u64 },
    /// The pending row it was to replace is gone; nothing was written.
    #[error("the pending connection was disconnected while it was redeemed")]
    PendingGone,
}

/// A stored row without its tokens, as read back.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct StoredRow {
    pub id: String,
    pub broker_type: String,
    pub broker_name: String,
    pub logo_hash: Option<String>,
    pub account_id: String,
    pub account_name: Option<String>,
    /// Exact decimal text (`cash_amount`).
    pub cash: Option<String>,
    /// Exact decimal text (`fund_amount`).
    pub fund: Option<String>,
    pub token_id: Option<String>,
    pub connected_at: i64,
    pub expires_at: Option<i64>,
    pub refresh_expires_at: Option<i64>,
    pub needs_reconnect: bool,
}

/// A row whose refresh lease was just taken, with its owner and sealed tokens.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct LeasedRow {
    #[sqlx(flatten)]
    pub row: StoredRow,
    pub user_id: String,
    pub key_id: String,
    pub access_token: Option<Vec<u8>>,
    pub refresh_token: Option<Vec<u8>>,
    pub refresh_failures: i32,
}

/// Which rows a lease is taken on.
#[derive(Clone, Copy, Debug)]
pub(crate) enum LeaseTarget<'a> {
    /// Up to `limit` rows sealed under one of `key_ids` (the keys this instance can open) whose
    /// access token expires before `expiring_before`, and pending (delayed-auth) rows, soonest
    /// first.
    Due {
        expiring_before: i64,
        key_ids: &'a [&'a str],
        limit: i64,
    },
    /// The user's row `id`.
    One { user_id: &'a str, id: &'a str },
}

/// New sealed tokens for a leased row.
#[derive(Debug)]
pub(crate) struct Renewal<'a> {
    pub id: &'a str,
    pub lease: &'a str,
    pub key_id: &'a str,
    pub access_token: Vec<u8>,
    /// `None` keeps the stored refresh token.
    pub refresh_token: Option<Vec<u8>>,
    pub expires_at: Option<i64>,
    pub refresh_expires_at: Option<i64>,
}

/// A stored row with its sealed tokens and the id of the key that sealed them.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct StoredRowWithTokens {
    #[sqlx(flatten)]
    pub row: StoredRow,
    pub key_id: String,
    pub access_token: Option<Vec<u8>>,
    pub refresh_token: Option<Vec<u8>>,
}

/// A row's sealed tokens with what identifies them, for key rotation.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SealedTokens {
    pub id: String,
    pub user_id: String,
    pub broker_type: String,
    pub account_id: String,
    pub key_id: String,
    pub access_token: Option<Vec<u8>>,
    pub refresh_token: Option<Vec<u8>>,
}

/// A row's access and refresh tokens, sealed.
pub(crate) type SealedPair = (Option<Vec<u8>>, Option<Vec<u8>>);

/// The `account_id` of a pending (delayed-auth) connection's row.
pub(crate) const PENDING_ACCOUNT: &str = "";

/// The columns of a [`StoredRow`], as every query that reads one selects them.
pub(super) const COLUMNS: &str = "id, broker_type, broker_name, logo_hash, account_id, account_name, \
                       cash_amount AS cash, fund_amount AS fund, token_id, connected_at, \
                       expires_at, refresh_expires_at, \
                       needs_reconnect";
