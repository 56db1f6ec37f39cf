//! The token vault on real databases: SQLite in a temporary folder, and PostgreSQL at
//! `TEST_DATABASE_URL` (scripts/test.sh starts a throwaway server when PostgreSQL is installed).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use server::vault::{
    Backend, BrokerInfo, BrokerTokens, CheckSchedule, ConnectedAccounts, Connection, CryptoError,
    DepositStatus, NewAccount, PendingConnection, RenewedTokens, TokenVault, TransferUpdate,
    VaultError,
};
use sqlx::Row;

const KEY: [u8; 32] = [9u8; 32];

/// A database for one test: a fresh SQLite file, or the shared PostgreSQL test database.
struct TestDb {
    url: String,
    sqlite_file: Option<PathBuf>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("vault.db");
        Self {
            url: format!("sqlite://{}?mode=rwc", file.display()),
            sqlite_file: Some(file),
            _dir: Some(dir),
        }
    }

    fn postgres() -> Option<Self> {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => Some(Self {
                url,
                sqlite_file: None,
                _dir: None,
            }),
            _ if std::env::var("CI").as_deref() == Ok("true") => panic!(
                "CI=true but TEST_DATABASE_URL is not set: the PostgreSQL vault tests must run in CI \
                 (scripts/test.sh starts a throwaway PostgreSQL when it is installed)"
            ),
            _ => {
                eprintln!(
                    "\n!!! SKIPPED: PostgreSQL vault test. Set TEST_DATABASE_URL=postgres://… or install \
                     PostgreSQL (apt-get install postgresql) and run scripts/test.sh, which starts one. !!!\n"
                );
                None
            }
        }
    }

    async fn vault(&self) -> TokenVault {
        self.vault_with_pool(4).await
    }

    async fn vault_with_pool(&self, max_connections: u32) -> TokenVault {
        TokenVault::connect(&self.url, &KEY, max_connections)
            .await
            .expect("vault opens")
    }

    /// A database of its own, for a test that changes every row (key rotation): a new SQLite
    /// file, or a new database on the PostgreSQL test server.
    async fn isolated(&self) -> TestDb {
        match Backend::of(&self.url).unwrap() {
            Backend::Sqlite => TestDb::sqlite(),
            Backend::Postgres => {
                let name = format!("vault_{}", rand::rng().random::<u64>());
                let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&pool)
                    .await
                    .unwrap();
                let (server, _) = self.url.rsplit_once('/').unwrap();
                TestDb {
                    url: format!("{server}/{name}"),
                    sqlite_file: None,
                    _dir: None,
                }
            }
        }
    }

    /// The count `sql` returns with `value` bound, read outside the vault.
    async fn count(&self, sql: &str, value: &str) -> i64 {
        match Backend::of(&self.url).unwrap() {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.url).await.unwrap();
                sqlx::query_scalar(sql)
                    .bind(value)
                    .fetch_one(&pool)
                    .await
                    .unwrap()
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
                sqlx::query_scalar(sql)
                    .bind(value)
                    .fetch_one(&pool)
                    .await
                    .unwrap()
            }
        }
    }

    /// Runs `sql` with `bytes` and `id` bound, outside the vault.
    async fn raw_update(&self, sql: &str, bytes: Vec<u8>, id: &str) {
        match Backend::of(&self.url).unwrap() {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.url).await.unwrap();
                sqlx::query(sql)
                    .bind(bytes)
                    .bind(id)
                    .execute(&pool)
                    .await
                    .unwrap();
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
                sqlx::query(sql)
                    .bind(bytes)
                    .bind(id)
                    .execute(&pool)
                    .await
                    .unwrap();
            }
        }
    }

    /// The stored access token, refresh token and account name of the one row whose
    /// `column` is `value`, read outside the vault.
    async fn raw_columns(&self, column: &str, value: &str) -> (Vec<u8>, Vec<u8>, String) {
        let sql = format!(
            "SELECT access_token, refresh_token, account_name FROM broker_connections \
             WHERE {column} = $1"
        );
        let sql = sql.as_str();
        match Backend::of(&self.url).unwrap() {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.url).await.unwrap();
                let row = sqlx::query(sql).bind(value).fetch_one(&pool).await.unwrap();
                (row.get(0), row.get(1), row.get(2))
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.unwrap();
                let row = sqlx::query(sql).bind(value).fetch_one(&pool).await.unwrap();
                (row.get(0), row.get(1), row.get(2))
            }
        }
    }
}

/// A fresh user id per test, so tests sharing the PostgreSQL database never see each other.
fn new_user() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn broker(broker_type: &str) -> BrokerInfo {
    BrokerInfo {
        broker_type: broker_type.into(),
        broker_name: format!("{broker_type} name"),
        logo: Some("iVBORw0KGgo=".into()),
    }
}

fn account(id: &str, access: &str) -> NewAccount {
    NewAccount {
        account_id: id.into(),
        account_name: format!("Account {id}"),
        cash: Some(Decimal::new(1005, 1)),
        fund: Some(Decimal::new(2500, 0)),
        token_id: Some(format!("tok-{id}")),
        tokens: BrokerTokens {
            access_token: SecretString::from(access),
            refresh_token: Some(SecretString::from(format!("refresh-of-{access}"))),
        },
    }
}

fn accounts(broker_type: &str, list: Vec<NewAccount>) -> ConnectedAccounts {
    ConnectedAccounts {
        broker: broker(broker_type),
        accounts: list,
        expires_in_seconds: Some(3600),
        refresh_expires_in_seconds: None,
    }
}

