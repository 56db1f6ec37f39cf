//! Users and what outlives their connections: last visits for retention, and logos.

use super::queries::{postgres, sqlite};
use super::{Store, TokenVault, VaultError};

/// The name a logo is stored under: the SHA-256 of its text, in hex.
pub(super) fn logo_hash(logo: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(logo.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl TokenVault {
    /// Records that `user_id` was seen at `now` (Unix seconds); retention counts from it. Only a
    /// user who already has a row (made by a save) is recorded: a visit never makes one.
    pub async fn touch_user(&self, user_id: &str, now: i64) -> Result<(), VaultError> {
        // A rare write (once a day per user): on SQLite it waits under `busy_timeout`.
        on_store!(self, touch_user(user_id, now))?;
        Ok(())
    }

    /// Up to `limit` users last seen before `cutoff` (Unix seconds), oldest first.
    pub async fn users_not_seen_since(
        &self,
        cutoff: i64,
        limit: i64,
    ) -> Result<Vec<String>, VaultError> {
        Ok(on_store!(self, users_not_seen_since(cutoff, limit))?)
    }

    /// Forgets `user_id` once none of its connections is left; true when it was forgotten.
    pub async fn forget_user(&self, user_id: &str) -> Result<bool, VaultError> {
        Ok(on_store!(self, forget_user(user_id))?)
    }

    /// Deletes the logos that no connection names any more (run daily by the retention task);
    /// how many went.
    pub async fn forget_unused_logos(&self) -> Result<u64, VaultError> {
        Ok(on_store!(self, forget_unused_logos())?)
    }

    /// The logo (base64 of an image, as Link sent it) named by a connection's `logo_hash`.
    pub async fn logo(&self, hash: &str) -> Result<Option<String>, VaultError> {
        Ok(on_store!(self, logo(hash))?)
    }
}
