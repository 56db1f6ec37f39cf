//! The token vault: broker connections with their tokens encrypted at rest, on SQLite (the
//! default, a file under `DATA_DIR`) or PostgreSQL. Tokens go in once and come out only to call
//! Mesh; nothing here can be serialized back to a browser.

mod crypto;

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use secrecy::SecretString;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use uuid::Uuid;

pub use crypto::{CryptoError, RowIdentity, TOKEN_KEY_LEN, TokenCipher};

/// An access token and its refresh token. Not `Serialize`; `Debug` shows nothing secret.
pub struct BrokerTokens {
    /// The access token.
    pub access_token: SecretString,
    /// The refresh token, when the broker issues one.
    pub refresh_token: Option<SecretString>,
}

impl fmt::Debug for BrokerTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BrokerTokens([redacted])")
    }
}

/// The broker a connection belongs to.
#[derive(Clone, Debug)]
pub struct BrokerInfo {
    /// Mesh's `BrokerType`.
    pub broker_type: String,
    /// Display name.
    pub broker_name: String,
    /// Base64 logo image, if kept.
    pub logo: Option<String>,
}

/// One account to store, with its tokens.
#[derive(Debug)]
pub struct NewAccount {
    /// The institution's account id.
    pub account_id: String,
    /// Display name.
    pub account_name: String,
    /// Cash, when known.
    pub cash: Option<f64>,
    /// Fund value, when known.
    pub fund: Option<f64>,
    /// Mesh Managed Tokens id.
    pub token_id: Option<String>,
    /// The tokens.
    pub tokens: BrokerTokens,
}

/// Accounts of one broker that Link connected together.
#[derive(Debug)]
pub struct ConnectedAccounts {
    /// The broker.
    pub broker: BrokerInfo,
    /// The accounts (1 to 50, validated by the caller).
    pub accounts: Vec<NewAccount>,
    /// Access-token lifetime.
    pub expires_in_seconds: Option<u64>,
    /// Refresh-token lifetime.
    pub refresh_expires_in_seconds: Option<u64>,
}

/// A delayed authentication: a refresh token, no account yet.
#[derive(Debug)]
pub struct PendingConnection {
    /// The broker.
    pub broker: BrokerInfo,
    /// The refresh token.
    pub refresh_token: SecretString,
    /// Its lifetime.
    pub refresh_expires_in_seconds: Option<u64>,
}

/// A stored connection without its tokens.
#[derive(Clone, Debug, PartialEq)]
pub struct Connection {
    /// Unguessable id (a random UUID).
    pub id: String,
    /// Mesh's `BrokerType`.
    pub broker_type: String,
    /// Display name of the broker.
    pub broker_name: String,
    /// Base64 logo.
    pub broker_logo: Option<String>,
    /// The account id; `None` when pending.
    pub account_id: Option<String>,
    /// The account name; `None` when pending.
    pub account_name: Option<String>,
    /// Cash, when known.
    pub cash: Option<f64>,
    /// Fund value, when known.
    pub fund: Option<f64>,
    /// Unix seconds of the (last) connection.
    pub connected_at: i64,
    /// Unix seconds when the access token expires.
    pub expires_at: Option<i64>,
}

impl Connection {
    /// True for a delayed authentication waiting for its account.
    pub fn is_pending(&self) -> bool {
        self.account_id.is_none()
    }
}

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
}

/// Which database is behind the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend a URL names.
    pub fn of(url: &str) -> Result<Self, VaultError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(VaultError::UnsupportedUrl)
        }
    }
}

/// The `account_id` of a pending connection's row.
const PENDING_ACCOUNT: &str = "";

const COLUMNS: &str = "id, broker_type, broker_name, broker_logo, account_id, account_name, \
                       cash, fund, connected_at, expires_at";

/// Encrypted storage of broker connections.
pub struct TokenVault {
    pool: AnyPool,
    cipher: TokenCipher,
    backend: Backend,
}

impl fmt::Debug for TokenVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenVault")
            .field("backend", &self.backend)
            .field("key_id", &self.cipher.key_id())
            .finish_non_exhaustive()
    }
}

