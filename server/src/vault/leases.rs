//! Keeping tokens alive across instances: before refreshing a connection an instance takes its
//! refresh lease, so only one instance calls Mesh for it, then stores the new tokens (and frees
//! the lease) in one statement, or leaves the row to retry later or to wait for the user.

use std::time::Duration;

use secrecy::SecretString;
use uuid::Uuid;

use super::rows::{LeaseTarget, LeasedRow, Renewal};
use super::{
    Connection, RowIdentity, Store, StoredTokens, TokenVault, VaultError, after, unix_now,
};

/// First wait after a failed refresh; doubled for each further failure.
const FIRST_RETRY: Duration = Duration::from_secs(60);
/// Longest wait between two refresh attempts.
const LONGEST_RETRY: Duration = Duration::from_secs(60 * 60);

/// A connection whose refresh lease this instance holds, with its tokens: refresh it at Mesh,
/// then [`TokenVault::renew`], [`TokenVault::retry_later`] or [`TokenVault::needs_reconnect`].
#[derive(Debug)]
pub struct Leased {
    /// The connection's owner.
    pub user_id: String,
    /// The connection.
    pub connection: Connection,
    /// Its decrypted tokens.
    pub tokens: StoredTokens,
    lease: String,
    failures: i32,
}

/// What a refresh brought back. Not `Serialize`; `Debug` shows nothing secret.
pub struct RenewedTokens {
    /// The new access token.
    pub access_token: SecretString,
    /// The new refresh token, when Mesh rotated it.
    pub refresh_token: Option<SecretString>,
    /// Lifetime of the access token.
    pub expires_in_seconds: Option<u64>,
    /// Lifetime of the refresh token.
    pub refresh_expires_in_seconds: Option<u64>,
}

impl std::fmt::Debug for RenewedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RenewedTokens([redacted])")
    }
}

impl Leased {
    /// The lease this instance holds on the row.
    pub(crate) fn lease(&self) -> &str {
        &self.lease
    }
}

