//! Handlers whose database writes commit with their entry's done mark:
//! [`InboxTransaction`], the argument such a handler takes, and how each
//! backend keeps the promise (see the backends' `transaction.rs`).

pub(crate) mod value;

use std::any::Any;
use std::sync::Arc;

use costkatana_webhooks::dedupe::{Completion, StoreFuture};
use costkatana_webhooks::inbox::{AttemptTransaction, LeasedEntry};
use costkatana_webhooks::receiver::{DeliveryParts, FromDelivery, Requirements};
use costkatana_webhooks::HandlerError;

pub use value::SqlValue;

use crate::error::InboxError;
use crate::postgres::transaction::PgTransaction;
use crate::sqlite::transaction::SqliteTransaction;

/// A handler argument: SQL writes to the inbox's own database that commit
/// in the transaction that marks the entry done, and only if this attempt
/// still holds the entry's lease. If the handler fails, is refused, runs
/// out of time or its receiver stops, the writes roll back; if another
/// worker took the entry over (a handler slower than its lease), they roll
/// back and that worker's run stands. Whatever happens, one attempt's
/// writes are committed, once.
///
/// Statements use `$1`, `$2`, … placeholders on both databases.
///
/// - **Postgres**: a real transaction on a connection of the inbox's pool,
///   begun at the first [`execute`](Self::execute); each statement runs at
///   once, so its errors (a constraint, a typo) come back from `execute`.
///   The connection is held until the attempt ends, and the server ends a
///   transaction left idle for 30 s: do slow work before the first write.
/// - **SQLite**: the statements are checked at once (that they compile
///   against the file's schema, with as many parameters as given) and kept
///   until the handler returns; then they run in the writer's transaction
///   that settles the entry, after its lease is checked. A slow handler
///   therefore never holds the one writer (acknowledgements do not wait
///   behind it), but it cannot read its own writes before they commit, and
///   an error a statement meets only when it runs (a constraint) fails the
///   attempt, which is retried.
///
/// Asking for it makes the receiver's build require inbox mode on a
/// backend that supports it (both do). Errors convert into a
/// [`HandlerError`] with `?`.
///
/// ```no_run
/// use costkatana_webhooks::{Event, HandlerResult, Payload, Receiver};
/// use costkatana_webhooks_inbox::{Inbox, InboxTransaction};
///
/// async fn record(event: Event, tx: InboxTransaction) -> HandlerResult {
///     tx.execute(
///         "INSERT INTO handled_events (event_id, event_type) VALUES ($1, $2)",
///         &[event.id.into(), event.event_type.as_str().into()],
///     )
///     .await?;
///     Ok(())
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let receiver = Receiver::builder()
///     .secret("whsec_...")
///     .inbox(Inbox::open("sqlite:inbox.db").await?)
///     .on("cost.alert", record)
///     .fallback(|_: Payload| async { Ok(()) })
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct InboxTransaction {
    inner: Arc<Transaction>,
}

impl std::fmt::Debug for InboxTransaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = match &*self.inner {
            Transaction::Sqlite(_) => "sqlite",
            Transaction::Postgres(_) => "postgres",
        };
        f.debug_struct("InboxTransaction")
            .field("backend", &backend)
            .finish_non_exhaustive()
    }
}

/// One attempt's transaction, shared by the handler's argument and the
/// worker that commits or drops it.
pub(crate) enum Transaction {
    Sqlite(SqliteTransaction),
    Postgres(Box<PgTransaction>),
}

impl InboxTransaction {
    /// Runs (Postgres) or queues (SQLite) one statement in this attempt's
    /// transaction. `sql` uses `$1`, `$2`, … placeholders, one per value of
    /// `params`.
    ///
    /// # Errors
    ///
    /// [`Invalid`](crate::InboxErrorKind::Invalid): the statement does not
    /// compile, its parameters do not match, or (Postgres) the database
    /// refused it; [`Conflict`](crate::InboxErrorKind::Conflict): the
    /// attempt has ended (a handle kept past its handler);
    /// [`Unavailable`](crate::InboxErrorKind::Unavailable): the database
    /// could not be reached.
    ///
    /// ```no_run
    /// # async fn run(tx: costkatana_webhooks_inbox::InboxTransaction) -> Result<(), costkatana_webhooks_inbox::InboxError> {
    /// tx.execute("UPDATE budgets SET alerted = TRUE WHERE project = $1", &["proj_1".into()]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<(), InboxError> {
        match &*self.inner {
            Transaction::Sqlite(tx) => tx.execute(sql, params).await,
            Transaction::Postgres(tx) => tx.execute(sql, params).await,
        }
    }
}

impl InboxTransaction {
    /// The handle made of what an attempt's transaction hands out, if an
    /// inbox made it.
    #[cfg(feature = "testing")]
    pub(crate) fn of(handle: Arc<dyn Any + Send + Sync>) -> Option<InboxTransaction> {
        handle
            .downcast::<Transaction>()
            .ok()
            .map(|inner| InboxTransaction { inner })
    }
}

impl<In> FromDelivery<In> for InboxTransaction {
    fn from_delivery(parts: &mut DeliveryParts<'_, In>) -> Result<Self, HandlerError> {
        parts
            .transaction::<Transaction>()
            .map(|inner| InboxTransaction { inner })
            .ok_or_else(|| HandlerError::from("this attempt has no inbox transaction"))
    }

    fn require(needs: &mut Requirements) {
        needs.transaction("InboxTransaction");
    }
}

/// An attempt's transaction as the receiver's workers hold it: handed to
/// the handler's argument, then committed with the done mark, or ended
/// (rolled back) when dropped uncommitted.
pub(crate) struct AttemptWrites(pub(crate) Arc<Transaction>);

impl AttemptTransaction for AttemptWrites {
    fn handle(&self) -> Arc<dyn Any + Send + Sync> {
        Arc::clone(&self.0) as Arc<dyn Any + Send + Sync>
    }

    fn commit_done<'a>(
        self: Box<Self>,
        entry: &'a LeasedEntry,
        now_ms: i64,
    ) -> StoreFuture<'a, Completion> {
        Box::pin(async move {
            let committed = match &*self.0 {
                Transaction::Sqlite(tx) => tx.commit(entry, now_ms).await,
                Transaction::Postgres(tx) => tx.commit(entry, now_ms).await,
            };
            Ok(committed?)
        })
    }
}

impl Drop for AttemptWrites {
    fn drop(&mut self) {
        match &*self.0 {
            Transaction::Sqlite(tx) => tx.end(),
            Transaction::Postgres(tx) => tx.end(),
        }
    }
}
