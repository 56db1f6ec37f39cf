//! A running app (router + emulator + SQLite vault) for the HTTP tests.
#![allow(dead_code)] // Each test file uses its own part of the helpers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::error::AppError;
use app::link_settings::{LinkSettings, MeshMode};
use app::router::router;
use app::state::AppState;
use leptos::prelude::LeptosOptions;
use mesh_emulator::{self as emulator, RunningEmulator, Settings as EmulatorSettings};
use secrecy::SecretString;
use server::config::{MeshCredentials, PublicUrl, RateLimitSettings};
use server::edge::EdgePolicy;
use server::mesh::{MeshClient, RetryPolicy, Timeouts};
use server::session::SessionConfig;
use server::vault::TokenVault;

pub const SECRET: &str = "sk_sandbox_app-test-secret";
/// The origin the test app believes it is served at (its `PUBLIC_URL`).
pub const APP_ORIGIN: &str = "https://app.example.com";
/// The vault key of the test apps.
pub const TOKEN_KEY: [u8; 32] = [3u8; 32];
/// The secret the test app verifies Mesh's webhooks with.
pub const WEBHOOK_SECRET: &str = "whsec-app-test";

pub struct TestApp {
    pub addr: SocketAddr,
    /// The app's own Mesh client and vault, for tests of its background work.
    pub mesh: MeshClient,
    pub vault: Arc<TokenVault>,
    pub emulator: RunningEmulator,
    pub http: reqwest::Client,
    /// The vault's database.
    pub database_url: String,
    _data: Option<tempfile::TempDir>,
}

impl TestApp {
    /// An app on a SQLite vault of its own.
    pub async fn start(client_secret: &str) -> Self {
        Self::start_capped(
            client_secret,
            server::config::DEFAULT_MAX_CONNECTIONS_PER_USER,
        )
        .await
    }

    /// An app on a SQLite vault of its own, whose Mesh issues access tokens that live `ttl`.
    pub async fn start_with_token_ttl(client_secret: &str, ttl: Duration) -> Self {
        let data = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            data.path().join("vault.db").display()
        );
        let vault = TokenVault::connect(&url, &TOKEN_KEY, 4).await.unwrap();
        Self::serve(client_secret, vault, url, Some(data), ttl).await
    }

    /// An app on a SQLite vault of its own, holding at most `cap` connections per user.
    pub async fn start_capped(client_secret: &str, cap: usize) -> Self {
        let data = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            data.path().join("vault.db").display()
        );
        let vault = TokenVault::connect(&url, &TOKEN_KEY, 4)
            .await
            .unwrap()
            .with_connection_cap(cap as u64);
        Self::serve(
            client_secret,
            vault,
            url,
            Some(data),
            mesh_emulator::DEFAULT_TOKEN_TTL,
        )
        .await
    }

    /// An app on `vault` (at `url`).
    pub async fn start_with_vault(client_secret: &str, vault: TokenVault, url: &str) -> Self {
        Self::serve(
            client_secret,
            vault,
            url.to_string(),
            None,
            mesh_emulator::DEFAULT_TOKEN_TTL,
        )
        .await
    }

    async fn serve(
        client_secret: &str,
        vault: TokenVault,
        database_url: String,
        data: Option<tempfile::TempDir>,
        token_ttl: Duration,
    ) -> Self {
        let emulator = emulator::spawn(EmulatorSettings {
            addr: "127.0.0.1:0".parse().unwrap(),
            client_id: "app-test".into(),
            client_secret: SecretString::from(SECRET),
            allowed_origins: vec!["http://127.0.0.1:3000".into()],
            token_ttl,
            webhook: None,
            managed_tokens: false,
        })
        .await
        .unwrap();
        let mesh = MeshClient::with_policy(
            emulator.base_url(),
            MeshCredentials {
                client_id: "app-test".into(),
                client_secret: SecretString::from(client_secret),
            },
            Timeouts {
                connect: Duration::from_secs(1),
                total: Duration::from_secs(2),
            },
            RetryPolicy {
                max_attempts: 2,
                base_delay: Duration::from_millis(10),
                max_delay: Duration::from_millis(20),
            },
        )
        .unwrap();
        let vault = Arc::new(vault);
        let state = AppState {
            mesh: mesh.clone(),
            vault: vault.clone(),
            link_settings: LinkSettings {
                mode: MeshMode::Emulator,
                emulator_origin: Some(emulator.base_url().origin().ascii_serialization()),
                deposits: true,
            },
            webhook_secret: Some(SecretString::from(WEBHOOK_SECRET)),
            deposit_addresses: server::config::parse_deposit_addresses(
                server::config::EMULATED_DEPOSIT_ADDRESSES,
            )
            .unwrap(),
            deposit_addresses_emulated: true,
            integrations: Arc::default(),
            managed_tokens: false,
        };
        let session = SessionConfig::new(&[42u8; 64], false).unwrap();
        let options = LeptosOptions::builder()
            .output_name("mesh-link-starter")
            .build();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let edge = EdgePolicy {
            public_url: PublicUrl::from_origins(vec![APP_ORIGIN.into()]),
            link_frame_src: state.link_settings.emulator_origin.clone().unwrap(),
            live_reload_port: None,
            rate_limit: RateLimitSettings {
                per_minute: 60,
                burst: 20,
                reports_per_hour: 12,
                trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
            },
        };
        let app = router(state, session, edge, options);
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
        });
        Self {
            addr,
            mesh,
            vault,
            emulator,
            http: reqwest::Client::new(),
            database_url,
            _data: data,
        }
    }

    pub async fn call(&self, endpoint: &str) -> reqwest::Response {
        self.http
            .post(format!("http://{}/api/{endpoint}", self.addr))
            .header("content-type", "application/x-www-form-urlencoded")
            .send()
            .await
            .unwrap()
    }

    pub async fn queue_fault(&self, fault: serde_json::Value) {
        let response = self
            .http
            .post(self.emulator.base_url().join("/_emulator/faults").unwrap())
            .json(&fault)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }
}

