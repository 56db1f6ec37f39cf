//! The vault's SQL, written once and compiled twice: `sqlite` and `postgres` are the same
//! functions over each driver's own typed connection. Typed drivers bind each value with its
//! column's type, so a `NULL` in one save cannot change how a later save's number is sent
//! (sqlx's `Any` driver did: a cached statement kept the `NULL`'s type and PostgreSQL refused the
//! next `f64`). Differences between the databases live in the migrations.

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

const COLUMNS: &str = "id, broker_type, broker_name, logo_hash, account_id, account_name, \
                       cash_amount AS cash, fund_amount AS fund, token_id, connected_at, \
                       expires_at, refresh_expires_at, \
                       needs_reconnect";

macro_rules! backend_queries {
    // `$skip_locked` ends a subquery that picks rows to change: PostgreSQL's `FOR UPDATE SKIP
    // LOCKED`, so workers leasing at the same moment each get a different row instead of all
    // but one finding theirs taken, and the logo clean-up passes over a logo a save holds;
    // SQLite runs one writer at a time and needs none.
    //
    // `$keep_logo` is what a save does when its logo is stored already: on PostgreSQL it
    // touches the row (without rewriting the image), which locks it until the save commits, so
    // the daily clean-up cannot delete a logo a save is about to reference; on SQLite the
    // clean-up and the save are serialised by the one writer, and nothing is needed.
    ($db:ty, $skip_locked:literal, $keep_logo:literal) => {
        use super::{
            COLUMNS, LeaseTarget, LeasedRow, PENDING_ACCOUNT, Renewal, Save, SaveError, SealedPair,
            SealedTokens, StoredRow, StoredRowWithTokens,
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

        /// Records that `user_id`, if it has a row, was seen at `now`.
        pub(crate) async fn touch_user(pool: &Pool, user_id: &str, now: i64) -> Result<(), sqlx::Error> {
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

        /// Takes the refresh lease `lease` until `lease_until` on the target's rows whose lease is
        /// free at `now` and that can be refreshed (a refresh token, not waiting for the user).
        /// The UPDATE is atomic per row, so two instances never hold one row's lease together.
        pub(crate) async fn take_lease(
            pool: &Pool,
            target: LeaseTarget<'_>,
            lease: &str,
            lease_until: i64,
            now: i64,
        ) -> Result<Vec<LeasedRow>, sqlx::Error> {
            const TAKE: &str = "UPDATE broker_connections SET refresh_lease = $1, \
                 refresh_lease_until = $2 WHERE refresh_token IS NOT NULL \
                 AND needs_reconnect = FALSE \
                 AND (refresh_lease_until IS NULL OR refresh_lease_until <= $3)";
            const RETURNING: &str = "key_id, access_token, refresh_token, refresh_failures, user_id";
            let query = match target {
                LeaseTarget::Due { key_ids, .. } => {
                    // `$5` is the limit; the key ids follow it, one placeholder each.
                    let keys: Vec<String> = (0..key_ids.len()).map(|i| format!("${}", i + 6)).collect();
                    format!(
                        "{TAKE} AND id IN (SELECT id FROM broker_connections \
                         WHERE refresh_token IS NOT NULL AND needs_reconnect = FALSE \
                         AND (expires_at < $4 OR account_id = '') AND key_id IN ({}) \
                         AND (refresh_lease_until IS NULL OR refresh_lease_until <= $3) \
                         ORDER BY expires_at LIMIT $5{}) RETURNING {COLUMNS}, {RETURNING}",
                        keys.join(", "),
                        $skip_locked,
                    )
                }
                LeaseTarget::One { .. } => format!(
                    "{TAKE} AND user_id = $4 AND id = $5 RETURNING {COLUMNS}, {RETURNING}"
                ),
            };
            let query = sqlx::query_as(&query).bind(lease).bind(lease_until).bind(now);
            let query = match target {
                LeaseTarget::Due { expiring_before, key_ids, limit } => key_ids
                    .iter()
                    .fold(query.bind(expiring_before).bind(limit), |query, key_id| {
                        query.bind(key_id.to_string())
                    }),
                LeaseTarget::One { user_id, id } => query.bind(user_id.to_string()).bind(id.to_string()),
            };
            query.fetch_all(pool).await
        }

        /// Stores a leased row's new tokens and frees its lease, in one statement; false when
        /// the lease was lost meanwhile (it ran out and another instance took it).
        pub(crate) async fn renew(pool: &Pool, renewal: Renewal<'_>) -> Result<bool, sqlx::Error> {
            let done = sqlx::query(
                "UPDATE broker_connections SET key_id = $1, access_token = $2, \
                 refresh_token = COALESCE($3, refresh_token), expires_at = $4, \
                 refresh_expires_at = COALESCE($5, refresh_expires_at), refresh_lease = NULL, \
                 refresh_lease_until = NULL, refresh_failures = 0, needs_reconnect = FALSE \
                 WHERE id = $6 AND refresh_lease = $7",
            )
            .bind(renewal.key_id)
            .bind(renewal.access_token)
            .bind(renewal.refresh_token)
            .bind(renewal.expires_at)
            .bind(renewal.refresh_expires_at)
            .bind(renewal.id)
            .bind(renewal.lease)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() > 0)
        }

        /// Ends a lease without new tokens: the row waits until `retry_at` (counting one more
        /// failure), or, when `needs_reconnect`, for the user.
        pub(crate) async fn end_lease(
            pool: &Pool,
            id: &str,
            lease: &str,
            retry_at: i64,
            needs_reconnect: bool,
        ) -> Result<(), sqlx::Error> {
            sqlx::query(
                "UPDATE broker_connections SET refresh_lease_until = $1, \
                 refresh_failures = refresh_failures + 1, needs_reconnect = $2 \
                 WHERE id = $3 AND refresh_lease = $4",
            )
            .bind(retry_at)
            .bind(needs_reconnect)
            .bind(id)
            .bind(lease)
            .execute(pool)
            .await?;
            Ok(())
        }

        /// Frees a lease without a refresh: the row is as it was before it was leased.
        pub(crate) async fn release(pool: &Pool, id: &str, lease: &str) -> Result<(), sqlx::Error> {
            sqlx::query(
                "UPDATE broker_connections SET refresh_lease = NULL, refresh_lease_until = NULL \
                 WHERE id = $1 AND refresh_lease = $2",
            )
            .bind(id)
            .bind(lease)
            .execute(pool)
            .await?;
            Ok(())
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
    backend_queries!(sqlx::Sqlite, "", "DO NOTHING");
}

/// The queries on PostgreSQL.
pub(crate) mod postgres {
    backend_queries!(
        sqlx::Postgres,
        " FOR UPDATE SKIP LOCKED",
        "DO UPDATE SET hash = excluded.hash"
    );
}
