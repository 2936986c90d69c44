//! Deliveries that arrive together are stored in one transaction (group
//! commit): a few tasks gather what is queued and commit it as one. A
//! batch the database refuses because of one of its rows is stored again
//! row by row, so only a row that really cannot be stored fails.

use std::sync::Arc;

use costkatana_webhooks::inbox::{Enqueued, NewEntry};
use deadpool_postgres::{Object, Pool};
use futures_util::future::try_join_all;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot, Mutex};

use super::pools::{BATCHERS, OP_TIMEOUT};
use super::text::encode;
use crate::error::{database_text, InboxError, InboxErrorKind};
use crate::rows;
use crate::sql::Statements;

/// The most deliveries one transaction stores.
pub(super) const MAX_BATCH: usize = 256;

/// A delivery waiting for its transaction, and who to tell the outcome.
pub(super) type Pending = (NewEntry, oneshot::Sender<Result<Enqueued, InboxError>>);

/// The digest a row is unique by: of the exact key, whatever it holds.
pub(super) fn key_digest(dedupe_key: &str) -> Vec<u8> {
    Sha256::digest(dedupe_key.as_bytes()).to_vec()
}

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
        let results = store_or_split(&pool, &sql, &entries).await;
        for (reply, result) in replies.into_iter().zip(results) {
            // The receiver logs the error, in the database's words.
            let _ = reply.send(result.map_err(|why| {
                InboxError::new(
                    InboxErrorKind::Unavailable,
                    format!("{shown}: could not store the delivery: {why}"),
                )
            }));
        }
    }
}

/// Stores `entries` in one transaction; when the database refuses it for
/// something a row holds, each row again in a transaction of its own.
/// Every entry's outcome, in order; an error is why, in the database's
/// own words.
async fn store_or_split(
    pool: &Pool,
    sql: &Statements,
    entries: &[NewEntry],
) -> Vec<Result<Enqueued, String>> {
    match store(pool, sql, entries).await {
        Ok(results) => results.into_iter().map(Ok).collect(),
        Err(err) if entries.len() > 1 && err.is_about_a_row() => {
            let mut results = Vec::with_capacity(entries.len());
            for entry in entries {
                results.push(match store(pool, sql, std::slice::from_ref(entry)).await {
                    Ok(mut one) => Ok(one.remove(0)),
                    Err(err) => Err(err.text()),
                });
            }
            results
        }
        Err(err) => {
            let why = err.text();
            entries.iter().map(|_| Err(why.clone())).collect()
        }
    }
}

/// Why a batch failed.
enum BatchError {
    Pool(deadpool_postgres::PoolError),
    Db(tokio_postgres::Error),
    /// No answer within [`OP_TIMEOUT`]: the connection was closed.
    TimedOut,
}

impl BatchError {
    /// What every delivery of the batch is told (an error is not `Clone`).
    fn text(&self) -> String {
        match self {
            BatchError::Pool(err) => database_text(err),
            BatchError::Db(err) => database_text(err),
            BatchError::TimedOut => format!(
                "no answer from the database within {} s (the connection was closed)",
                OP_TIMEOUT.as_secs()
            ),
        }
    }

    /// Whether the server refused the batch for something one of its rows
    /// holds or waits for (a constraint, a value, a row another
    /// transaction holds), rather than for the connection, the server or
    /// the statement's time: then storing row by row stores the others.
    fn is_about_a_row(&self) -> bool {
        let BatchError::Db(err) = self else {
            return false;
        };
        let Some(code) = err.code() else {
            return false;
        };
        // 08 connection, 53 resources, 57 operator intervention (a
        // statement time-out, a shutdown), 58 system, XX internal.
        !matches!(&code.code()[..2], "08" | "53" | "57" | "58" | "XX")
    }
}

/// Stores `entries` in one transaction on a connection of `pool`, within
/// [`OP_TIMEOUT`]; a connection that ran out of time is closed.
async fn store(
    pool: &Pool,
    sql: &Statements,
    entries: &[NewEntry],
) -> Result<Vec<Enqueued>, BatchError> {
    let mut client = pool.get().await.map_err(BatchError::Pool)?;
    match tokio::time::timeout(OP_TIMEOUT, insert(&mut client, sql, entries)).await {
        Ok(outcome) => outcome.map_err(BatchError::Db),
        Err(_) => {
            drop(Object::take(client));
            Err(BatchError::TimedOut)
        }
    }
}

/// One row's values as the table holds them.
struct Row<'a> {
    dedupe_key: std::borrow::Cow<'a, str>,
    event_id: Option<std::borrow::Cow<'a, str>>,
    event_type: Option<std::borrow::Cow<'a, str>>,
    headers: String,
    digest: Vec<u8>,
}

async fn insert(
    client: &mut Object,
    sql: &Statements,
    entries: &[NewEntry],
) -> Result<Vec<Enqueued>, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    let insert = tx.prepare_cached(&sql.insert).await?;
    let rows: Vec<Row<'_>> = entries
        .iter()
        .map(|e| Row {
            dedupe_key: encode(&e.dedupe_key),
            event_id: e.event_id.as_deref().map(encode),
            event_type: e.event_type.as_deref().map(encode),
            headers: rows::headers_json(&e.headers),
            digest: key_digest(&e.dedupe_key),
        })
        .collect();
    // Sent together: one round trip for the batch, not one per delivery.
    let inserted = try_join_all(entries.iter().zip(&rows).map(|(entry, row)| {
        let (tx, insert) = (&tx, &insert);
        async move {
            let body: &[u8] = &entry.body;
            let (key, id, kind) = (
                &*row.dedupe_key,
                row.event_id.as_deref(),
                row.event_type.as_deref(),
            );
            tx.execute(
                insert,
                &[
                    &key,
                    &id,
                    &kind,
                    &row.headers,
                    &body,
                    &entry.received_at_ms,
                    &row.digest,
                ],
            )
            .await
        }
    }))
    .await?;
    let state_of = tx.prepare_cached(&sql.state_of_key).await?;
    let results = try_join_all(rows.iter().zip(inserted).map(|(row, inserted)| {
        let (tx, state_of) = (&tx, &state_of);
        async move {
            if inserted == 1 {
                return Ok(Enqueued::Stored);
            }
            let found = tx.query_one(state_of, &[&row.digest]).await?;
            Ok::<_, tokio_postgres::Error>(Enqueued::Duplicate(rows::parse_state(found.get(0))))
        }
    }))
    .await?;
    tx.commit().await?;
    Ok(results)
}
