//! The embedded backend: one SQLite file in WAL mode. Writes go to one
//! thread that commits whatever is queued as one transaction (group
//! commit, `writer.rs`); reads go to a read-only connection of their own
//! (`reader.rs`); the file and its schema are `schema.rs`'s.

mod checkpoint;
mod file;
mod reader;
mod schema;
pub(crate) mod transaction;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::clock::{millis, Clock};
use costkatana_webhooks::dedupe::{ClaimToken, Completion};
use costkatana_webhooks::inbox::{
    Enqueued, Entry, EntryQuery, EntryState, EntrySummary, InboxStats, LeasedEntry, NewEntry,
    Settlement,
};
use rusqlite::{params, OptionalExtension};

use crate::error::InboxError;
use crate::history::{self, ActivityBuffer, Attempt, MinuteActivity};
use crate::listing::purge_delete;
use crate::options::Options;
use crate::rows::{self, SettleParams, Taken};
use crate::sql::{Dialect, Statements};
use crate::table::Table;
use crate::{purge, Durability};
use checkpoint::Checkpointer;
use reader::Reader;
use writer::Writer;

/// The SQLite inbox; cheap to clone (every clone talks to one writer
/// thread and shares one reader).
#[derive(Clone)]
pub(crate) struct Sqlite {
    writer: Writer,
    reader: Arc<Reader>,
    sql: Arc<Statements>,
    path: Arc<Path>,
    keep_done_bodies: bool,
    /// Attempts ended since the last flush to the activity table.
    activity: Arc<ActivityBuffer>,
    /// This process, as its failed attempts name their worker.
    worker: Arc<str>,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite")
            .field("path", &self.path)
            .field("table", &self.sql.table)
            .finish()
    }
}

impl Sqlite {
    /// Opens the inbox at `path`. With `create`, the file is created
    /// (private to its owner) and migrated as needed, unless it holds
    /// other tables and `options` does not allow them; without, it must
    /// exist at the latest schema, and nothing in it is changed but its
    /// journal mode and its files' modes.
    pub(crate) async fn open(
        path: &Path,
        durability: Durability,
        table: Table,
        clock: Arc<dyn Clock>,
        create: bool,
        options: Options,
    ) -> Result<Self, InboxError> {
        let owned: PathBuf = path.to_owned();
        let sql = Arc::new(Statements::new(Dialect::Sqlite, &table));
        let shown: Arc<str> = schema::shown(path).into();
        file::prepare(path, create, &shown)?;
        let shown_in_task = Arc::clone(&shown);
        let (conn, checkpoints, reader) = blocking(move || {
            let path = owned.as_path();
            let mut conn = schema::open_writer(path, create)?;
            // Checked before anything changes: a file that is not an
            // inbox is left exactly as it was.
            if create {
                if !options.allow_other_tables {
                    schema::refuse_other_tables(&conn, path, &table)?;
                }
            } else {
                schema::current(&conn, path, &table)?;
            }
            file::make_private(path, &shown_in_task);
            schema::configure(&conn, path, durability)?;
            if create {
                schema::migrate(&mut conn, path, &table, clock.as_ref())?;
            }
            let checkpoints = checkpoint::connection(path)?;
            Ok((conn, checkpoints, schema::open_reader(path)?))
        })
        .await?;
        let checkpointer = Checkpointer::start(checkpoints, &shown)?;
        Ok(Sqlite {
            writer: Writer::start(conn, checkpointer, Arc::clone(&shown))?,
            reader: Arc::new(Reader::new(reader, Arc::clone(&sql), shown)),
            sql,
            path: path.into(),
            keep_done_bodies: options.keep_done_bodies,
            activity: Arc::default(),
            worker: history::worker_name().into(),
        })
    }

    /// Runs the pending migrations on a connection of its own (the writer
    /// thread's transactions wait for it, or it for them).
    pub(crate) async fn migrate(&self, clock: Arc<dyn Clock>) -> Result<Vec<u32>, InboxError> {
        let path = Arc::clone(&self.path);
        let table = self.sql.table.clone();
        blocking(move || {
            let mut conn = schema::open_writer(&path, false)?;
            schema::migrate(&mut conn, &path, &table, clock.as_ref())
        })
        .await
    }

    pub(crate) async fn schema_version(&self) -> Result<u32, InboxError> {
        self.reader.version().await
    }

