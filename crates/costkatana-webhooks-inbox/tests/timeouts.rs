//! Postgres never hangs instead of answering 503: a delivery whose key
//! another session holds in an open transaction is answered 503 well
//! within the sender's 30 s, and the deliveries beside it are stored.

#[path = "suite/support.rs"]
mod support;

use std::time::{Duration, Instant};

use costkatana_webhooks::inbox::EntryQuery;
use costkatana_webhooks::{Payload, Receiver};
use costkatana_webhooks_inbox::testing::PostgresServer;
use costkatana_webhooks_inbox::Inbox;
use support::{Request, SECRET};

/// The sender gives up on a delivery after this.
const SENDER_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_whose_key_another_session_locks_is_answered_503_in_time() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let url = server.create_database("locked");
    let inbox = Inbox::open(&url).await.unwrap();
    let receiver = Receiver::builder()
        .secret(SECRET)
        .inbox(inbox.clone())
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .unwrap();
    let locked = Request::event("evt_locked");
    assert_eq!(locked.send(&receiver).await.label(), "stored");
    let id = inbox.list(&EntryQuery::new()).await.unwrap()[0].id;

    // Another session deletes the row and keeps its transaction open: an
    // insert of the same key must wait for that transaction's outcome.
    let (mut other, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let holding = other.transaction().await.unwrap();
    holding
        .execute("DELETE FROM costkatana_webhook_inbox WHERE id = $1", &[&id])
        .await
        .unwrap();

    let started = Instant::now();
    let (again, beside) = tokio::join!(
        tokio::time::timeout(
            SENDER_TIMEOUT + Duration::from_secs(10),
            locked.send(&receiver)
        ),
        async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Request::event("evt_beside").send(&receiver).await
        }
    );
    let waited = started.elapsed();
    let again = again.expect("answered, not hung");
    assert_eq!(again.label(), "store_unavailable");
    assert_eq!(again.answer().status, 503);
    assert!(
        waited < SENDER_TIMEOUT - Duration::from_secs(5),
        "answered after {waited:?}, too close to the sender's time-out"
    );
    assert_eq!(beside.label(), "stored");

    holding.rollback().await.unwrap();
    assert_eq!(locked.send(&receiver).await.label(), "duplicate");
}
