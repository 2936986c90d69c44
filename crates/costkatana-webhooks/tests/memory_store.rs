//! The in-memory store under real threads: of concurrent claims of one key
//! exactly one is fresh; only the owning token settles a claim.

mod support;

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::dedupe::{Claim, ClaimToken, DedupeStore, MemoryStore};
use costkatana_webhooks::ManualClock;
use support::{claim_now, key, NOW};

const TTL: Duration = Duration::from_secs(86_400);

/// Polls a memory-store future, which is always ready.
fn now<T>(future: costkatana_webhooks::dedupe::StoreFuture<'_, T>) -> T {
    let mut future = future;
    let waker = std::task::Waker::noop();
    match future
        .as_mut()
        .poll(&mut std::task::Context::from_waker(waker))
    {
        std::task::Poll::Ready(result) => result.unwrap(),
        std::task::Poll::Pending => unreachable!("the memory store never waits"),
    }
}

#[test]
fn concurrent_claims_of_a_key_have_exactly_one_winner() {
    const KEYS: usize = 5_000;
    const THREADS: usize = 4;
    let store = MemoryStore::new();
    let fresh: Arc<Vec<AtomicU8>> = Arc::new((0..KEYS).map(|_| AtomicU8::new(0)).collect());
    let start = Arc::new(std::sync::Barrier::new(THREADS));
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (store, fresh, start) = (&store, fresh.clone(), start.clone());
            scope.spawn(move || {
                start.wait();
                for i in 0..KEYS {
                    // Odd threads walk backwards, so every key meets contention.
                    let i = if thread % 2 == 0 { i } else { KEYS - 1 - i };
                    match claim_now(store, &key(i)) {
                        Claim::Fresh(token) => {
                            fresh[i].fetch_add(1, Ordering::SeqCst);
                            // The winner completes at once: later claims are Done, never Fresh.
                            now(store.complete(&key(i), token, TTL));
                        }
                        Claim::InFlight | Claim::Done => {}
                    }
                }
            });
        }
    });
    let winners: Vec<u8> = fresh.iter().map(|n| n.load(Ordering::SeqCst)).collect();
    assert!(
        winners.iter().all(|&n| n == 1),
        "keys with other than one winner: {:?}",
        winners
            .iter()
            .enumerate()
            .filter(|(_, &n)| n != 1)
            .take(10)
            .collect::<Vec<_>>()
    );
    assert!((0..KEYS).all(|i| claim_now(&store, &key(i)) == Claim::Done));
}

#[test]
fn only_the_owning_token_settles_a_claim() {
    let clock = Arc::new(ManualClock::new(NOW));
    let store = MemoryStore::builder().clock(clock.clone()).build();
    let Claim::Fresh(owner) = claim_now(&store, "ns:k") else {
        panic!("a new key is fresh")
    };
    let stranger = ClaimToken::random();
    now(store.complete("ns:k", stranger, TTL));
    now(store.release("ns:k", stranger));
    assert_eq!(claim_now(&store, "ns:k"), Claim::InFlight);
    now(store.release("ns:k", owner));
    let Claim::Fresh(second) = claim_now(&store, "ns:k") else {
        panic!("released by its owner")
    };
    // The first owner's token no longer owns the key.
    now(store.complete("ns:k", owner, TTL));
    assert_eq!(claim_now(&store, "ns:k"), Claim::InFlight);
    now(store.complete("ns:k", second, TTL));
    assert_eq!(claim_now(&store, "ns:k"), Claim::Done);
}

#[test]
fn releasing_a_key_nobody_holds_changes_nothing_completing_one_records_it() {
    let store = MemoryStore::new();
    now(store.release("ns:never-claimed", ClaimToken::random()));
    assert!(store.is_empty());
    // Nobody holds it (a lease that lapsed and was reclaimed): the success
    // is recorded.
    assert_eq!(
        now(store.complete("ns:lapsed", ClaimToken::random(), TTL)),
        costkatana_webhooks::dedupe::Completion::Recorded
    );
    assert_eq!(claim_now(&store, "ns:lapsed"), Claim::Done);
}

#[test]
fn a_done_key_is_remembered_for_its_ttl_not_its_lease() {
    let clock = Arc::new(ManualClock::new(NOW));
    let store = MemoryStore::builder().clock(clock.clone()).build();
    let Claim::Fresh(token) = claim_now(&store, "ns:k") else {
        panic!()
    };
    clock.advance_ms(59_000); // near the end of the 60 s lease
    now(store.complete("ns:k", token, Duration::from_secs(600)));
    clock.advance_ms(599_999);
    assert_eq!(
        claim_now(&store, "ns:k"),
        Claim::Done,
        "the TTL runs from completion"
    );
    clock.advance_ms(1);
    assert!(matches!(claim_now(&store, "ns:k"), Claim::Fresh(_)));
}
