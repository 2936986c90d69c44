//! The durable inbox seam: persist a verified delivery, acknowledge it, and
//! let workers run its handler from the stored copy.
//!
//! In inbox mode ([`ReceiverBuilder::inbox`](crate::ReceiverBuilder::inbox))
//! the receiver answers 200 only after [`InboxStore::enqueue`] has committed,
//! and 503 when it fails, so nothing is acknowledged that was not stored. The
//! inbox is also the dedupe store: a key whose entry exists (pending, running,
//! done or dead) is a duplicate for as long as the entry is kept.
//!
//! Workers take entries under a lease, re-verify the stored body with the
//! stored headers, run the routed handler, and settle the entry: done,
//! retried later with exponential backoff and jitter, or dead-lettered after
//! the last attempt (at once when the handler refuses). Ordering is not
//! promised: a retried event runs after later ones.
//!
//! The backends (SQLite, embedded; Postgres, for many replicas) live in
//! `costkatana-webhooks-inbox`; this module holds what the receiver needs
//! from them.
//!
//! ```
//! use costkatana_webhooks::inbox::{EntryState, RetryPolicy};
//! use std::time::Duration;
//!
//! assert_eq!(EntryState::parse("dead"), Some(EntryState::Dead));
//! let policy = RetryPolicy::default().first_delay(Duration::from_millis(250));
//! assert!(policy.delay_after(1).unwrap() <= Duration::from_millis(250));
//! ```

mod entry;
mod query;
mod retry;

pub use entry::{Entry, EntrySummary};
pub use query::{EntryQuery, MAX_LIST};
pub use retry::RetryPolicy;

use std::fmt;
use std::time::Duration;

use bytes::Bytes;

use crate::dedupe::{ClaimToken, Completion, StoreError, StoreFuture};

/// Gauge of entries per state, labelled `state`.
pub const INBOX_DEPTH: &str = "costkatana_webhook_inbox_depth";
/// Gauge: age in seconds of the oldest pending entry (0 when none).
pub const INBOX_OLDEST_PENDING_SECONDS: &str = "costkatana_webhook_inbox_oldest_pending_seconds";
/// Counter of handler attempts from the inbox, labelled `result`
/// (`done`, `retry`, `dead`, `released`).
pub const INBOX_ATTEMPTS_TOTAL: &str = "costkatana_webhook_inbox_attempts_total";
/// Counter of entries moved to the dead-letter state.
pub const INBOX_DEAD_LETTERS_TOTAL: &str = "costkatana_webhook_inbox_dead_letters_total";

/// Where an entry is in its life.
///
/// ```
/// use costkatana_webhooks::inbox::EntryState;
/// assert_eq!(EntryState::Pending.as_str(), "pending");
/// assert_eq!(EntryState::parse("running"), Some(EntryState::Running));
/// assert_eq!(EntryState::parse("nope"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryState {
    /// Stored, waiting for a worker (a first attempt or a retry).
    Pending,
    /// Leased by a worker whose handler is running.
    Running,
    /// Handled; kept for the dedupe TTL, then purged.
    Done,
    /// Dead-lettered: the last attempt failed, or the handler refused it.
    Dead,
}

impl EntryState {
    /// Every state, in life order.
    pub const ALL: [EntryState; 4] = [
        EntryState::Pending,
        EntryState::Running,
        EntryState::Done,
        EntryState::Dead,
    ];

