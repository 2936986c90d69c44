//! [`Inbox`]: the handle receivers store deliveries through, and the API
//! that inspects and replays them.

use std::fmt;
use std::sync::Arc;

use costkatana_webhooks::clock::Clock;
use costkatana_webhooks::inbox::{Entry, EntryQuery, EntryState, EntrySummary, InboxStats};

use crate::error::InboxError;
use crate::history::{Attempt, MinuteActivity};
use crate::postgres::Postgres;
use crate::sqlite::Sqlite;

/// A durable inbox on SQLite or Postgres. Cheap to clone; pass it to
/// [`ReceiverBuilder::inbox`](costkatana_webhooks::ReceiverBuilder::inbox).
///
/// ```no_run
/// # async fn run() -> Result<(), costkatana_webhooks_inbox::InboxError> {
/// use costkatana_webhooks_inbox::{EntryQuery, EntryState, Inbox};
///
/// let inbox = Inbox::connect("postgres://app@db.internal/webhooks").await?;
/// for entry in inbox.list(&EntryQuery::new().state(EntryState::Dead).limit(20)).await? {
///     println!("{} {:?} {:?}", entry.id, entry.event_type, entry.last_error);
/// }
/// inbox.retry_dead().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Inbox {
    pub(crate) backend: Backend,
    pub(crate) clock: Arc<dyn Clock>,
}

#[derive(Debug, Clone)]
pub(crate) enum Backend {
    Sqlite(Sqlite),
    Postgres(Postgres),
}

/// Runs the same call on whichever backend this is.
macro_rules! on_backend {
    ($inbox:expr, $backend:ident => $call:expr) => {
        match &$inbox.backend {
            Backend::Sqlite($backend) => $call,
            Backend::Postgres($backend) => $call,
        }
    };
}
pub(crate) use on_backend;

impl Inbox {
    pub(crate) fn new(backend: Backend, clock: Arc<dyn Clock>) -> Inbox {
        Inbox { backend, clock }
    }

    /// Runs the migrations this code has and the database has not, each
    /// in its own transaction; returns their versions (none when it was up
    /// to date). [`open`](Self::open) does this already; this is for an
    /// inbox obtained with [`connect`](Self::connect) by a role that may
    /// change the schema, or for a deploy step of its own.
    ///
    /// # Errors
    ///
    /// [`Schema`](crate::InboxErrorKind::Schema): a schema this code cannot
    /// use, or a migration that failed (rolled back);
    /// [`Unavailable`](crate::InboxErrorKind::Unavailable): the database
    /// cannot be reached.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), costkatana_webhooks_inbox::InboxError> {
    /// use costkatana_webhooks_inbox::Inbox;
    /// let inbox = Inbox::open("postgres://owner@db.internal/webhooks").await?;
    /// assert!(inbox.migrate().await?.is_empty(), "open migrated it already");
    /// # Ok(()) }
    /// ```
    pub async fn migrate(&self) -> Result<Vec<u32>, InboxError> {
        let clock = Arc::clone(&self.clock);
        on_backend!(self, b => b.migrate(clock).await)
    }

    /// The schema version the database is at: the last migration recorded
    /// (or, for a schema made without recording them, the last whose
    /// tables and indexes are all there). Compare with
    /// [`migrations::LATEST`](crate::migrations::LATEST).
    ///
    /// # Errors
    ///
    /// [`Schema`](crate::InboxErrorKind::Schema): a schema this code cannot
    /// use; [`Unavailable`](crate::InboxErrorKind::Unavailable): the
    /// database cannot be read.
    ///
    /// ```no_run
    /// # async fn run(inbox: costkatana_webhooks_inbox::Inbox) -> Result<(), costkatana_webhooks_inbox::InboxError> {
    /// println!("schema version {}", inbox.schema_version().await?);
    /// # Ok(()) }
    /// ```
    pub async fn schema_version(&self) -> Result<u32, InboxError> {
        on_backend!(self, b => b.schema_version().await)
    }

    /// Rows per state and the oldest pending arrival. On SQLite it reads
    /// on a connection of its own, never waiting for the workers' writes,
    /// four counters its triggers keep and one index entry: as fast on a
    /// million rows as on ten.
    ///
    /// # Errors
    ///
    /// [`Unavailable`](crate::InboxErrorKind::Unavailable): the inbox
    /// cannot be read.
    ///
    /// ```no_run
    /// # async fn run(inbox: costkatana_webhooks_inbox::Inbox) -> Result<(), costkatana_webhooks_inbox::InboxError> {
    /// let stats = inbox.stats().await?;
    /// println!("{} pending, {} dead", stats.pending, stats.dead);
    /// # Ok(()) }
    /// ```
    pub async fn stats(&self) -> Result<InboxStats, InboxError> {
        on_backend!(self, b => b.stats().await)
    }

