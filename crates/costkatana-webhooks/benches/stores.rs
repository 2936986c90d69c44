//! The memory store beside the moka cache it replaced, run side by side:
//! claim + complete pairs per second on one thread, in alternating rounds
//! (the machine is shared, so only ratios taken within a round mean much),
//! and resident bytes per entry at a million entries.
//!
//! `cargo bench -p costkatana-webhooks --bench stores`
//! (`STORE_ROUNDS=<n>`, default 5; `STORE_PAIRS=<per round>`, default 500,000)

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use costkatana_webhooks::dedupe::{
    Claim, ClaimToken, Completion, DedupeStore, MemoryStore, StoreFuture,
};
use moka::ops::compute::{CompResult, Op};
use moka::policy::{EvictionPolicy, Expiry};
use moka::sync::Cache;

#[path = "../tests/support/resident.rs"]
mod resident;

use resident::resident_bytes;

const LEASE: Duration = Duration::from_secs(60);
const TTL: Duration = Duration::from_secs(86_400);
const ENTRIES: u64 = 1_000_000;

/// The previous memory store, reduced to claim and complete: moka with LRU
/// eviction, a per-entry expiry and atomic `and_compute_with` updates.
struct MokaStore {
    cache: Cache<Arc<str>, Entry>,
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    InFlight(ClaimToken),
    Done,
}

#[derive(Clone, Copy)]
struct Entry {
    state: State,
    until_ms: i64,
    keep: Duration,
}

struct PerEntry;

impl Expiry<Arc<str>, Entry> for PerEntry {
    fn expire_after_create(
        &self,
        _: &Arc<str>,
        entry: &Entry,
        _: std::time::Instant,
    ) -> Option<Duration> {
        Some(entry.keep)
    }

    fn expire_after_update(
        &self,
        _: &Arc<str>,
        entry: &Entry,
        _: std::time::Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.keep)
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl MokaStore {
    fn new(max_entries: u64) -> Self {
        MokaStore {
            cache: Cache::builder()
                .max_capacity(max_entries)
                .eviction_policy(EvictionPolicy::lru())
                .expire_after(PerEntry)
                .build(),
        }
    }
}

impl DedupeStore for MokaStore {
    fn claim<'a>(&'a self, key: &'a str, lease: Duration) -> StoreFuture<'a, Claim> {
        let now = now_ms();
        let token = ClaimToken::random();
        let result = self
            .cache
            .entry(Arc::from(key))
            .and_compute_with(|current| match current.map(|e| e.into_value()) {
                Some(entry) if entry.until_ms > now => Op::Nop,
                _ => Op::Put(Entry {
                    state: State::InFlight(token),
                    until_ms: now + lease.as_millis() as i64,
                    keep: lease,
                }),
            });
        let claim = match result {
            CompResult::Inserted(_) | CompResult::ReplacedWith(_) => Claim::Fresh(token),
            CompResult::Unchanged(entry) if entry.value().state == State::Done => Claim::Done,
            _ => Claim::InFlight,
        };
        Box::pin(async move { Ok(claim) })
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        token: ClaimToken,
        ttl: Duration,
    ) -> StoreFuture<'a, Completion> {
        let now = now_ms();
        let done = Entry {
            state: State::Done,
            until_ms: now + ttl.as_millis() as i64,
            keep: ttl,
        };
        self.cache
            .entry(Arc::from(key))
            .and_compute_with(|current| match current.map(|e| e.into_value()) {
                None => Op::Put(done),
                Some(entry) if entry.state == State::InFlight(token) => Op::Put(done),
                Some(_) => Op::Nop,
            });
        Box::pin(async { Ok(Completion::Recorded) })
    }

    fn release<'a>(&'a self, key: &'a str, token: ClaimToken) -> StoreFuture<'a, ()> {
        self.cache
            .entry(Arc::from(key))
            .and_compute_with(|current| match current.map(|e| e.into_value()) {
                Some(entry) if entry.state == State::InFlight(token) => Op::Remove,
                _ => Op::Nop,
            });
        Box::pin(async { Ok(()) })
    }
}

/// Both stores answer at once: their futures are ready on the first poll.
fn ready<T>(future: impl Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        std::task::Poll::Ready(value) => value,
        std::task::Poll::Pending => unreachable!("an in-memory store never waits"),
    }
}

/// About 60 bytes, like `<length>:<namespace>:event:<id>`.
fn key(i: u64) -> String {
    format!("16:3f9a1c2b7d4e5f60:event:cost_alert_{i:012x}-0b1d-4c5e")
}

/// Claims and completes every key once: pairs per second.
fn run(store: &dyn DedupeStore, keys: &[String]) -> f64 {
    let started = Instant::now();
    for key in keys {
        if let Claim::Fresh(token) = ready(store.claim(key, LEASE)).expect("a claim") {
            ready(store.complete(key, token, TTL)).expect("a completion");
        }
    }
    keys.len() as f64 / started.elapsed().as_secs_f64()
}

fn keys(from: u64, count: u64) -> Vec<String> {
    (from..from + count).map(key).collect()
}

/// Resident bytes per entry once `store` holds a million completed keys
/// (the keys' own strings are made before and not counted).
fn bytes_per_entry(store: &dyn DedupeStore) -> usize {
    let keys = keys(0, ENTRIES);
    let before = resident_bytes();
    run(store, &keys);
    resident_bytes().saturating_sub(before) / keys.len()
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // Memory is measured in a process of its own per store, so that one's
    // freed pages cannot be counted as, or reused by, the other's.
    if let Ok(which) = std::env::var("STORE_MEMORY_OF") {
        let bytes = match which.as_str() {
            "moka" => bytes_per_entry(&MokaStore::new(ENTRIES)),
            _ => bytes_per_entry(&MemoryStore::builder().max_entries(ENTRIES).build()),
        };
        println!("{bytes}");
        return;
    }
    let (rounds, pairs) = (env("STORE_ROUNDS", 5), env("STORE_PAIRS", 500_000));
    let ours = MemoryStore::builder().max_entries(ENTRIES).build();
    let moka = MokaStore::new(ENTRIES);
    println!(
        "claim + complete pairs per second, one thread, {pairs} fresh keys per store and round\n"
    );
    println!("| round | MemoryStore | moka | MemoryStore / moka |");
    println!("|---|---|---|---|");
    let mut ratios = Vec::new();
    for round in 0..rounds {
        let (for_ours, for_moka) = (
            keys(2 * round * pairs, pairs),
            keys((2 * round + 1) * pairs, pairs),
        );
        let a = run(&ours, &for_ours);
        let b = run(&moka, &for_moka);
        ratios.push(a / b);
        println!(
            "| {} | {:.0} k/s | {:.0} k/s | {:.2}× |",
            round + 1,
            a / 1e3,
            b / 1e3,
            a / b
        );
    }
    ratios.sort_by(f64::total_cmp);
    println!("\nmedian ratio: {:.2}×", ratios[ratios.len() / 2]);
    let memory_of = |which: &str| {
        let exe = std::env::current_exe().expect("this benchmark's path");
        let out = std::process::Command::new(exe)
            .env("STORE_MEMORY_OF", which)
            .output()
            .expect("the memory run");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    println!(
        "resident bytes per entry at {ENTRIES} entries (keys of about 60 bytes): MemoryStore {}, moka {}",
        memory_of("ours"),
        memory_of("moka")
    );
}
