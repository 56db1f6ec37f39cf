//! Runs the real server binary for the process-level tests (crash, two instances).
#![allow(dead_code)] // Each test file uses its own part of the helpers.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::process::{Child, Command};

/// Fixed keys (`SESSION_KEY`, `TOKEN_KEY`), for instances that share a vault or restart.
pub const SESSION_KEY: &str =
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==";
pub const TOKEN_KEY: &str = "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=";

/// A new database on the PostgreSQL server of `url`; its URL.
pub async fn create_database(url: &str) -> Option<String> {
    // Unique on this machine: the process and a port the system just handed out.
    let name = format!("process_{}_{}", std::process::id(), free_port());
    let pool = sqlx::PgPool::connect(url).await.ok()?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .ok()?;
    let (server, _) = url.rsplit_once('/')?;
    Some(format!("{server}/{name}"))
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// One app process in emulator mode, on its own ports and data folder.
pub struct AppProcess {
    /// Its working directory and `DATA_DIR` parent.
    pub data_dir: PathBuf,
    /// Where the app listens.
    pub app_port: u16,
    /// Where its embedded emulator listens.
    pub emulator_port: u16,
    /// `DATABASE_URL`; empty for SQLite under `DATA_DIR`.
    pub database_url: String,
    /// `SESSION_KEY` and `TOKEN_KEY`; empty to generate them into `DATA_DIR`.
    pub keys: (String, String),
    /// Mesh's API URL, client id and secret (`MESH_ENV=sandbox`, pointed at an emulator the
    /// test runs); `None` for the embedded emulator.
    pub mesh: Option<(String, String, String)>,
}

impl AppProcess {
    /// An instance on SQLite under `data_dir`, with generated keys.
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            app_port: free_port(),
            emulator_port: free_port(),
            database_url: String::new(),
            keys: (String::new(), String::new()),
            mesh: None,
        }
    }

    /// Starts the binary; it is killed when the handle drops.
    pub fn spawn(&self) -> Child {
        self.command().spawn().expect("the server binary starts")
    }

    /// The command that starts the binary (logging errors only), to adjust before spawning.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mesh-link-starter"));
        command
            .current_dir(&self.data_dir)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{}", self.app_port))
            .env("LEPTOS_OUTPUT_NAME", "mesh-link-starter")
            .env("LEPTOS_SITE_ROOT", &self.data_dir)
            .env("MESH_ENV", "emulator")
            .env("MESH_CLIENT_ID", "")
            .env("MESH_CLIENT_SECRET", "")
            .env("DATABASE_URL", &self.database_url)
            .env("DATABASE_MAX_CONNECTIONS", "")
            .env("SESSION_KEY", &self.keys.0)
            .env("TOKEN_KEY", &self.keys.1)
            .env(
                "MESH_EMULATOR_ADDR",
                format!("127.0.0.1:{}", self.emulator_port),
            )
            .env("DATA_DIR", self.data_dir.join("data"))
            .env("RUST_LOG", "error")
            // Load from one address is what these tests make, not what they test.
            .env("RATE_LIMIT_PER_MINUTE", "1000000")
            .env("RATE_LIMIT_BURST", "1000000")
            .env("MAX_CONNECTIONS_PER_USER", "1000000")
            .kill_on_drop(true);
        if let Some((api_url, client_id, client_secret)) = &self.mesh {
            command
                .env("MESH_ENV", "sandbox")
                .env("MESH_API_URL", api_url)
                .env("MESH_CLIENT_ID", client_id)
                .env("MESH_CLIENT_SECRET", client_secret);
        }
        command
    }

    /// The URL of server function `endpoint`.
    pub fn url(&self, endpoint: &str) -> String {
        format!("http://127.0.0.1:{}/api/{endpoint}", self.app_port)
    }

    /// Waits until the app answers.
    pub async fn wait_ready(&self, http: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(response) = http.post(self.url("link_settings")).send().await
                && response.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not become ready in 60 s");
    }

    /// A new anonymous session: the `name=value` part of the cookie the app sets.
    pub async fn new_session(&self, http: &reqwest::Client) -> String {
        let response = http.post(self.url("link_settings")).send().await.unwrap();
        let cookie = response.headers()["set-cookie"].to_str().unwrap();
        cookie.split(';').next().unwrap().to_string()
    }

    /// The session's connections, as the browser gets them.
    pub async fn list(&self, http: &reqwest::Client, cookie: &str) -> Vec<Value> {
        let response = http
            .post(self.url("list_connections"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        response.json().await.unwrap()
    }
}

/// A `save_connection` body for one Robinhood account, as Link posts it; `cash` is left out
/// when `None`, as Link does for many brokers.
pub fn save_payload(account_id: &str, cash: Option<f64>) -> String {
    let mut account = json!({ "accountId": account_id, "accountName": account_id });
    if let Some(cash) = cash {
        account["cash"] = json!(cash);
    }
    json!({ "payload": { "accessToken": {
        "accountTokens": [{ "account": account, "accessToken": format!("access-{account_id}") }],
        "brokerBrandInfo": { "brokerLogo": "" },
        "brokerType": "robinhood",
        "brokerName": "Robinhood",
    }}})
    .to_string()
}
