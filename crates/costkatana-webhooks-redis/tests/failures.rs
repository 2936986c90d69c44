//! Redis down, slow or restarted: requests fail closed with 503
//! `store_unavailable`, no handler runs without a claim, and the sender's
//! retries succeed once Redis is back: every event is handled exactly once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use costkatana_webhooks::dedupe::{Claim, DedupeStore};
use costkatana_webhooks::receiver::{Delivery, HandlerError, Receiver, Router};
use costkatana_webhooks::testing::{sample_event, sign, Shape};
use costkatana_webhooks::{EventType, Outcome, Payload, Scheme, Verifier};
use costkatana_webhooks_redis::testing::RedisServer;
use costkatana_webhooks_redis::RedisStore;

const TIMEOUT: Duration = Duration::from_millis(500);

async fn store(server: &RedisServer) -> RedisStore {
    RedisStore::builder(&server.url())
        .timeout(TIMEOUT)
        .build()
        .await
        .unwrap()
}

/// Claims `key` until Redis answers (the connection manager reconnects).
async fn claim_when_back(store: &RedisStore, key: &str) -> Claim {
    for _ in 0..100 {
        if let Ok(claim) = store.claim(key, Duration::from_secs(60)).await {
            return claim;
        }
        tokio::time::sleep(Duration::from_millis(50)).await; // the sender's retry delay, shortened
    }
    panic!("Redis did not come back");
}

#[tokio::test]
async fn a_dead_server_fails_closed_promptly_and_a_restart_recovers() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let store = store(&server).await;
    assert!(matches!(
        store
            .claim("ns:before", Duration::from_secs(60))
            .await
            .unwrap(),
        Claim::Fresh(_)
    ));
    server.stop();
    for i in 0..3 {
        let started = Instant::now();
        let err = store
            .claim(&format!("ns:down-{i}"), Duration::from_secs(60))
            .await
            .unwrap_err();
        assert!(
            started.elapsed() < TIMEOUT + Duration::from_secs(1),
            "bounded by the timeout"
        );
        assert!(err.to_string().contains("redis claim"), "{err}");
        let answer = Outcome::Failed(err.into()).response();
        assert_eq!(answer.status, 503);
        assert!(answer.body.contains("store_unavailable"));
    }
    server.restart();
    assert!(matches!(
        claim_when_back(&store, "ns:after").await,
        Claim::Fresh(_)
    ));
}

#[tokio::test]
async fn connecting_to_nothing_is_a_clear_error() {
    let err = RedisStore::builder("redis://127.0.0.1:1/0")
        .timeout(TIMEOUT)
        .build()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot connect to Redis"), "{err}");
    let err = RedisStore::connect("http://not-redis").await.unwrap_err();
    assert!(err.to_string().contains("invalid Redis URL"), "{err}");
}

#[tokio::test]
async fn fail_open_handles_without_a_claim_when_redis_is_down() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::builder(&server.url())
        .timeout(TIMEOUT)
        .dangerously_fail_open()
        .build()
        .await
        .unwrap();
    server.stop();
    let Claim::Fresh(token) = store.claim("ns:k", Duration::from_secs(60)).await.unwrap() else {
        panic!("fail-open answers fresh")
    };
    store
        .complete("ns:k", token, Duration::from_secs(60))
        .await
        .unwrap();
    store.release("ns:k", token).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_run_then_restarted_every_event_once() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let runs = Arc::new(Mutex::new(std::collections::HashMap::<String, usize>::new()));
    let handler_runs = runs.clone();
    let receiver = Receiver::builder(
        Verifier::builder()
            .secret("s3cret")
            .dangerously_disable_timestamp_check()
            .build()
            .unwrap(),
    )
    .store(store(&server).await)
    .router(
        Router::new().fallback(move |payload: Payload, _: Delivery| {
            let runs = handler_runs.clone();
            async move {
                *runs
                    .lock()
                    .unwrap()
                    .entry(payload.event_id().unwrap_or_default().to_owned())
                    .or_default() += 1;
                Ok::<_, HandlerError>(())
            }
        }),
    )
    .build()
    .unwrap();
    let request = |i: usize| {
        let body = sample_event(&EventType::CostAlert, Shape::Camel, &format!("evt_{i}"), 0);
        (
            sign(Scheme::Current, "s3cret", 0, body.as_bytes()),
            bytes::Bytes::from(body),
        )
    };
    for i in 0..10 {
        let (headers, body) = request(i);
        assert_eq!(
            receiver.receive("POST", &headers, body).await.label(),
            "processed"
        );
    }
    server.stop();
    let failed = Arc::new(AtomicUsize::new(0));
    for i in 10..20 {
        let (headers, body) = request(i);
        let outcome = receiver.receive("POST", &headers, body).await;
        assert_eq!(
            (outcome.response().status, outcome.label()),
            (503, "store_unavailable")
        );
        failed.fetch_add(1, Ordering::SeqCst);
    }
    assert_eq!(
        runs.lock().unwrap().len(),
        10,
        "no handler ran without a claim"
    );
    server.restart();
    // The sender retries each 503 with the original request until it is delivered.
    for i in 10..20 {
        let (headers, body) = request(i);
        let mut delivered = false;
        for _ in 0..100 {
            let outcome = receiver.receive("POST", &headers, body.clone()).await;
            if outcome.response().status == 200 {
                delivered = true;
                break;
            }
            assert_eq!(outcome.label(), "store_unavailable", "{:?}", outcome);
            tokio::time::sleep(Duration::from_millis(50)).await; // the retry delay, shortened
        }
        assert!(delivered, "evt_{i} delivered after the restart");
    }
    let runs = runs.lock().unwrap();
    assert_eq!(runs.len(), 20);
    assert!(
        runs.values().all(|&n| n == 1),
        "every event exactly once: {runs:?}"
    );
    assert_eq!(failed.load(Ordering::SeqCst), 10);
}
