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
    // The newest claims were admitted (LRU, not TinyLFU's admission filter).
    for i in 999_990..1_000_000 {
        assert_eq!(
            claim_now(&store, &key(i)),
            Claim::InFlight,
            "claim {i} was dropped"
        );
    }
}
