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

async fn open(name: &str) -> Option<(Inbox, PostgresServer)> {
    let (server, url) = database()?;
    let inbox = Inbox::builder(&url)
        .keep_done_bodies(suite::keeps_done_bodies(name))
        .open()
        .await
        .unwrap();
    Some((inbox, server))
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

/// Asks `inbox` whether it leads `task`, every 10 ms for up to 20 s,
/// until the answer is `leads`.
async fn until_lead(inbox: &Inbox, task: &'static str, leads: bool) {
    for _ in 0..2000 {
        if inbox.lead(task).await.unwrap() == leads {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the inbox never answered lead({task:?}) = {leads}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replica_leads_a_task_and_another_takes_over_when_it_goes() {
    let Some((_server, url)) = database() else {
        return;
    };
    let (first, second) = (
        Inbox::open(&url).await.unwrap(),
        Inbox::open(&url).await.unwrap(),
    );
    assert!(first.lead("purge").await.unwrap());
    assert!(!second.lead("purge").await.unwrap());
    // Asked again, each keeps its answer; another task is led apart.
    assert!(first.lead("purge").await.unwrap());
    assert!(!second.lead("purge").await.unwrap());
    assert!(second.lead("catch-up").await.unwrap());
    assert!(!first.lead("catch-up").await.unwrap());

    // The leader goes (with every clone of it): its session, and its lock,
    // end with it.
    let clone = first.clone();
    drop(first);
    assert!(!second.lead("purge").await.unwrap(), "a clone still leads");
    drop(clone);
    until_lead(&second, "purge", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_whose_session_is_killed_loses_the_lead_to_the_next_asker() {
    let Some((_server, url)) = database() else {
        return;
    };
    let (first, second) = (
        Inbox::open(&url).await.unwrap(),
        Inbox::open(&url).await.unwrap(),
    );
    assert!(first.lead("purge").await.unwrap());
    assert!(!second.lead("purge").await.unwrap());
    let (admin, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let killed = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_locks
             WHERE locktype = 'advisory' AND granted",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(killed.len(), 1, "one session holds the lock");
    until_lead(&second, "purge", true).await;
    // The old leader notices its session is gone and asks again: no.
    assert!(!first.lead("purge").await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_inboxes_in_one_database_lead_apart() {
    let Some((_server, url)) = database() else {
        return;
    };
    let default = Inbox::open(&url).await.unwrap();
    let other = Inbox::builder(&url)
        .table("other_inbox")
        .open()
        .await
        .unwrap();
    assert!(default.lead("purge").await.unwrap());
    assert!(other.lead("purge").await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_opening_an_empty_database_together_migrate_it_once() {
    let Some((_server, url)) = database() else {
        return;
    };
    let opens = (0..4).map(|_| {
        let url = url.clone();
        tokio::spawn(async move { Inbox::open(&url).await })
    });
    for open in opens.collect::<Vec<_>>() {
        open.await.unwrap().unwrap();
    }
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let versions: Vec<i64> = client
        .query(
            "SELECT version FROM costkatana_webhook_inbox_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(versions, [1, 2, 3, 4, 5]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_is_shown_in_the_servers_words_and_code() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let err = Inbox::open(&server.url_for("no_such_db"))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        costkatana_webhooks_inbox::InboxErrorKind::Unavailable
    );
    let shown = err.to_string();
    assert!(
        shown.contains("database \"no_such_db\" does not exist (SQLSTATE 3D000)"),
        "{shown}"
    );
}
