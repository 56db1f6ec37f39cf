//! What can go wrong in the vault.

use super::{CryptoError, WriteError};

/// What can go wrong in the vault. No variant carries a token.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// `DATABASE_URL` is neither SQLite nor PostgreSQL.
    #[error("DATABASE_URL must start with sqlite:, postgres:// or postgresql://")]
    UnsupportedUrl,
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored token cannot be decrypted.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// SQLite's writer could not store a save.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The pending connection a redemption was to replace was disconnected meanwhile; nothing
    /// was stored.
    #[error("the pending connection was disconnected while it was redeemed")]
    PendingGone,
    /// A save would have given its user more connections than the cap; nothing was stored.
    #[error("the user holds {held} connections; the cap is {cap}")]
    OverCap {
        /// Connections the user holds.
        held: u64,
        /// The cap ([`TokenVault::with_connection_cap`](super::TokenVault::with_connection_cap)).
        cap: u64,
    },
}
