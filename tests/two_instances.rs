//! Two app instances behind one PostgreSQL, as behind a load balancer: a connection saved on one
//! is listed and disconnected on the other, and concurrent saves on both are all kept, once.
//! Needs `TEST_DATABASE_URL` (scripts/test.sh starts a throwaway PostgreSQL).
#![cfg(feature = "ssr")]

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use common::{AppProcess, SESSION_KEY, TOKEN_KEY, save_payload};

/// The keys every instance shares (as production requires); test values only.
/// Clients per instance, each with its own session, and saves per client.
const CLIENTS: usize = 8;
const SAVES_PER_CLIENT: usize = 100;

fn database_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but TEST_DATABASE_URL is not set: the two-instance test must run in CI")
        }
        _ => {
            eprintln!(
                "\n!!! SKIPPED: two instances on one PostgreSQL. Set TEST_DATABASE_URL. !!!\n"
            );
            None
        }
    }
}

fn instance(dir: &tempfile::TempDir, name: &str, database_url: &str) -> AppProcess {
    let data_dir = dir.path().join(name);
    std::fs::create_dir_all(&data_dir).unwrap();
    AppProcess {
        database_url: database_url.to_string(),
        keys: (SESSION_KEY.to_string(), TOKEN_KEY.to_string()),
        ..AppProcess::new(data_dir)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_one_postgresql_without_losing_or_duplicating() {
    let Some(database_url) = database_url() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        instance(&dir, "a", &database_url),
        instance(&dir, "b", &database_url),
    );
    // Started together, so both run the migrations at once.
    let (_a_process, _b_process) = (a.spawn(), b.spawn());
    let http = reqwest::Client::new();
    a.wait_ready(&http).await;
    b.wait_ready(&http).await;

    // A session made on one instance is the same user on the other (shared SESSION_KEY).
    let cookie = a.new_session(&http).await;
    let save = |instance: &AppProcess, body: String| {
        http.post(instance.url("save_connection"))
            .header("content-type", "application/json")
            .header("cookie", &cookie)
            .body(body)
            .send()
    };
    // Issue 7's first step: an account without cash, then one with, on the same instance.
    assert!(
        save(&a, save_payload("no-cash", None))
            .await
            .unwrap()
            .status()
            .is_success()
    );
    assert!(
        save(&a, save_payload("cash", Some(12.5)))
            .await
            .unwrap()
            .status()
            .is_success()
    );
    let listed = b.list(&http, &cookie).await;
    let names: HashSet<_> = listed
        .iter()
        .filter_map(|c| c["account_name"].as_str())
        .collect();
    assert_eq!(
        names,
        HashSet::from(["no-cash", "cash"]),
        "B lists what A saved"
    );
    let id = listed[0]["id"].as_str().unwrap();
    let disconnected = http
        .post(b.url("disconnect"))
        .header("cookie", &cookie)
        .form(&[("id", id)])
        .send()
        .await
        .unwrap();
    assert!(
        disconnected.status().is_success(),
        "{}",
        disconnected.status()
    );
    assert_eq!(
        a.list(&http, &cookie).await.len(),
        1,
        "A no longer lists what B disconnected"
    );

    // Concurrent saves on both instances, with and without cash, each client its own session.
    let mut clients = Vec::new();
    for n in 0..CLIENTS * 2 {
        let instance = if n % 2 == 0 { &a } else { &b };
        clients.push((
            n,
            a.new_session(&http).await,
            instance.url("save_connection"),
        ));
    }
    let acknowledged: Arc<Mutex<Vec<(usize, String)>>> = Arc::default();
    let refused = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let workers: Vec<_> = clients
        .iter()
        .cloned()
        .map(|(client, cookie, url)| {
            let (http, acknowledged, refused) =
                (http.clone(), acknowledged.clone(), refused.clone());
            tokio::spawn(async move {
                for n in 0..SAVES_PER_CLIENT {
                    let account_id = format!("c{client}-{n}");
                    let cash = (n % 3 != 0).then_some(n as f64 + 0.25);
                    let response = http
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("cookie", &cookie)
                        .body(save_payload(&account_id, cash))
                        .send()
                        .await
                        .expect("the instance answers");
                    if response.status().is_success() {
                        acknowledged.lock().unwrap().push((client, account_id));
                    } else {
                        let status = response.status();
                        let body = response.text().await.unwrap_or_default();
                        refused
                            .lock()
                            .unwrap()
                            .push(format!("{account_id}: {status} {body}"));
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let elapsed = started.elapsed();
    let refused = refused.lock().unwrap().clone();
    assert!(
        refused.is_empty(),
        "{} saves refused, first: {}",
        refused.len(),
        refused[0]
    );

    let acknowledged = acknowledged.lock().unwrap().clone();
    let mut rows = 0;
    for (client, cookie, _) in &clients {
        // Each client's rows, read through both instances.
        for (reader, name) in [(&a, "A"), (&b, "B")] {
            let listed = reader.list(&http, cookie).await;
            let names: Vec<&str> = listed
                .iter()
                .filter_map(|c| c["account_name"].as_str())
                .collect();
            let unique: HashSet<&str> = names.iter().copied().collect();
            assert_eq!(
                unique.len(),
                names.len(),
                "client {client}: a row is duplicated on {name}"
            );
            let expected: HashSet<&str> = acknowledged
                .iter()
                .filter(|(c, _)| c == client)
                .map(|(_, id)| id.as_str())
                .collect();
            assert_eq!(
                unique, expected,
                "client {client}: {name} lists other rows than acknowledged"
            );
            if name == "A" {
                rows += names.len();
            }
        }
    }
    assert_eq!(rows, acknowledged.len(), "rows equal acknowledged saves");
    eprintln!(
        "two instances on one PostgreSQL: {} saves from {} clients acknowledged in {:.2} s \
         ({:.0} saves/s), 0 refused, {rows} rows",
        acknowledged.len(),
        clients.len(),
        elapsed.as_secs_f64(),
        acknowledged.len() as f64 / elapsed.as_secs_f64()
    );
}
