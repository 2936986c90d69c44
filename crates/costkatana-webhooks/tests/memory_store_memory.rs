//! Resident memory per entry of the in-memory store, measured in a process
//! of its own so no other test's allocations blur the figure.

use std::time::Duration;

use costkatana_webhooks::dedupe::{Claim, DedupeStore, MemoryStore};

const LEASE: Duration = Duration::from_secs(60);
const TTL: Duration = Duration::from_secs(86_400);

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
fn memory_per_entry() {
    const N: usize = 100_000;
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
    assert!(per_entry < 2048, "{per_entry} bytes per entry");
}

/// Resident set size from /proc (Linux), 0 elsewhere.
fn resident_bytes() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse::<usize>().ok()
        })
        .map_or(0, |kib| kib * 1024)
}
