//! A SQLite inbox's reads: listings, single rows, counts and the schema
//! version, on a read-only connection of their own. In WAL mode it reads
//! the last commit while the writer thread is inside its next transaction,
//! so a listing or the depth gauges never wait behind the workers'
//! acknowledgements (nor hold up the writer's queue).

use std::sync::{Arc, Mutex, PoisonError};

use costkatana_webhooks::inbox::{Entry, EntryQuery, EntryState, EntrySummary, InboxStats};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};

use super::schema;
use crate::error::{InboxError, InboxErrorKind};
use crate::history::{self, Attempt, MinuteActivity};
use crate::listing::{counting, listing, purge_page, Param};
use crate::rows;
use crate::sql::Statements;

/// The read-only connection; one read at a time (reads are short, and a
/// connection is not to be shared between threads at once).
pub(super) struct Reader {
    conn: Mutex<Connection>,
    sql: Arc<Statements>,
    shown: Arc<str>,
}

impl Reader {
    pub(super) fn new(conn: Connection, sql: Arc<Statements>, shown: Arc<str>) -> Reader {
        Reader {
            conn: Mutex::new(conn),
            sql,
            shown,
        }
    }

    /// Runs `f` on the connection, on a blocking thread (a read may wait
    /// for the disk, or for a checkpoint's lock up to the busy time-out).
    async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        what: &'static str,
        f: impl FnOnce(&Connection, &Statements) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, InboxError> {
        let reader = Arc::clone(self);
        let result = tokio::task::spawn_blocking(move || {
            // A read that panicked left nothing half-done: the connection
            // is still good.
            let conn = reader.conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&conn, &reader.sql)
        })
        .await;
        match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(InboxError::caused_by(
                InboxErrorKind::Unavailable,
                format!("{}: could not {what}", self.shown),
                err,
            )),
            Err(err) => Err(InboxError::caused_by(
                InboxErrorKind::Unavailable,
                format!("{}: could not {what}", self.shown),
                err,
            )),
        }
    }

    pub(super) async fn stats(self: &Arc<Self>) -> Result<InboxStats, InboxError> {
        self.read("count rows", |conn, sql| {
            let mut stats = InboxStats::default();
            let mut query = conn.prepare_cached(&sql.counts)?;
            let mut rows = query.query([])?;
            while let Some(row) = rows.next()? {
                let state: String = row.get(0)?;
                rows::add_count(&mut stats, &state, row.get(1)?);
            }
            stats.oldest_pending_ms = conn
                .prepare_cached(&sql.oldest_pending)?
                .query_row([], |row| row.get(0))?;
            Ok(stats)
        })
        .await
    }

    pub(super) async fn list(
        self: &Arc<Self>,
        query: &EntryQuery,
    ) -> Result<Vec<EntrySummary>, InboxError> {
        let query = query.clone();
        self.read("list rows", move |conn, sql| {
            let listing = listing(sql.dialect, &sql.table, &query);
            let mut statement = conn.prepare_cached(&listing.sql)?;
            let params = rusqlite::params_from_iter(values(listing.params));
            let rows = statement.query_map(params, summary)?;
            rows.collect()
        })
        .await
    }

    pub(super) async fn count(self: &Arc<Self>, query: &EntryQuery) -> Result<u64, InboxError> {
        let query = query.clone();
        self.read("count rows", move |conn, sql| {
            let counting = counting(sql.dialect, &sql.table, &query);
            let mut statement = conn.prepare_cached(&counting.sql)?;
            let params = rusqlite::params_from_iter(values(counting.params));
            let count: i64 = statement.query_row(params, |row| row.get(0))?;
            Ok(u64::try_from(count).unwrap_or(0))
        })
        .await
    }

    /// A purge's next page: ids and settlement times (see
    /// [`purge_page`]).
    pub(super) async fn purge_page(
        self: &Arc<Self>,
        query: &EntryQuery,
        state: EntryState,
        after: Option<(i64, i64)>,
        page: usize,
    ) -> Result<Vec<(i64, i64)>, InboxError> {
        let query = query.clone();
        self.read("find rows to purge", move |conn, sql| {
            let listing = purge_page(sql.dialect, &sql.table, &query, state, after, page);
            let mut statement = conn.prepare_cached(&listing.sql)?;
            let params = rusqlite::params_from_iter(values(listing.params));
            let rows = statement.query_map(params, |row| Ok((row.get(0)?, row.get(1)?)))?;
            rows.collect()
        })
        .await
    }

    pub(super) async fn get(self: &Arc<Self>, id: i64) -> Result<Entry, InboxError> {
        self.read("read a row", move |conn, sql| {
            conn.prepare_cached(&sql.get)?
                .query_row([id], entry)
                .optional()
        })
        .await?
        .ok_or_else(|| rows::no_row(id))
    }

    /// An entry's attempts (see [`history::attempts`]).
    pub(super) async fn attempts(self: &Arc<Self>, id: i64) -> Result<Vec<Attempt>, InboxError> {
        self.read("read a row's attempts", move |conn, sql| {
            let Some(last) = conn
                .prepare_cached(&sql.last_attempt)?
                .query_row([id], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                })
                .optional()?
            else {
                return Ok(None);
            };
            let mut failed = conn.prepare_cached(&sql.attempts_of)?;
            let failed = failed
                .query_map([id], |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                        row.get(5)?,
                    ))
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(Some(history::attempts(failed, last)))
        })
        .await?
        .ok_or_else(|| rows::no_row(id))
    }

    /// The minutes in `[since_ms, until_ms)` that saw attempts.
    pub(super) async fn activity(
        self: &Arc<Self>,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<MinuteActivity>, InboxError> {
        self.read("read the activity", move |conn, sql| {
            let mut read = conn.prepare_cached(&sql.activity_read)?;
            let rows = read
                .query_map([since_ms, until_ms], |row| {
                    let counted = history::counted(row.get_ref(1)?.as_str()?, row.get(2)?);
                    Ok((row.get(0)?, counted, row.get(3)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(history::minutes(rows))
        })
        .await
    }

    /// The state of the row holding `key`, if any.
    pub(super) async fn state_of(
        self: &Arc<Self>,
        key: String,
    ) -> Result<Option<EntryState>, InboxError> {
        self.read("read a key's state", move |conn, sql| {
            let state: Option<String> = conn
                .prepare_cached(&sql.state_of_key)?
                .query_row([key], |row| row.get(0))
                .optional()?;
            Ok(state.as_deref().map(rows::parse_state))
        })
        .await
    }

    /// Whether a replay of `key` is expected at `now_ms`.
    pub(super) async fn replay_expected(
        self: &Arc<Self>,
        key: String,
        now_ms: i64,
    ) -> Result<bool, InboxError> {
        self.read("read the replays expected", move |conn, sql| {
            conn.prepare_cached(&sql.replay_expected)?
                .exists(rusqlite::params![key, now_ms])
        })
        .await
    }

    /// Checks that `sql` compiles against the file's schema and takes
    /// `params` parameters (a transactional handler's statement, before it
    /// is kept for the commit).
    pub(super) async fn check(
        self: &Arc<Self>,
        sql: String,
        params: usize,
    ) -> Result<(), InboxError> {
        let reader = Arc::clone(self);
        let checked = tokio::task::spawn_blocking(move || {
            let conn = reader.conn.lock().unwrap_or_else(PoisonError::into_inner);
            let statement = conn.prepare(&sql).map_err(super::transaction::refused)?;
            match statement.parameter_count() {
                n if n == params => Ok(()),
                n => Err(super::transaction::refused(format!(
                    "it has {n} placeholders and {params} values were given"
                ))),
            }
        })
        .await;
        checked.map_err(|err| {
            InboxError::caused_by(
                InboxErrorKind::Unavailable,
                format!("{}: could not check a statement", self.shown),
                err,
            )
        })?
    }

    /// The schema version the file is at (see [`schema::current`]'s checks).
    pub(super) async fn version(self: &Arc<Self>) -> Result<u32, InboxError> {
        let found = self
            .read("read the schema", |conn, sql| {
                schema::inspect(conn, &sql.table)
            })
            .await?;
        schema::schema(&self.sql.table, &self.shown).version(&found)
    }
}

/// A statement's parameters as SQLite values.
pub(super) fn values(params: Vec<Param>) -> Vec<Value> {
    params
        .into_iter()
        .map(|param| match param {
            Param::Text(text) => Value::Text(text),
            Param::Int(int) => Value::Integer(int),
        })
        .collect()
}

fn summary(row: &rusqlite::Row<'_>) -> rusqlite::Result<EntrySummary> {
    Ok(EntrySummary {
        id: row.get(0)?,
        state: rows::parse_state(&row.get::<_, String>(1)?),
        attempts: u32::try_from(row.get::<_, i64>(2)?).unwrap_or(u32::MAX),
        event_id: row.get(3)?,
        event_type: row.get(4)?,
        received_at_ms: row.get(5)?,
        run_after_ms: row.get(6)?,
        settled_at_ms: row.get(7)?,
        last_error: row.get(8)?,
    })
}

/// A whole row. Headers that do not parse (a row written by hand) show
/// as none rather than hiding the rest of the row.
fn entry(row: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    let headers: String = row.get(6)?;
    Ok(Entry {
        id: row.get(0)?,
        state: rows::parse_state(&row.get::<_, String>(1)?),
        attempts: u32::try_from(row.get::<_, i64>(2)?).unwrap_or(u32::MAX),
        dedupe_key: row.get(3)?,
        event_id: row.get(4)?,
        event_type: row.get(5)?,
        headers: rows::parse_headers(&headers).unwrap_or_default(),
        body: row.get::<_, Vec<u8>>(7)?.into(),
        received_at_ms: row.get(8)?,
        run_after_ms: row.get(9)?,
        settled_at_ms: row.get(10)?,
        last_error: row.get(11)?,
    })
}
