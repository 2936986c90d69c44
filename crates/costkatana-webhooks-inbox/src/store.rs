//! [`Inbox`] as the core's [`InboxStore`]: what a receiver and its workers
//! call. The maintenance the fleet runs once (the purge) asks
//! [`InboxStore::lead`] first: on Postgres one replica leads each task; on
//! SQLite, which one process writes, the one process does.

use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::dedupe::{Completion, StoreFuture};
use costkatana_webhooks::inbox::{
    AttemptTransaction, Enqueued, EntryQuery, EntryState, InboxStats, InboxStore, LeasedEntry,
    NewEntry, Settlement,
};

use crate::history::ACTIVITY_KEPT_MS;
use crate::inbox::{on_backend, Backend, Inbox};
use crate::postgres::transaction::PgTransaction;
use crate::sqlite::transaction::SqliteTransaction;
use crate::transaction::{AttemptWrites, Transaction};

impl InboxStore for Inbox {
    fn enqueue(&self, entry: NewEntry) -> StoreFuture<'_, Enqueued> {
        Box::pin(async move { Ok(on_backend!(self, b => b.enqueue(entry).await)?) })
    }

    fn take(
        &self,
        now_ms: i64,
        lease: Duration,
        limit: usize,
    ) -> StoreFuture<'_, Vec<LeasedEntry>> {
        Box::pin(async move { Ok(on_backend!(self, b => b.take(now_ms, lease, limit).await)?) })
    }

    fn settle<'a>(
        &'a self,
        job: &'a LeasedEntry,
        settlement: Settlement,
        now_ms: i64,
    ) -> StoreFuture<'a, Completion> {
        Box::pin(
            async move { Ok(on_backend!(self, b => b.settle(job, settlement, now_ms).await)?) },
        )
    }

    fn renew<'a>(&'a self, job: &'a LeasedEntry, until_ms: i64) -> StoreFuture<'a, Completion> {
        Box::pin(async move { Ok(on_backend!(self, b => b.renew(job, until_ms).await)?) })
    }

    /// A page at a time (see [`Inbox::purge`]); also forgets the
    /// activity past its 48 h and the replay records that ended.
    fn purge_done(&self, before_ms: i64) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let query = EntryQuery::new()
                .state(EntryState::Done)
                .settled_before(before_ms);
            let purged = self.purge(&query).await?;
            let now_ms = self.clock.now_ms();
            let activity_before = now_ms.saturating_sub(ACTIVITY_KEPT_MS);
            on_backend!(self, b => b.trim(activity_before, now_ms).await)?;
            Ok(purged)
        })
    }

    fn state_of<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<EntryState>> {
        Box::pin(async move { Ok(on_backend!(self, b => b.state_of(key).await)?) })
    }

    /// In a table of its own beside the inbox's, so every replica sharing
    /// the inbox sees it.
    fn expect_replay<'a>(
        &'a self,
        key: &'a str,
        now_ms: i64,
        until_ms: i64,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            Ok(on_backend!(self, b => b.expect_replay(key, now_ms, until_ms).await)?)
        })
    }

    fn replay_expected<'a>(&'a self, key: &'a str, now_ms: i64) -> StoreFuture<'a, bool> {
        Box::pin(async move { Ok(on_backend!(self, b => b.replay_expected(key, now_ms).await)?) })
    }

    fn stats(&self) -> StoreFuture<'_, InboxStats> {
        Box::pin(async move { Ok(on_backend!(self, b => b.stats().await)?) })
    }

    /// A write in a transaction that is rolled back: on SQLite in the
    /// writer thread's next transaction, on Postgres on a connection of
    /// the pool that stores deliveries.
    fn probe(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move { Ok(on_backend!(self, b => b.probe().await)?) })
    }

    /// Both backends: see [`InboxTransaction`](crate::InboxTransaction).
    fn supports_transactions(&self) -> bool {
        true
    }

    fn begin_transaction(&self, _entry: &LeasedEntry) -> Option<Box<dyn AttemptTransaction>> {
        let transaction = match &self.backend {
            Backend::Sqlite(sqlite) => Transaction::Sqlite(SqliteTransaction::new(sqlite.clone())),
            Backend::Postgres(postgres) => {
                Transaction::Postgres(Box::new(PgTransaction::new(postgres.clone())))
            }
        };
        Some(Box::new(AttemptWrites(Arc::new(transaction))))
    }

    fn lead(&self, task: &'static str) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            match &self.backend {
                Backend::Sqlite(_) => Ok(true),
                Backend::Postgres(postgres) => Ok(postgres.lead(task).await?),
            }
        })
    }
}
