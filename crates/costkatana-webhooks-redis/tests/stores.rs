//! One suite of claim / complete / release / lease / TTL cases, run against
//! the in-memory store (with a manual clock) and a real redis-server (with
//! real time, so its durations are short).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::dedupe::{Claim, DedupeStore, MemoryStore};
use costkatana_webhooks::ManualClock;
use costkatana_webhooks_redis::testing::RedisServer;
use costkatana_webhooks_redis::RedisStore;

const LEASE: Duration = Duration::from_millis(300);
const TTL: Duration = Duration::from_millis(600);

async fn fresh(
    store: &impl DedupeStore,
    key: &str,
    lease: Duration,
) -> costkatana_webhooks::dedupe::ClaimToken {
    match store.claim(key, lease).await.unwrap() {
        Claim::Fresh(token) => token,
        other => panic!("{key}: expected a fresh claim, got {other:?}"),
    }
}

/// The suite. `pass(d)` lets `d` of the store's time go by.
async fn suite<S, F, Fut>(store: Arc<S>, pass: F)
where
    S: DedupeStore,
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    // Fresh, then in flight, then done.
    let token = fresh(&*store, "ns:a", LEASE).await;
    assert_eq!(store.claim("ns:a", LEASE).await.unwrap(), Claim::InFlight);
    store.complete("ns:a", token, TTL).await.unwrap();
    assert_eq!(store.claim("ns:a", LEASE).await.unwrap(), Claim::Done);

    // Of 50 concurrent claims, exactly one is fresh.
    let claims: Vec<_> = (0..50)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .claim("ns:race", Duration::from_secs(60))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut fresh_count = 0;
    for claim in claims {
        match claim.await.unwrap() {
            Claim::Fresh(_) => fresh_count += 1,
            other => assert_eq!(other, Claim::InFlight),
        }
    }
    assert_eq!(fresh_count, 1);

    // Release frees the key for the retry.
    let token = fresh(&*store, "ns:b", LEASE).await;
    store.release("ns:b", token).await.unwrap();
    let token = fresh(&*store, "ns:b", LEASE).await;
    store.complete("ns:b", token, TTL).await.unwrap();

    // Namespaces never collide.
    fresh(&*store, "other:a", LEASE).await;

    // A completed key is forgotten after its TTL; a lease ends by itself.
    let old = fresh(&*store, "ns:c", LEASE).await;
    pass(LEASE).await;
    let new = fresh(&*store, "ns:c", LEASE).await;
    // The expired holder can neither complete nor release the new claim.
    store.complete("ns:c", old, TTL).await.unwrap();
    assert_eq!(store.claim("ns:c", LEASE).await.unwrap(), Claim::InFlight);
    store.release("ns:c", old).await.unwrap();
    assert_eq!(store.claim("ns:c", LEASE).await.unwrap(), Claim::InFlight);
    store.complete("ns:c", new, TTL).await.unwrap();
    assert_eq!(store.claim("ns:c", LEASE).await.unwrap(), Claim::Done);

    pass(TTL).await;
    fresh(&*store, "ns:a", LEASE).await;
    fresh(&*store, "ns:c", LEASE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store() {
    let clock = Arc::new(ManualClock::new(1_777_377_600_000));
    let store = Arc::new(MemoryStore::builder().clock(clock.clone()).build());
    suite(store, |d| {
        clock.advance_ms(i64::try_from(d.as_millis()).unwrap());
        std::future::ready(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = Arc::new(RedisStore::connect(&server.url()).await.unwrap());
    // Redis keeps real time: let it pass, with a margin for its expiry.
    suite(store, |d| tokio::time::sleep(d + Duration::from_millis(50))).await;
}
