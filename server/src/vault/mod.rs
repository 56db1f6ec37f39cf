//! The token vault: broker connections with their tokens encrypted at rest, on SQLite (the
//! default, a file under `DATA_DIR`) or PostgreSQL. Tokens go in once and come out only to call
//! Mesh; nothing here can be serialized back to a browser.

mod crypto;
pub mod intake;
mod leases;
mod queries;
mod transfers;
mod writer;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use rust_decimal::Decimal;
use secrecy::SecretString;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use uuid::Uuid;

use queries::{
    PENDING_ACCOUNT, Save, SaveError, SealedPair, SealedRow, SealedTokens, StoredRow,
    StoredRowWithTokens, postgres, sqlite,
};
use writer::SqliteWriter;

use crate::clock::unix_now;
pub use writer::WriteError;

pub use crypto::{CryptoError, RowIdentity, TOKEN_KEY_LEN, TokenCipher};
pub use leases::{Leased, RenewedTokens};
pub use transfers::{CheckSchedule, DepositStatus, StoredTransfer, TransferUpdate};

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
    /// Cash, when known (exact).
    pub cash: Option<Decimal>,
    /// Fund value, when known (exact).
    pub fund: Option<Decimal>,
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
    /// Names the broker's logo for [`TokenVault::logo`].
    pub logo_hash: Option<String>,
    /// The account id; `None` when pending.
    pub account_id: Option<String>,
    /// The account name; `None` when pending.
    pub account_name: Option<String>,
    /// Cash, when known (exact).
    pub cash: Option<Decimal>,
    /// Fund value, when known (exact).
    pub fund: Option<Decimal>,
    /// Mesh Managed Tokens id, when Link sent one.
    pub token_id: Option<String>,
    /// Unix seconds of the (last) connection.
    pub connected_at: i64,
    /// Unix seconds when the access token expires.
    pub expires_at: Option<i64>,
    /// Unix seconds when the refresh token expires.
    pub refresh_expires_at: Option<i64>,
    /// True when the refresh token no longer works: the user must connect the account again.
    pub needs_reconnect: bool,
}

impl Connection {
    /// True for a delayed authentication waiting for its account.
    pub fn is_pending(&self) -> bool {
        self.account_id.is_none()
    }
}

impl From<StoredRow> for Connection {
    fn from(row: StoredRow) -> Self {
        Self {
            id: row.id,
            broker_type: row.broker_type,
            broker_name: row.broker_name,
            logo_hash: row.logo_hash,
            account_id: (row.account_id != PENDING_ACCOUNT).then_some(row.account_id),
            account_name: row.account_name,
            cash: row.cash.as_deref().and_then(exact),
            fund: row.fund.as_deref().and_then(exact),
            token_id: row.token_id,
            connected_at: row.connected_at,
            expires_at: row.expires_at,
            refresh_expires_at: row.refresh_expires_at,
            needs_reconnect: row.needs_reconnect,
        }
    }
}

/// The decrypted tokens of a stored connection: both for an account, only the refresh token
/// for a pending (delayed-auth) connection. Not `Serialize`; `Debug` shows nothing secret.
pub struct StoredTokens {
    /// The access token; `None` while pending.
    pub access_token: Option<SecretString>,
    /// The refresh token, when the broker issued one.
    pub refresh_token: Option<SecretString>,
    /// The sealed tokens as read: which version of the row these are (every save and renewal
    /// seals with a fresh nonce), for [`TokenVault::delete_version`].
    sealed: SealedPair,
}

impl fmt::Debug for StoredTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoredTokens([redacted])")
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
        /// The cap ([`TokenVault::with_connection_cap`]).
        cap: u64,
    },
}

/// Which database is behind the vault.
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

    /// Pool size when `DATABASE_MAX_CONNECTIONS` is not set. On SQLite the pool only reads
    /// (one writer task holds its own connection); PostgreSQL serves many writers.
    pub fn default_max_connections(self) -> u32 {
        match self {
            Self::Sqlite => 4,
            Self::Postgres => 10,
        }
    }
}

/// The typed connection pool behind the vault. Each arm runs the same SQL (`queries`) through
/// its own driver. SQLite's saves go through one writer with group commit; PostgreSQL's run
/// concurrently on the pool.
enum Store {
    Sqlite {
        readers: SqlitePool,
        writer: SqliteWriter,
    },
    Postgres(PgPool),
}

