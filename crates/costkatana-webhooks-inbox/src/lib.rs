//! A durable inbox for [`costkatana-webhooks`](costkatana_webhooks): the
//! receiver answers 200 only after the delivery is committed to a table,
//! and workers run the handlers from there, with retries, leases and a
//! dead-letter state. The table is also the dedupe store, so dedupe
//! survives restarts.
//!
//! Two backends, one API:
//!
//! - **SQLite** (`sqlite:<path>`), embedded and the default: one file, no
//!   server, the library compiled in. One process writes it at a time
//!   (others, like the `ckwebhook inbox` CLI, wait their turn).
//! - **Postgres** (`postgres://…`), for many replicas sharing one inbox.
//!
//! ```no_run
//! use costkatana_webhooks::{Event, HandlerResult, Payload, Receiver};
//! use costkatana_webhooks_inbox::Inbox;
//!
//! async fn on_budget(event: Event) -> HandlerResult {
//!     println!("budget exceeded: {:?}", event.title);
//!     Ok(())
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let receiver = Receiver::builder()
//!     .secret("whsec_...")
//!     .inbox(Inbox::open("sqlite:inbox.db").await?)
//!     .on("budget.exceeded", on_budget)
//!     .fallback(|_: Payload| async { Ok(()) })
//!     .build()?;
//! receiver.start().await?; // the workers
//! // Serve `receiver` with an adapter; on exit:
//! receiver.shutdown(std::time::Duration::from_secs(30)).await;
//! # Ok(()) }
//! ```
//!
//! The same [`Inbox`] inspects and replays: [`Inbox::list`],
//! [`Inbox::get`], [`Inbox::retry`], [`Inbox::retry_dead`],
//! [`Inbox::purge_done`] (the `ckwebhook inbox` subcommands).

mod error;
mod postgres;
mod sql;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;

/// The inbox's vocabulary, from the core's seam, for code that uses this
/// crate alone.
pub use costkatana_webhooks::inbox::{
    Entry, EntryQuery, EntryState, EntrySummary, InboxStats, RetryPolicy,
};
pub use error::InboxError;

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use costkatana_webhooks::clock::millis;
use costkatana_webhooks::dedupe::{Completion, StoreFuture};
use costkatana_webhooks::inbox::{Enqueued, InboxStore, LeasedEntry, NewEntry, Settlement};

/// What a committed SQLite write survives (Postgres follows the server's
/// `synchronous_commit`, on by default: power loss).
///
/// ```
/// use costkatana_webhooks_inbox::Durability;
/// assert_eq!(Durability::default(), Durability::ProcessCrash);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Durability {
    /// A crash or `kill -9` of the process (WAL, `synchronous=NORMAL`): the
    /// commit is in the operating system's hands before the 200. A power
    /// loss or kernel crash may lose the last commits.
    #[default]
    ProcessCrash,
    /// Also a power loss (`synchronous=FULL`): every commit waits for the
    /// disk's flush, shared by the deliveries committed together.
    PowerLoss,
}

/// A durable inbox on SQLite or Postgres. Cheap to clone; pass it to
/// [`ReceiverBuilder::inbox`](costkatana_webhooks::ReceiverBuilder::inbox).
///
/// ```no_run
/// # async fn run() -> Result<(), costkatana_webhooks_inbox::InboxError> {
/// use costkatana_webhooks::inbox::EntryState;
/// use costkatana_webhooks_inbox::Inbox;
///
/// let inbox = Inbox::open("postgres://app@db.internal/webhooks").await?;
/// for record in inbox.list(Some(EntryState::Dead), 20).await? {
///     println!("{} {:?} {:?}", record.id, record.event_type, record.last_error);
/// }
/// inbox.retry_dead().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Inbox {
    backend: Backend,
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(sqlite::Sqlite),
    Postgres(postgres::Postgres),
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

