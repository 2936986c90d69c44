//! The embedded default store: a bounded in-process map of keyed digests.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher, RandomState};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::{Claim, ClaimToken, Completion, DedupeStore, KeyState, StoreError, StoreFuture};
use crate::{Clock, SystemClock};

/// The default bound on remembered keys: a day of deliveries at 11 per
/// second, in at most about 92 MiB.
pub const DEFAULT_MAX_ENTRIES: u64 = 1_000_000;

/// An in-memory [`DedupeStore`] for a single receiver process.
///
/// Bounded by a maximum count of the keys it holds; when full, the oldest
/// key is forgotten first (first in, first out; a key claimed again after
/// its lease lapsed counts as new), so a new claim is never refused. A
/// released key is forgotten at once and takes no room. Each entry has its own deadline, read from
/// an injectable [`Clock`]: the lease for an in-flight claim, the dedupe TTL
/// for a completed one.
///
/// Memory: the store keeps a 128-bit digest of each key, keyed with a
/// random secret drawn when the store is built (so no sender can make two
/// keys collide), not the key itself: about 92 bytes per entry whatever the
/// key's length (measured by the `memory_store_memory` test), so the default
/// 1,000,000 entries take about 92 MiB at most, and remember a full day at
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
    /// The replays asked of the sender: until when each is expected.
    replays: Mutex<HashMap<Digest, i64, BuildHasherDefault<AsIs>>>,
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

/// One remembered key: its digest, its claim, and its neighbours in
/// insertion order (40 bytes).
#[derive(Debug, Clone, Copy)]
struct Node {
    digest: Digest,
    /// The holder's token folded to 64 bits (exact among one process's
    /// tokens, which share their upper half); unused once done.
    token: u64,
    /// Deadline on the store's clock (ms since the epoch).
    until_ms: i64,
    /// The next older node, with [`DONE`] set once completed.
    older: u32,
    /// The next newer node (or, on the free list, the next free node).
    newer: u32,
}

/// No node: the end of the order, or of the free list.
const NIL: u32 = u32::MAX >> 1;
const DONE: u32 = 1 << 31;

impl Node {
    fn older(self) -> u32 {
        self.older & !DONE
    }

    fn is_done(self) -> bool {
        self.older & DONE != 0
    }

    fn held_by(self, token: ClaimToken) -> bool {
        !self.is_done() && self.token == fold(token)
    }
}

fn fold(token: ClaimToken) -> u64 {
    (token.0 >> 64) as u64 ^ token.0 as u64
}

/// The keys held, in a map from digest to node, and their nodes in a list
/// from oldest to newest. The list holds exactly the keys in the map: a
/// released key leaves it, a key claimed again moves to its newest end,
/// and when the map is full the oldest key goes, so the bound counts the
/// keys held and nothing else.
struct Entries {
    map: HashMap<Digest, u32, BuildHasherDefault<AsIs>>,
    nodes: Vec<Node>,
    oldest: u32,
    newest: u32,
    /// Nodes of released or forgotten keys, for reuse.
    free: u32,
    capacity: usize,
}

impl Entries {
    fn new(capacity: usize) -> Self {
        Entries {
            map: HashMap::default(),
            nodes: Vec::new(),
            oldest: NIL,
            newest: NIL,
            free: NIL,
            capacity,
        }
    }

    /// Takes node `at` out of the order (its fields stay as they were).
    fn unlink(&mut self, at: u32) {
        let Node { newer, .. } = self.nodes[at as usize];
        let older = self.nodes[at as usize].older();
        match older {
            NIL => self.oldest = newer,
            older => self.nodes[older as usize].newer = newer,
        }
        match newer {
            NIL => self.newest = older,
            newer => {
                let done = self.nodes[newer as usize].older & DONE;
                self.nodes[newer as usize].older = older | done;
            }
        }
    }

    /// Puts node `at` at the newest end of the order.
    fn push_newest(&mut self, at: u32) {
        let done = self.nodes[at as usize].older & DONE;
        self.nodes[at as usize].older = self.newest | done;
        self.nodes[at as usize].newer = NIL;
        match self.newest {
            NIL => self.oldest = at,
            newest => self.nodes[newest as usize].newer = at,
        }
        self.newest = at;
    }

    /// Forgets the key of node `at`, freeing the node.
    fn remove(&mut self, at: u32) {
        self.unlink(at);
        self.map.remove(&self.nodes[at as usize].digest);
        self.nodes[at as usize].newer = self.free;
        self.free = at;
    }

