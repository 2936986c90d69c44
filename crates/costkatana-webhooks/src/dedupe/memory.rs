//! The embedded default store: a bounded in-process cache.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::ops::compute::{CompResult, Op};
use moka::policy::{EvictionPolicy, Expiry};
use moka::sync::Cache;

use super::{Claim, ClaimToken, Completion, DedupeStore, StoreFuture};
use crate::{Clock, SystemClock};

/// The default bound on remembered keys.
pub const DEFAULT_MAX_ENTRIES: u64 = 100_000;

/// An in-memory [`DedupeStore`] for a single receiver process.
///
/// Bounded by a maximum entry count; when full, the least recently used
/// entries are evicted first (LRU, so a new claim is never refused
/// admission). Each entry expires at its own deadline: the lease for an
/// in-flight claim, the dedupe TTL for a completed one. Deadlines are read
/// from an injectable [`Clock`].
///
/// Memory: about 700 bytes of resident memory per entry with 60-byte keys
/// (measured by the `memory_store_memory` test: the cache's bookkeeping per
/// entry outweighs the key), so the default 100,000 entries take about
/// 70 MiB at most; lower [`MemoryStoreBuilder::max_entries`] for small
/// deployments.
///
/// It cannot see other replicas' claims: with several replicas, use the
/// Redis store.
///
/// ```
/// use std::time::Duration;
/// use costkatana_webhooks::dedupe::{Claim, DedupeStore, MemoryStore};
///
/// # tokio_test_block_on(async {
/// let store = MemoryStore::new();
/// let Claim::Fresh(token) = store.claim("ns:evt_1", Duration::from_secs(60)).await? else {
///     unreachable!()
/// };
/// assert_eq!(store.claim("ns:evt_1", Duration::from_secs(60)).await?, Claim::InFlight);
/// store.complete("ns:evt_1", token, Duration::from_secs(86_400)).await?;
/// assert_eq!(store.claim("ns:evt_1", Duration::from_secs(60)).await?, Claim::Done);
/// # Ok::<(), costkatana_webhooks::dedupe::StoreError>(())
/// # }).unwrap();
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let waker = std::task::Waker::noop();
/// #     let mut f = std::pin::pin!(f);
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut std::task::Context::from_waker(&waker)) { return v; } }
/// # }
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    cache: Cache<Arc<str>, Entry>,
    clock: Arc<dyn Clock>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    InFlight(ClaimToken),
    Done,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    state: State,
    /// Deadline on the store's clock (ms since the epoch).
    until_ms: i64,
    /// How long moka keeps it in real time (memory reclamation only).
    keep: Duration,
}

/// Expire each entry after its own `keep`.
struct PerEntry;

impl Expiry<Arc<str>, Entry> for PerEntry {
    fn expire_after_create(&self, _: &Arc<str>, entry: &Entry, _: Instant) -> Option<Duration> {
        Some(entry.keep)
    }

    fn expire_after_update(
        &self,
        _: &Arc<str>,
        entry: &Entry,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.keep)
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("entries", &self.cache.entry_count())
            .field("max_entries", &self.cache.policy().max_capacity())
            .finish()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new()
    }
}

impl MemoryStore {
    /// A store of at most [`DEFAULT_MAX_ENTRIES`] keys on the system clock.
    pub fn new() -> Self {
        MemoryStore::builder().build()
    }