    /// The entries `query` asks for, newest first (by id), without their
    /// bodies and headers: at most [`EntryQuery::limit`] of them, every
    /// filter given applied. The next page is
    /// `query.before_id(last.id)`, where `last` is the page's last entry.
    ///
    /// # Errors
    ///
    /// [`Unavailable`](crate::InboxErrorKind::Unavailable): the inbox
    /// cannot be read.
    ///
    /// ```no_run
    /// # async fn run(inbox: costkatana_webhooks_inbox::Inbox) -> Result<(), costkatana_webhooks_inbox::InboxError> {
    /// use costkatana_webhooks_inbox::{EntryQuery, EntryState};
    ///
    /// let mut query = EntryQuery::new().state(EntryState::Dead).event_id_prefix("budget_");
    /// loop {
    ///     let page = inbox.list(&query).await?;
    ///     let Some(last) = page.last() else { break };
    ///     query = query.before_id(last.id);
    ///     for entry in &page {
    ///         println!("{} {:?}", entry.id, entry.last_error);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list(&self, query: &EntryQuery) -> Result<Vec<EntrySummary>, InboxError> {
        on_backend!(self, b => b.list(query).await)
    }

    /// The entry with id `id`, whole (its headers raw: show them with
    /// [`Entry::redacted_headers`]).
    ///
    /// # Errors
    ///
    /// [`NotFound`](crate::InboxErrorKind::NotFound): there is no such
    /// entry; [`Unavailable`](crate::InboxErrorKind::Unavailable): the
    /// inbox cannot be read.
    ///
    /// ```no_run
    /// # async fn run(inbox: costkatana_webhooks_inbox::Inbox) -> Result<(), costkatana_webhooks_inbox::InboxError> {
    /// use costkatana_webhooks_inbox::InboxErrorKind;
    /// match inbox.get(42).await {
    ///     Ok(entry) => println!("{:?}", entry.redacted_headers()),
    ///     Err(err) if err.kind() == InboxErrorKind::NotFound => println!("no entry 42"),
    ///     Err(err) => return Err(err),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, id: i64) -> Result<Entry, InboxError> {
        on_backend!(self, b => b.get(id).await)
    }

    /// Makes entry `id` pending now with its attempts from zero (a dead
    /// letter, or a done entry to replay: its event was handled already,
    /// and runs again); returns the state it was in.
    ///
    /// # Errors
    ///
    /// [`NotFound`](crate::InboxErrorKind::NotFound): there is no such
    /// entry; [`Conflict`](crate::InboxErrorKind::Conflict): it is running
    /// (its worker may still settle it; retry it once it is done or dead),
    /// or it is done and its body was not kept (see
    /// [`InboxBuilder::keep_done_bodies`]);
    /// [`Unavailable`](crate::InboxErrorKind::Unavailable): the inbox
    /// cannot be written.
    ///
    /// ```no_run
    /// # async fn run(inbox: costkatana_webhooks_inbox::Inbox) -> Result<(), costkatana_webhooks_inbox::InboxError> {
    /// let was = inbox.retry(42).await?;
    /// println!("entry 42 queued again (was {was})");
    /// # Ok(()) }
    /// ```
    pub async fn retry(&self, id: i64) -> Result<EntryState, InboxError> {
        let now_ms = self.clock.now_ms();
        on_backend!(self, b => b.retry(id, now_ms).await)
    }

    /// How many entries `query` matches: every filter it sets, its cursor
    /// ([`EntryQuery::before_id`]) included, its limit aside. On SQLite it
    /// reads on a connection of its own, never waiting for the workers'
    /// writes; it reads every matching entry's index entry, so a count of
    /// millions takes a while (use [`stats`](Self::stats) for the counts
    /// per state).
    ///
    /// # Errors
    ///
    /// [`Unavailable`](crate::InboxErrorKind::Unavailable): the inbox
    /// cannot be read.
    ///
    /// ```no_run
    /// # async fn run(inbox: costkatana_webhooks_inbox::Inbox) -> Result<(), costkatana_webhooks_inbox::InboxError> {
    /// use costkatana_webhooks_inbox::{EntryQuery, EntryState};
    ///
    /// let week_ago = 1_777_377_600_000 - 7 * 86_400_000;
    /// let old_dead = EntryQuery::new().state(EntryState::Dead).settled_before(week_ago);
    /// println!("{} dead letters older than a week", inbox.count(&old_dead).await?);
    /// # Ok(()) }
    /// ```
    pub async fn count(&self, query: &EntryQuery) -> Result<u64, InboxError> {
        on_backend!(self, b => b.count(query).await)
    }

    /// Deletes the done and dead entries `query` matches (its state, if
    /// set, must be done or dead; unset, both); returns how many. Pending
    /// and running entries are never deleted. Every filter applies, the
    /// limit aside: [`EntryQuery::settled_before`] for an age,
    /// [`EntryQuery::event_type`] for a type, and so on.
    ///
    /// The deletes go a page of 500 at a time, each in a transaction of
    /// its own, so a large purge does not hold up the deliveries being
    /// stored meanwhile. A purged done entry's key is forgotten: a resent
    /// copy of its event is stored and handled again. A purged dead letter
    /// is gone for good.
    ///
    /// Dead letters are kept until purged: nothing deletes them by itself
    /// (a receiver's own purge deletes done entries past the dedupe TTL
    /// only).
    ///
    /// # Errors
    ///
    /// [`Invalid`](crate::InboxErrorKind::Invalid): the query's state is
    /// pending or running; [`Unavailable`](crate::InboxErrorKind::Unavailable):
    /// the inbox cannot be written (the pages deleted until then stay
    /// deleted).
    ///
    /// ```no_run
    /// # async fn run(inbox: costkatana_webhooks_inbox::Inbox) -> Result<(), costkatana_webhooks_inbox::InboxError> {
    /// use costkatana_webhooks_inbox::{EntryQuery, EntryState};
    ///
    /// let month_ago = 1_777_377_600_000 - 30 * 86_400_000;
    /// let query = EntryQuery::new()
    ///     .state(EntryState::Dead)
    ///     .event_type("usage.spike")
    ///     .settled_before(month_ago);
    /// println!("{} dead letters deleted", inbox.purge(&query).await?);
    /// # Ok(()) }
    /// ```
    pub async fn purge(&self, query: &EntryQuery) -> Result<u64, InboxError> {
        on_backend!(self, b => b.purge(query).await)
    }

    /// Makes every dead-lettered entry pending now; returns how many.
    ///
    /// # Errors
    ///
    /// [`Unavailable`](crate::InboxErrorKind::Unavailable): the inbox
    /// cannot be written.
    ///
    /// ```no_run
    /// # async fn run(inbox: costkatana_webhooks_inbox::Inbox) -> Result<(), costkatana_webhooks_inbox::InboxError> {
    /// println!("{} dead letters queued again", inbox.retry_dead().await?);
    /// # Ok(()) }
    /// ```
    pub async fn retry_dead(&self) -> Result<u64, InboxError> {
        let now_ms = self.clock.now_ms();
        on_backend!(self, b => b.retry_dead(now_ms).await)
    }

    /// Entry `id`'s attempts, oldest first: each failed one as it was
    /// recorded (start, duration, error, the worker that ran it), then the
    /// one that succeeded, if it did. Recorded from schema version 4 on;
    /// an entry's attempts are deleted with it, and counted again from 1
    /// after a [`retry`](Self::retry).
    ///
    /// # Errors
    ///
    /// [`NotFound`](crate::InboxErrorKind::NotFound): there is no such
    /// entry; [`Unavailable`](crate::InboxErrorKind::Unavailable): the
    /// inbox cannot be read.
    ///
    /// ```no_run
    /// # async fn run(inbox: costkatana_webhooks_inbox::Inbox) -> Result<(), costkatana_webhooks_inbox::InboxError> {
    /// for attempt in inbox.attempts(42).await? {
    ///     println!("#{} {} in {} ms: {:?}", attempt.number, attempt.outcome,
    ///              attempt.duration_ms, attempt.error);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn attempts(&self, id: i64) -> Result<Vec<Attempt>, InboxError> {
        on_backend!(self, b => b.attempts(id).await)
    }

    /// Attempts per minute in `[since_ms, until_ms)`, with their outcomes
    /// and duration percentiles: the minutes that saw any, oldest first.
    /// Each process adds what its workers ran about once a second (this
    /// one first, before reading); minutes older than 48 h are forgotten
    /// by the receiver's purge.
    ///
    /// # Errors
    ///
    /// [`Unavailable`](crate::InboxErrorKind::Unavailable): the inbox
    /// cannot be read.
    ///
    /// ```no_run
    /// # async fn run(inbox: costkatana_webhooks_inbox::Inbox) -> Result<(), costkatana_webhooks_inbox::InboxError> {
    /// let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    /// let now_ms = now.as_millis() as i64;
    /// for minute in inbox.activity(now_ms - 3_600_000, now_ms).await? {
    ///     println!("{}: {} handled, p99 {:?} ms", minute.minute_ms, minute.handled, minute.p99_ms);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn activity(
        &self,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<MinuteActivity>, InboxError> {
        let now_ms = self.clock.now_ms();
        on_backend!(self, b => b.activity(since_ms, until_ms, now_ms).await)
    }

    /// Deletes entry `id` if it is done or dead (with its attempts);
    /// returns the state it was in. A purged done entry's key is
    /// forgotten, a purged dead letter gone for good.
    ///
    /// # Errors
    ///
    /// [`NotFound`](crate::InboxErrorKind::NotFound): there is no such
    /// entry; [`Conflict`](crate::InboxErrorKind::Conflict): it is pending
    /// or running; [`Unavailable`](crate::InboxErrorKind::Unavailable):
    /// the inbox cannot be written.
    ///
    /// ```no_run
    /// # async fn run(inbox: costkatana_webhooks_inbox::Inbox) -> Result<(), costkatana_webhooks_inbox::InboxError> {
    /// let was = inbox.delete(42).await?;
    /// println!("entry 42 deleted (it was {was})");
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self, id: i64) -> Result<EntryState, InboxError> {
        on_backend!(self, b => b.delete(id).await)
    }

    /// Makes every dead or done entry `query` matches pending again, at
    /// most `per_second` a second (so a bulk retry does not flood the
    /// handlers' downstream); returns how many were queued. Pending and
    /// running entries are left as they are, and so are done entries
    /// whose body was not kept. Every filter of `query` applies, its limit
    /// aside; it is read a page at a time, newest first.
    ///
    /// # Errors
    ///
    /// [`Invalid`](crate::InboxErrorKind::Invalid): `per_second` is 0;
    /// [`Unavailable`](crate::InboxErrorKind::Unavailable): the inbox
    /// cannot be read or written (the entries queued until then stay
    /// queued).
    ///
    /// ```no_run
    /// # async fn run(inbox: costkatana_webhooks_inbox::Inbox) -> Result<(), costkatana_webhooks_inbox::InboxError> {
    /// use costkatana_webhooks_inbox::{EntryQuery, EntryState};
    ///
    /// let query = EntryQuery::new().state(EntryState::Dead).event_type("budget.exceeded");
    /// println!("{} queued again", inbox.retry_matching(&query, 20).await?);
    /// # Ok(()) }
    /// ```
    pub async fn retry_matching(
        &self,
        query: &EntryQuery,
        per_second: u32,
    ) -> Result<u64, InboxError> {
        self.retry_matching_with_progress(query, per_second, |_| {})
            .await
    }

    /// [`retry_matching`](Self::retry_matching), telling `progress` how
    /// many were queued so far after each one (for a page or a progress
    /// bar).
    ///
    /// # Errors
    ///
    /// As [`retry_matching`](Self::retry_matching).
    ///
    /// ```no_run
    /// # async fn run(inbox: costkatana_webhooks_inbox::Inbox) -> Result<(), costkatana_webhooks_inbox::InboxError> {
    /// use costkatana_webhooks_inbox::{EntryQuery, EntryState};
    ///
    /// let dead = EntryQuery::new().state(EntryState::Dead);
    /// let total = inbox.count(&dead).await?;
    /// inbox
    ///     .retry_matching_with_progress(&dead, 50, |n| eprint!("\r{n} of {total}"))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn retry_matching_with_progress(
        &self,
        query: &EntryQuery,
        per_second: u32,
        mut progress: impl FnMut(u64) + Send,
    ) -> Result<u64, InboxError> {
        if per_second == 0 {
            return Err(InboxError::new(
                crate::InboxErrorKind::Invalid,
                "a bulk retry needs a rate of at least 1 a second",
            ));
        }
        let gap = std::time::Duration::from_secs(1) / per_second;
        let mut pace = tokio::time::interval(gap);
        pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut page = query.clone().limit(costkatana_webhooks::inbox::MAX_LIST);
        let mut queued = 0;
        loop {
            let entries = self.list(&page).await?;
            let Some(last) = entries.last() else { break };
            page = page.before_id(last.id);
            for entry in &entries {
                if !matches!(entry.state, EntryState::Dead | EntryState::Done) {
                    continue;
                }
                pace.tick().await;
                match self.retry(entry.id).await {
                    Ok(_) => {
                        queued += 1;
                        progress(queued);
                    }
                    // Started, deleted or dropped since it was listed.
                    Err(err) if err.kind() != crate::InboxErrorKind::Unavailable => {}
                    Err(err) => return Err(err),
                }
            }
        }
        Ok(queued)
    }
}

impl fmt::Debug for Inbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbox")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}