async fn round_trip(db: TestDb) {
    let vault = db.vault().await;
    let user = new_user();
    let saved = vault
        .save_accounts(
            &user,
            accounts("robinhood", vec![account("acc-1", "access-ROUNDTRIP-1")]),
        )
        .await
        .unwrap();
    assert_eq!(saved.len(), 1);
    let listed = vault.list(&user).await.unwrap();
    assert_eq!(listed, saved);
    assert_eq!(listed[0].account_name.as_deref(), Some("Account acc-1"));
    assert_eq!(
        listed[0].cash.map(|cash| cash.to_string()).as_deref(),
        Some("100.5")
    );
    assert!(listed[0].expires_at.is_some());
    let (connection, tokens) = vault
        .find_with_tokens(&user, &saved[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(connection, saved[0]);
    let tokens = tokens
        .access_token
        .zip(tokens.refresh_token)
        .expect("tokens");
    assert_eq!(tokens.0.expose_secret(), "access-ROUNDTRIP-1");
    assert_eq!(tokens.1.expose_secret(), "refresh-of-access-ROUNDTRIP-1");
}

async fn tampered_or_moved_ciphertexts_fail(db: TestDb) {
    let vault = db.vault().await;
    let user = new_user();
    let saved = vault
        .save_accounts(
            &user,
            accounts(
                "binanceUs",
                vec![account("a", "access-A"), account("b", "access-B")],
            ),
        )
        .await
        .unwrap();
    // Move A's access token into B's row.
    let (sealed_a, _, _) = db.raw_columns("id", &saved[0].id).await;
    db.raw_update(
        "UPDATE broker_connections SET access_token = $1 WHERE id = $2",
        sealed_a.clone(),
        &saved[1].id,
    )
    .await;
    let moved = vault.find_with_tokens(&user, &saved[1].id).await;
    assert!(matches!(moved, Err(VaultError::Crypto(_))), "{moved:?}");
    // Flip one bit of A's own ciphertext.
    let mut tampered = sealed_a;
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    db.raw_update(
        "UPDATE broker_connections SET access_token = $1 WHERE id = $2",
        tampered,
        &saved[0].id,
    )
    .await;
    let tampered = vault.find_with_tokens(&user, &saved[0].id).await;
    assert!(
        matches!(tampered, Err(VaultError::Crypto(_))),
        "{tampered:?}"
    );
}

async fn no_token_is_stored_in_clear(db: TestDb) {
    let vault = db.vault().await;
    let user = new_user();
    let access = "access-CLEARTEXT-CANARY-7d1f";
    vault
        .save_accounts(
            &user,
            accounts("robinhood", vec![account("acc-clear", access)]),
        )
        .await
        .unwrap();
    match &db.sqlite_file {
        Some(file) => {
            drop(vault);
            let mut bytes = Vec::new();
            for suffix in ["", "-wal"] {
                let path = PathBuf::from(format!("{}{suffix}", file.display()));
                if let Ok(content) = std::fs::read(path) {
                    bytes.extend(content);
                }
            }
            let contains =
                |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
            assert!(
                contains("Account acc-clear"),
                "the check can see plain text in the file"
            );
            assert!(
                !contains(access),
                "access token in clear in the database file"
            );
            assert!(
                !contains("refresh-of-"),
                "refresh token in clear in the database file"
            );
        }
        None => {
            let (access_column, refresh_column, name) = db.raw_columns("user_id", &user).await;
            assert_eq!(name, "Account acc-clear");
            for column in [access_column, refresh_column] {
                assert!(!column.windows(access.len()).any(|w| w == access.as_bytes()));
                assert!(!column.windows(10).any(|w| w == b"refresh-of"));
            }
        }
    }
}

async fn reconnect_replaces_tokens_instead_of_adding_a_row(db: TestDb) {
    let vault = db.vault().await;
    let user = new_user();
    let first = vault
        .save_accounts(
            &user,
            accounts("robinhood", vec![account("acc-r", "access-old")]),
        )
        .await
        .unwrap();
    let second = vault
        .save_accounts(
            &user,
            accounts("robinhood", vec![account("acc-r", "access-new")]),
        )
        .await
        .unwrap();
    assert_eq!(first[0].id, second[0].id, "same row");
    let listed = vault.list(&user).await.unwrap();
    assert_eq!(listed.len(), 1);
    let (_, tokens) = vault
        .find_with_tokens(&user, &first[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tokens.access_token.unwrap().expose_secret(), "access-new");
}

async fn pending_connection_is_listed_then_replaced(db: TestDb) {
    let vault = db.vault().await;
    let user = new_user();
    let pending = vault
        .save_pending(
            &user,
            PendingConnection {
                broker: broker("coinbase"),
                refresh_token: SecretString::from("delayed-refresh"),
                refresh_expires_in_seconds: Some(600),
            },
        )
        .await
        .unwrap();
    assert!(pending.is_pending());
    let listed = vault.list(&user).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].is_pending());
    let (_, tokens) = vault
        .find_with_tokens(&user, &pending.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        tokens.access_token.is_none(),
        "a pending connection has no access token"
    );
    assert_eq!(
        tokens.refresh_token.unwrap().expose_secret(),
        "delayed-refresh"
    );
    vault
        .save_accounts(
            &user,
            accounts("coinbase", vec![account("cb-1", "access-cb")]),
        )
        .await
        .unwrap();
    let listed = vault.list(&user).await.unwrap();
    assert_eq!(listed.len(), 1, "the pending row was replaced");
    assert_eq!(listed[0].account_id.as_deref(), Some("cb-1"));
}

async fn other_users_see_and_delete_nothing(db: TestDb) {
    let vault = db.vault().await;
    let owner = new_user();
    let stranger = new_user();
    let saved = vault
        .save_accounts(
            &owner,
            accounts("robinhood", vec![account("acc-o", "access-o")]),
        )
        .await
        .unwrap();
    assert!(vault.list(&stranger).await.unwrap().is_empty());
    assert!(
        vault
            .find_with_tokens(&stranger, &saved[0].id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(!vault.delete(&stranger, &saved[0].id).await.unwrap());
    assert!(vault.delete(&owner, &saved[0].id).await.unwrap());
    assert!(vault.list(&owner).await.unwrap().is_empty());
}

async fn hundred_concurrent_saves_lose_nothing(db: TestDb) {
    let vault = Arc::new(db.vault().await);
    let user = new_user();
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let vault = vault.clone();
            let user = user.clone();
            tokio::spawn(async move {
                vault
                    .save_accounts(
                        &user,
                        accounts(
                            "robinhood",
                            vec![account(&format!("acc-{i}"), &format!("access-{i}"))],
                        ),
                    )
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("every save succeeds");
    }
    let listed = vault.list(&user).await.unwrap();
    assert_eq!(listed.len(), 100);
    for connection in listed.iter().step_by(17) {
        let (_, tokens) = vault
            .find_with_tokens(&user, &connection.id)
            .await
            .unwrap()
            .unwrap();
        let expected = connection
            .account_id
            .as_deref()
            .unwrap()
            .replace("acc-", "access-");
        assert_eq!(tokens.access_token.unwrap().expose_secret(), expected);
    }
}

/// One save of the mixed-traffic test, as sent.
#[derive(Clone, Debug)]
struct SentSave {
    user: String,
    broker: BrokerInfo,
    /// `None` for a delayed authentication (a pending connection).
    accounts: Option<Vec<SentAccount>>,
    expires_in: Option<u64>,
    refresh_expires_in: Option<u64>,
    pending_refresh: String,
}

#[derive(Clone, Debug)]
struct SentAccount {
    id: String,
    name: String,
    cash: Option<f64>,
    fund: Option<f64>,
    token_id: Option<String>,
    access: String,
    refresh: Option<String>,
}

/// Link's number as the vault keeps it: its shortest decimal spelling, exactly.
fn exact(amount: f64) -> Decimal {
    amount
        .to_string()
        .parse()
        .expect("a finite f64 spells a decimal")
}

fn maybe<T>(rng: &mut StdRng, value: impl FnOnce(&mut StdRng) -> T) -> Option<T> {
    rng.random_bool(0.5).then(|| value(rng))
}

/// Money as Link sends it: whole, cents, tiny, huge, zero or negative.
fn money(rng: &mut StdRng) -> f64 {
    match rng.random_range(0..5) {
        0 => f64::from(rng.random_range(0..100_000)),
        1 => f64::from(rng.random_range(0..10_000_000)) / 100.0,
        2 => rng.random_range(0.0..1e-6),
        3 => rng.random_range(1e9..1e13),
        _ => [0.0, -12.5][rng.random_range(0..2)],
    }
}

fn random_save(rng: &mut StdRng, n: usize, users: &[String]) -> SentSave {
    let broker_type = format!("broker{n}");
    let accounts = (!rng.random_bool(0.2)).then(|| {
        (0..rng.random_range(1..=3))
            .map(|a| SentAccount {
                id: format!("{broker_type}-acc{a}"),
                name: format!("Account {a} of save {n}"),
                cash: maybe(rng, money),
                fund: maybe(rng, money),
                token_id: maybe(rng, |rng| format!("tok-{}", rng.random::<u32>())),
                access: format!("access-{n}-{a}-{}", rng.random::<u64>()),
                refresh: maybe(rng, |rng| {
                    format!("refresh-{n}-{a}-{}", rng.random::<u64>())
                }),
            })
            .collect()
    });
    SentSave {
        user: users[rng.random_range(0..users.len())].clone(),
        broker: BrokerInfo {
            broker_name: format!("Broker {n}"),
            logo: maybe(rng, |rng| format!("iVBORw0KGgo{}", rng.random::<u32>())),
            broker_type,
        },
        accounts,
        expires_in: maybe(rng, |rng| rng.random_range(60..100_000_000)),
        refresh_expires_in: maybe(rng, |rng| rng.random_range(60..100_000_000)),
        pending_refresh: format!("delayed-{n}-{}", rng.random::<u64>()),
    }
}

async fn send(vault: &TokenVault, save: SentSave) -> Result<Vec<Connection>, VaultError> {
    match save.accounts {
        Some(accounts) => {
            let accounts = accounts
                .into_iter()
                .map(|a| NewAccount {
                    account_id: a.id,
                    account_name: a.name,
                    cash: a.cash.map(exact),
                    fund: a.fund.map(exact),
                    token_id: a.token_id,
                    tokens: BrokerTokens {
                        access_token: SecretString::from(a.access),
                        refresh_token: a.refresh.map(SecretString::from),
                    },
                })
                .collect();
            let connected = ConnectedAccounts {
                broker: save.broker,
                accounts,
                expires_in_seconds: save.expires_in,
                refresh_expires_in_seconds: save.refresh_expires_in,
            };
            vault.save_accounts(&save.user, connected).await
        }
        None => {
            let pending = PendingConnection {
                broker: save.broker,
                refresh_token: SecretString::from(save.pending_refresh),
                refresh_expires_in_seconds: save.refresh_expires_in,
            };
            vault
                .save_pending(&save.user, pending)
                .await
                .map(|c| vec![c])
        }
    }
}

/// Every difference between what `sent` asked to store and what the vault holds.
async fn differences(vault: &TokenVault, sent: &SentSave, listed: &[Connection]) -> Vec<String> {
    let mut found = Vec::new();
    let mut check = |what: &str, ok: bool| {
        if !ok {
            found.push(format!("{}: {what}", sent.broker.broker_type));
        }
    };
    let rows: Vec<&Connection> = listed
        .iter()
        .filter(|c| c.broker_type == sent.broker.broker_type)
        .collect();
    let expected_rows = sent.accounts.as_ref().map_or(1, Vec::len);
    check("row count", rows.len() == expected_rows);
    for row in rows {
        check("broker name", row.broker_name == sent.broker.broker_name);
        let logo = match &row.logo_hash {
            Some(hash) => vault.logo(hash).await.ok().flatten(),
            None => None,
        };
        check("logo", logo == sent.broker.logo);
        let lifetime = |at: Option<i64>| at.map(|at| (at - row.connected_at) as u64);
        check(
            "refresh expiry",
            lifetime(row.refresh_expires_at) == sent.refresh_expires_in,
        );
        let tokens = match vault.find_with_tokens(&sent.user, &row.id).await {
            Ok(Some((_, tokens))) => tokens,
            other => {
                check(&format!("row reads back ({other:?})"), false);
                continue;
            }
        };
        let refresh = tokens.refresh_token.map(|t| t.expose_secret().to_string());
        let access = tokens.access_token.map(|t| t.expose_secret().to_string());
        match &sent.accounts {
            None => {
                check("pending", row.is_pending() && access.is_none());
                check(
                    "pending refresh token",
                    refresh.as_ref() == Some(&sent.pending_refresh),
                );
                check(
                    "pending has no figures",
                    row.cash.is_none() && row.fund.is_none(),
                );
            }
            Some(accounts) => {
                let Some(account) = accounts
                    .iter()
                    .find(|a| Some(&a.id) == row.account_id.as_ref())
                else {
                    check(&format!("unexpected account {:?}", row.account_id), false);
                    continue;
                };
                check(
                    "account name",
                    row.account_name.as_ref() == Some(&account.name),
                );
                check("cash", row.cash == account.cash.map(exact));
                check("fund", row.fund == account.fund.map(exact));
                check("token id", row.token_id == account.token_id);
                check("access expiry", lifetime(row.expires_at) == sent.expires_in);
                check("access token", access.as_ref() == Some(&account.access));
                check("refresh token", refresh == account.refresh);
            }
        }
    }
    found
}

/// Issue 7: with `Any`, one `NULL` cash poisoned a pooled PostgreSQL connection for every later
/// save with a number. Saves with each optional field present or absent, in random order,
/// concurrently over two connections so both are reused many times; all must succeed and read
/// back exactly. `VAULT_TEST_SEED` replays a failing run.
async fn mixed_saves_over_a_small_pool_read_back_exactly(db: TestDb) {
    const SAVES: usize = 300;
    let seed = std::env::var("VAULT_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    let mut rng = StdRng::seed_from_u64(seed);
    let users: Vec<String> = (0..6).map(|_| new_user()).collect();
    let mut saves: Vec<SentSave> = (0..SAVES)
        .map(|n| random_save(&mut rng, n, &users))
        .collect();
    saves.shuffle(&mut rng);
    let vault = Arc::new(db.vault_with_pool(2).await);
    let tasks: Vec<_> = saves
        .iter()
        .cloned()
        .map(|save| {
            let vault = vault.clone();
            tokio::spawn(async move { send(&vault, save).await })
        })
        .collect();
    let mut failures = Vec::new();
    for (task, save) in tasks.into_iter().zip(&saves) {
        if let Err(error) = task.await.expect("the save task ran") {
            failures.push(format!("{}: {error}", save.broker.broker_type));
        }
    }
    assert!(
        failures.is_empty(),
        "seed {seed} (replay with VAULT_TEST_SEED={seed}): {} of {SAVES} saves failed, first: {}",
        failures.len(),
        failures[0]
    );
    let mut mismatches = Vec::new();
    for user in &users {
        let listed = vault.list(user).await.expect("list");
        let sent: Vec<&SentSave> = saves.iter().filter(|s| &s.user == user).collect();
        let expected: usize = sent
            .iter()
            .map(|s| s.accounts.as_ref().map_or(1, Vec::len))
            .sum();
        if listed.len() != expected {
            mismatches.push(format!("user has {} rows, {expected} sent", listed.len()));
        }
        for save in sent {
            mismatches.extend(differences(&vault, save, &listed).await);
        }
    }
    assert!(
        mismatches.is_empty(),
        "seed {seed} (replay with VAULT_TEST_SEED={seed}): {} fields read back differently, first: {:?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(5)]
    );
}

/// Runs each scenario on SQLite and on PostgreSQL.
/// Saves with `KEY`, rotates to another key, drops `KEY`, and still reads every token.
async fn rotating_the_token_key_keeps_every_token_readable(shared: TestDb) {
    const NEW_KEY: [u8; 32] = [10u8; 32];
    // Rotation re-encrypts every row: other tests' rows must not be in this database.
    let db = shared.isolated().await;
    let old = db.vault().await;
    let user = new_user();
    let saved = old
        .save_accounts(
            &user,
            accounts(
                "robinhood",
                vec![
                    account("r-1", "access-ROTATE-1"),
                    account("r-2", "access-ROTATE-2"),
                ],
            ),
        )
        .await
        .unwrap();

    let both = TokenVault::connect(&db.url, &NEW_KEY, 4)
        .await
        .unwrap()
        .with_previous_keys([&KEY[..]])
        .unwrap();
    // Before rotating, the old rows read with the previous key; new saves use the new one.
    let (_, tokens) = both
        .find_with_tokens(&user, &saved[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        tokens.access_token.unwrap().expose_secret(),
        "access-ROTATE-1"
    );
    let report = both.rotate_key().await.unwrap();
    assert_eq!(report.rotated, 2, "{report}");
    assert_eq!(report.unreadable, 0);
    assert_eq!(both.rotate_key().await.unwrap().rotated, 0, "nothing left");

    let new_only = TokenVault::connect(&db.url, &NEW_KEY, 4).await.unwrap();
    for (connection, expected) in saved.iter().zip(["access-ROTATE-1", "access-ROTATE-2"]) {
        let (_, tokens) = new_only
            .find_with_tokens(&user, &connection.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(tokens.access_token.unwrap().expose_secret(), expected);
    }
    // The old key alone can no longer read them: the rows really were re-encrypted.
    let old_only = db.vault().await;
    assert!(matches!(
        old_only.find_with_tokens(&user, &saved[0].id).await,
        Err(VaultError::Crypto(CryptoError::UnknownKey(_)))
    ));
}

/// A refresh while the key is being rotated: the background refresher reaches a row sealed
/// under the previous key, Mesh renews the access token but keeps the refresh token, and the
/// row, stamped with the new key, still opens in every field.
async fn a_refresh_during_a_key_rotation_leaves_every_field_readable(shared: TestDb) {
    const NEW_KEY: [u8; 32] = [11u8; 32];
    let db = shared.isolated().await;
    let user = new_user();
    let saved = db
        .vault()
        .await
        .save_accounts(
            &user,
            accounts("robinhood", vec![account("k-1", "access-OLD")]),
        )
        .await
        .unwrap();

    let both = TokenVault::connect(&db.url, &NEW_KEY, 4)
        .await
        .unwrap()
        .with_previous_keys([&KEY[..]])
        .unwrap();
    let mut due = both
        .lease_due(i64::MAX, Duration::from_secs(30), 10)
        .await
        .unwrap();
    assert_eq!(
        due.len(),
        1,
        "a row under the previous key is due like any other"
    );
    let leased = due.pop().unwrap();
    let renewed = RenewedTokens {
        access_token: SecretString::from("access-NEW"),
        refresh_token: None,
        expires_in_seconds: Some(3600),
        refresh_expires_in_seconds: None,
    };
    assert!(both.renew(&leased, renewed).await.unwrap());

    let report = both.rotate_key().await.unwrap();
    assert_eq!(
        (report.rotated, report.unreadable),
        (0, 0),
        "nothing left under the old key: {report}"
    );
    let new_only = TokenVault::connect(&db.url, &NEW_KEY, 4).await.unwrap();
    let (_, tokens) = new_only
        .find_with_tokens(&user, &saved[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tokens.access_token.unwrap().expose_secret(), "access-NEW");
    assert_eq!(
        tokens.refresh_token.unwrap().expose_secret(),
        "refresh-of-access-OLD"
    );
}

/// Workers leasing one due row each at the same moment (the refresher's eight, or several
/// instances) each get a different row: none comes back empty-handed while rows are due, so a
/// batch is refreshed side by side and no lease waits behind a queue.
async fn workers_leasing_at_once_each_get_a_different_row(shared: TestDb) {
    const WORKERS: usize = 8;
    let db = shared.isolated().await;
    let vault = Arc::new(db.vault_with_pool(WORKERS as u32).await);
    let user = new_user();
    let rows: Vec<NewAccount> = (0..WORKERS)
        .map(|i| account(&format!("w-{i}"), &format!("access-{i}")))
        .collect();
    vault
        .save_accounts(&user, accounts("robinhood", rows))
        .await
        .unwrap();
    for round in 0..5 {
        let start = Arc::new(tokio::sync::Barrier::new(WORKERS));
        let workers = (0..WORKERS).map(|_| {
            let (vault, start) = (vault.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                vault
                    .lease_due(i64::MAX, Duration::from_secs(30), 1)
                    .await
                    .unwrap()
            })
        });
        let mut leased = Vec::new();
        for worker in workers.collect::<Vec<_>>() {
            leased.extend(worker.await.unwrap());
        }
        let mut ids: Vec<&str> = leased.iter().map(|l| l.connection.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(
            (leased.len(), ids.len()),
            (WORKERS, WORKERS),
            "round {round}: {WORKERS} workers leasing at once over {WORKERS} due rows"
        );
        for lease in &leased {
            vault.release(lease).await.unwrap();
        }
    }
}

/// The connection cap holds under concurrency and for delayed authentications: twelve saves
/// of one user at once under a cap of 3 store three; six pending connections store three;
/// connecting a stored account again at the cap still works.
async fn the_connection_cap_holds_for_parallel_saves_and_pending_ones(db: TestDb) {
    let vault = Arc::new(db.vault_with_pool(8).await.with_connection_cap(3));
    let user = new_user();
    let saves = (0..12).map(|i| {
        let (vault, user) = (vault.clone(), user.clone());
        tokio::spawn(async move {
            let one = vec![account(&format!("cap-{i}"), "at")];
            vault.save_accounts(&user, accounts("robinhood", one)).await
        })
    });
    let mut stored = 0;
    for save in saves.collect::<Vec<_>>() {
        match save.await.unwrap() {
            Ok(_) => stored += 1,
            Err(VaultError::OverCap { held: 3, cap: 3 }) => {}
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(stored, 3);
    assert_eq!(vault.list(&user).await.unwrap().len(), 3);
    let again = vault.list(&user).await.unwrap()[0]
        .account_id
        .clone()
        .unwrap();
    vault
        .save_accounts(&user, accounts("robinhood", vec![account(&again, "new")]))
        .await
        .expect("an account connected again replaces its row at the cap");

    let pending_user = new_user();
    for broker in ["coinbase", "kraken", "binance", "gemini", "okx", "bitstamp"] {
        let pending = PendingConnection {
            broker: BrokerInfo {
                broker_type: broker.into(),
                broker_name: broker.into(),
                logo: None,
            },
            refresh_token: SecretString::from("delayed"),
            refresh_expires_in_seconds: None,
        };
        let _ = vault.save_pending(&pending_user, pending).await;
    }
    assert_eq!(vault.list(&pending_user).await.unwrap().len(), 3);
}

/// Logos no connection names any more are deleted by the clean-up; the ones in use stay.
async fn logos_no_connection_names_are_forgotten(shared: TestDb) {
    let db = shared.isolated().await;
    let vault = db.vault().await;
    let user = new_user();
    let with_logo = |logo: &str| ConnectedAccounts {
        broker: BrokerInfo {
            logo: Some(logo.into()),
            ..broker("robinhood")
        },
        ..accounts("robinhood", vec![account("logo-1", "at")])
    };
    let first = vault.save_accounts(&user, with_logo("T0xE")).await.unwrap();
    let old_hash = first[0].logo_hash.clone().unwrap();
    // Connected again with a new logo: the old one is named by nobody.
    let again = vault.save_accounts(&user, with_logo("TkVX")).await.unwrap();
    let new_hash = again[0].logo_hash.clone().unwrap();
    assert_ne!(old_hash, new_hash);
    assert_eq!(vault.forget_unused_logos().await.unwrap(), 1);
    assert_eq!(vault.logo(&old_hash).await.unwrap(), None);
    assert_eq!(
        vault.logo(&new_hash).await.unwrap().as_deref(),
        Some("TkVX")
    );
    assert!(vault.delete(&user, &again[0].id).await.unwrap());
    assert_eq!(vault.forget_unused_logos().await.unwrap(), 1);
    assert_eq!(vault.logo(&new_hash).await.unwrap(), None);
}

/// One logo for 50 accounts is stored once, not 50 times.
async fn a_logo_is_stored_once_for_all_the_accounts_it_decorates(db: TestDb) {
    let vault = db.vault().await;
    let user = new_user();
    let logo = "A".repeat(380 * 1024);
    let mut broker_info = broker("binanceus");
    broker_info.logo = Some(logo.clone());
    let many = (0..50)
        .map(|i| account(&format!("acc-{i}"), &format!("access-{i}")))
        .collect();
    let saved = vault
        .save_accounts(
            &user,
            ConnectedAccounts {
                broker: broker_info,
                ..accounts("binanceus", many)
            },
        )
        .await
        .unwrap();
    let hashes: std::collections::HashSet<_> =
        saved.iter().map(|c| c.logo_hash.clone().unwrap()).collect();
    assert_eq!(hashes.len(), 1, "every account names the same logo");
    let hash = hashes.into_iter().next().unwrap();
    assert_eq!(
        vault.logo(&hash).await.unwrap().as_deref(),
        Some(logo.as_str())
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM broker_logos WHERE hash = $1", &hash)
            .await,
        1
    );
    assert_eq!(
        db.count(
            "SELECT COUNT(*) FROM broker_connections WHERE user_id = $1 AND broker_logo IS NOT NULL",
            &user
        )
        .await,
        0,
        "no account row carries a copy"
    );
}

/// Visits and saves record when a user was last seen; idle users are found, and forgotten once
/// their connections are gone. A visit alone makes no user row.
async fn idle_users_are_found_and_forgotten_once_empty(shared: TestDb) {
    let db = shared.isolated().await;
    let vault = db.vault().await;
    let (idle, active, saver) = (new_user(), new_user(), new_user());
    vault.touch_user(&new_user(), 1_000).await.unwrap();
    assert_eq!(
        vault.users_not_seen_since(i64::MAX, 10).await.unwrap(),
        Vec::<String>::new(),
        "a visitor with nothing stored has no row"
    );
    let mut idle_connection = None;
    for user in [&idle, &active] {
        let saved = vault
            .save_accounts(user, accounts("robinhood", vec![account("a", "access-A")]))
            .await
            .unwrap();
        idle_connection.get_or_insert(saved[0].id.clone());
    }
    vault.touch_user(&idle, 1_000).await.unwrap();
    vault.touch_user(&active, 1_000).await.unwrap();
    vault.touch_user(&active, 5_000).await.unwrap();
    // A save is a visit too (at its own time, which is now).
    let saved = vault
        .save_accounts(
            &saver,
            accounts("robinhood", vec![account("a", "access-IDLE")]),
        )
        .await
        .unwrap();
    assert_eq!(
        vault.users_not_seen_since(2_000, 10).await.unwrap(),
        std::slice::from_ref(&idle)
    );
    let now = saved[0].connected_at;
    let mut everyone = vault.users_not_seen_since(now + 1, 10).await.unwrap();
    everyone.sort();
    let mut expected = vec![idle.clone(), active, saver.clone()];
    expected.sort();
    assert_eq!(everyone, expected);
    // A user is forgotten only once none of its connections is left.
    assert_eq!(vault.count(&saver).await.unwrap(), 1);
    assert!(!vault.forget_user(&saver).await.unwrap());
    assert!(vault.delete(&saver, &saved[0].id).await.unwrap());
    assert!(vault.forget_user(&saver).await.unwrap());
    let idle_connection = idle_connection.unwrap();
    assert!(vault.delete(&idle, &idle_connection).await.unwrap());
    assert!(vault.forget_user(&idle).await.unwrap());
    assert_eq!(
        vault.users_not_seen_since(2_000, 10).await.unwrap(),
        Vec::<String>::new()
    );
}

fn transfer_update(
    transfer_id: &str,
    user: &str,
    status: DepositStatus,
    at: i64,
) -> TransferUpdate {
    TransferUpdate {
        transfer_id: transfer_id.into(),
        user_id: user.into(),
        status,
        symbol: (status == DepositStatus::Reported).then(|| "USDC".into()),
        network: None,
        amount: Some("12.50".into()),
        destination: None,
        tx_hash: (status == DepositStatus::Succeeded).then(|| "0xabc".into()),
        at,
    }
}

/// The status, symbol and transaction of the user's latest transfer.
async fn latest_transfer(
    vault: &TokenVault,
    user: &str,
) -> Option<(String, Option<String>, Option<String>)> {
    let list = vault.transfers_of(user, 10).await.unwrap();
    list.first()
        .map(|t| (t.status.clone(), t.symbol.clone(), t.tx_hash.clone()))
}

async fn transfers_only_move_forward(db: TestDb) {
    use DepositStatus::*;
    let vault = db.vault().await;
    let (user, other) = (new_user(), new_user());
    let id = new_user();
    assert!(
        vault
            .apply_transfer(&transfer_update(&id, &user, Reported, 1))
            .await
            .unwrap()
    );
    assert!(
        vault
            .apply_transfer(&transfer_update(&id, &user, Succeeded, 3))
            .await
            .unwrap()
    );
    // A late pending, a second report, a failure after success, another user's claim: recorded
    // nowhere, applied never.
    for (update, who) in [
        (Pending, &user),
        (Reported, &user),
        (Failed, &user),
        (Succeeded, &other),
    ] {
        assert!(
            !vault
                .apply_transfer(&transfer_update(&id, who, update, 4))
                .await
                .unwrap()
        );
    }
    assert_eq!(
        latest_transfer(&vault, &user).await,
        Some((
            "succeeded".into(),
            Some("USDC".into()),
            Some("0xabc".into())
        ))
    );
    assert_eq!(latest_transfer(&vault, &other).await, None);
}

async fn mesh_overrules_a_report_made_by_another_user(db: TestDb) {
    use DepositStatus::*;
    let vault = db.vault().await;
    let (squatter, owner) = (new_user(), new_user());
    let id = new_user();
    // Anyone can report any transfer id from a browser: it stays theirs only until Mesh speaks.
    assert!(
        vault
            .apply_transfer(&transfer_update(&id, &squatter, Reported, 1))
            .await
            .unwrap()
    );
    assert!(
        vault
            .apply_transfer(&transfer_update(&id, &owner, Pending, 2))
            .await
            .unwrap()
    );
    assert_eq!(latest_transfer(&vault, &squatter).await, None);
    assert_eq!(
        latest_transfer(&vault, &owner).await.map(|t| t.0),
        Some("pending".into())
    );
}

/// Checks 2 s after the first, doubling up to 5 s; reports are checked for 1,000 s.
const SCHEDULE: CheckSchedule = CheckSchedule {
    first_wait: Duration::from_secs(2),
    longest_wait: Duration::from_secs(5),
    longest_wait_unconfirmed: Duration::from_secs(5),
    reports_checked_for: Duration::from_secs(1_000),
};

/// Whether a claim at `now` (Unix seconds) gets transfer `id`.
async fn claims(vault: &TokenVault, id: &str, now: i64) -> bool {
    vault
        .claim_due_transfers(now, &SCHEDULE, 10_000)
        .await
        .unwrap()
        .iter()
        .any(|claimed| claimed == id)
}

async fn open_transfers_are_claimed_on_one_schedule_for_every_instance(db: TestDb) {
    use DepositStatus::*;
    // A database of its own: a claim takes every due transfer in it.
    let db = db.isolated().await;
    let vault = db.vault().await;
    let (user, id) = (new_user(), new_user());
    assert!(
        vault
            .apply_transfer(&transfer_update(&id, &user, Reported, 1))
            .await
            .unwrap()
    );
    // Due at once after a report; then not again until the wait (2 s, doubling, at most 5 s)
    // has passed, whoever asks.
    for (now, claimed) in [
        (100, true),
        (100, false),
        (101, false),
        (102, true),
        (105, false),
        (106, true),
        (110, false),
        (111, true),
        (115, false),
        (116, true),
    ] {
        assert_eq!(claims(&vault, &id, now).await, claimed, "at {now}");
    }
    // A change of state makes it due at once.
    assert!(
        vault
            .apply_transfer(&transfer_update(&id, &user, Pending, 2))
            .await
            .unwrap()
    );
    assert!(claims(&vault, &id, 116).await);

    // A final transfer is never claimed.
    assert!(
        vault
            .apply_transfer(&transfer_update(&id, &user, Succeeded, 3))
            .await
            .unwrap()
    );
    assert!(!claims(&vault, &id, 1_000).await);

    // Four instances claiming 60 due transfers at once: each is claimed exactly once.
    let ids: Vec<String> = (0..60).map(|_| new_user()).collect();
    for other in &ids {
        let update = transfer_update(other, &user, Reported, 1);
        assert!(vault.apply_transfer(&update).await.unwrap());
    }
    let mut instances = Vec::new();
    for _ in 0..4 {
        instances.push(db.vault().await);
    }
    let rounds: Vec<_> = instances
        .into_iter()
        .map(|instance| {
            tokio::spawn(async move {
                instance
                    .claim_due_transfers(200, &SCHEDULE, 25)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for round in rounds {
        claimed.extend(round.await.unwrap());
    }
    claimed.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(
        claimed.len(),
        ids.len(),
        "no transfer claimed twice or left"
    );
    assert_eq!(claimed, expected);

    // A report Mesh never confirmed is left alone once it is older than the window; Mesh's
    // own `pending` is asked about for as long as it lasts.
    let (made_up, slow) = (new_user(), new_user());
    for (transfer, status) in [(&made_up, Reported), (&slow, Pending)] {
        let update = transfer_update(transfer, &user, status, 1);
        assert!(vault.apply_transfer(&update).await.unwrap());
    }
    let claimed = vault
        .claim_due_transfers(1_002, &SCHEDULE, 10_000)
        .await
        .unwrap();
    assert!(claimed.contains(&slow), "{claimed:?}");
    assert!(!claimed.contains(&made_up), "{claimed:?}");
}

async fn a_webhook_event_is_stored_once_and_processed_once(db: TestDb) {
    let vault = db.vault().await;
    let event = new_user();
    assert!(vault.record_webhook(&event, "{}", 10).await.unwrap());
    assert!(!vault.record_webhook(&event, "{}", 11).await.unwrap());
    let waiting = vault.unprocessed_webhooks(1000).await.unwrap();
    assert_eq!(waiting.iter().filter(|(id, _)| *id == event).count(), 1);
    vault
        .apply_webhooks(&[(event.clone(), None)], 12)
        .await
        .unwrap();
    let waiting = vault.unprocessed_webhooks(1000).await.unwrap();
    assert!(!waiting.iter().any(|(id, _)| *id == event));
    assert_eq!(
        db.count(
            "SELECT deliveries FROM webhook_events WHERE event_id = $1",
            &event
        )
        .await,
        2
    );
}

/// A stored delivery the database refuses to apply (PostgreSQL refuses a NUL character in text,
/// which JSON can carry as `\u0000`) is set aside; the deliveries before and after it are
/// applied, and the next pass finds nothing left to do.
async fn a_webhook_that_cannot_be_applied_does_not_block_the_others(db: TestDb) {
    use DepositStatus::*;
    let db = db.isolated().await;
    let vault = db.vault().await;
    let user = new_user();
    let mut events = Vec::new();
    for (n, symbol) in ["USDC", "US\0DC", "SOL"].into_iter().enumerate() {
        let event = format!("event-{n}");
        assert!(vault.record_webhook(&event, "{}", 10).await.unwrap());
        let update = TransferUpdate {
            symbol: Some(symbol.into()),
            ..transfer_update(&format!("transfer-{n}"), &user, Pending, 10)
        };
        events.push((event, Some(update)));
    }
    let set_aside = vault.apply_webhooks(&events, 11).await.unwrap();
    if vault.backend() == Backend::Postgres {
        assert_eq!(set_aside.len(), 1, "{set_aside:?}");
        assert_eq!(set_aside[0].0, "event-1");
        assert_eq!(
            db.count(
                "SELECT COUNT(*) FROM webhook_events WHERE set_aside_reason IS NOT NULL AND event_id = $1",
                "event-1"
            )
            .await,
            1
        );
    }
    let applied: Vec<String> = vault
        .transfers_of(&user, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.transfer_id)
        .collect();
    assert!(applied.contains(&"transfer-0".to_string()), "{applied:?}");
    assert!(applied.contains(&"transfer-2".to_string()), "{applied:?}");
    assert!(vault.unprocessed_webhooks(10).await.unwrap().is_empty());
}

macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() {
                    let db = super::TestDb::sqlite();
                    assert_eq!(super::Backend::of(&db.url).unwrap(), super::Backend::Sqlite);
                    super::$scenario(db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $scenario() {
                    if let Some(db) = super::TestDb::postgres() {
                        assert_eq!(super::Backend::of(&db.url).unwrap(), super::Backend::Postgres);
                        super::$scenario(db).await;
                    }
                }
            )*
        }
    };
}

on_both_backends!(
    round_trip,
    transfers_only_move_forward,
    mesh_overrules_a_report_made_by_another_user,
    open_transfers_are_claimed_on_one_schedule_for_every_instance,
    a_webhook_event_is_stored_once_and_processed_once,
    a_webhook_that_cannot_be_applied_does_not_block_the_others,
    idle_users_are_found_and_forgotten_once_empty,
    a_logo_is_stored_once_for_all_the_accounts_it_decorates,
    rotating_the_token_key_keeps_every_token_readable,
    a_refresh_during_a_key_rotation_leaves_every_field_readable,
    workers_leasing_at_once_each_get_a_different_row,
    the_connection_cap_holds_for_parallel_saves_and_pending_ones,
    logos_no_connection_names_are_forgotten,
    tampered_or_moved_ciphertexts_fail,
    no_token_is_stored_in_clear,
    reconnect_replaces_tokens_instead_of_adding_a_row,
    pending_connection_is_listed_then_replaced,
    other_users_see_and_delete_nothing,
    hundred_concurrent_saves_lose_nothing,
    mixed_saves_over_a_small_pool_read_back_exactly,
);