    /// A builder to set the bound and the clock.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use costkatana_webhooks::{dedupe::MemoryStore, ManualClock};
    ///
    /// let store = MemoryStore::builder()
    ///     .max_entries(10_000)
    ///     .clock(Arc::new(ManualClock::new(0)))
    ///     .build();
    /// ```
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder {
            max_entries: DEFAULT_MAX_ENTRIES,
            clock: Arc::new(SystemClock),
        }
    }

    /// How many keys the store holds now (after pending evictions run).
    pub fn len(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.cache.entry_count()
    }

    /// Whether the store holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn claim_now(&self, key: &str, lease: Duration) -> Claim {
        let now = self.clock.now_ms();
        let token = ClaimToken::random();
        let result = self
            .cache
            .entry(Arc::from(key))
            .and_compute_with(|current| match current.map(|e| e.into_value()) {
                Some(entry) if entry.until_ms > now => Op::Nop,
                _ => Op::Put(Entry {
                    state: State::InFlight(token),
                    until_ms: deadline(now, lease),
                    keep: lease,
                }),
            });
        match result {
            CompResult::Inserted(_) | CompResult::ReplacedWith(_) => Claim::Fresh(token),
            CompResult::Unchanged(entry) => match entry.into_value().state {
                State::InFlight(_) => Claim::InFlight,
                State::Done => Claim::Done,
            },
            // `Op::Remove` is never returned above.
            CompResult::Removed(_) | CompResult::StillNone(_) => Claim::InFlight,
        }
    }

    /// Records `key` as done unless another holder's live claim (or its
    /// completion) is there.
    fn complete_now(&self, key: &str, token: ClaimToken, ttl: Duration) -> Completion {
        let now = self.clock.now_ms();
        let done = Entry {
            state: State::Done,
            until_ms: deadline(now, ttl),
            keep: ttl,
        };
        let mut completion = Completion::Recorded;
        self.cache
            .entry(Arc::from(key))
            .and_compute_with(|current| match current.map(|e| e.into_value()) {
                // Ours, even past its lease, or nobody's: the handler succeeded.
                None => Op::Put(done),
                Some(entry) if entry.state == State::InFlight(token) => Op::Put(done),
                Some(entry) if entry.until_ms <= now => {
                    // Another holder's claim that lapsed too: it ran twice,
                    // but it did run, so remember it.
                    completion = Completion::Overtaken;
                    Op::Put(done)
                }
                Some(_) => {
                    completion = Completion::Overtaken;
                    Op::Nop
                }
            });
        completion
    }

    /// Forgets `key` if `token` still owns it, even past its lease.
    fn release_now(&self, key: &str, token: ClaimToken) {
        self.cache
            .entry(Arc::from(key))
            .and_compute_with(|current| match current.map(|e| e.into_value()) {
                Some(entry) if entry.state == State::InFlight(token) => Op::Remove,
                _ => Op::Nop,
            });
    }
}

fn deadline(now_ms: i64, after: Duration) -> i64 {
    now_ms.saturating_add(i64::try_from(after.as_millis()).unwrap_or(i64::MAX))
}

impl DedupeStore for MemoryStore {
    fn claim<'a>(&'a self, key: &'a str, lease: Duration) -> StoreFuture<'a, Claim> {
        let claim = self.claim_now(key, lease);
        Box::pin(async move { Ok(claim) })
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        token: ClaimToken,
        ttl: Duration,
    ) -> StoreFuture<'a, Completion> {
        let completion = self.complete_now(key, token, ttl);
        Box::pin(async move { Ok(completion) })
    }

    fn release<'a>(&'a self, key: &'a str, token: ClaimToken) -> StoreFuture<'a, ()> {
        self.release_now(key, token);
        Box::pin(async { Ok(()) })
    }

    /// The memory store settles synchronously, with or without a runtime.
    fn settle_without_runtime(&self, key: &str, token: ClaimToken, done: Option<Duration>) -> bool {
        match done {
            Some(ttl) => {
                self.complete_now(key, token, ttl);
            }
            None => self.release_now(key, token),
        }
        true
    }
}

/// Builds a [`MemoryStore`].
#[derive(Clone)]
#[must_use]
pub struct MemoryStoreBuilder {
    max_entries: u64,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for MemoryStoreBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStoreBuilder")
            .field("max_entries", &self.max_entries)
            .finish_non_exhaustive()
    }
}

impl MemoryStoreBuilder {
    /// The most keys kept at once (default [`DEFAULT_MAX_ENTRIES`]). When
    /// full, the least recently used keys are forgotten first, so size it
    /// above the number of events expected within the dedupe TTL.
    pub fn max_entries(mut self, max_entries: u64) -> Self {
        self.max_entries = max_entries;
        self
    }

    /// The clock that deadlines are read from (default the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the store.
    pub fn build(self) -> MemoryStore {
        MemoryStore {
            cache: Cache::builder()
                .max_capacity(self.max_entries)
                .eviction_policy(EvictionPolicy::lru())
                .expire_after(PerEntry)
                .build(),
            clock: self.clock,
        }
    }
}