    /// Stores `node` as the newest key, forgetting the oldest first if the
    /// store is full.
    fn insert(&mut self, node: Node) {
        if self.map.len() >= self.capacity && self.oldest != NIL {
            self.remove(self.oldest);
        }
        let at = match self.free {
            NIL => {
                // Indices fit: the store holds at most `NIL` keys.
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
            free => {
                self.free = self.nodes[free as usize].newer;
                self.nodes[free as usize] = node;
                free
            }
        };
        self.push_newest(at);
        self.map.insert(node.digest, at);
    }

    fn claim(&mut self, digest: Digest, now: i64, lease: Duration) -> Claim {
        let token = ClaimToken::random();
        let claimed = Node {
            digest,
            token: fold(token),
            until_ms: deadline(now, lease),
            older: NIL,
            newer: NIL,
        };
        match self.map.get(&digest).copied() {
            Some(at) if self.nodes[at as usize].until_ms > now => {
                return if self.nodes[at as usize].is_done() {
                    Claim::Done
                } else {
                    Claim::InFlight
                };
            }
            // Lapsed: claimed afresh, it is the newest key now.
            Some(at) => {
                self.unlink(at);
                self.nodes[at as usize] = claimed;
                self.push_newest(at);
            }
            None => self.insert(claimed),
        }
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
        let until_ms = deadline(now, ttl);
        let Some(&at) = self.map.get(&digest) else {
            // Nobody's: the handler succeeded.
            self.insert(Node {
                digest,
                token: 0,
                until_ms,
                older: DONE,
                newer: NIL,
            });
            return Completion::Recorded;
        };
        let node = &mut self.nodes[at as usize];
        let completion = if node.held_by(token) {
            // Ours, even past its lease.
            Completion::Recorded
        } else if node.until_ms <= now {
            // Another holder's claim that lapsed too: it ran twice, but it
            // did run, so remember it.
            Completion::Overtaken
        } else {
            return Completion::Overtaken;
        };
        node.token = 0;
        node.until_ms = until_ms;
        node.older |= DONE;
        completion
    }

    fn peek(&self, digest: Digest, now: i64) -> KeyState {
        match self.map.get(&digest).map(|&at| self.nodes[at as usize]) {
            Some(node) if node.until_ms > now && node.is_done() => KeyState::Done,
            Some(node) if node.until_ms > now => KeyState::InFlight,
            _ => KeyState::Unknown,
        }
    }

    /// Forgets the key if `token` still holds it, even past its lease.
    fn release(&mut self, digest: Digest, token: ClaimToken) {
        if let Some(&at) = self.map.get(&digest) {
            if self.nodes[at as usize].held_by(token) {
                self.remove(at);
            }
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

    fn replays(&self) -> std::sync::MutexGuard<'_, HashMap<Digest, i64, BuildHasherDefault<AsIs>>> {
        self.inner
            .replays
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn expect_replay_now(&self, key: &str, ttl: Duration) -> Result<bool, StoreError> {
        let (now, digest) = (self.now(), self.digest(key));
        let mut replays = self.replays();
        if replays.get(&digest).is_some_and(|&until| until > now) {
            return Ok(false);
        }
        if replays.len() >= MAX_REPLAYS {
            replays.retain(|_, &mut until| until > now);
            if replays.len() >= MAX_REPLAYS {
                return Err(StoreError::new(format!(
                    "memory store: already {MAX_REPLAYS} replays expected; none more until some arrive or end"
                )));
            }
        }
        replays.insert(digest, deadline(now, ttl));
        Ok(true)
    }

    fn replay_expected_now(&self, key: &str) -> bool {
        let (now, digest) = (self.now(), self.digest(key));
        self.replays()
            .get(&digest)
            .is_some_and(|&until| until > now)
    }
}

/// The most replays a memory store expects at once.
const MAX_REPLAYS: usize = 100_000;

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

    fn peek<'a>(&'a self, key: &'a str) -> StoreFuture<'a, KeyState> {
        let (now, digest) = (self.now(), self.digest(key));
        let state = self.entries().peek(digest, now);
        Box::pin(async move { Ok(state) })
    }

    fn expect_replay<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreFuture<'a, bool> {
        let recorded = self.expect_replay_now(key, ttl);
        Box::pin(async move { recorded })
    }

    fn replay_expected<'a>(&'a self, key: &'a str) -> StoreFuture<'a, bool> {
        let expected = self.replay_expected_now(key);
        Box::pin(async move { Ok(expected) })
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
        let max_entries = self.max_entries.clamp(1, u64::from(NIL));
        MemoryStore {
            inner: Arc::new(Inner {
                entries: Mutex::new(Entries::new(max_entries as usize)),
                replays: Mutex::new(HashMap::default()),
                digest_key: RandomState::new(),
                clock: self.clock,
            }),
        }
    }
}
