//! Connections: saving what Link connected (within the cap), listing, reading tokens, deleting.

use uuid::Uuid;

use super::crypto::RowIdentity;
use super::queries::{postgres, sqlite};
use super::rows::{
    PENDING_ACCOUNT, Save, SaveError, SealedPair, SealedRow, StoredRow, StoredRowWithTokens,
};
use super::users::logo_hash;
use super::{
    BrokerInfo, ConnectedAccounts, Connection, Leased, PendingConnection, SaveRules, Store,
    StoredTokens, TokenVault, VaultError, WriteError, after,
};
use crate::clock::unix_now;

impl TokenVault {
    /// Stores every account of `connected` for `user_id` in one transaction (all or none),
    /// replacing the tokens of accounts connected before and any pending connection of the
    /// same broker. Returns the stored connections.
    pub async fn save_accounts(
        &self,
        user_id: &str,
        connected: ConnectedAccounts,
    ) -> Result<Vec<Connection>, VaultError> {
        self.save_accounts_within(user_id, connected, self.connection_cap, None)
            .await
    }

    async fn save_accounts_within(
        &self,
        user_id: &str,
        connected: ConnectedAccounts,
        cap: Option<u64>,
        replaces: Option<(String, String)>,
    ) -> Result<Vec<Connection>, VaultError> {
        let now = unix_now();
        let broker = &connected.broker;
        let expires_at = connected.expires_in_seconds.map(|s| after(now, s));
        let rows = connected
            .accounts
            .iter()
            .map(|account| {
                let identity = |field| RowIdentity {
                    user_id,
                    broker_type: &broker.broker_type,
                    account_id: &account.account_id,
                    field,
                };
                SealedRow {
                    id: Uuid::new_v4().to_string(),
                    account_id: account.account_id.clone(),
                    account_name: Some(account.account_name.clone()),
                    cash: account.cash.map(|amount| amount.to_string()),
                    fund: account.fund.map(|amount| amount.to_string()),
                    access_token: Some(
                        self.cipher
                            .seal(&account.tokens.access_token, identity("access")),
                    ),
                    refresh_token: account
                        .tokens
                        .refresh_token
                        .as_ref()
                        .map(|token| self.cipher.seal(token, identity("refresh"))),
                    token_id: account.token_id.clone(),
                    expires_at,
                }
            })
            .collect();
        self.save(
            user_id,
            broker,
            now,
            connected.refresh_expires_in_seconds,
            rows,
            SaveRules { cap, replaces },
        )
        .await
    }

    /// Stores a delayed authentication as the user's pending connection for that broker,
    /// replacing an earlier pending one.
    pub async fn save_pending(
        &self,
        user_id: &str,
        pending: PendingConnection,
    ) -> Result<Connection, VaultError> {
        let now = unix_now();
        let broker = &pending.broker;
        let refresh = self.cipher.seal(
            &pending.refresh_token,
            RowIdentity {
                user_id,
                broker_type: &broker.broker_type,
                account_id: PENDING_ACCOUNT,
                field: "refresh",
            },
        );
        let saved = self
            .save(
                user_id,
                broker,
                now,
                pending.refresh_expires_in_seconds,
                vec![SealedRow {
                    id: Uuid::new_v4().to_string(),
                    account_id: PENDING_ACCOUNT.to_string(),
                    account_name: None,
                    cash: None,
                    fund: None,
                    access_token: None,
                    refresh_token: Some(refresh),
                    token_id: None,
                    expires_at: None,
                }],
                SaveRules {
                    cap: self.connection_cap,
                    replaces: None,
                },
            )
            .await?;
        saved.into_iter().next().ok_or_else(|| {
            VaultError::Database(sqlx::Error::Protocol(
                "the pending connection was not read back".into(),
            ))
        })
    }

    /// Stores the accounts a delayed authentication turned into, replacing its pending row:
    /// as [`Self::save_accounts`], but past the connection cap too, since Mesh has handed the
    /// tokens over and they exist nowhere else (the pending row was admitted under the cap).
    pub async fn redeem_pending(
        &self,
        pending: &Leased,
        connected: ConnectedAccounts,
    ) -> Result<Vec<Connection>, VaultError> {
        let replaces = (pending.connection.id.clone(), pending.lease().to_string());
        self.save_accounts_within(&pending.user_id, connected, None, Some(replaces))
            .await
    }

