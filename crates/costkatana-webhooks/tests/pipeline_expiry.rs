//! Dedupe TTL and claim leases, with an injected clock (no sleeps).

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::dedupe::{Claim, DedupeStore, MemoryStore};
use costkatana_webhooks::ManualClock;
use support::{builder, code, Request, NOW};

#[tokio::test]
async fn the_store_forgets_a_completed_key_after_its_ttl() {
    let clock = Arc::new(ManualClock::new(NOW));
    let store = MemoryStore::builder().clock(clock.clone()).build();
    let Claim::Fresh(token) = store.claim("k", Duration::from_secs(60)).await.unwrap() else {
        panic!()
    };
    store
        .complete("k", token, Duration::from_secs(3600))
        .await
        .unwrap();
    clock.advance_ms(3_599_999);
    assert_eq!(
        store.claim("k", Duration::from_secs(60)).await.unwrap(),
        Claim::Done
    );
    clock.advance_ms(1);
    assert!(matches!(
        store.claim("k", Duration::from_secs(60)).await.unwrap(),
        Claim::Fresh(_)
    ));
}

#[tokio::test]
async fn late_retries_within_the_tolerance_are_duplicates_then_fresh_after_the_ttl() {
    let clock = Arc::new(ManualClock::new(NOW));
    let calls = Arc::new(AtomicUsize::new(0));
    let handler_calls = calls.clone();
    let receiver = support::receiver_on(&clock)
        .dangerously_disable_timestamp_check()
        .fallback(
            move |_: costkatana_webhooks::Payload, _: costkatana_webhooks::Delivery| {
                handler_calls.fetch_add(1, Ordering::SeqCst);
                async { Ok(()) }
            },
        )
        .dedupe_ttl(Duration::from_secs(3600))
        .build()
        .unwrap();
    let request = Request::event("evt_replayed");
    assert_eq!(code(&request.send(&receiver).await), "processed");
    clock.advance_ms(3_599_999);
    assert_eq!(code(&request.send(&receiver).await), "duplicate");
    clock.advance_ms(1);
    assert_eq!(
        code(&request.send(&receiver).await),
        "processed",
        "forgotten after the TTL"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_hung_holder_is_taken_over_after_its_lease() {
    let clock = Arc::new(ManualClock::new(NOW));
    let calls = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(tokio::sync::Notify::new());
    let (handler_calls, handler_started) = (calls.clone(), started.clone());
    let receiver = builder(&clock, move |_, _| {
        let (calls, started) = (handler_calls.clone(), handler_started.clone());
        async move {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                started.notify_one();
                std::future::pending::<()>().await; // hangs, holding its claim
            }
            Ok(())
        }
    })
    .lease(Duration::from_secs(60))
    .build()
    .unwrap();
    let request = Request::event("evt_hung");
    let hung = tokio::spawn({
        let (receiver, request) = (receiver.clone(), request.clone());
        async move { request.send(&receiver).await }
    });
    started.notified().await;
    clock.advance_ms(59_999);
    assert_eq!(code(&request.send(&receiver).await), "in_progress");
    clock.advance_ms(1);
    assert_eq!(
        code(&request.send(&receiver).await),
        "processed",
        "the lease ended"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    hung.abort();
}

#[tokio::test]
async fn an_expired_holder_cannot_settle_the_new_claim() {
    let clock = Arc::new(ManualClock::new(NOW));
    let store = MemoryStore::builder().clock(clock.clone()).build();
    let lease = Duration::from_secs(60);
    let Claim::Fresh(old) = store.claim("ns:k", lease).await.unwrap() else {
        panic!()
    };
    clock.advance_ms(60_000);
    let Claim::Fresh(new) = store.claim("ns:k", lease).await.unwrap() else {
        panic!("lease ended")
    };
    assert_ne!(old, new);
    store
        .complete("ns:k", old, Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(
        store.claim("ns:k", lease).await.unwrap(),
        Claim::InFlight,
        "old token did nothing"
    );
    store.release("ns:k", old).await.unwrap();
    assert_eq!(
        store.claim("ns:k", lease).await.unwrap(),
        Claim::InFlight,
        "old token did nothing"
    );
    store.release("ns:k", new).await.unwrap();
    assert!(matches!(
        store.claim("ns:k", lease).await.unwrap(),
        Claim::Fresh(_)
    ));
    // Namespaces never collide.
    assert!(matches!(
        store.claim("other:k", lease).await.unwrap(),
        Claim::Fresh(_)
    ));
}
