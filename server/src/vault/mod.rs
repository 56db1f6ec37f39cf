//! The token vault: broker connections with their tokens encrypted at rest, on SQLite (the
//! default, a file under `DATA_DIR`) or PostgreSQL. Tokens go in once and come out only to call
//! Mesh; nothing here can be serialized back to a browser.

/// Runs `query` of the backend's query module (`sqlite::query` or `postgres::query`, as imported
/// where it is used) on the vault's pool: the one way the vault dispatches to its database.
/// Writes that SQLite sends through its writer, and transactions, match on the store instead.
macro_rules! on_store {
    ($vault:expr, $query:ident($($arg:expr),*)) => {
        match &$vault.store {
            Store::Sqlite { readers, .. } => sqlite::$query(readers, $($arg),*).await,
            Store::Postgres(pool) => postgres::$query(pool, $($arg),*).await,
        }
    };
}

mod connections;
mod crypto;
mod deposits;
mod error;
pub mod intake;
mod leases;
mod queries;
mod rotation;
mod rows;
mod types;
mod users;
mod writer;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use rust_decimal::Decimal;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use writer::SqliteWriter;

use crate::clock::unix_now;
pub use writer::WriteError;

pub use crypto::{CryptoError, RowIdentity, TOKEN_KEY_LEN, TokenCipher};
pub use deposits::{CheckSchedule, DepositStatus, StoredTransfer, TransferUpdate};
pub use error::VaultError;
pub use leases::{Leased, RenewedTokens};
pub use rotation::RotationReport;
pub use types::{
    BrokerInfo, BrokerTokens, ConnectedAccounts, Connection, ConnectionId, InvalidConnectionId,
    NewAccount, PendingConnection, StoredTokens,
};

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
