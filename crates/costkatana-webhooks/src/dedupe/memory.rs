//! The embedded default store: a bounded in-process map of keyed digests.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher, RandomState};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::{Claim, ClaimToken, Completion, DedupeStore, StoreFuture};
use crate::{Clock, SystemClock};

/// The default bound on remembered keys: a day of deliveries at 11 per
/// second, in at most about 100 MiB.
pub const DEFAULT_MAX_ENTRIES: u64 = 1_000_000;

/// An in-memory [`DedupeStore`] for a single receiver process.
///
/// Bounded by a maximum entry count; when full, the oldest entries are
/// forgotten first (first in, first out), so a new claim is never refused. Each entry has its own deadline, read from
/// an injectable [`Clock`]: the lease for an in-flight claim, the dedupe TTL
/// for a completed one.
///
/// Memory: the store keeps a 128-bit digest of each key, keyed with a
/// random secret drawn when the store is built (so no sender can make two
/// keys collide), not the key itself: about 100 bytes per entry whatever the
/// key's length (measured by the `memory_store_memory` test), so the default
/// 1,000,000 entries take about 100 MiB at most, and remember a full day at
/// up to 11 deliveries per second.
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
    inner: Arc<Inner>,
}

struct Inner {
    /// One lock: held for a map lookup, it is never the bottleneck of a
    /// request that costs microseconds.
    entries: Mutex<Entries>,
    /// The random key of the digests: a keyed hash (SipHash) of the key
    /// and of the key tagged, 128 bits in all.
    digest_key: RandomState,
    clock: Arc<dyn Clock>,
}

/// A key's keyed 128-bit digest; the first half places it in the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Digest(u64, u64);

impl Hash for Digest {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0);
    }
}

/// The digest is already a keyed hash: the map uses it as is.
#[derive(Default)]
struct AsIs(u64);

impl Hasher for AsIs {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// One remembered key: 20 bytes beside its 16-byte digest.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// The holder's token folded to 64 bits (exact among one process's
    /// tokens, which share their upper half); unused once done.
    token: u64,
    /// Deadline on the store's clock (ms since the epoch).
    until_ms: i64,
    /// Its position in the ring, with [`DONE`] set once completed.
    ring: u32,
}

const DONE: u32 = 1 << 31;

impl Slot {
    fn position(self) -> u32 {
        self.ring & !DONE
    }

    fn is_done(self) -> bool {
        self.ring & DONE != 0
    }

    fn held_by(self, token: ClaimToken) -> bool {
        !self.is_done() && self.token == fold(token)
    }
}

fn fold(token: ClaimToken) -> u64 {
    (token.0 >> 64) as u64 ^ token.0 as u64
}

/// A map of digests and a ring of them in insertion order: the ring's next
/// position, once it is full, holds the oldest entry.
struct Entries {
    map: HashMap<Digest, Slot, BuildHasherDefault<AsIs>>,
    ring: Vec<Digest>,
    next: usize,
    capacity: usize,
}

impl Entries {
    fn new(capacity: usize) -> Self {
        Entries {
            map: HashMap::default(),
            ring: Vec::new(),
            next: 0,
            capacity,
        }
    }

    /// Stores `slot` for `digest` as the newest entry, forgetting the
    /// oldest if the ring is full. A position whose entry has since moved
    /// or been released is simply reused.
    fn insert(&mut self, digest: Digest, mut slot: Slot) {
        let at = if self.ring.len() < self.capacity {
            self.ring.push(digest);
            self.ring.len() - 1
        } else {
            let at = self.next;
            self.next = (at + 1) % self.capacity;
            let oldest = std::mem::replace(&mut self.ring[at], digest);
            if self
                .map
                .get(&oldest)
                .is_some_and(|s| s.position() as usize == at)
            {
                self.map.remove(&oldest);
            }
            at
        };
        // Positions fit: the store holds at most `u32::MAX >> 1` entries.
        slot.ring = (slot.ring & DONE) | at as u32;
        self.map.insert(digest, slot);
    }

    fn claim(&mut self, digest: Digest, now: i64, lease: Duration) -> Claim {
        if let Some(slot) = self.map.get(&digest).filter(|s| s.until_ms > now) {
            return if slot.is_done() {
                Claim::Done
            } else {
                Claim::InFlight
            };
        }
        let token = ClaimToken::random();
        let slot = Slot {
            token: fold(token),
            until_ms: deadline(now, lease),
            ring: 0,
        };
        self.insert(digest, slot);
        Claim::Fresh(token)
    }

    /// Records the key as done unless another holder's live claim (or its
    /// completion) is there.
    fn complete(
        &mut self,
        digest: Digest,
        token: ClaimToken,
        now: i64,
        ttl: Duration,
    ) -> Completion {
        let done = |ring: u32| Slot {
            token: 0,
            until_ms: deadline(now, ttl),
            ring: ring | DONE,
        };
        match self.map.get_mut(&digest) {
            // Nobody's: the handler succeeded.
            None => {
                self.insert(digest, done(0));
                Completion::Recorded
            }
            // Ours, even past its lease.
            Some(slot) if slot.held_by(token) => {
                *slot = done(slot.position());
                Completion::Recorded
            }
            // Another holder's claim that lapsed too: it ran twice, but it
            // did run, so remember it.
            Some(slot) if slot.until_ms <= now => {
                *slot = done(slot.position());
                Completion::Overtaken
            }
            Some(_) => Completion::Overtaken,
        }
    }

    /// Forgets the key if `token` still holds it, even past its lease.
    fn release(&mut self, digest: Digest, token: ClaimToken) {
        if self.map.get(&digest).is_some_and(|s| s.held_by(token)) {
            self.map.remove(&digest);
        }
    }
}

fn deadline(now_ms: i64, after: Duration) -> i64 {
    now_ms.saturating_add(crate::clock::millis(after))
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries = self.entries();
        f.debug_struct("MemoryStore")
            .field("entries", &entries.map.len())
            .field("max_entries", &entries.capacity)
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

    /// How many keys the store holds now, lapsed ones included until they
    /// are reclaimed or forgotten.
    pub fn len(&self) -> u64 {
        self.entries().map.len() as u64
    }

    /// Whether the store holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn digest(&self, key: &str) -> Digest {
        let hasher = &self.inner.digest_key;
        Digest(hasher.hash_one(key), hasher.hash_one((key, 1u8)))
    }

    /// No code that can panic runs under the lock, but should it ever, the
    /// map is still consistent: keep serving.
    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.inner
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    fn claim_now(&self, key: &str, lease: Duration) -> Claim {
        let (now, digest) = (self.now(), self.digest(key));
        self.entries().claim(digest, now, lease)
    }

    fn complete_now(&self, key: &str, token: ClaimToken, ttl: Duration) -> Completion {
        let (now, digest) = (self.now(), self.digest(key));
        self.entries().complete(digest, token, now, ttl)
    }

    fn release_now(&self, key: &str, token: ClaimToken) {
        let digest = self.digest(key);
        self.entries().release(digest, token);
    }
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
    /// The most keys kept at once (default [`DEFAULT_MAX_ENTRIES`], at
    /// least 1). When full, the oldest keys are forgotten first, so size it
    /// above the number of events expected within the dedupe TTL: about
    /// 100 bytes each.
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
        let max_entries = self.max_entries.clamp(1, u64::from(u32::MAX >> 1));
        MemoryStore {
            inner: Arc::new(Inner {
                entries: Mutex::new(Entries::new(max_entries as usize)),
                digest_key: RandomState::new(),
                clock: self.clock,
            }),
        }
    }
}
