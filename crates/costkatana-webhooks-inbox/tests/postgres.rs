//! The inbox suite on a real Postgres server, one database per test, plus
//! what only Postgres does: many replicas leasing from one table.

mod suite;

use std::collections::HashSet;
use std::time::Duration;

use costkatana_webhooks::inbox::InboxStore;
use costkatana_webhooks_inbox::testing::PostgresServer;
use costkatana_webhooks_inbox::Inbox;
use suite::support::{now_ms, Request};

/// A server of the test's own (dropped, so stopped, when the test ends)
/// and a database on it.
fn database() -> Option<(PostgresServer, String)> {
    let server = PostgresServer::start()?;
    let url = server.create_database("inbox");
    Some((server, url))
}

async fn open(_name: &str) -> Option<(Inbox, PostgresServer)> {
    let (server, url) = database()?;
    Some((Inbox::open(&url).await.unwrap(), server))
}

inbox_suite!(open);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_leasing_at_once_never_share_a_row() {
    let Some((_server, url)) = database() else {
        return;
    };
    let replicas = [
        Inbox::open(&url).await.unwrap(),
        Inbox::open(&url).await.unwrap(),
        Inbox::open(&url).await.unwrap(),
    ];
    let receiver = suite::stopped(&replicas[0]).await; // its workers stay out of it
    for i in 0..300 {
        let outcome = Request::event(&format!("evt_{i}")).send(&receiver).await;
        assert_eq!(outcome.label(), "stored");
    }
    let mut takers = Vec::new();
    for replica in &replicas {
        for _ in 0..4 {
            let replica = replica.clone();
            takers.push(tokio::spawn(async move {
                let mut ids = Vec::new();
                loop {
                    let jobs = replica
                        .take(now_ms(), Duration::from_secs(60), 7)
                        .await
                        .unwrap();
                    if jobs.is_empty() {
                        return ids;
                    }
                    ids.extend(jobs.iter().map(|job| job.id));
                }
            }));
        }
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for taker in takers {
        for id in taker.await.unwrap() {
            total += 1;
            assert!(seen.insert(id), "row {id} leased twice");
        }
    }
    assert_eq!(total, 300);
    assert_eq!(replicas[1].stats().await.unwrap().running, 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_a_clear_error_naming_it_without_the_password() {
    let err = Inbox::open("postgres://app:hunter2@127.0.0.1:1/webhooks")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("postgres://127.0.0.1:1/webhooks"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}
