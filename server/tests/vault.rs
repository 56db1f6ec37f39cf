//! The token vault on real databases: SQLite in a temporary folder, and PostgreSQL at
//! `TEST_DATABASE_URL` (scripts/test.sh starts a throwaway server when PostgreSQL is installed).

use std::path::PathBuf;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use server::vault::{
    Backend, BrokerInfo, BrokerTokens, ConnectedAccounts, NewAccount, PendingConnection,
    TokenVault, VaultError,
};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Row};

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
        TokenVault::connect(&self.url, &KEY)
            .await
            .expect("vault opens")
    }

    async fn raw_pool(&self) -> AnyPool {
        sqlx::any::install_default_drivers();
        AnyPoolOptions::new()
            .max_connections(1)
            .connect(&self.url)
            .await
            .unwrap()
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
        cash: Some(100.5),
        fund: Some(2500.0),
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
    assert_eq!(listed[0].cash, Some(100.5));
    assert!(listed[0].expires_at.is_some());
    let (connection, tokens) = vault
        .find_with_tokens(&user, &saved[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(connection, saved[0]);
    let tokens = tokens.expect("tokens");
    assert_eq!(tokens.access_token.expose_secret(), "access-ROUNDTRIP-1");
    assert_eq!(
        tokens.refresh_token.unwrap().expose_secret(),
        "refresh-of-access-ROUNDTRIP-1"
    );
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
    let raw = db.raw_pool().await;
    // Move A's access token into B's row.
    let sealed_a: Vec<u8> =
        sqlx::query("SELECT access_token FROM broker_connections WHERE id = $1")
            .bind(&saved[0].id)
            .fetch_one(&raw)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
    sqlx::query("UPDATE broker_connections SET access_token = $1 WHERE id = $2")
        .bind(sealed_a.clone())
        .bind(&saved[1].id)
        .execute(&raw)
        .await
        .unwrap();
    let moved = vault.find_with_tokens(&user, &saved[1].id).await;
    assert!(matches!(moved, Err(VaultError::Crypto(_))), "{moved:?}");
    // Flip one bit of A's own ciphertext.
    let mut tampered = sealed_a;
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    sqlx::query("UPDATE broker_connections SET access_token = $1 WHERE id = $2")
        .bind(tampered)
        .bind(&saved[0].id)
        .execute(&raw)
        .await
        .unwrap();
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
            let raw = db.raw_pool().await;
            let row = sqlx::query(
                "SELECT access_token, refresh_token, account_name FROM broker_connections WHERE user_id = $1",
            )
            .bind(&user)
            .fetch_one(&raw)
            .await
            .unwrap();
            let access_column: Vec<u8> = row.try_get(0).unwrap();
            let refresh_column: Vec<u8> = row.try_get(1).unwrap();
            let name: String = row.try_get(2).unwrap();
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
    assert_eq!(tokens.unwrap().access_token.expose_secret(), "access-new");
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
    assert!(tokens.is_none(), "a pending connection has no access token");
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
        assert_eq!(tokens.unwrap().access_token.expose_secret(), expected);
    }
}

/// Runs each scenario on SQLite and on PostgreSQL.
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
    tampered_or_moved_ciphertexts_fail,
    no_token_is_stored_in_clear,
    reconnect_replaces_tokens_instead_of_adding_a_row,
    pending_connection_is_listed_then_replaced,
    other_users_see_and_delete_nothing,
    hundred_concurrent_saves_lose_nothing,
);
