//! The in-memory store stays bounded under a flood of unique ids and
//! always admits new claims.

mod support;

use costkatana_webhooks::dedupe::{Claim, MemoryStore};
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