/// How long a request waits for a free pooled connection before failing.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a save must respect: the connection cap, and the pending row (id, lease) a
/// redemption replaces.
struct SaveRules {
    cap: Option<u64>,
    replaces: Option<(String, String)>,
}

/// Encrypted storage of broker connections.
pub struct TokenVault {
    store: Store,
    cipher: TokenCipher,
    connection_cap: Option<u64>,
}

impl fmt::Debug for TokenVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenVault")
            .field("backend", &self.backend())
            .field("key_id", &self.cipher.key_id())
            .finish_non_exhaustive()
    }
}

/// The name a logo is stored under: the SHA-256 of its text, in hex.
fn logo_hash(logo: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(logo.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

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
    /// Connects with at most `max_connections` pooled connections and runs the migrations.
    /// SQLite runs in write-ahead-log mode with `synchronous=FULL`, so an acknowledged save
    /// survives a crash.
    pub async fn connect(
        database_url: &str,
        token_key: &[u8],
        max_connections: u32,
    ) -> Result<Self, VaultError> {
        let cipher = TokenCipher::new(token_key)?;
        let store = match Backend::of(database_url)? {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(database_url)?
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(ACQUIRE_TIMEOUT);
                let readers = SqlitePoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    // A connection to a local file cannot go stale: skip the ping that sqlx
                    // sends to a connection's worker thread before lending it out.
                    .test_before_acquire(false)
                    .connect_with(options.clone())
                    .await?;
                sqlx::migrate!("./migrations/sqlite").run(&readers).await?;
                let writer = SqliteWriter::start(&options).await?;
                Store::Sqlite { readers, writer }
            }
            Backend::Postgres => {
                let pool = PgPoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(PgConnectOptions::from_str(database_url)?)
                    .await?;
                // Several instances may start together: sqlx serialises migrations with an
                // advisory lock, so exactly one of them applies each.
                sqlx::migrate!("./migrations/postgres").run(&pool).await?;
                Store::Postgres(pool)
            }
        };
        Ok(Self {
            store,
            cipher,
            connection_cap: None,
        })
    }

    /// Refuses a save that would give a user more than `cap` connections
    /// ([`VaultError::OverCap`]), checked inside the save's transaction so parallel saves and
    /// delayed authentications count too. Accounts connected again replace their rows and add
    /// nothing.
    pub fn with_connection_cap(mut self, cap: u64) -> Self {
        self.connection_cap = Some(cap);
        self
    }

    /// Also reads tokens sealed under each of `keys` (older `TOKEN_KEY`s being rotated out).
    pub fn with_previous_keys<'a>(
        mut self,
        keys: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Self, VaultError> {
        self.cipher = self.cipher.with_previous_keys(keys)?;
        Ok(self)
    }

    /// Re-encrypts every row not sealed under the current key with the current key, row by row
    /// (a save meanwhile is left as written), and counts what it did. Rows sealed under a key
    /// this server does not have are counted and left.
    pub async fn rotate_key(&self) -> Result<RotationReport, VaultError> {
        const BATCH: i64 = 200;
        let key_id = self.cipher.key_id();
        let mut report = RotationReport::default();
        let mut after = String::new();
        loop {
            let batch = match &self.store {
                Store::Sqlite { readers, .. } => {
                    sqlite::sealed_under_other_keys(readers, key_id, &after, BATCH).await?
                }
                Store::Postgres(pool) => {
                    postgres::sealed_under_other_keys(pool, key_id, &after, BATCH).await?
                }
            };
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
                let done = match &self.store {
                    Store::Sqlite { readers, .. } => {
                        sqlite::reseal(readers, &row.id, &row.key_id, key_id, tokens).await?
                    }
                    Store::Postgres(pool) => {
                        postgres::reseal(pool, &row.id, &row.key_id, key_id, tokens).await?
                    }
                };
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

    /// Records that `user_id` was seen at `now` (Unix seconds); retention counts from it. Only a
    /// user who already has a row (made by a save) is recorded: a visit never makes one.
    pub async fn touch_user(&self, user_id: &str, now: i64) -> Result<(), VaultError> {
        // A rare write (once a day per user): on SQLite it waits under `busy_timeout`.
        match &self.store {
            Store::Sqlite { readers, .. } => sqlite::touch_user(readers, user_id, now).await?,
            Store::Postgres(pool) => postgres::touch_user(pool, user_id, now).await?,
        }
        Ok(())
    }

    /// Up to `limit` users last seen before `cutoff` (Unix seconds), oldest first.
    pub async fn users_not_seen_since(
        &self,
        cutoff: i64,
        limit: i64,
    ) -> Result<Vec<String>, VaultError> {
        Ok(match &self.store {
            Store::Sqlite { readers, .. } => {
                sqlite::users_not_seen_since(readers, cutoff, limit).await?
            }
            Store::Postgres(pool) => postgres::users_not_seen_since(pool, cutoff, limit).await?,
        })
    }

    /// Forgets `user_id` once none of its connections is left; true when it was forgotten.
    pub async fn forget_user(&self, user_id: &str) -> Result<bool, VaultError> {
        Ok(match &self.store {
            Store::Sqlite { readers, .. } => sqlite::forget_user(readers, user_id).await?,
            Store::Postgres(pool) => postgres::forget_user(pool, user_id).await?,
        })
    }

    /// Deletes the logos that no connection names any more (run daily by the retention task);
    /// how many went.
    pub async fn forget_unused_logos(&self) -> Result<u64, VaultError> {
        Ok(match &self.store {
            Store::Sqlite { readers, .. } => sqlite::forget_unused_logos(readers).await?,
            Store::Postgres(pool) => postgres::forget_unused_logos(pool).await?,
        })
    }

    /// The logo (base64 of an image, as Link sent it) named by a connection's `logo_hash`.
    pub async fn logo(&self, hash: &str) -> Result<Option<String>, VaultError> {
        Ok(match &self.store {
            Store::Sqlite { readers, .. } => sqlite::logo(readers, hash).await?,
            Store::Postgres(pool) => postgres::logo(pool, hash).await?,
        })
    }

    /// Succeeds when the database answers a trivial query (the readiness check).
    pub async fn ping(&self) -> Result<(), VaultError> {
        match &self.store {
            Store::Sqlite { readers, .. } => {
                sqlx::query("SELECT 1").execute(readers).await?;
            }
            Store::Postgres(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
            }
        }
        Ok(())
    }

    /// The database behind this vault.
    pub fn backend(&self) -> Backend {
        match self.store {
            Store::Sqlite { .. } => Backend::Sqlite,
            Store::Postgres(_) => Backend::Postgres,
        }
    }

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
        let count = match &self.store {
            Store::Sqlite { readers, .. } => sqlite::count(readers, user_id).await?,
            Store::Postgres(pool) => postgres::count(pool, user_id).await?,
        };
        Ok(count.max(0) as u64)
    }

    /// The user's connections, oldest first.
    pub async fn list(&self, user_id: &str) -> Result<Vec<Connection>, VaultError> {
        let rows = match &self.store {
            Store::Sqlite { readers, .. } => sqlite::list(readers, user_id).await?,
            Store::Postgres(pool) => postgres::list(pool, user_id).await?,
        };
        Ok(rows.into_iter().map(Connection::from).collect())
    }

    /// The user's connection `id` with its decrypted tokens. Another user's id finds nothing.
    pub async fn find_with_tokens(
        &self,
        user_id: &str,
        id: &str,
    ) -> Result<Option<(Connection, StoredTokens)>, VaultError> {
        let found = match &self.store {
            Store::Sqlite { readers, .. } => sqlite::find(readers, user_id, id).await?,
            Store::Postgres(pool) => postgres::find(pool, user_id, id).await?,
        };
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
    fn open_tokens(
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
        Ok(match &self.store {
            Store::Sqlite { readers, .. } => {
                sqlite::delete_version(readers, user_id, id, sealed).await?
            }
            Store::Postgres(pool) => postgres::delete_version(pool, user_id, id, sealed).await?,
        })
    }

    /// Deletes the user's connection `id`; false when there is none.
    pub async fn delete(&self, user_id: &str, id: &str) -> Result<bool, VaultError> {
        Ok(match &self.store {
            // A rare write: it waits for the writer's lock under `busy_timeout`.
            Store::Sqlite { readers, .. } => sqlite::delete(readers, user_id, id).await?,
            Store::Postgres(pool) => postgres::delete(pool, user_id, id).await?,
        })
    }
}

/// A stored amount read back; text that is not a number (never written by the vault) reads as
/// absent.
fn exact(text: &str) -> Option<Decimal> {
    text.parse().ok()
}

/// `seconds` after the Unix time `now`, saturating.
fn after(now: i64, seconds: u64) -> i64 {
    now.saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX))
}