impl TokenVault {
    /// Connects, runs the migrations, and turns on SQLite's write-ahead log.
    pub async fn connect(database_url: &str, token_key: &[u8]) -> Result<Self, VaultError> {
        let backend = Backend::of(database_url)?;
        let cipher = TokenCipher::new(token_key)?;
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            // SQLite has one writer at a time; a few connections serve reads alongside.
            .max_connections(if backend == Backend::Sqlite { 4 } else { 10 })
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect(database_url)
            .await?;
        match backend {
            Backend::Sqlite => {
                // Durable and concurrent: the WAL is fsynced at each commit (sqlx's default
                // synchronous=FULL), so an acknowledged save survives a crash.
                sqlx::query("PRAGMA journal_mode = WAL")
                    .execute(&pool)
                    .await?;
                sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
            }
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        Ok(Self {
            pool,
            cipher,
            backend,
        })
    }

    /// The database behind this vault.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Stores every account of `connected` for `user_id` in one transaction (all or none),
    /// replacing the tokens of accounts connected before and any pending connection of the
    /// same broker. Returns the stored connections.
    pub async fn save_accounts(
        &self,
        user_id: &str,
        connected: ConnectedAccounts,
    ) -> Result<Vec<Connection>, VaultError> {
        let now = unix_now();
        let broker = &connected.broker;
        let expires_at = connected
            .expires_in_seconds
            .map(|s| now.saturating_add(s as i64));
        let refresh_expires_at = connected
            .refresh_expires_in_seconds
            .map(|s| now.saturating_add(s as i64));
        let mut tx = self.pool.begin().await?;
        // The first statement writes, so SQLite takes the write lock at once (and waits for it
        // under busy_timeout) instead of failing to upgrade a read lock later.
        delete_pending(&mut tx, user_id, &broker.broker_type).await?;
        let mut saved = Vec::with_capacity(connected.accounts.len());
        for account in &connected.accounts {
            let identity = |field| RowIdentity {
                user_id,
                broker_type: &broker.broker_type,
                account_id: &account.account_id,
                field,
            };
            let access = self
                .cipher
                .seal(&account.tokens.access_token, identity("access"));
            let refresh = account
                .tokens
                .refresh_token
                .as_ref()
                .map(|token| self.cipher.seal(token, identity("refresh")));
            sqlx::query(
                "INSERT INTO broker_connections (id, user_id, broker_type, account_id, broker_name, \
                 broker_logo, account_name, cash, fund, key_id, access_token, refresh_token, token_id, \
                 connected_at, expires_at, refresh_expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                 ON CONFLICT (user_id, broker_type, account_id) DO UPDATE SET \
                 broker_name = excluded.broker_name, broker_logo = excluded.broker_logo, \
                 account_name = excluded.account_name, cash = excluded.cash, fund = excluded.fund, \
                 key_id = excluded.key_id, access_token = excluded.access_token, \
                 refresh_token = excluded.refresh_token, token_id = excluded.token_id, \
                 connected_at = excluded.connected_at, expires_at = excluded.expires_at, \
                 refresh_expires_at = excluded.refresh_expires_at",
            )
            .bind(Uuid::new_v4().to_string())
            .bind(user_id)
            .bind(&broker.broker_type)
            .bind(&account.account_id)
            .bind(&broker.broker_name)
            .bind(broker.logo.clone())
            .bind(&account.account_name)
            .bind(account.cash)
            .bind(account.fund)
            .bind(self.cipher.key_id())
            .bind(access)
            .bind(refresh)
            .bind(account.token_id.clone())
            .bind(now)
            .bind(expires_at)
            .bind(refresh_expires_at)
            .execute(&mut *tx)
            .await?;
            let row = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM broker_connections \
                 WHERE user_id = $1 AND broker_type = $2 AND account_id = $3"
            ))
            .bind(user_id)
            .bind(&broker.broker_type)
            .bind(&account.account_id)
            .fetch_one(&mut *tx)
            .await?;
            saved.push(connection_from_row(&row)?);
        }
        tx.commit().await?;
        Ok(saved)
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
        let refresh_expires_at = pending
            .refresh_expires_in_seconds
            .map(|s| now.saturating_add(s as i64));
        let id = Uuid::new_v4().to_string();
        let mut tx = self.pool.begin().await?;
        delete_pending(&mut tx, user_id, &broker.broker_type).await?;
        sqlx::query(
            "INSERT INTO broker_connections (id, user_id, broker_type, account_id, broker_name, \
             broker_logo, key_id, refresh_token, connected_at, refresh_expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&id)
        .bind(user_id)
        .bind(&broker.broker_type)
        .bind(PENDING_ACCOUNT)
        .bind(&broker.broker_name)
        .bind(broker.logo.clone())
        .bind(self.cipher.key_id())
        .bind(refresh)
        .bind(now)
        .bind(refresh_expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Connection {
            id,
            broker_type: broker.broker_type.clone(),
            broker_name: broker.broker_name.clone(),
            broker_logo: broker.logo.clone(),
            account_id: None,
            account_name: None,
            cash: None,
            fund: None,
            connected_at: now,
            expires_at: None,
        })
    }

