//! Users and what outlives their connections: last visits for retention, and logos.

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

/// The SQL of users and logos, written once for both databases like the rest of the vault's.
macro_rules! user_queries {
    // `$skip_locked` ends the subquery that picks logos to delete: PostgreSQL's `FOR UPDATE SKIP
    // LOCKED` passes over a logo a save holds; SQLite runs one writer at a time and needs none.
    ($db:ty, $skip_locked:literal) => {
        type Pool = sqlx::Pool<$db>;

        /// Records that `user_id`, if it has a row, was seen at `now`.
        pub(crate) async fn touch_user(
            pool: &Pool,
            user_id: &str,
            now: i64,
        ) -> Result<(), sqlx::Error> {
            sqlx::query("UPDATE users SET last_seen_at = $2 WHERE user_id = $1")
                .bind(user_id)
                .bind(now)
                .execute(pool)
                .await?;
            Ok(())
        }

        /// Up to `limit` users last seen before `cutoff`, oldest first.
        pub(crate) async fn users_not_seen_since(
            pool: &Pool,
            cutoff: i64,
            limit: i64,
        ) -> Result<Vec<String>, sqlx::Error> {
            sqlx::query_scalar(
                "SELECT user_id FROM users WHERE last_seen_at < $1 ORDER BY last_seen_at LIMIT $2",
            )
            .bind(cutoff)
            .bind(limit)
            .fetch_all(pool)
            .await
        }

        /// Forgets `user_id` if it holds no connection any more; true when it was forgotten.
        pub(crate) async fn forget_user(pool: &Pool, user_id: &str) -> Result<bool, sqlx::Error> {
            let done = sqlx::query(
                "DELETE FROM users WHERE user_id = $1 AND NOT EXISTS \
                 (SELECT 1 FROM broker_connections WHERE user_id = $1)",
            )
            .bind(user_id)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() > 0)
        }

        /// Deletes the logos no connection names any more (one a save is writing is locked,
        /// and skipped); how many went.
        pub(crate) async fn forget_unused_logos(pool: &Pool) -> Result<u64, sqlx::Error> {
            let done = sqlx::query(concat!(
                "DELETE FROM broker_logos WHERE hash IN (SELECT hash FROM broker_logos \
                 WHERE NOT EXISTS (SELECT 1 FROM broker_connections \
                 WHERE broker_connections.logo_hash = broker_logos.hash)",
                $skip_locked,
                ")"
            ))
            .execute(pool)
            .await?;
            Ok(done.rows_affected())
        }

        /// The logo stored under `hash`.
        pub(crate) async fn logo(pool: &Pool, hash: &str) -> Result<Option<String>, sqlx::Error> {
            sqlx::query_scalar("SELECT logo FROM broker_logos WHERE hash = $1")
                .bind(hash)
                .fetch_optional(pool)
                .await
        }
    };
}

/// The queries on SQLite.
mod sqlite {
    user_queries!(sqlx::Sqlite, "");
}

/// The queries on PostgreSQL.
mod postgres {
    user_queries!(sqlx::Postgres, " FOR UPDATE SKIP LOCKED");
}
