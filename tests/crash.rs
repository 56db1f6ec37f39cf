//! Crash safety: the server is killed with SIGKILL while saves are in flight; after a restart,
//! every save that was acknowledged to its client is there.
#![cfg(feature = "ssr")]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{AppProcess, save_payload};

const WORKERS: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_saves_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let server = AppProcess::new(dir.path().to_path_buf());
    let http = reqwest::Client::new();
    let mut child = server.spawn();
    server.wait_ready(&http).await;

    let mut cookies = Vec::new();
    for _ in 0..WORKERS {
        cookies.push(server.new_session(&http).await);
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
                        .body(save_payload(&account_id, Some(n as f64)))
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
        let listed = server.list(&http, cookie).await;
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
