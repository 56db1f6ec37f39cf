//! Keeping tokens alive across instances: before refreshing a connection an instance takes its
//! refresh lease, so only one instance calls Mesh for it, then stores the new tokens (and frees
//! the lease) in one statement, or leaves the row to retry later or to wait for the user.

use std::time::Duration;

use secrecy::SecretString;
use uuid::Uuid;

use super::queries::{LeaseTarget, LeasedRow, Renewal, postgres, sqlite};
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