/// A PostgreSQL database of its own on the test server (`TEST_DATABASE_URL`), for a test whose
/// background work reaches every row of its database; `None` when the run has no PostgreSQL.
pub async fn isolated_postgres() -> Option<String> {
    let url = std::env::var("TEST_DATABASE_URL").ok()?;
    if url.trim().is_empty() {
        return None;
    }
    let name = format!("app_{}", uuid::Uuid::new_v4().simple());
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .unwrap();
    let (server, _) = url.rsplit_once('/').unwrap();
    Some(format!("{server}/{name}"))
}

/// A test app on SQLite, and one on a PostgreSQL database of its own when the run has
/// PostgreSQL: a scenario that must hold on both runs on each.
pub async fn on_each_backend() -> Vec<TestApp> {
    let mut apps = vec![TestApp::start(SECRET).await];
    if let Some(url) = isolated_postgres().await {
        let vault = TokenVault::connect(&url, &TOKEN_KEY, 4)
            .await
            .unwrap()
            .with_connection_cap(server::config::DEFAULT_MAX_CONNECTIONS_PER_USER as u64);
        apps.push(TestApp::start_with_vault(SECRET, vault, &url).await);
    }
    apps
}

/// API calls the emulator has received so far, by path.
pub async fn mesh_call_counts(app: &TestApp) -> std::collections::HashMap<String, u64> {
    app.http
        .get(app.emulator.base_url().join("/_emulator/calls").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// API calls the emulator has received on `path` so far.
pub async fn mesh_calls_to(app: &TestApp, path: &str) -> u64 {
    mesh_call_counts(app).await.get(path).copied().unwrap_or(0)
}

/// Reads an `AppError` body, asserting it never carries the secret.
pub async fn app_error(response: reqwest::Response) -> AppError {
    let body = response.text().await.unwrap();
    assert!(!body.contains(SECRET), "the secret leaked: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("not an AppError ({e}): {body}"))
}

/// A browser session: the cookie the app set on the first visit.
pub struct TestUser {
    pub cookie: String,
}

impl TestApp {
    /// A new visitor with their own session cookie.
    pub async fn new_user(&self) -> TestUser {
        let response = self.call("link_settings").await;
        let cookie = response.headers()["set-cookie"].to_str().unwrap();
        TestUser {
            cookie: cookie.split(';').next().unwrap().to_string(),
        }
    }

    /// POSTs a JSON-encoded server function call as `user`.
    pub async fn call_json(
        &self,
        user: &TestUser,
        endpoint: &str,
        body: String,
    ) -> reqwest::Response {
        self.http
            .post(format!("http://{}/api/{endpoint}", self.addr))
            .header("content-type", "application/json")
            .header("cookie", &user.cookie)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// POSTs a form-encoded server function call as `user`.
    pub async fn call_form(
        &self,
        user: &TestUser,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.http
            .post(format!("http://{}/api/{endpoint}", self.addr))
            .header("cookie", &user.cookie)
            .form(form)
            .send()
            .await
            .unwrap()
    }
}

/// Connects `broker` (login `Mesh`) through the emulated Link for real, returning the body
/// `save_connection` takes, as the page would post it.
pub async fn payload_from_emulated_link(app: &TestApp, broker: &str) -> serde_json::Value {
    let token: String = app.call("create_link_token").await.json().await.unwrap();
    let payload = app
        .emulator
        .connect_through_link(&token, broker, "http://127.0.0.1:3000")
        .await
        .unwrap();
    serde_json::json!({ "payload": { "accessToken": payload } })
}
