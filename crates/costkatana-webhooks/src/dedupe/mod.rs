//! Exactly-once bookkeeping: a store that remembers which deliveries are
//! being handled and which are done.
//!
//! A key is first *claimed* (one concurrent claimer wins), then either
//! *completed* (remembered as done for the dedupe TTL, so later copies are
//! answered as duplicates) or *released* (forgotten, so the sender's retry
//! is processed). A claim whose holder crashed expires after its lease.

mod key;
mod memory;

pub use key::DedupeKey;
pub use memory::{MemoryStore, MemoryStoreBuilder, DEFAULT_MAX_ENTRIES};

use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// The boxed future a [`DedupeStore`] method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The answer to a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key was free: the caller owns it until it completes or releases
    /// it with this token, or the lease ends.
    Fresh(ClaimToken),
    /// The key was completed earlier: a duplicate.
    Done,
    /// Another holder's claim is live: handling is in progress elsewhere.
    InFlight,
}

/// What a store knows of a key, asked without claiming it
/// ([`DedupeStore::peek`]).
///
/// ```
/// use costkatana_webhooks::dedupe::KeyState;
/// assert_ne!(KeyState::Done, KeyState::Unknown);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyState {
    /// Never seen, or forgotten (its TTL ended, or the store restarted).
    Unknown,
    /// Claimed and being handled.
    InFlight,
    /// Handled: remembered as done.
    Done,
}

/// What a [`DedupeStore::complete`] found.
///
/// ```
/// use costkatana_webhooks::dedupe::Completion;
/// assert_ne!(Completion::Recorded, Completion::Overtaken);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Completion {
    /// The key is now remembered as done for the TTL: the claim was still
    /// this holder's, or its lease had ended with no one taking it over.
    Recorded,
    /// The lease had ended and another copy of the event took the claim
    /// over (or finished first): the event ran more than once, and the
    /// other holder's claim is left alone.
    Overtaken,
}

/// Proof of ownership of a claim: 128 random bits, so a holder whose lease
/// expired can never complete or release a newer holder's claim.
///
/// ```
/// use costkatana_webhooks::dedupe::ClaimToken;
/// assert_ne!(ClaimToken::random(), ClaimToken::random());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClaimToken(u128);

impl ClaimToken {
    /// A new token: a random 64-bit prefix drawn once per process, then a
    /// counter, so tokens never repeat within a process and collide across
    /// processes with negligible probability, without a system call each.
    pub fn random() -> Self {
        static PREFIX: OnceLock<u64> = OnceLock::new();
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let prefix = *PREFIX.get_or_init(|| {
            let mut bytes = [0u8; 8];
            // Should the OS source fail, a randomly keyed hash of the time
            // and process id still differs between processes.
            if getrandom::fill(&mut bytes).is_err() {
                let seed = (std::process::id(), std::time::SystemTime::now());
                bytes = RandomState::new().hash_one(seed).to_le_bytes();
            }
            u64::from_le_bytes(bytes)
        });
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        ClaimToken((u128::from(prefix) << 64) | u128::from(count))
    }

    /// The token as 32 lowercase hex characters (how network stores keep it).
    ///
    /// ```
    /// use costkatana_webhooks::dedupe::ClaimToken;
    /// let token = ClaimToken::random();
    /// assert_eq!(ClaimToken::from_hex(&token.to_hex()), Some(token));
    /// ```
    pub fn to_hex(self) -> String {
        format!("{:032x}", self.0)
    }

    /// Parses [`ClaimToken::to_hex`] output.
    pub fn from_hex(text: &str) -> Option<Self> {
        (text.len() == 32)
            .then(|| u128::from_str_radix(text, 16).ok())
            .flatten()
            .map(ClaimToken)
    }
}

impl fmt::Debug for ClaimToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClaimToken({})", self.to_hex())
    }
}

