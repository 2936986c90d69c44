//! Replicas on one Redis share the ledger of expected replays: one asks
//! the sender, any of them lets the stale replay in, and what is handled
//! is known to all.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use costkatana_webhooks::receiver::{DeliveryKey, Known};
use costkatana_webhooks::samples::{sample_event, Shape};
use costkatana_webhooks::signing::sign;
use costkatana_webhooks::{EventType, Payload, Receiver, Scheme};
use costkatana_webhooks_redis::RedisStore;
use support::RedisServer;

const SECRET: &str = "whsec_redis_replays";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn replica(server: &RedisServer, runs: &Arc<AtomicUsize>) -> Receiver {
    let runs = runs.clone();
    Receiver::builder()
        .secret(SECRET)
        .store(RedisStore::connect(&server.url()).await.unwrap())
        .fallback(move |_: Payload| {
            runs.fetch_add(1, Ordering::SeqCst);
            async { Ok(()) }
        })
        .build()
        .unwrap()
}

#[tokio::test]
async fn one_replica_asks_another_accepts_and_both_know() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let runs = Arc::new(AtomicUsize::new(0));
    let (first, second) = (replica(&server, &runs).await, replica(&server, &runs).await);
    // Signed an hour ago: a replay of a delivery the receiver never got.
    let signed_at = now_ms() - 3_600_000;
    let body = sample_event(
        &EventType::BudgetExceeded,
        Shape::Camel,
        "evt_replayed",
        signed_at,
    );
    let headers = sign(Scheme::Current, SECRET, signed_at, body.as_bytes());
    let send = |receiver: &Receiver| {
        let (headers, body) = (headers.clone(), body.clone());
        let receiver = receiver.clone();
        async move { receiver.receive("POST", &headers, body).await.label() }
    };
    assert_eq!(send(&second).await, "stale_timestamp");

    let key = DeliveryKey::EventId("evt_replayed");
    let ttl = Duration::from_secs(600);
    assert!(first.replay_ledger().expect_replay(key, ttl).await.unwrap());
    assert!(
        !second
            .replay_ledger()
            .expect_replay(key, ttl)
            .await
            .unwrap(),
        "the other replica sees it was asked"
    );
    assert_eq!(send(&second).await, "processed");
    assert_eq!(send(&first).await, "duplicate");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(
        first.replay_ledger().known(key).await.unwrap(),
        Known::Handled
    );
    assert!(first.replay_ledger().remembers_after_restart());
}
