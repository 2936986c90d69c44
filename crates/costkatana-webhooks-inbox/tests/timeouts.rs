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

/// A TCP proxy to a Postgres server that can be made to swallow every
/// byte without closing anything: a network that went silent.
struct Blackhole {
    port: u16,
    silent: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Blackhole {
    async fn start(to: u16) -> Blackhole {
        use std::sync::atomic::{AtomicBool, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let silent = std::sync::Arc::new(AtomicBool::new(false));
        let flag = silent.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", to)).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                for (mut from, mut to) in [(client_read, server_write), (server_read, client_write)]
                {
                    let silent = flag.clone();
                    tokio::spawn(async move {
                        let mut buf = vec![0u8; 64 * 1024];
                        while let Ok(n) = from.read(&mut buf).await {
                            if n == 0 {
                                break;
                            }
                            if !silent.load(Ordering::SeqCst)
                                && to.write_all(&buf[..n]).await.is_err()
                            {
                                break;
                            }
                        }
                    });
                }
            }
        });
        Blackhole { port, silent }
    }

    fn go_silent(&self, silent: bool) {
        self.silent
            .store(silent, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_network_is_answered_503_in_time_and_health_says_so() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    server.create_database("silent");
    let proxy = Blackhole::start(server.port()).await;
    let url = format!("postgres://postgres@127.0.0.1:{}/silent", proxy.port);
    let inbox = Inbox::open(&url).await.unwrap();
    let receiver = Receiver::builder()
        .secret(SECRET)
        .inbox(inbox.clone())
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .unwrap();
    assert_eq!(
        Request::event("evt_before").send(&receiver).await.label(),
        "stored"
    );
    assert_eq!(receiver.health().await.status(), 200);

    proxy.go_silent(true);
    let started = Instant::now();
    let during = tokio::time::timeout(
        SENDER_TIMEOUT + Duration::from_secs(10),
        Request::event("evt_during").send(&receiver),
    )
    .await
    .expect("answered, not hung");
    let waited = started.elapsed();
    assert_eq!(during.answer().status, 503);
    assert!(
        waited < SENDER_TIMEOUT - Duration::from_secs(5),
        "answered after {waited:?}, too close to the sender's time-out"
    );
    let health = tokio::time::timeout(SENDER_TIMEOUT, receiver.health())
        .await
        .expect("health answers, not hangs");
    assert_eq!(health.status(), 503);

    proxy.go_silent(false);
    let mut after = None;
    for _ in 0..50 {
        let outcome = Request::event("evt_after").send(&receiver).await;
        if outcome.label() == "stored" {
            after = Some(outcome);
            break;
        }
    }
    assert!(after.is_some(), "stored again once the network is back");
    assert_eq!(receiver.health().await.status(), 200);
}