impl TokenVault {
    /// Leases up to `limit` connections whose access token expires before `expiring_before`
    /// (Unix seconds), and pending ones, for `lease_for`. Rows another instance holds are
    /// skipped, and so are rows sealed under a key this instance does not have, so they never
    /// crowd out the others; rows under `TOKEN_KEY_PREVIOUS` are refreshed (and so re-sealed
    /// under the current key).
    pub async fn lease_due(
        &self,
        expiring_before: i64,
        lease_for: Duration,
        limit: i64,
    ) -> Result<Vec<Leased>, VaultError> {
        let rows = self
            .take_lease(
                LeaseTarget::Due {
                    expiring_before,
                    key_ids: &self.cipher.readable_key_ids(),
                    limit,
                },
                lease_for,
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(row, lease)| match self.open_leased(row, lease) {
                Ok(leased) => Some(leased),
                Err(error) => {
                    tracing::warn!(%error, "a connection due for refresh cannot be decrypted");
                    None
                }
            })
            .collect())
    }

    /// Leases the user's connection `id` for `lease_for`; `None` when there is no such
    /// connection, it cannot be refreshed, or another instance holds it.
    pub async fn lease_one(
        &self,
        user_id: &str,
        id: &str,
        lease_for: Duration,
    ) -> Result<Option<Leased>, VaultError> {
        let mut rows = self
            .take_lease(LeaseTarget::One { user_id, id }, lease_for)
            .await?;
        rows.pop()
            .map(|(row, lease)| self.open_leased(row, lease))
            .transpose()
    }

    /// Stores `renewed` for a leased connection and frees the lease, in one statement; false
    /// when the lease ran out and another instance took it (the tokens are then not stored).
    pub async fn renew(&self, leased: &Leased, renewed: RenewedTokens) -> Result<bool, VaultError> {
        let now = unix_now();
        let connection = &leased.connection;
        let account_id = connection.account_id.as_deref().unwrap_or_default();
        let identity = |field| RowIdentity {
            user_id: &leased.user_id,
            broker_type: &connection.broker_type,
            account_id,
            field,
        };
        let renewal = Renewal {
            id: &connection.id,
            lease: &leased.lease,
            key_id: self.cipher.key_id(),
            access_token: self.cipher.seal(&renewed.access_token, identity("access")),
            // The row is stamped with the current key: a refresh token Mesh did not replace is
            // sealed again under it, so every field opens under the key id written.
            refresh_token: renewed
                .refresh_token
                .as_ref()
                .or(leased.tokens.refresh_token.as_ref())
                .map(|token| self.cipher.seal(token, identity("refresh"))),
            expires_at: renewed.expires_in_seconds.map(|s| after(now, s)),
            refresh_expires_at: renewed.refresh_expires_in_seconds.map(|s| after(now, s)),
        };
        // A rare write: on SQLite it waits for the writer's lock under `busy_timeout`.
        Ok(on_store!(self, renew(renewal))?)
    }

    /// Leaves a leased connection to be tried again after a backoff (one minute, doubled for
    /// each failure in a row, at most an hour); returns when, in Unix seconds.
    pub async fn retry_later(&self, leased: &Leased) -> Result<i64, VaultError> {
        let doublings = leased.failures.clamp(0, 10) as u32;
        let wait = (FIRST_RETRY * 2u32.pow(doublings)).min(LONGEST_RETRY);
        let retry_at = after(unix_now(), wait.as_secs());
        self.end_lease(leased, retry_at, false).await?;
        Ok(retry_at)
    }

    /// Marks a leased connection as needing the user to connect it again (its refresh token
    /// no longer works); nothing refreshes it until then.
    pub async fn needs_reconnect(&self, leased: &Leased) -> Result<(), VaultError> {
        self.end_lease(leased, unix_now(), true).await
    }

    /// Frees a lease this instance took but will not use: the row is left as it was.
    pub async fn release(&self, leased: &Leased) -> Result<(), VaultError> {
        let (id, lease) = (&leased.connection.id, &leased.lease);
        on_store!(self, release(id, lease))?;
        Ok(())
    }

    async fn end_lease(
        &self,
        leased: &Leased,
        retry_at: i64,
        needs_reconnect: bool,
    ) -> Result<(), VaultError> {
        let id = &leased.connection.id;
        on_store!(
            self,
            end_lease(id, &leased.lease, retry_at, needs_reconnect)
        )?;
        Ok(())
    }

    async fn take_lease(
        &self,
        target: LeaseTarget<'_>,
        lease_for: Duration,
    ) -> Result<Vec<(LeasedRow, String)>, VaultError> {
        let now = unix_now();
        let lease = Uuid::new_v4().to_string();
        let until = after(now, lease_for.as_secs());
        let rows = on_store!(self, take_lease(target, &lease, until, now))?;
        Ok(rows.into_iter().map(|row| (row, lease.clone())).collect())
    }

    fn open_leased(&self, leased: LeasedRow, lease: String) -> Result<Leased, VaultError> {
        let LeasedRow {
            row,
            user_id,
            key_id,
            access_token,
            refresh_token,
            refresh_failures,
        } = leased;
        let tokens = self.open_tokens(&user_id, &row, &key_id, (access_token, refresh_token))?;
        Ok(Leased {
            connection: Connection::from(row),
            user_id,
            tokens,
            lease,
            failures: refresh_failures,
        })
    }
}

/// The SQL of the refresh leases, written once for both databases like the rest of the vault's.
macro_rules! lease_queries {
    // `$skip_locked` ends the subquery that picks rows to lease: PostgreSQL's `FOR UPDATE SKIP
    // LOCKED`, so workers leasing at the same moment each get a different row instead of all
    // but one finding theirs taken; SQLite runs one writer at a time and needs none.
    ($db:ty, $skip_locked:literal) => {
        use crate::vault::rows::{COLUMNS, LeaseTarget, LeasedRow, Renewal};

        type Pool = sqlx::Pool<$db>;

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
    };
}

/// The queries on SQLite.
mod sqlite {
    lease_queries!(sqlx::Sqlite, "");
}

/// The queries on PostgreSQL.
mod postgres {
    lease_queries!(sqlx::Postgres, " FOR UPDATE SKIP LOCKED");
}
