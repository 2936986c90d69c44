//! Resident memory per entry of the in-memory store, measured in a process
//! of its own so no other test's allocations blur the figure.

use std::time::Duration;

mod support;

use costkatana_webhooks::dedupe::{Claim, DedupeStore, MemoryStore};
use support::resident::resident_bytes;
use support::{claim_now, key};

const TTL: Duration = Duration::from_secs(86_400);

/// The store's documented figure: at most 128 bytes per remembered entry at
/// a million entries, keys of about 60 bytes included.
#[test]
fn memory_per_entry() {
    const N: usize = 1_000_000;
    let before = resident_bytes();
    let store = MemoryStore::builder().max_entries(N as u64).build();
    for i in 0..N {
        if let Claim::Fresh(token) = claim_now(&store, &key(i)) {
            drop(store.complete(&key(i), token, TTL));
        }
    }
    assert_eq!(store.len(), N as u64);
    let per_entry = resident_bytes().saturating_sub(before) / N;
    println!("memory store: about {per_entry} bytes per entry ({N} entries, ~60-byte keys)");
    assert!(per_entry <= 128, "{per_entry} bytes per entry");
}
