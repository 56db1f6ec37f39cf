//! Crash safety: the server is killed with SIGKILL while saves are in flight; after a restart,
//! every save that was acknowledged to its client is there.
#![cfg(feature = "ssr")]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::process::{Child, Command};

const WORKERS: usize = 8;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

struct Server {
    data_dir: std::path::PathBuf,
    app_port: u16,
    emulator_port: u16,
}

impl Server {
    fn spawn(&self) -> Child {
        Command::new(env!("CARGO_BIN_EXE_mesh-link-starter"))
            .current_dir(&self.data_dir)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{}", self.app_port))
            .env("LEPTOS_OUTPUT_NAME", "mesh-link-starter")
            .env("LEPTOS_SITE_ROOT", &self.data_dir)
            .env("MESH_ENV", "emulator")
            .env("MESH_CLIENT_ID", "")
            .env("MESH_CLIENT_SECRET", "")
            .env("DATABASE_URL", "")
            .env("SESSION_KEY", "")
            .env("TOKEN_KEY", "")
            .env(
                "MESH_EMULATOR_ADDR",
                format!("127.0.0.1:{}", self.emulator_port),
            )
            .env("DATA_DIR", self.data_dir.join("data"))
            .env("RUST_LOG", "error")
            .kill_on_drop(true)
            .spawn()
            .expect("the server binary starts")
    }

    fn url(&self, endpoint: &str) -> String {
        format!("http://127.0.0.1:{}/api/{endpoint}", self.app_port)
    }

    async fn wait_ready(&self, http: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(response) = http.post(self.url("link_settings")).send().await
                && response.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not become ready in 30 s");
    }
}

fn payload(account_id: &str) -> String {
    json!({ "payload": { "accessToken": {
        "accountTokens": [{
            "account": { "accountId": account_id, "accountName": account_id },
            "accessToken": format!("access-{account_id}"),
        }],
        "brokerBrandInfo": { "brokerLogo": "" },
        "brokerType": "robinhood",
        "brokerName": "Robinhood",
    }}})
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_saves_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server {
        data_dir: dir.path().to_path_buf(),
        app_port: free_port(),
        emulator_port: free_port(),
    };
    let http = reqwest::Client::new();
    let mut child = server.spawn();
    server.wait_ready(&http).await;

    let mut cookies = Vec::new();
    for _ in 0..WORKERS {
        let response = http.post(server.url("link_settings")).send().await.unwrap();
        let cookie = response.headers()["set-cookie"].to_str().unwrap();
        cookies.push(cookie.split(';').next().unwrap().to_string());
    }

    let acknowledged: Arc<Mutex<Vec<(usize, String)>>> = Arc::default();
    let workers: Vec<_> = cookies
        .iter()
        .enumerate()
        .map(|(worker, cookie)| {
            let (http, cookie, acknowledged) = (http.clone(), cookie.clone(), acknowledged.clone());
            let url = server.url("save_connection");
            tokio::spawn(async move {
                for n in 0.. {
                    let account_id = format!("w{worker}-{n}");
                    let sent = http
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("cookie", &cookie)
                        .body(payload(&account_id))
                        .send()
                        .await;
                    match sent {
                        Ok(response) if response.status().is_success() => {
                            // Acknowledged only once the whole answer arrived.
                            if response.bytes().await.is_ok() {
                                acknowledged.lock().unwrap().push((worker, account_id));
                            }
                        }
                        _ => return,
                    }
                }
            })
        })
        .collect();

    // Let saves pile up, then kill the server mid-flight.
    let deadline = Instant::now() + Duration::from_secs(20);
    while acknowledged.lock().unwrap().len() < 200 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.start_kill().expect("SIGKILL sent");
    child.wait().await.unwrap();
    for worker in workers {
        worker.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 50,
        "only {} saves before the kill",
        acknowledged.len()
    );

    let mut child = server.spawn();
    server.wait_ready(&http).await;
    for (worker, cookie) in cookies.iter().enumerate() {
        let listed: Vec<Value> = http
            .post(server.url("list_connections"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let present: std::collections::HashSet<&str> = listed
            .iter()
            .filter_map(|c| c["account_name"].as_str())
            .collect();
        for (_, account_id) in acknowledged.iter().filter(|(w, _)| *w == worker) {
            assert!(
                present.contains(account_id.as_str()),
                "acknowledged save {account_id} was lost"
            );
        }
    }
    eprintln!(
        "crash test: {} acknowledged saves across {WORKERS} clients, all present after SIGKILL",
        acknowledged.len()
    );
    child.start_kill().ok();
}