    /// The name stored in the database and shown by the CLI.
    pub const fn as_str(self) -> &'static str {
        match self {
            EntryState::Pending => "pending",
            EntryState::Running => "running",
            EntryState::Done => "done",
            EntryState::Dead => "dead",
        }
    }

    /// The state called `name`, if any.
    pub fn parse(name: &str) -> Option<EntryState> {
        EntryState::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for EntryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A verified delivery to store.
///
/// `Debug` shows the key's length, the event id and type, the header
/// names and the body's length; never header values or the body.
///
/// ```
/// use costkatana_webhooks::inbox::NewEntry;
/// let entry = NewEntry {
///     dedupe_key: "2:ns:event:e1".into(),
///     event_id: Some("e1".into()),
///     event_type: Some("cost.alert".into()),
///     headers: vec![("x-webhook-signature".into(), "deadbeef".into())],
///     body: bytes::Bytes::from_static(b"{}"),
///     received_at_ms: 1_777_377_600_000,
/// };
/// assert!(!format!("{entry:?}").contains("deadbeef"));
/// ```
#[derive(Clone)]
pub struct NewEntry {
    /// The namespaced dedupe key (unique in the inbox).
    pub dedupe_key: String,
    /// The event id, when the body had one.
    pub event_id: Option<String>,
    /// The event type, when the body was an event.
    pub event_type: Option<String>,
    /// The headers needed to re-verify the body (signature, timestamp) and
    /// the captured ones, lowercase names.
    pub headers: Vec<(String, String)>,
    /// The raw body, exactly as signed.
    pub body: Bytes,
    /// When it arrived, in ms since the epoch.
    pub received_at_ms: i64,
}

impl fmt::Debug for NewEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("NewEntry")
            .field("event_id", &self.event_id)
            .field("event_type", &self.event_type)
            .field("headers", &names)
            .field("body_len", &self.body.len())
            .field("received_at_ms", &self.received_at_ms)
            .finish_non_exhaustive()
    }
}

/// What [`InboxStore::enqueue`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new entry, committed.
    Stored,
    /// An entry with this key already exists, in this state.
    Duplicate(EntryState),
}

/// An entry leased to a worker, for one attempt.
///
/// `Debug` leaves out header values and the body.
#[derive(Clone)]
pub struct LeasedEntry {
    /// The entry's id.
    pub id: i64,
    /// The lease's token: settling checks it, so a worker whose lease was
    /// taken over cannot settle the entry.
    pub token: ClaimToken,
    /// This attempt's number, from 1.
    pub attempt: u32,
    /// The dedupe key.
    pub dedupe_key: String,
    /// The stored headers.
    pub headers: Vec<(String, String)>,
    /// The stored body.
    pub body: Bytes,
    /// When the delivery arrived, in ms since the epoch.
    pub received_at_ms: i64,
    /// When this lease was taken (the `now_ms` of
    /// [`InboxStore::take`]): the attempt's start, which a backend keeps
    /// with its outcome.
    pub leased_at_ms: i64,
}

impl fmt::Debug for LeasedEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LeasedEntry")
            .field("id", &self.id)
            .field("attempt", &self.attempt)
            .field("body_len", &self.body.len())
            .field("received_at_ms", &self.received_at_ms)
            .field("leased_at_ms", &self.leased_at_ms)
            .finish_non_exhaustive()
    }
}

/// How a worker settles a leased entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// The handler succeeded: done, kept for the dedupe TTL.
    Done,
    /// The handler failed: pending again from `at_ms`.
    Retry {
        /// When the next attempt may start, in ms since the epoch.
        at_ms: i64,
        /// Why this attempt failed.
        error: String,
    },
    /// Dead-lettered: no more attempts until an operator retries it.
    Dead {
        /// Why.
        error: String,
    },
    /// Given back before its handler started (leased as shutdown began):
    /// pending at once, the attempt not counted.
    Release,
}

/// Rows per state and the age of the oldest pending one.
///
/// ```
/// use costkatana_webhooks::inbox::{EntryState, InboxStats};
/// let stats = InboxStats { pending: 2, dead: 1, ..InboxStats::default() };
/// assert_eq!(stats.count(EntryState::Pending), 2);
/// assert_eq!(stats.count(EntryState::Dead), 1);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InboxStats {
    /// Pending entries.
    pub pending: u64,
    /// Running entries.
    pub running: u64,
    /// Done entries not yet purged.
    pub done: u64,
    /// Dead-lettered entries.
    pub dead: u64,
    /// Arrival time of the oldest pending entry, in ms since the epoch.
    pub oldest_pending_ms: Option<i64>,
}

impl InboxStats {
    /// The entries in `state`.
    pub fn count(&self, state: EntryState) -> u64 {
        match state {
            EntryState::Pending => self.pending,
            EntryState::Running => self.running,
            EntryState::Done => self.done,
            EntryState::Dead => self.dead,
        }
    }
}

