//! The in-memory store stays bounded under a flood of unique ids and
//! always admits new claims.

mod support;

use costkatana_webhooks::dedupe::{Claim, DedupeStore as _, MemoryStore};
use support::{claim_now, key};

#[test]
fn a_million_unique_claims_stay_within_the_bound() {
    let store = MemoryStore::builder().max_entries(10_000).build();
    for i in 0..1_000_000 {
        assert!(
            matches!(claim_now(&store, &key(i)), Claim::Fresh(_)),
            "claim {i} refused"
        );
    }
    assert!(store.len() <= 10_000, "{} entries", store.len());
    // The newest claims were admitted: the oldest are forgotten first.
    for i in 999_990..1_000_000 {
        assert_eq!(
            claim_now(&store, &key(i)),
            Claim::InFlight,
            "claim {i} was dropped"
        );
    }
}

#[test]
fn the_oldest_key_is_forgotten_first() {
    let store = MemoryStore::builder().max_entries(3).build();
    for i in 0..4 {
        assert!(matches!(claim_now(&store, &key(i)), Claim::Fresh(_)));
    }
    assert_eq!(store.len(), 3);
    // Keys 1 to 3 are still held (a claim on a held key stores nothing).
    for i in 1..4 {
        assert_eq!(claim_now(&store, &key(i)), Claim::InFlight, "key {i}");
    }
    // Key 0 was forgotten: claimed afresh, it becomes the newest and the
    // next oldest, key 1, goes.
    assert!(matches!(claim_now(&store, &key(0)), Claim::Fresh(_)));
    assert!(matches!(claim_now(&store, &key(1)), Claim::Fresh(_)));
    assert_eq!(claim_now(&store, &key(3)), Claim::InFlight);
}

/// Before the bound counted the keys held, a released or re-claimed key
/// kept its place in the order, and completed keys were forgotten while
/// the store held fewer keys than its bound.
#[test]
fn a_released_key_takes_no_room() {
    let store = MemoryStore::builder().max_entries(2).build();
    let Claim::Fresh(a) = claim_now(&store, &key(0)) else {
        panic!("fresh")
    };
    assert!(store.settle_without_runtime(&key(0), a, Some(std::time::Duration::from_secs(3600))));
    // B is claimed and released: it leaves no trace.
    let Claim::Fresh(b) = claim_now(&store, &key(1)) else {
        panic!("fresh")
    };
    assert!(store.settle_without_runtime(&key(1), b, None));
    assert!(matches!(claim_now(&store, &key(2)), Claim::Fresh(_)));
    assert_eq!(store.len(), 2);
    assert_eq!(claim_now(&store, &key(0)), Claim::Done, "A is still known");
}

#[test]
fn failed_tries_of_one_event_never_evict_a_completed_key() {
    let store = MemoryStore::builder().max_entries(2).build();
    let Claim::Fresh(a) = claim_now(&store, &key(0)) else {
        panic!("fresh")
    };
    store.settle_without_runtime(&key(0), a, Some(std::time::Duration::from_secs(3600)));
    for _ in 0..3 {
        let Claim::Fresh(b) = claim_now(&store, &key(1)) else {
            panic!("fresh")
        };
        store.settle_without_runtime(&key(1), b, None); // the handler failed
    }
    assert_eq!(store.len(), 1);
    assert_eq!(claim_now(&store, &key(0)), Claim::Done);
}

#[test]
fn a_lapsed_key_claimed_again_is_the_newest() {
    use costkatana_webhooks::ManualClock;
    use std::sync::Arc;
    use std::time::Duration;
    let clock = Arc::new(ManualClock::new(0));
    let store = MemoryStore::builder()
        .max_entries(2)
        .clock(clock.clone())
        .build();
    let lease = Duration::from_millis(10);
    let claim = |i| {
        let waker = std::task::Waker::noop();
        let key = key(i);
        let mut future = store.claim(&key, lease);
        match future
            .as_mut()
            .poll(&mut std::task::Context::from_waker(waker))
        {
            std::task::Poll::Ready(claim) => claim.unwrap(),
            std::task::Poll::Pending => panic!("the memory store answers at once"),
        }
    };
    assert!(matches!(claim(0), Claim::Fresh(_)));
    assert!(matches!(claim(1), Claim::Fresh(_)));
    clock.advance_ms(20); // both leases lapse: their holders crashed
    assert!(matches!(claim(0), Claim::Fresh(_))); // 0 is now newer than 1
    assert!(matches!(claim(2), Claim::Fresh(_))); // full: 1, the oldest, goes
    assert_eq!(claim(0), Claim::InFlight);
    assert_eq!(claim(2), Claim::InFlight);
    assert_eq!(store.len(), 2);
}