    /// The user's connections, oldest first.
    pub async fn list(&self, user_id: &str) -> Result<Vec<Connection>, VaultError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM broker_connections WHERE user_id = $1 \
             ORDER BY connected_at, broker_type, account_id"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(connection_from_row).collect()
    }

    /// The user's connection `id` with its decrypted tokens (`None` tokens when pending).
    /// Another user's id finds nothing.
    pub async fn find_with_tokens(
        &self,
        user_id: &str,
        id: &str,
    ) -> Result<Option<(Connection, Option<BrokerTokens>)>, VaultError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, key_id, access_token, refresh_token FROM broker_connections \
             WHERE user_id = $1 AND id = $2"
        ))
        .bind(user_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let connection = connection_from_row(&row)?;
        let key_id: String = row.try_get("key_id")?;
        let account_id = connection.account_id.clone().unwrap_or_default();
        let identity = |field| RowIdentity {
            user_id,
            broker_type: &connection.broker_type,
            account_id: &account_id,
            field,
        };
        let access: Option<Vec<u8>> = row.try_get("access_token")?;
        let refresh: Option<Vec<u8>> = row.try_get("refresh_token")?;
        let tokens = match access {
            Some(access) => Some(BrokerTokens {
                access_token: self.cipher.open(&key_id, &access, identity("access"))?,
                refresh_token: refresh
                    .map(|sealed| self.cipher.open(&key_id, &sealed, identity("refresh")))
                    .transpose()?,
            }),
            None => None,
        };
        Ok(Some((connection, tokens)))
    }

    /// Deletes the user's connection `id`; false when there is none.
    pub async fn delete(&self, user_id: &str, id: &str) -> Result<bool, VaultError> {
        let done = sqlx::query("DELETE FROM broker_connections WHERE user_id = $1 AND id = $2")
            .bind(user_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

/// Removes the user's pending connection of `broker_type`, if any, inside `tx`.
async fn delete_pending(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    broker_type: &str,
) -> Result<(), VaultError> {
    sqlx::query(
        "DELETE FROM broker_connections WHERE user_id = $1 AND broker_type = $2 AND account_id = $3",
    )
    .bind(user_id)
    .bind(broker_type)
    .bind(PENDING_ACCOUNT)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn connection_from_row(row: &AnyRow) -> Result<Connection, VaultError> {
    let account_id: String = row.try_get("account_id")?;
    Ok(Connection {
        id: row.try_get("id")?,
        broker_type: row.try_get("broker_type")?,
        broker_name: row.try_get("broker_name")?,
        broker_logo: row.try_get("broker_logo")?,
        account_id: (account_id != PENDING_ACCOUNT).then_some(account_id),
        account_name: row.try_get("account_name")?,
        cash: row.try_get("cash")?,
        fund: row.try_get("fund")?,
        connected_at: row.try_get("connected_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
