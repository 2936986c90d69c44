//! What the inbox's workers settled, per dedupe key, once it is committed:
//! what the testing kit waits on in inbox mode. The receiver's inbox is
//! wrapped in [`Watched`], which forwards every call and notes each
//! settlement the backend recorded.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::dedupe::{Completion, StoreFuture};
use crate::inbox::{
    AttemptTransaction, Enqueued, EntryState, InboxStats, InboxStore, LeasedEntry, NewEntry,
    Settlement,
};

/// The states each key's entry was settled in, in order.
#[derive(Default)]
pub(crate) struct Settlements {
    watching: AtomicBool,
    by_key: Mutex<HashMap<String, Vec<EntryState>>>,
    changed: tokio::sync::Notify,
}

impl Settlements {
    /// Notes the settlements committed from now on.
    pub(crate) fn watch(&self) {
        self.watching.store(true, Ordering::Relaxed);
    }

    /// The states `key`'s entry was settled in so far.
    pub(crate) fn of(&self, key: &str) -> Vec<EntryState> {
        self.lock().get(key).cloned().unwrap_or_default()
    }

    /// Resolves at the next settlement (create it before reading
    /// [`of`](Self::of), so none is missed in between).
    pub(crate) fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.changed.notified()
    }

    fn note(&self, key: &str, state: EntryState) {
        if !self.watching.load(Ordering::Relaxed) {
            return;
        }
        self.lock().entry(key.to_owned()).or_default().push(state);
        self.changed.notify_waiters();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<EntryState>>> {
        self.by_key
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// An inbox that notes its committed settlements in [`Settlements`].
pub(crate) struct Watched {
    pub(crate) inner: Arc<dyn InboxStore>,
    pub(crate) settlements: Arc<Settlements>,
}

impl InboxStore for Watched {
    fn enqueue(&self, entry: NewEntry) -> StoreFuture<'_, Enqueued> {
        self.inner.enqueue(entry)
    }

    fn take(
        &self,
        now_ms: i64,
        lease: Duration,
        limit: usize,
    ) -> StoreFuture<'_, Vec<LeasedEntry>> {
        self.inner.take(now_ms, lease, limit)
    }

    fn settle<'a>(
        &'a self,
        entry: &'a LeasedEntry,
        settlement: Settlement,
        now_ms: i64,
    ) -> StoreFuture<'a, Completion> {
        let state = match &settlement {
            Settlement::Done => Some(EntryState::Done),
            Settlement::Retry { .. } => Some(EntryState::Pending),
            Settlement::Dead { .. } => Some(EntryState::Dead),
            Settlement::Release => None,
        };
        Box::pin(async move {
            let completion = self.inner.settle(entry, settlement, now_ms).await?;
            if let (Completion::Recorded, Some(state)) = (completion, state) {
                self.settlements.note(&entry.dedupe_key, state);
            }
            Ok(completion)
        })
    }

    fn renew<'a>(&'a self, entry: &'a LeasedEntry, until_ms: i64) -> StoreFuture<'a, Completion> {
        self.inner.renew(entry, until_ms)
    }

    fn purge_done(&self, before_ms: i64) -> StoreFuture<'_, u64> {
        self.inner.purge_done(before_ms)
    }

    fn stats(&self) -> StoreFuture<'_, InboxStats> {
        self.inner.stats()
    }

    fn state_of<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<EntryState>> {
        self.inner.state_of(key)
    }

    fn expect_replay<'a>(
        &'a self,
        key: &'a str,
        now_ms: i64,
        until_ms: i64,
    ) -> StoreFuture<'a, bool> {
        self.inner.expect_replay(key, now_ms, until_ms)
    }

    fn replay_expected<'a>(&'a self, key: &'a str, now_ms: i64) -> StoreFuture<'a, bool> {
        self.inner.replay_expected(key, now_ms)
    }

    fn probe(&self) -> StoreFuture<'_, ()> {
        self.inner.probe()
    }

    fn supports_transactions(&self) -> bool {
        self.inner.supports_transactions()
    }

    fn begin_transaction(&self, entry: &LeasedEntry) -> Option<Box<dyn AttemptTransaction>> {
        let transaction = self.inner.begin_transaction(entry)?;
        Some(Box::new(WatchedTransaction {
            inner: transaction,
            settlements: Arc::clone(&self.settlements),
        }))
    }

    fn lead(&self, task: &'static str) -> StoreFuture<'_, bool> {
        self.inner.lead(task)
    }
}

/// A transactional handler's writes, whose done mark is noted too.
struct WatchedTransaction {
    inner: Box<dyn AttemptTransaction>,
    settlements: Arc<Settlements>,
}

impl AttemptTransaction for WatchedTransaction {
    fn handle(&self) -> Arc<dyn std::any::Any + Send + Sync> {
        self.inner.handle()
    }

    fn commit_done<'a>(
        self: Box<Self>,
        entry: &'a LeasedEntry,
        now_ms: i64,
    ) -> StoreFuture<'a, Completion> {
        let WatchedTransaction { inner, settlements } = *self;
        Box::pin(async move {
            let completion = inner.commit_done(entry, now_ms).await?;
            if completion == Completion::Recorded {
                settlements.note(&entry.dedupe_key, EntryState::Done);
            }
            Ok(completion)
        })
    }
}