    pub(crate) async fn enqueue(&self, entry: NewEntry) -> Result<Enqueued, InboxError> {
        let sql = Arc::clone(&self.sql);
        self.writer
            .call("store the delivery", move |conn| {
                let inserted = conn.prepare_cached(&sql.insert)?.execute(params![
                    entry.dedupe_key,
                    entry.event_id,
                    entry.event_type,
                    rows::headers_json(&entry.headers),
                    entry.body.as_ref(),
                    entry.received_at_ms,
                ])?;
                if inserted == 1 {
                    return Ok(Enqueued::Stored);
                }
                let state: String = conn
                    .prepare_cached(&sql.state_of_key)?
                    .query_row([&entry.dedupe_key], |row| row.get(0))?;
                Ok(Enqueued::Duplicate(rows::parse_state(&state)))
            })
            .await
    }

    /// Leases due rows; a row whose stored headers do not parse is
    /// dead-lettered in the same transaction, saying why, and the others
    /// are handed out.
    pub(crate) async fn take(
        &self,
        now_ms: i64,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<LeasedEntry>, InboxError> {
        let token = ClaimToken::random();
        let lease_until = now_ms.saturating_add(millis(lease));
        let sql = Arc::clone(&self.sql);
        self.writer
            .call("lease due rows", move |conn| {
                let mut taken = Vec::new();
                for due in [false, true] {
                    let left = limit.saturating_sub(taken.len());
                    if left == 0 {
                        break;
                    }
                    let mut take = conn.prepare_cached(sql.take(due))?;
                    let rows = take.query_map(
                        params![token.to_hex(), lease_until, now_ms, left as i64],
                        |row| {
                            Ok(Taken {
                                id: row.get(0)?,
                                attempts: row.get(1)?,
                                dedupe_key: row.get(2)?,
                                headers: row.get(3)?,
                                body: row.get(4)?,
                                received_at_ms: row.get(5)?,
                            })
                        },
                    )?;
                    for row in rows {
                        taken.push(row?);
                    }
                }
                let mut jobs = Vec::with_capacity(taken.len());
                for row in taken {
                    let (id, attempt) = (row.id, row.attempt());
                    match row.into_job(token, now_ms) {
                        Ok(job) => jobs.push(job),
                        Err(why) => {
                            let p = rows::unreadable(attempt, &why, now_ms);
                            write_settlement(conn, &sql, &p, id, &token.to_hex())?;
                        }
                    }
                }
                Ok(jobs)
            })
            .await
    }

    /// Settles `job` and, in the same transaction, records a failed
    /// attempt and adds the activity counts that are due.
    pub(crate) async fn settle(
        &self,
        job: &LeasedEntry,
        settlement: Settlement,
        now_ms: i64,
    ) -> Result<Completion, InboxError> {
        let p = SettleParams::new(job, settlement, now_ms, self.keep_done_bodies);
        let (id, token) = (job.id, job.token.to_hex());
        let sql = Arc::clone(&self.sql);
        let worker = Arc::clone(&self.worker);
        let due = p.count_in(&self.activity);
        let completion = self
            .writer
            .call("settle a row", move |conn| {
                settle_in(conn, &sql, &p, id, &token, &worker)
            })
            .await?;
        self.flush(due).await;
        Ok(completion)
    }

    /// Adds `counts` to the activity table; a failed write puts them back
    /// for the next flush (the charts are not worth failing a settlement
    /// over).
    async fn flush(&self, counts: history::Counts) {
        if counts.is_empty() {
            return;
        }
        let sql = Arc::clone(&self.sql);
        let kept = counts.clone();
        let written = self
            .writer
            .call("add to the activity", move |conn| {
                let mut add = conn.prepare_cached(&sql.activity_add)?;
                for ((minute, outcome, bucket), n) in &kept {
                    add.execute(params![minute, outcome, bucket, n])?;
                }
                Ok(())
            })
            .await;
        if let Err(err) = written {
            tracing::debug!(error = %err, "could not add to the inbox's activity; later");
            self.activity.restore(counts);
        }
    }

    pub(crate) async fn renew(
        &self,
        job: &LeasedEntry,
        until_ms: i64,
    ) -> Result<Completion, InboxError> {
        let (id, token) = (job.id, job.token.to_hex());
        let sql = Arc::clone(&self.sql);
        self.writer
            .call("renew a lease", move |conn| {
                let changed = conn
                    .prepare_cached(&sql.renew)?
                    .execute(params![until_ms, id, token])?;
                Ok(rows::completion(changed as u64))
            })
            .await
    }

    /// Deletes the done or dead entries `query` matches, a page at a
    /// time: each page is read on the read connection (however many rows
    /// it passes over) and deleted by id in a writer transaction of its
    /// own, so acknowledgements are never queued behind the whole purge.
    pub(crate) async fn purge(&self, query: &EntryQuery) -> Result<u64, InboxError> {
        let mut deleted = 0;
        for state in purge::states(query)? {
            let mut after = None;
            loop {
                let page = self
                    .reader
                    .purge_page(query, state, after, purge::PAGE)
                    .await?;
                let Some(&(last_id, last_settled)) = page.last() else {
                    break;
                };
                after = Some((last_settled, last_id));
                let ids: Vec<i64> = page.iter().map(|(id, _)| *id).collect();
                let delete = purge_delete(
                    Dialect::Sqlite,
                    &self.sql.table,
                    &ids,
                    state,
                    query.settled_before_ms,
                );
                deleted += self
                    .writer
                    .call("purge rows", move |conn| {
                        let params = reader::values(delete.params);
                        let mut statement = conn.prepare(&delete.sql)?;
                        Ok(statement.execute(rusqlite::params_from_iter(params))? as u64)
                    })
                    .await?;
                if page.len() < purge::PAGE {
                    break;
                }
            }
        }
        Ok(deleted)
    }

    pub(crate) async fn count(&self, query: &EntryQuery) -> Result<u64, InboxError> {
        self.reader.count(query).await
    }

    /// Writes a row in a savepoint that is rolled back: the writer's
    /// transaction, the file's permissions and the disk's free pages are
    /// what a delivery needs, and nothing is left behind.
    pub(crate) async fn probe(&self) -> Result<(), InboxError> {
        let sql = Arc::clone(&self.sql);
        let token = ClaimToken::random().to_hex();
        self.writer
            .call("write a test row (rolled back)", move |conn| {
                conn.execute_batch("SAVEPOINT costkatana_inbox_probe")?;
                let written = conn
                    .prepare_cached(&sql.probe)
                    .and_then(|mut probe| probe.execute(params![-1_i64, token]));
                conn.execute_batch(
                    "ROLLBACK TO costkatana_inbox_probe; RELEASE costkatana_inbox_probe",
                )?;
                written.map(drop)
            })
            .await
    }

    pub(crate) async fn stats(&self) -> Result<InboxStats, InboxError> {
        self.reader.stats().await
    }

    pub(crate) async fn list(&self, query: &EntryQuery) -> Result<Vec<EntrySummary>, InboxError> {
        self.reader.list(query).await
    }

    pub(crate) async fn get(&self, id: i64) -> Result<Entry, InboxError> {
        self.reader.get(id).await
    }

    /// The state before, read in the same writer transaction as the
    /// change (one writer: nothing comes between them).
    pub(crate) async fn retry(&self, id: i64, now_ms: i64) -> Result<EntryState, InboxError> {
        let sql = Arc::clone(&self.sql);
        let before = self
            .writer
            .call("retry a row", move |conn| {
                let row: Option<(String, bool)> = conn
                    .prepare_cached(&sql.state_of_id)?
                    .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()?;
                let row = row.map(|(state, dropped)| (rows::parse_state(&state), dropped));
                if row.is_some_and(|(s, dropped)| s != EntryState::Running && !dropped) {
                    conn.prepare_cached(&sql.retry_one)?
                        .execute(params![now_ms, id])?;
                }
                Ok(row)
            })
            .await?;
        match before {
            None => Err(rows::no_row(id)),
            Some((EntryState::Running, _)) => Err(rows::running(id)),
            Some((_, true)) => Err(rows::not_kept(id)),
            Some((state, false)) => Ok(state),
        }
    }

    pub(crate) async fn attempts(&self, id: i64) -> Result<Vec<Attempt>, InboxError> {
        self.reader.attempts(id).await
    }

    /// This process's buffered counts are added first, so what it ran is
    /// in the answer.
    pub(crate) async fn activity(
        &self,
        since_ms: i64,
        until_ms: i64,
        now_ms: i64,
    ) -> Result<Vec<MinuteActivity>, InboxError> {
        self.flush(self.activity.take_due(now_ms, true)).await;
        self.reader.activity(since_ms, until_ms).await
    }

    pub(crate) async fn state_of(&self, key: &str) -> Result<Option<EntryState>, InboxError> {
        self.reader.state_of(key.to_owned()).await
    }

    pub(crate) async fn expect_replay(
        &self,
        key: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, InboxError> {
        let sql = Arc::clone(&self.sql);
        let key = key.to_owned();
        self.writer
            .call("record a replay asked for", move |conn| {
                let changed = conn
                    .prepare_cached(&sql.replay_expect)?
                    .execute(params![key, until_ms, now_ms])?;
                Ok(changed == 1)
            })
            .await
    }

    pub(crate) async fn replay_expected(&self, key: &str, now_ms: i64) -> Result<bool, InboxError> {
        self.reader.replay_expected(key.to_owned(), now_ms).await
    }

    /// Forgets activity older than `activity_before` and replay records
    /// that ended by `now_ms`.
    pub(crate) async fn trim(&self, activity_before: i64, now_ms: i64) -> Result<(), InboxError> {
        let sql = Arc::clone(&self.sql);
        self.writer
            .call("trim the activity and replays", move |conn| {
                conn.prepare_cached(&sql.activity_trim)?
                    .execute([activity_before])?;
                conn.prepare_cached(&sql.replays_trim)?.execute([now_ms])?;
                Ok(())
            })
            .await
    }

    /// Deletes one done or dead row, answering the state it was in.
    pub(crate) async fn delete(&self, id: i64) -> Result<EntryState, InboxError> {
        let sql = Arc::clone(&self.sql);
        let outcome = self
            .writer
            .call("delete a row", move |conn| {
                let deleted: Option<String> = conn
                    .prepare_cached(&sql.delete_one)?
                    .query_row([id], |row| row.get(0))
                    .optional()?;
                if let Some(state) = deleted {
                    return Ok(Ok(rows::parse_state(&state)));
                }
                let state: Option<String> = conn
                    .prepare_cached(&sql.state_of_id)?
                    .query_row([id], |row| row.get(0))
                    .optional()?;
                Ok(Err(state.map(|s| rows::parse_state(&s))))
            })
            .await?;
        outcome.map_err(|state| rows::not_deletable(id, state))
    }

    pub(crate) async fn retry_dead(&self, now_ms: i64) -> Result<u64, InboxError> {
        let sql = Arc::clone(&self.sql);
        self.writer
            .call("retry dead rows", move |conn| {
                Ok(conn.prepare_cached(&sql.retry_dead)?.execute([now_ms])? as u64)
            })
            .await
    }
}

/// Writes a settlement's columns on row `id` under lease `token`; the
/// number of rows changed (0 when the lease is no longer the caller's).
fn write_settlement(
    conn: &rusqlite::Connection,
    sql: &Statements,
    p: &SettleParams,
    id: i64,
    token: &str,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(&sql.settle)?.execute(params![
        p.state,
        p.run_after,
        p.attempts,
        p.settled_at,
        p.last_error,
        id,
        token,
        p.drop_body,
        p.started_at,
    ])
}

/// Settles row `id` under lease `token` inside the writer's transaction,
/// recording a failed attempt with it; how the settlement came out.
fn settle_in(
    conn: &rusqlite::Connection,
    sql: &Statements,
    p: &SettleParams,
    id: i64,
    token: &str,
    worker: &str,
) -> rusqlite::Result<Completion> {
    if write_settlement(conn, sql, p, id, token)? == 1 {
        if let Some(outcome) = p.failed {
            conn.prepare_cached(&sql.insert_attempt)?.execute(params![
                id,
                p.attempts,
                p.started_at,
                p.ended_at,
                outcome.as_str(),
                p.last_error.as_deref().map(history::bounded),
                worker,
            ])?;
        }
        return Ok(Completion::Recorded);
    }
    let row = conn
        .prepare_cached(&sql.settled)?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .optional()?;
    Ok(p.judge(token, row))
}

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, InboxError> + Send + 'static,
) -> Result<T, InboxError> {
    tokio::task::spawn_blocking(f).await.map_err(|err| {
        InboxError::caused_by(
            crate::InboxErrorKind::Unavailable,
            "the SQLite inbox's blocking task failed",
            err,
        )
    })?
}

#[cfg(test)]
mod plans;
#[cfg(test)]
mod tests;
