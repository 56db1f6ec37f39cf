//! Key rotation: every row re-encrypted under the current `TOKEN_KEY`.

use std::fmt;

use super::crypto::{CryptoError, RowIdentity};
use super::rows::{SealedPair, SealedTokens};
use super::{Store, TokenVault, VaultError};

/// What [`TokenVault::rotate_key`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Rows re-encrypted under the current key.
    pub rotated: u64,
    /// Rows sealed under a key this server does not have (set it in `TOKEN_KEY_PREVIOUS`).
    pub unreadable: u64,
}

impl fmt::Display for RotationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} connections re-encrypted under the current TOKEN_KEY, {} sealed under a key not in TOKEN_KEY or TOKEN_KEY_PREVIOUS",
            self.rotated, self.unreadable
        )
    }
}

impl TokenVault {
    /// Re-encrypts every row not sealed under the current key with the current key, row by row
    /// (a save meanwhile is left as written), and counts what it did. Rows sealed under a key
    /// this server does not have are counted and left.
    pub async fn rotate_key(&self) -> Result<RotationReport, VaultError> {
        const BATCH: i64 = 200;
        let key_id = self.cipher.key_id();
        let mut report = RotationReport::default();
        let mut after = String::new();
        loop {
            let batch = on_store!(self, sealed_under_other_keys(key_id, &after, BATCH))?;
            let Some(last) = batch.last() else {
                return Ok(report);
            };
            after = last.id.clone();
            for row in batch {
                let tokens = match self.reseal(&row) {
                    Ok(tokens) => tokens,
                    Err(error) => {
                        tracing::warn!(id = row.id, %error, "a row could not be re-encrypted");
                        report.unreadable += 1;
                        continue;
                    }
                };
                // A rare write: on SQLite it waits for the writer's lock under `busy_timeout`.
                let done = on_store!(self, reseal(&row.id, &row.key_id, key_id, tokens))?;
                if done {
                    report.rotated += 1;
                }
            }
        }
    }

    /// `row`'s tokens opened with their key and sealed again with the current one.
    fn reseal(&self, row: &SealedTokens) -> Result<SealedPair, CryptoError> {
        let identity = |field| RowIdentity {
            user_id: &row.user_id,
            broker_type: &row.broker_type,
            account_id: &row.account_id,
            field,
        };
        let again = |sealed: &Option<Vec<u8>>, field| {
            sealed
                .as_ref()
                .map(|sealed| {
                    let token = self.cipher.open(&row.key_id, sealed, identity(field))?;
                    Ok(self.cipher.seal(&token, identity(field)))
                })
                .transpose()
        };
        Ok((
            again(&row.access_token, "access")?,
            again(&row.refresh_token, "refresh")?,
        ))
    }
}

/// The SQL of key rotation, written once for both databases like the rest of the vault's.
macro_rules! rotation_queries {
    ($db:ty) => {
        use crate::vault::rows::{SealedPair, SealedTokens};

        type Pool = sqlx::Pool<$db>;

        /// Up to `limit` rows after `after` (by id) whose tokens are not sealed under `key_id`.
        pub(crate) async fn sealed_under_other_keys(
            pool: &Pool,
            key_id: &str,
            after: &str,
            limit: i64,
        ) -> Result<Vec<SealedTokens>, sqlx::Error> {
            sqlx::query_as(
                "SELECT id, user_id, broker_type, account_id, key_id, access_token, refresh_token \
                 FROM broker_connections WHERE key_id <> $1 AND id > $2 ORDER BY id LIMIT $3",
            )
            .bind(key_id)
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await
        }

        /// Replaces row `id`'s tokens with ones sealed under `new_key_id`, unless a save
        /// rewrote the row since it was read (then it is no longer under `old_key_id`).
        pub(crate) async fn reseal(
            pool: &Pool,
            id: &str,
            old_key_id: &str,
            new_key_id: &str,
            tokens: SealedPair,
        ) -> Result<bool, sqlx::Error> {
            let done = sqlx::query(
                "UPDATE broker_connections SET key_id = $1, access_token = $2, refresh_token = $3 \
                 WHERE id = $4 AND key_id = $5",
            )
            .bind(new_key_id)
            .bind(tokens.0)
            .bind(tokens.1)
            .bind(id)
            .bind(old_key_id)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() > 0)
        }
    };
}

/// The queries on SQLite.
mod sqlite {
    rotation_queries!(sqlx::Sqlite);
}

/// The queries on PostgreSQL.
mod postgres {
    rotation_queries!(sqlx::Postgres);
}