impl Inbox {
    /// Opens (creating if needed) the inbox at `url`: `sqlite:<path>` (add
    /// `?durability=power-loss` for [`Durability::PowerLoss`]) or
    /// `postgres://user:password@host:port/database`.
    ///
    /// # Errors
    ///
    /// Another scheme, a file that cannot be opened or switched to WAL, a
    /// server that cannot be reached (within 5 s) or refuses the table.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let dir = std::env::temp_dir().join(format!("inbox-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let url = format!("sqlite:{}", dir.join("inbox.db").display());
    /// let inbox = costkatana_webhooks_inbox::Inbox::open(&url).await.unwrap();
    /// assert_eq!(inbox.stats().await.unwrap().pending, 0);
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # });
    /// ```
    pub async fn open(url: &str) -> Result<Inbox, InboxError> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            let (path, durability) = match rest.split_once('?') {
                None => (rest, Durability::default()),
                Some((path, "durability=process-crash")) => (path, Durability::ProcessCrash),
                Some((path, "durability=power-loss")) => (path, Durability::PowerLoss),
                Some((_, query)) => {
                    return Err(InboxError::new(format!(
                        "unknown SQLite inbox option {query:?}: use durability=process-crash \
                         or durability=power-loss"
                    )))
                }
            };
            return Inbox::sqlite(path, durability).await;
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Inbox::postgres(url).await;
        }
        Err(InboxError::new(
            "an inbox URL is sqlite:<path> or postgres://user:password@host:port/database",
        ))
    }

    /// Opens (creating if needed) a SQLite inbox at `path`.
    ///
    /// # Errors
    ///
    /// The file cannot be opened, switched to WAL, or given its table.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use costkatana_webhooks_inbox::{Durability, Inbox};
    /// let path = std::env::temp_dir().join(format!("inbox-doc-sqlite-{}.db", std::process::id()));
    /// let inbox = Inbox::sqlite(&path, Durability::PowerLoss).await.unwrap();
    /// # drop(inbox);
    /// # for suffix in ["", "-wal", "-shm"] { let _ = std::fs::remove_file(format!("{}{suffix}", path.display())); }
    /// # });
    /// ```
    pub async fn sqlite(
        path: impl AsRef<Path>,
        durability: Durability,
    ) -> Result<Inbox, InboxError> {
        Ok(Inbox {
            backend: Backend::Sqlite(sqlite::Sqlite::open(path.as_ref(), durability).await?),
        })
    }

    /// Connects to a Postgres inbox (creating its table if needed). Must be
    /// called inside a Tokio runtime.
    ///
    /// # Errors
    ///
    /// An invalid URL, or a server that cannot be reached within 5 s or
    /// refuses the table.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), costkatana_webhooks_inbox::InboxError> {
    /// let inbox = costkatana_webhooks_inbox::Inbox::postgres("postgres://app@127.0.0.1/webhooks").await?;
    /// # Ok(()) }
    /// ```
    pub async fn postgres(url: &str) -> Result<Inbox, InboxError> {
        Ok(Inbox {
            backend: Backend::Postgres(postgres::Postgres::open(url).await?),
        })
    }

    /// Rows per state and the oldest pending arrival.
    ///
    /// # Errors
    ///
    /// The inbox cannot be read.
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

    /// Up to `limit` rows, newest first, in `state` or in any.
    ///
    /// # Errors
    ///
    /// The inbox cannot be read.
    ///
    /// ```no_run
    /// # async fn run(inbox: costkatana_webhooks_inbox::Inbox) -> Result<(), costkatana_webhooks_inbox::InboxError> {
    /// use costkatana_webhooks::inbox::EntryState;
    /// let dead = inbox.list(Some(EntryState::Dead), 50).await?;
    /// # Ok(()) }
    /// ```
    pub async fn list(
        &self,
        state: Option<EntryState>,
        limit: usize,
    ) -> Result<Vec<Entry>, InboxError> {
        on_backend!(self, b => b.list(state, limit).await)
    }

    /// The row with id `id`, if any.
    ///
    /// # Errors
    ///
    /// The inbox cannot be read.
    ///
    /// ```no_run
    /// # async fn run(inbox: costkatana_webhooks_inbox::Inbox) -> Result<(), costkatana_webhooks_inbox::InboxError> {
    /// if let Some(record) = inbox.get(42).await? {
    ///     println!("{:?}", record.redacted_headers());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, id: i64) -> Result<Option<Entry>, InboxError> {
        on_backend!(self, b => b.get(id).await)
    }

    /// Makes row `id` pending now with its attempts from zero (a dead
    /// letter, or a done row to replay); `false` when there is no such row
    /// or it is running.
    ///
    /// # Errors
    ///
    /// The inbox cannot be written.
    ///
    /// ```no_run
    /// # async fn run(inbox: costkatana_webhooks_inbox::Inbox) -> Result<(), costkatana_webhooks_inbox::InboxError> {
    /// assert!(inbox.retry(42).await?);
    /// # Ok(()) }
    /// ```
    pub async fn retry(&self, id: i64) -> Result<bool, InboxError> {
        on_backend!(self, b => b.retry(id, now_ms()).await)
    }

    /// Makes every dead-lettered row pending now; returns how many.
    ///
    /// # Errors
    ///
    /// The inbox cannot be written.
    ///
    /// ```no_run
    /// # async fn run(inbox: costkatana_webhooks_inbox::Inbox) -> Result<(), costkatana_webhooks_inbox::InboxError> {
    /// println!("{} dead letters queued again", inbox.retry_dead().await?);
    /// # Ok(()) }
    /// ```
    pub async fn retry_dead(&self) -> Result<u64, InboxError> {
        on_backend!(self, b => b.retry_dead(now_ms()).await)
    }

    /// Deletes done rows settled more than `older_than` ago; returns how
    /// many. (Receivers purge rows past their dedupe TTL by themselves; a
    /// purged event's copy would be handled again.)
    ///
    /// # Errors
    ///
    /// The inbox cannot be written.
    ///
    /// ```no_run
    /// # async fn run(inbox: costkatana_webhooks_inbox::Inbox) -> Result<(), costkatana_webhooks_inbox::InboxError> {
    /// let purged = inbox.purge_done(std::time::Duration::from_secs(7 * 24 * 3600)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn purge_done(&self, older_than: Duration) -> Result<u64, InboxError> {
        let before_ms = now_ms().saturating_sub(millis(older_than));
        on_backend!(self, b => b.purge_done(before_ms).await)
    }
}

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

    fn purge_done(&self, before_ms: i64) -> StoreFuture<'_, u64> {
        Box::pin(async move { Ok(on_backend!(self, b => b.purge_done(before_ms).await)?) })
    }

    fn stats(&self) -> StoreFuture<'_, InboxStats> {
        Box::pin(async move { Ok(on_backend!(self, b => b.stats().await)?) })
    }
}

/// Adds one `GROUP BY state` row to `stats`.
fn add_count(stats: &mut InboxStats, state: &str, count: i64) {
    let count = u64::try_from(count).unwrap_or(0);
    match EntryState::parse(state) {
        Some(EntryState::Pending) => stats.pending = count,
        Some(EntryState::Running) => stats.running = count,
        Some(EntryState::Done) => stats.done = count,
        Some(EntryState::Dead) => stats.dead = count,
        None => {}
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, millis)
}