/// A durable inbox: what the receiver and its workers need from a backend.
///
/// Every method commits before its future resolves; an error means nothing
/// was changed (or that the backend cannot tell, which the receiver treats
/// the same: the sender is answered 503 and retries).
///
/// Implemented by `costkatana-webhooks-inbox` for SQLite and Postgres.
///
/// ```
/// use costkatana_webhooks::inbox::InboxStore;
/// fn takes_any_inbox(_: &dyn InboxStore) {}
/// ```
pub trait InboxStore: Send + Sync + 'static {
    /// Stores `entry` unless an entry with its dedupe key exists.
    fn enqueue(&self, entry: NewEntry) -> StoreFuture<'_, Enqueued>;

    /// Leases up to `limit` entries that are due at `now_ms` (pending with a
    /// due retry time, or running with an ended lease), counting an attempt
    /// on each. Entries leased to another worker are skipped, never waited
    /// on.
    fn take(&self, now_ms: i64, lease: Duration, limit: usize)
        -> StoreFuture<'_, Vec<LeasedEntry>>;

    /// Settles a leased entry, if the lease is still `entry.token`'s;
    /// [`Completion::Overtaken`] when another worker took it over.
    fn settle<'a>(
        &'a self,
        entry: &'a LeasedEntry,
        settlement: Settlement,
        now_ms: i64,
    ) -> StoreFuture<'a, Completion>;

    /// Extends a running entry's lease to `until_ms`, if the lease is still
    /// `entry.token`'s; [`Completion::Overtaken`] when another worker took
    /// it.
    fn renew<'a>(&'a self, entry: &'a LeasedEntry, until_ms: i64) -> StoreFuture<'a, Completion>;

    /// Deletes done entries settled before `before_ms`; returns how many.
    fn purge_done(&self, before_ms: i64) -> StoreFuture<'_, u64>;

    /// Entries per state and the oldest pending arrival.
    fn stats(&self) -> StoreFuture<'_, InboxStats>;

    /// The state of the entry whose dedupe key is `key`, if any: for
    /// catch-up, which must not replay what the inbox holds. The default
    /// knows none.
    fn state_of<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<EntryState>> {
        let _ = key;
        Box::pin(std::future::ready(Ok(None)))
    }

    /// Records that a replay of `key` was asked of the sender, until
    /// `until_ms`: `true` when recorded now, `false` when a live record was
    /// already there (another pass or replica asked). See
    /// [`DedupeStore::expect_replay`](crate::dedupe::DedupeStore::expect_replay).
    /// The default keeps no such record and says so.
    fn expect_replay<'a>(
        &'a self,
        key: &'a str,
        now_ms: i64,
        until_ms: i64,
    ) -> StoreFuture<'a, bool> {
        let _ = (key, now_ms, until_ms);
        Box::pin(std::future::ready(Err(StoreError::inbox(
            "this inbox keeps no record of the replays asked for",
        ))))
    }

    /// Whether a replay of `key` is expected at `now_ms` (a record of
    /// [`InboxStore::expect_replay`] that has not ended). The default never
    /// has one.
    fn replay_expected<'a>(&'a self, key: &'a str, now_ms: i64) -> StoreFuture<'a, bool> {
        let _ = (key, now_ms);
        Box::pin(std::future::ready(Ok(false)))
    }

    /// Checks that a delivery could be stored now, changing nothing (a
    /// write in a transaction that is rolled back). A receiver asks at
    /// [`start`](crate::Receiver::start), refusing to start when it fails,
    /// and in [`health`](crate::Receiver::health).
    ///
    /// The default answers that it can.
    fn probe(&self) -> StoreFuture<'_, ()> {
        Box::pin(std::future::ready(Ok(())))
    }

    /// Whether this backend can commit a handler's writes in the
    /// transaction that marks its entry done
    /// ([`InboxStore::begin_transaction`]). A handler asking for such
    /// writes is refused at build by an inbox that cannot. The default:
    /// no.
    fn supports_transactions(&self) -> bool {
        false
    }

    /// What a transactional handler's writes go through during `entry`'s
    /// attempt: `None` when the backend cannot (the default). Dropped
    /// without [`AttemptTransaction::commit_done`], it rolls the writes
    /// back.
    fn begin_transaction(&self, entry: &LeasedEntry) -> Option<Box<dyn AttemptTransaction>> {
        let _ = entry;
        None
    }

    /// Whether this process leads `task` among every process sharing the
    /// inbox, for maintenance that must run once per fleet (the purge,
    /// catch-up). Asked before each run; the answer holds until the
    /// process stops or loses its connection.
    ///
    /// The default, for an inbox only one process opens (SQLite): always.
    fn lead(&self, task: &'static str) -> StoreFuture<'_, bool> {
        let _ = task;
        Box::pin(std::future::ready(Ok(true)))
    }
}

