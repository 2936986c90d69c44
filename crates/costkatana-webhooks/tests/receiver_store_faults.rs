//! A dedupe store that fails: 503 `store_unavailable` before any handler
//! runs; a failure to settle after the handler never makes the sender run
//! it again, and the claim frees when its lease ends.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::dedupe::{
    Claim, ClaimToken, Completion, DedupeStore, MemoryStore, StoreError, StoreFuture,
};
use costkatana_webhooks::receiver::{HandlerError, Receiver};
use costkatana_webhooks::{ManualClock, Payload};
use support::{builder, code, payload_key, Request, NOW};

const LEASE_MS: i64 = 60_000;

/// A memory store whose operations can be made to fail, like a network
/// store that is unreachable.
#[derive(Clone, Default)]
struct FlakyStore {
    inner: MemoryStore,
    fail_claim: Arc<AtomicBool>,
    fail_settle: Arc<AtomicBool>,
}

impl FlakyStore {
    fn on(clock: &Arc<ManualClock>) -> Self {
        FlakyStore {
            inner: MemoryStore::builder().clock(clock.clone()).build(),
            ..FlakyStore::default()
        }
    }

    fn down(flag: &AtomicBool) -> Option<StoreError> {
        flag.load(Ordering::SeqCst)
            .then(|| StoreError::new("connection refused"))
    }
}

impl DedupeStore for FlakyStore {
    fn claim<'a>(&'a self, key: &'a str, lease: Duration) -> StoreFuture<'a, Claim> {
        match Self::down(&self.fail_claim) {
            Some(err) => Box::pin(async { Err(err) }),
            None => self.inner.claim(key, lease),
        }
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        token: ClaimToken,
        ttl: Duration,
    ) -> StoreFuture<'a, Completion> {
        match Self::down(&self.fail_settle) {
            Some(err) => Box::pin(async { Err(err) }),
            None => self.inner.complete(key, token, ttl),
        }
    }

    fn release<'a>(&'a self, key: &'a str, token: ClaimToken) -> StoreFuture<'a, ()> {
        match Self::down(&self.fail_settle) {
            Some(err) => Box::pin(async { Err(err) }),
            None => self.inner.release(key, token),
        }
    }
}

/// A receiver on `store` whose handler counts its runs and fails for ids
/// starting with `fail`.
fn counting(clock: &Arc<ManualClock>, store: &FlakyStore, runs: &Arc<AtomicUsize>) -> Receiver {
    let runs = runs.clone();
    builder(clock, move |payload: Payload, _| {
        runs.fetch_add(1, Ordering::SeqCst);
        let fail = payload_key(&payload).starts_with("fail");
        async move {
            if fail {
                return Err(HandlerError::from("downstream unavailable"));
            }
            Ok(())
        }
    })
    .store(store.clone())
    .lease(Duration::from_millis(LEASE_MS as u64))
    .build()
    .unwrap()
}

#[tokio::test]
async fn an_unreachable_store_answers_503_and_runs_no_handler() {
    let clock = Arc::new(ManualClock::new(NOW));
    let (store, runs) = (FlakyStore::on(&clock), Arc::new(AtomicUsize::new(0)));
    let receiver = counting(&clock, &store, &runs);
    let request = Request::event("evt_1");

    store.fail_claim.store(true, Ordering::SeqCst);
    let outcome = request.send(&receiver).await;
    let response = outcome.answer();
    assert_eq!(
        (response.status, code(&outcome), response.retry_after_secs),
        (503, "store_unavailable", Some(5))
    );
    assert_eq!(runs.load(Ordering::SeqCst), 0);

    // The store is back: the sender's retry is processed, once.
    store.fail_claim.store(false, Ordering::SeqCst);
    assert_eq!(code(&request.send(&receiver).await), "processed");
    assert_eq!(code(&request.send(&receiver).await), "duplicate");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn handled_but_not_marked_done_answers_200_and_holds_until_the_lease_ends() {
    let clock = Arc::new(ManualClock::new(NOW));
    let (store, runs) = (FlakyStore::on(&clock), Arc::new(AtomicUsize::new(0)));
    let receiver = counting(&clock, &store, &runs);
    let request = Request::event("evt_1");

    store.fail_settle.store(true, Ordering::SeqCst);
    assert_eq!(
        code(&request.send(&receiver).await),
        "processed",
        "a 5xx would make the sender run the handler again"
    );
    store.fail_settle.store(false, Ordering::SeqCst);
    clock.advance_ms(LEASE_MS - 1);
    assert_eq!(code(&request.send(&receiver).await), "in_progress");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    clock.advance_ms(1);
    assert_eq!(
        code(&request.send(&receiver).await),
        "processed",
        "the claim freed with its lease"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_failed_handler_whose_claim_cannot_be_released_is_retried_after_the_lease() {
    let clock = Arc::new(ManualClock::new(NOW));
    let (store, runs) = (FlakyStore::on(&clock), Arc::new(AtomicUsize::new(0)));
    let receiver = counting(&clock, &store, &runs);
    let request = Request::event("fail_1");

    store.fail_settle.store(true, Ordering::SeqCst);
    let failed = request.send(&receiver).await;
    assert_eq!(
        (failed.answer().status, code(&failed)),
        (500, "handler_failed")
    );
    store.fail_settle.store(false, Ordering::SeqCst);
    clock.advance_ms(LEASE_MS - 1);
    assert_eq!(code(&request.send(&receiver).await), "in_progress");
    clock.advance_ms(1);
    assert_eq!(code(&request.send(&receiver).await), "handler_failed");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}