/// A dedupe store or an inbox could not be reached or answered nonsense.
/// Answered as 503 `store_unavailable`, so the sender retries.
///
/// ```
/// use costkatana_webhooks::dedupe::StoreError;
/// let err = StoreError::new("redis: connection refused");
/// assert_eq!(err.to_string(), "dedupe store unavailable: redis: connection refused");
/// let err = StoreError::inbox("SQLite inbox inbox.db: could not store the delivery");
/// assert_eq!(err.to_string(), "SQLite inbox inbox.db: could not store the delivery");
/// ```
#[derive(Debug, Clone)]
pub struct StoreError {
    message: String,
    inbox: bool,
    source: crate::error::Cause,
}

impl StoreError {
    /// A dedupe store's error with a message (never include secrets or
    /// bodies), shown after `dedupe store unavailable: `.
    pub fn new(message: impl Into<String>) -> Self {
        StoreError {
            message: message.into(),
            inbox: false,
            source: crate::error::Cause::default(),
        }
    }

    /// An inbox's error: its message, which names the inbox, shown alone.
    ///
    /// ```
    /// use costkatana_webhooks::dedupe::StoreError;
    /// assert!(StoreError::inbox("Postgres inbox postgres://db:5432/app: could not connect").is_inbox());
    /// ```
    pub fn inbox(message: impl Into<String>) -> Self {
        StoreError {
            inbox: true,
            ..StoreError::new(message)
        }
    }

    /// Whether this is an inbox's error rather than a dedupe store's.
    ///
    /// ```
    /// use costkatana_webhooks::dedupe::StoreError;
    /// assert!(!StoreError::new("redis: timed out").is_inbox());
    /// ```
    pub fn is_inbox(&self) -> bool {
        self.inbox
    }

    /// The same error, caused by `source` (the store client's own error,
    /// reported by [`std::error::Error::source`]).
    ///
    /// ```
    /// use std::error::Error as _;
    /// use costkatana_webhooks::dedupe::StoreError;
    /// let err = StoreError::new("claim failed").caused_by(std::io::Error::other("reset"));
    /// assert_eq!(err.source().unwrap().to_string(), "reset");
    /// ```
    #[must_use]
    pub fn caused_by(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        self.source = crate::error::Cause::new(source);
        self
    }
}

/// Store errors are equal when their messages are.
impl PartialEq for StoreError {
    fn eq(&self, other: &Self) -> bool {
        self.message == other.message
    }
}

impl Eq for StoreError {}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.inbox {
            f.write_str(&self.message)
        } else {
            write!(f, "dedupe store unavailable: {}", self.message)
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.get()
    }
}

impl From<StoreError> for crate::Error {
    /// `store_unavailable` with the default message: the store's own text
    /// may name internal hosts, so it is for logs (as the error's source),
    /// not for the caller.
    fn from(err: StoreError) -> Self {
        crate::Error::new(crate::ErrorKind::StoreUnavailable).caused_by(err)
    }
}

