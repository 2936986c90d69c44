//! The in-memory store stays bounded under a flood of unique ids and
//! always admits new claims.

use std::time::Duration;

use costkatana_webhooks::dedupe::{Claim, DedupeStore, MemoryStore};

const LEASE: Duration = Duration::from_secs(60);

fn claim_now(store: &MemoryStore, key: &str) -> Claim {
    // MemoryStore answers synchronously; its futures are ready at once.
    let mut future = store.claim(key, LEASE);
    match future
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        std::task::Poll::Ready(result) => result.unwrap(),
        std::task::Poll::Pending => unreachable!("the memory store never waits"),
    }
}

fn key(i: usize) -> String {
    // About 60 bytes, like `<namespace>:event:<prefix>_<uuid>`.
    format!("default:event:cost_alert_{i:08x}-0b1d-4c5e-9f7a-1b2c3d4e5f60")
}

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