impl<S: InboxStore + ?Sized> InboxStore for std::sync::Arc<S> {
    fn enqueue(&self, entry: NewEntry) -> StoreFuture<'_, Enqueued> {
        (**self).enqueue(entry)
    }

    fn take(
        &self,
        now_ms: i64,
        lease: Duration,
        limit: usize,
    ) -> StoreFuture<'_, Vec<LeasedEntry>> {
        (**self).take(now_ms, lease, limit)
    }

    fn settle<'a>(
        &'a self,
        entry: &'a LeasedEntry,
        settlement: Settlement,
        now_ms: i64,
    ) -> StoreFuture<'a, Completion> {
        (**self).settle(entry, settlement, now_ms)
    }

    fn renew<'a>(&'a self, entry: &'a LeasedEntry, until_ms: i64) -> StoreFuture<'a, Completion> {
        (**self).renew(entry, until_ms)
    }

    fn purge_done(&self, before_ms: i64) -> StoreFuture<'_, u64> {
        (**self).purge_done(before_ms)
    }

    fn stats(&self) -> StoreFuture<'_, InboxStats> {
        (**self).stats()
    }

    fn probe(&self) -> StoreFuture<'_, ()> {
        (**self).probe()
    }

    fn state_of<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<EntryState>> {
        (**self).state_of(key)
    }

    fn expect_replay<'a>(
        &'a self,
        key: &'a str,
        now_ms: i64,
        until_ms: i64,
    ) -> StoreFuture<'a, bool> {
        (**self).expect_replay(key, now_ms, until_ms)
    }

    fn replay_expected<'a>(&'a self, key: &'a str, now_ms: i64) -> StoreFuture<'a, bool> {
        (**self).replay_expected(key, now_ms)
    }

    fn lead(&self, task: &'static str) -> StoreFuture<'_, bool> {
        (**self).lead(task)
    }

    fn supports_transactions(&self) -> bool {
        (**self).supports_transactions()
    }

    fn begin_transaction(&self, entry: &LeasedEntry) -> Option<Box<dyn AttemptTransaction>> {
        (**self).begin_transaction(entry)
    }
}

/// A transactional handler's writes during one attempt: they commit in the
/// transaction that marks the entry done, if the entry is still this
/// attempt's, or not at all.
///
/// The receiver's workers begin one ([`InboxStore::begin_transaction`])
/// for a handler that asks for it, hand its [`handle`](Self::handle) to the
/// handler's argument, and after a successful handler call
/// [`commit_done`](Self::commit_done). On any other outcome (a failure, a
/// refusal, a time limit, a shutdown) they drop it, and its writes roll
/// back.
pub trait AttemptTransaction: Send + Sync + 'static {
    /// What the handler's argument is made from: the backend's own handle
    /// type, which the argument downcasts.
    fn handle(&self) -> std::sync::Arc<dyn std::any::Any + Send + Sync>;

    /// Commits the writes together with the done mark of `entry`, if its
    /// lease is still this attempt's; [`Completion::Overtaken`] (and
    /// nothing written) when another worker took the entry over.
    fn commit_done<'a>(
        self: Box<Self>,
        entry: &'a LeasedEntry,
        now_ms: i64,
    ) -> StoreFuture<'a, Completion>;
}

/// A backend error, with the message the log shows.
pub(crate) fn unavailable(err: StoreError) -> crate::Error {
    crate::Error::with_detail(
        crate::ErrorKind::StoreUnavailable,
        "the inbox could not store the delivery; retry later",
    )
    .caused_by(err)
}
