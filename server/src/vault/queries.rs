//! The SQL of the connections (save, read, delete), written once and compiled twice: `sqlite`
//! and `postgres` are the same functions over each driver's own typed connection.

// Typed drivers bind each value with its column's type, so a `NULL` in one save cannot change
// how a later save's number is sent (sqlx's `Any` driver did). The leases', rotation's, users' and
// deposits' SQL is written the same way next to their methods; differences between the databases
// live in the migrations.
macro_rules! backend_queries {
    // `$keep_logo` is what a save does when its logo is stored already: on PostgreSQL it
    // touches the row (without rewriting the image), which locks it until the save commits, so
    // the daily clean-up cannot delete a logo a save is about to reference; on SQLite the
    // clean-up and the save are serialised by the one writer, and nothing is needed.
    ($db:ty, $keep_logo:literal) => {
        use crate::vault::rows::{
            COLUMNS, PENDING_ACCOUNT, Save, SaveError, SealedPair, StoredRow, StoredRowWithTokens,
        };

        type DbConnection = <$db as sqlx::Database>::Connection;
        type Pool = sqlx::Pool<$db>;

        /// Writes `save` on `conn` (inside the caller's transaction) and reads its rows back.
        /// A save that would take the user past `save.cap` fails, and the caller rolls it back.
        pub(crate) async fn save(
            conn: &mut DbConnection,
            save: &Save,
        ) -> Result<Vec<StoredRow>, SaveError> {
            // The first statement writes, so SQLite takes the write lock at once instead of
            // failing to upgrade a read lock later.
            if let Some((pending_id, lease)) = &save.replaces {
                let gone = sqlx::query(
                    "DELETE FROM broker_connections WHERE id = $1 AND refresh_lease = $2",
                )
                .bind(pending_id)
                .bind(lease)
                .execute(&mut *conn)
                .await?
                .rows_affected()
                    == 0;
                if gone {
                    return Err(SaveError::PendingGone);
                }
            }
            sqlx::query(
                "DELETE FROM broker_connections \
                 WHERE user_id = $1 AND broker_type = $2 AND account_id = $3",
            )
            .bind(&save.user_id)
            .bind(&save.broker_type)
            .bind(PENDING_ACCOUNT)
            .execute(&mut *conn)
            .await?;
            // A save is a visit: retention counts from it too. Writing the user's row also locks
            // it until the commit, so on PostgreSQL the saves of one user run one after the
            // other and each counts the rows of those before it (SQLite has one writer anyway).
            sqlx::query(
                "INSERT INTO users (user_id, last_seen_at) VALUES ($1, $2) \
                 ON CONFLICT (user_id) DO UPDATE SET last_seen_at = excluded.last_seen_at",
            )
            .bind(&save.user_id)
            .bind(save.connected_at)
            .execute(&mut *conn)
            .await?;
            if let (Some(hash), Some(logo)) = (&save.logo_hash, &save.broker_logo) {
                sqlx::query(concat!(
                    "INSERT INTO broker_logos (hash, logo) VALUES ($1, $2) ON CONFLICT (hash) ",
                    $keep_logo
                ))
                .bind(hash)
                .bind(logo)
                .execute(&mut *conn)
                .await?;
            }
            let mut stored = Vec::with_capacity(save.rows.len());
            for row in &save.rows {
                let written = sqlx::query_as::<_, StoredRow>(&format!(
                    "INSERT INTO broker_connections (id, user_id, broker_type, account_id, \
                     broker_name, logo_hash, account_name, cash_amount, fund_amount, key_id, \
                     access_token, \
                     refresh_token, token_id, connected_at, expires_at, refresh_expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                     ON CONFLICT (user_id, broker_type, account_id) DO UPDATE SET \
                     broker_name = excluded.broker_name, logo_hash = excluded.logo_hash, \
                     broker_logo = NULL, \
                     account_name = excluded.account_name, cash_amount = excluded.cash_amount, \
                     fund_amount = excluded.fund_amount, key_id = excluded.key_id, \
                     access_token = excluded.access_token, refresh_token = excluded.refresh_token, \
                     token_id = excluded.token_id, connected_at = excluded.connected_at, \
                     expires_at = excluded.expires_at, \
                     refresh_expires_at = excluded.refresh_expires_at, \
                     refresh_lease = NULL, refresh_lease_until = NULL, refresh_failures = 0, \
                     needs_reconnect = FALSE \
                     RETURNING {COLUMNS}"
                ))
                .bind(&row.id)
                .bind(&save.user_id)
                .bind(&save.broker_type)
                .bind(&row.account_id)
                .bind(&save.broker_name)
                .bind(&save.logo_hash)
                .bind(&row.account_name)
                .bind(&row.cash)
                .bind(&row.fund)
                .bind(&save.key_id)
                .bind(&row.access_token)
                .bind(&row.refresh_token)
                .bind(&row.token_id)
                .bind(save.connected_at)
                .bind(row.expires_at)
                .bind(save.refresh_expires_at)
                .fetch_one(&mut *conn)
                .await?;
                stored.push(written);
            }
            if let Some(cap) = save.cap {
                // Accounts connected again replace their rows (which keep their ids) and add
                // nothing; only a save that adds rows past the cap is refused.
                let added = stored
                    .iter()
                    .zip(&save.rows)
                    .filter(|(written, sent)| written.id == sent.id)
                    .count() as u64;
                let after = count_on(&mut *conn, &save.user_id).await?;
                if after > cap && added > 0 {
                    return Err(SaveError::OverCap {
                        held: after - added,
                        cap,
                    });
                }
            }
            Ok(stored)
        }

        /// How many rows the user holds, read on `conn`.
        async fn count_on(conn: &mut DbConnection, user_id: &str) -> Result<u64, sqlx::Error> {
            let count: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM broker_connections WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_one(&mut *conn)
                    .await?;
            Ok(count.max(0) as u64)
        }

        /// The user's rows, oldest first.
        pub(crate) async fn list(pool: &Pool, user_id: &str) -> Result<Vec<StoredRow>, sqlx::Error> {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM broker_connections WHERE user_id = $1 \
                 ORDER BY connected_at, broker_type, account_id"
            ))
            .bind(user_id)
            .fetch_all(pool)
            .await
        }

        /// How many rows the user holds.
        pub(crate) async fn count(pool: &Pool, user_id: &str) -> Result<i64, sqlx::Error> {
            sqlx::query_scalar("SELECT COUNT(*) FROM broker_connections WHERE user_id = $1")
                .bind(user_id)
                .fetch_one(pool)
                .await
        }

        /// The user's row `id` with its sealed tokens.
        pub(crate) async fn find(
            pool: &Pool,
            user_id: &str,
            id: &str,
        ) -> Result<Option<StoredRowWithTokens>, sqlx::Error> {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS}, key_id, access_token, refresh_token FROM broker_connections \
                 WHERE user_id = $1 AND id = $2"
            ))
            .bind(user_id)
            .bind(id)
            .fetch_optional(pool)
            .await
        }

        /// Deletes the user's row `id` if it still holds the sealed tokens `sealed`.
        pub(crate) async fn delete_version(
            pool: &Pool,
            user_id: &str,
            id: &str,
            (access_token, refresh_token): &SealedPair,
        ) -> Result<bool, sqlx::Error> {
            let done = sqlx::query(
                "DELETE FROM broker_connections WHERE user_id = $1 AND id = $2 \
                 AND (access_token = $3 OR (access_token IS NULL AND $3 IS NULL)) \
                 AND (refresh_token = $4 OR (refresh_token IS NULL AND $4 IS NULL))",
            )
            .bind(user_id)
            .bind(id)
            .bind(access_token)
            .bind(refresh_token)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() > 0)
        }

        /// Deletes the user's row `id`; false when there is none.
        pub(crate) async fn delete(pool: &Pool, user_id: &str, id: &str) -> Result<bool, sqlx::Error> {
            let done = sqlx::query("DELETE FROM broker_connections WHERE user_id = $1 AND id = $2")
                .bind(user_id)
                .bind(id)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() > 0)
        }
    };
}

/// The queries on SQLite.
pub(crate) mod sqlite {
    backend_queries!(sqlx::Sqlite, "DO NOTHING");
}

/// The queries on PostgreSQL.
pub(crate) mod postgres {
    backend_queries!(sqlx::Postgres, "DO UPDATE SET hash = excluded.hash");
}