/// Where claims live: in memory ([`MemoryStore`]) or on a network store
/// shared by many replicas (`costkatana-webhooks-redis`).
///
/// Each method is one atomic step, one round trip on a network store. Keys
/// arrive already namespaced by the receiver.
///
/// Implementations must guarantee:
/// - of concurrent `claim`s of one key, exactly one is [`Claim::Fresh`];
/// - a live claim answers [`Claim::InFlight`]; one older than its `lease`
///   can be claimed afresh;
/// - a completed key answers [`Claim::Done`] for `ttl`, then is forgotten;
/// - `complete` records the key as done if `token` still owns it, even
///   after its lease ended, or if nobody holds it; it changes nothing (and
///   answers [`Completion::Overtaken`]) if another holder took it over;
/// - `release` does nothing unless `token` still owns the key.
pub trait DedupeStore: Send + Sync + 'static {
    /// Atomically claims `key` for `lease`.
    fn claim<'a>(&'a self, key: &'a str, lease: Duration) -> StoreFuture<'a, Claim>;

    /// Marks `key` done for `ttl`, unless another holder took it over.
    fn complete<'a>(
        &'a self,
        key: &'a str,
        token: ClaimToken,
        ttl: Duration,
    ) -> StoreFuture<'a, Completion>;

    /// Frees `key` so the next claim is fresh, if `token` still owns it.
    fn release<'a>(&'a self, key: &'a str, token: ClaimToken) -> StoreFuture<'a, ()>;

    /// What the store knows of `key` now, without claiming it: for
    /// catch-up, which must not replay what the receiver already handled.
    /// The default knows nothing.
    fn peek<'a>(&'a self, key: &'a str) -> StoreFuture<'a, KeyState> {
        let _ = key;
        Box::pin(std::future::ready(Ok(KeyState::Unknown)))
    }

    /// Records that a replay of `key` was asked of the sender, for `ttl`:
    /// `true` when recorded now, `false` when a record was already there
    /// (another pass or replica asked). While it lasts, the receiver lets
    /// an authentic copy of that delivery past its timestamp window
    /// ([`DedupeStore::replay_expected`]); dedupe then handles it once.
    ///
    /// The default keeps no such record and says so.
    fn expect_replay<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreFuture<'a, bool> {
        let _ = (key, ttl);
        Box::pin(std::future::ready(Err(StoreError::new(
            "this store keeps no record of the replays asked for",
        ))))
    }

    /// Whether a replay of `key` is expected now: a record of
    /// [`DedupeStore::expect_replay`] that has not ended. The default never
    /// has one.
    fn replay_expected<'a>(&'a self, key: &'a str) -> StoreFuture<'a, bool> {
        let _ = key;
        Box::pin(std::future::ready(Ok(false)))
    }

    /// Whether what the store knows survives a restart of the process
    /// (Redis: yes; the memory store: no). Catch-up replays less from a
    /// store that forgets. The default: no.
    fn remembers_after_restart(&self) -> bool {
        false
    }

    /// Checks that the store answers now, changing nothing (Redis: a
    /// `PING`), for [`Receiver::health`](crate::Receiver::health). The
    /// default answers that it does.
    fn probe(&self) -> StoreFuture<'_, ()> {
        Box::pin(std::future::ready(Ok(())))
    }

    /// Settles a claim at once, without an async runtime: done for `ttl`
    /// when `done` is `Some(ttl)`, released when it is `None`. The receiver
    /// calls it for a claim abandoned outside any runtime (a request future
    /// dropped while the process shuts down). Returns whether it could; the
    /// default cannot, and the claim then frees when its lease ends.
    fn settle_without_runtime(&self, key: &str, token: ClaimToken, done: Option<Duration>) -> bool {
        let _ = (key, token, done);
        false
    }
}

impl<S: DedupeStore + ?Sized> DedupeStore for std::sync::Arc<S> {
    fn claim<'a>(&'a self, key: &'a str, lease: Duration) -> StoreFuture<'a, Claim> {
        (**self).claim(key, lease)
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        token: ClaimToken,
        ttl: Duration,
    ) -> StoreFuture<'a, Completion> {
        (**self).complete(key, token, ttl)
    }

    fn release<'a>(&'a self, key: &'a str, token: ClaimToken) -> StoreFuture<'a, ()> {
        (**self).release(key, token)
    }

    fn probe(&self) -> StoreFuture<'_, ()> {
        (**self).probe()
    }

    fn peek<'a>(&'a self, key: &'a str) -> StoreFuture<'a, KeyState> {
        (**self).peek(key)
    }

    fn expect_replay<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreFuture<'a, bool> {
        (**self).expect_replay(key, ttl)
    }

    fn replay_expected<'a>(&'a self, key: &'a str) -> StoreFuture<'a, bool> {
        (**self).replay_expected(key)
    }

    fn remembers_after_restart(&self) -> bool {
        (**self).remembers_after_restart()
    }

    fn settle_without_runtime(&self, key: &str, token: ClaimToken, done: Option<Duration>) -> bool {
        (**self).settle_without_runtime(key, token, done)
    }
}