    /// Writes `rows` of `broker` for `user_id` as one save, all or nothing, replacing the
    /// user's pending connection of that broker; returns once it is committed.
    async fn save(
        &self,
        user_id: &str,
        broker: &BrokerInfo,
        now: i64,
        refresh_expires_in_seconds: Option<u64>,
        rows: Vec<SealedRow>,
        SaveRules { cap, replaces }: SaveRules,
    ) -> Result<Vec<Connection>, VaultError> {
        let save = Save {
            user_id: user_id.to_string(),
            broker_type: broker.broker_type.clone(),
            broker_name: broker.broker_name.clone(),
            logo_hash: broker.logo.as_deref().map(logo_hash),
            broker_logo: broker.logo.clone(),
            key_id: self.cipher.key_id().to_string(),
            connected_at: now,
            refresh_expires_at: refresh_expires_in_seconds.map(|s| after(now, s)),
            rows,
            cap,
            replaces,
        };
        let over_cap = |held, cap| VaultError::OverCap { held, cap };
        let stored = match &self.store {
            Store::Sqlite { writer, .. } => match writer.save(save).await {
                Err(WriteError::OverCap { held, cap }) => return Err(over_cap(held, cap)),
                Err(WriteError::PendingGone) => return Err(VaultError::PendingGone),
                stored => stored?,
            },
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                // Dropped without a commit on error: the transaction rolls back.
                let stored = match postgres::save(&mut tx, &save).await {
                    Ok(stored) => stored,
                    Err(SaveError::OverCap { held, cap }) => return Err(over_cap(held, cap)),
                    Err(SaveError::PendingGone) => return Err(VaultError::PendingGone),
                    Err(SaveError::Database(error)) => return Err(error.into()),
                };
                tx.commit().await?;
                stored
            }
        };
        Ok(stored.into_iter().map(Connection::from).collect())
    }

    /// How many connections the user holds.
    pub async fn count(&self, user_id: &str) -> Result<u64, VaultError> {
        let count = on_store!(self, count(user_id))?;
        Ok(count.max(0) as u64)
    }

    /// The user's connections, oldest first.
    pub async fn list(&self, user_id: &str) -> Result<Vec<Connection>, VaultError> {
        let rows = on_store!(self, list(user_id))?;
        Ok(rows.into_iter().map(Connection::from).collect())
    }

    /// The user's connection `id` with its decrypted tokens. Another user's id finds nothing.
    pub async fn find_with_tokens(
        &self,
        user_id: &str,
        id: &str,
    ) -> Result<Option<(Connection, StoredTokens)>, VaultError> {
        let found = on_store!(self, find(user_id, id))?;
        let Some(StoredRowWithTokens {
            row,
            key_id,
            access_token,
            refresh_token,
        }) = found
        else {
            return Ok(None);
        };
        let tokens = self.open_tokens(user_id, &row, &key_id, (access_token, refresh_token))?;
        Ok(Some((Connection::from(row), tokens)))
    }

    /// Decrypts a row's sealed access and refresh tokens, each bound to the row it was sealed
    /// for (user, broker, account, field).
    pub(super) fn open_tokens(
        &self,
        user_id: &str,
        row: &StoredRow,
        key_id: &str,
        sealed: SealedPair,
    ) -> Result<StoredTokens, VaultError> {
        let (access_token, refresh_token) = sealed.clone();
        let open = |sealed: Option<Vec<u8>>, field| {
            let identity = RowIdentity {
                user_id,
                broker_type: &row.broker_type,
                account_id: &row.account_id,
                field,
            };
            sealed
                .map(|sealed| self.cipher.open(key_id, &sealed, identity))
                .transpose()
        };
        Ok(StoredTokens {
            access_token: open(access_token, "access")?,
            refresh_token: open(refresh_token, "refresh")?,
            sealed,
        })
    }

    /// Deletes the user's connection `id` only as it was when `tokens` were read from it: a
    /// disconnect deletes the tokens it revoked, never ones a reconnect or a renewal stored
    /// meanwhile. False when the row is gone or holds other tokens now.
    pub async fn delete_version(
        &self,
        user_id: &str,
        id: &str,
        tokens: &StoredTokens,
    ) -> Result<bool, VaultError> {
        let sealed = &tokens.sealed;
        Ok(on_store!(self, delete_version(user_id, id, sealed))?)
    }

    /// Deletes the user's connection `id`; false when there is none.
    pub async fn delete(&self, user_id: &str, id: &str) -> Result<bool, VaultError> {
        // A rare write: on SQLite it waits for the writer's lock under `busy_timeout`.
        Ok(on_store!(self, delete(user_id, id))?)
    }
}
