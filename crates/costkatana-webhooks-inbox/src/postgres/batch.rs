//! Deliveries that arrive together are stored in one transaction (group
//! commit): a few tasks gather what is queued and commit it as one.

use std::sync::Arc;

use costkatana_webhooks::inbox::{Enqueued, NewEntry};
use deadpool_postgres::Pool;
use futures_util::future::try_join_all;
use tokio::sync::{mpsc, oneshot, Mutex};

use crate::error::{database_text, InboxError, InboxErrorKind};
use crate::rows;
use crate::sql::Statements;

/// The most deliveries one transaction stores.
pub(super) const MAX_BATCH: usize = 256;
/// Transactions storing deliveries at once: while one commits, the next
/// gathers.
const BATCHERS: usize = 2;

/// A delivery waiting for its transaction, and who to tell the outcome.
pub(super) type Pending = (NewEntry, oneshot::Sender<Result<Enqueued, InboxError>>);

/// Starts the tasks that store what is sent on the returned queue; they
/// end when every sender is gone.
pub(super) fn start(pool: &Pool, sql: &Arc<Statements>, shown: &Arc<str>) -> mpsc::Sender<Pending> {
    let (batches, queue) = mpsc::channel(MAX_BATCH * 4);
    let queue = Arc::new(Mutex::new(queue));
    for _ in 0..BATCHERS {
        tokio::spawn(store_batches(
            pool.clone(),
            Arc::clone(&queue),
            Arc::clone(sql),
            Arc::clone(shown),
        ));
    }
    batches
}

/// Gathers the deliveries queued meanwhile and stores them in one
/// transaction; every sender learns the outcome after the commit.
async fn store_batches(
    pool: Pool,
    queue: Arc<Mutex<mpsc::Receiver<Pending>>>,
    sql: Arc<Statements>,
    shown: Arc<str>,
) {
    loop {
        let mut batch = {
            let mut queue = queue.lock().await;
            let Some(first) = queue.recv().await else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(pending) => batch.push(pending),
                    Err(_) => break,
                }
            }
            batch
        };
        // In key order: two transactions inserting the same keys then lock
        // them in the same order, and cannot deadlock.
        batch.sort_by(|(a, _), (b, _)| a.dedupe_key.cmp(&b.dedupe_key));
        let (entries, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        match store(&pool, &sql, &entries).await {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(Ok(result));
                }
            }
            Err(err) => {
                let why = format!("{shown}: could not store the delivery: {}", err.text());
                for reply in replies {
                    let failed = InboxError::new(InboxErrorKind::Unavailable, why.clone());
                    let _ = reply.send(Err(failed));
                }
            }
        }
    }
}

/// Why a batch failed: the pool's error or the database's.
enum BatchError {
    Pool(deadpool_postgres::PoolError),
    Db(tokio_postgres::Error),
}

impl BatchError {
    /// What every delivery of the batch is told (an error is not `Clone`).
    fn text(&self) -> String {
        match self {
            BatchError::Pool(err) => database_text(err),
            BatchError::Db(err) => database_text(err),
        }
    }
}

impl From<deadpool_postgres::PoolError> for BatchError {
    fn from(err: deadpool_postgres::PoolError) -> Self {
        BatchError::Pool(err)
    }
}

impl From<tokio_postgres::Error> for BatchError {
    fn from(err: tokio_postgres::Error) -> Self {
        BatchError::Db(err)
    }
}

async fn store(
    pool: &Pool,
    sql: &Statements,
    entries: &[NewEntry],
) -> Result<Vec<Enqueued>, BatchError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let insert = tx.prepare_cached(&sql.insert).await?;
    let headers: Vec<String> = entries
        .iter()
        .map(|e| rows::headers_json(&e.headers))
        .collect();
    // Sent together: one round trip for the batch, not one per delivery.
    let inserted = try_join_all(entries.iter().zip(&headers).map(|(entry, headers)| {
        let (tx, insert) = (&tx, &insert);
        async move {
            let body: &[u8] = &entry.body;
            tx.execute(
                insert,
                &[
                    &entry.dedupe_key,
                    &entry.event_id,
                    &entry.event_type,
                    headers,
                    &body,
                    &entry.received_at_ms,
                ],
            )
            .await
        }
    }))
    .await?;
    let state_of = tx.prepare_cached(&sql.state_of_key).await?;
    let results = try_join_all(entries.iter().zip(inserted).map(|(entry, inserted)| {
        let (tx, state_of) = (&tx, &state_of);
        async move {
            if inserted == 1 {
                return Ok(Enqueued::Stored);
            }
            let row = tx.query_one(state_of, &[&entry.dedupe_key]).await?;
            Ok::<_, tokio_postgres::Error>(Enqueued::Duplicate(rows::parse_state(row.get(0))))
        }
    }))
    .await?;
    tx.commit().await?;
    Ok(results)
}
