//! The embedded backend: one SQLite file in WAL mode. Writes go to one
//! thread that commits whatever is queued as one transaction (group
//! commit, `writer.rs`); reads go to a read-only connection of their own
//! (`reader.rs`); the file and its schema are `schema.rs`'s.

mod reader;
mod schema;
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
use crate::rows::{self, SettleParams};
use crate::sql::{Dialect, Statements};
use crate::table::Table;
use crate::Durability;
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
    /// Opens the inbox at `path`. With `create`, the file is created and
    /// migrated as needed; without, it must exist at the latest schema,
    /// and nothing in it is changed but its journal mode.
    pub(crate) async fn open(
        path: &Path,
        durability: Durability,
        table: Table,
        clock: Arc<dyn Clock>,
        create: bool,
    ) -> Result<Self, InboxError> {
        let owned: PathBuf = path.to_owned();
        let sql = Arc::new(Statements::new(Dialect::Sqlite, &table));
        let (conn, reader) = blocking(move || {
            let path = owned.as_path();
            let mut conn = schema::open_writer(path, create)?;
            if create {
                schema::configure(&conn, path, durability)?;
                schema::migrate(&mut conn, path, &table, clock.as_ref())?;
            } else {
                // Checked before the journal mode changes: a file that is
                // not an inbox is left exactly as it was.
                schema::current(&conn, path, &table)?;
                schema::configure(&conn, path, durability)?;
            }
            Ok((conn, schema::open_reader(path)?))
        })
        .await?;
        let shown: Arc<str> = schema::shown(path).into();
        Ok(Sqlite {
            writer: Writer::start(conn, Arc::clone(&shown))?,
            reader: Arc::new(Reader::new(reader, Arc::clone(&sql), shown)),
            sql,
            path: path.into(),
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

    pub(crate) async fn take(
        &self,
        now_ms: i64,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<LeasedEntry>, InboxError> {
        let token = ClaimToken::random();
        let lease_until = now_ms.saturating_add(millis(lease));
        let sql = Arc::clone(&self.sql);
        let taken = self
            .writer
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
                            Ok((
                                row.get::<_, i64>(0)?,
                                row.get::<_, i64>(1)?,
                                row.get::<_, String>(2)?,
                                row.get::<_, String>(3)?,
                                row.get::<_, Vec<u8>>(4)?,
                                row.get::<_, i64>(5)?,
                            ))
                        },
                    )?;
                    for row in rows {
                        taken.push(row?);
                    }
                }
                Ok(taken)
            })
            .await?;
        taken
            .into_iter()
            .map(|(id, attempts, key, headers, body, received)| {
                rows::job(token, id, attempts, key, &headers, body, received)
            })
            .collect()
    }

    pub(crate) async fn settle(
        &self,
        job: &LeasedEntry,
        settlement: Settlement,
        now_ms: i64,
    ) -> Result<Completion, InboxError> {
        let p = SettleParams::new(job, settlement, now_ms);
        let (id, token) = (job.id, job.token.to_hex());
        let sql = Arc::clone(&self.sql);
        self.writer
            .call("settle a row", move |conn| {
                let changed = conn.prepare_cached(&sql.settle)?.execute(params![
                    p.state,
                    p.run_after,
                    p.attempts,
                    p.settled_at,
                    p.last_error,
                    id,
                    token
                ])?;
                if changed == 1 {
                    return Ok(Completion::Recorded);
                }
                let row = conn
                    .prepare_cached(&sql.settled)?
                    .query_row([id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                    .optional()?;
                Ok(p.judge(&token, row))
            })
            .await
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

    pub(crate) async fn purge_done(&self, before_ms: i64) -> Result<u64, InboxError> {
        let sql = Arc::clone(&self.sql);
        self.writer
            .call("purge done rows", move |conn| {
                let purged = conn.prepare_cached(&sql.purge_done)?.execute([before_ms])?;
                Ok(purged as u64)
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
                let state: Option<String> = conn
                    .prepare_cached(&sql.state_of_id)?
                    .query_row([id], |row| row.get(0))
                    .optional()?;
                let state = state.map(|s| rows::parse_state(&s));
                if state.is_some_and(|s| s != EntryState::Running) {
                    conn.prepare_cached(&sql.retry_one)?
                        .execute(params![now_ms, id])?;
                }
                Ok(state)
            })
            .await?;
        match before {
            None => Err(rows::no_row(id)),
            Some(EntryState::Running) => Err(rows::running(id)),
            Some(state) => Ok(state),
        }
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
mod tests;
