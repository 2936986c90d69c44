//! The embedded backend: one SQLite file in WAL mode, owned by one thread
//! that commits whatever is queued as one transaction (group commit).

use std::path::{Path, PathBuf};
use std::sync::{mpsc, LazyLock};
use std::time::Duration;

use costkatana_webhooks::clock::millis;
use costkatana_webhooks::dedupe::{ClaimToken, Completion};
use costkatana_webhooks::inbox::{
    Enqueued, Entry, EntryState, InboxStats, LeasedEntry, NewEntry, Settlement,
};
use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::oneshot;

use crate::sql::{self, SettleParams, Statements};
use crate::{Durability, InboxError};

/// The statements, in SQLite's dialect.
static SQL: LazyLock<Statements> = LazyLock::new(Statements::sqlite);
/// The most operations one transaction commits.
const MAX_BATCH: usize = 512;
/// SQLite's page cache, in KiB (a negative `cache_size` is KiB).
const CACHE_KIB: i64 = -64 * 1024;
/// How long a statement waits for another process's lock (the CLI, say).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Reports an operation's result once its transaction has ended: `None`
/// when it committed, else why not.
type Finish = Box<dyn FnOnce(Option<&str>) + Send>;
/// An operation: run inside the open transaction, or told why there is none.
type Op = Box<dyn FnOnce(Result<&Connection, &str>) -> Finish + Send>;

/// The SQLite inbox; cheap to clone (every clone talks to one thread).
#[derive(Clone)]
pub(crate) struct Sqlite {
    ops: mpsc::Sender<Op>,
    path: PathBuf,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite").field("path", &self.path).finish()
    }
}

impl Sqlite {
    pub(crate) async fn open(path: &Path, durability: Durability) -> Result<Self, InboxError> {
        let (ops, queue) = mpsc::channel::<Op>();
        let (ready, opened) = oneshot::channel();
        let owned = path.to_owned();
        std::thread::Builder::new()
            .name("costkatana-inbox-sqlite".to_owned())
            .spawn(move || match connect(&owned, durability) {
                Ok(conn) => {
                    let _ = ready.send(Ok(()));
                    serve(conn, &queue);
                }
                Err(err) => {
                    let _ = ready.send(Err(err));
                }
            })
            .map_err(|err| InboxError::caused_by("could not start the SQLite inbox thread", err))?;
        opened
            .await
            .map_err(|_| InboxError::new("the SQLite inbox thread stopped while opening"))??;
        Ok(Sqlite {
            ops,
            path: path.to_owned(),
        })
    }

    /// Runs `f` in the writer thread's next transaction; resolves after the
    /// commit (or with why it failed).
    async fn call<T: Send + 'static>(
        &self,
        what: &'static str,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, InboxError> {
        let (reply, answer) = oneshot::channel();
        let path = self.path.display().to_string();
        let op: Op = Box::new(move |conn| {
            let result = conn.map(f).map_err(str::to_owned);
            Box::new(move |commit_error| {
                let outcome = match (result, commit_error) {
                    (Ok(Ok(value)), None) => Ok(value),
                    (Ok(Err(err)), _) => Err(InboxError::caused_by(
                        format!("SQLite inbox {path}: could not {what}"),
                        err,
                    )),
                    (Err(why), _) => Err(InboxError::new(format!(
                        "SQLite inbox {path}: could not {what}: {why}"
                    ))),
                    (Ok(Ok(_)), Some(why)) => Err(InboxError::new(format!(
                        "SQLite inbox {path}: could not {what}: {why}"
                    ))),
                };
                let _ = reply.send(outcome);
            })
        });
        self.ops
            .send(op)
            .map_err(|_| InboxError::new("the SQLite inbox thread has stopped"))?;
        answer
            .await
            .map_err(|_| InboxError::new("the SQLite inbox thread stopped mid-operation"))?
    }

    pub(crate) async fn enqueue(&self, entry: NewEntry) -> Result<Enqueued, InboxError> {
        self.call("store the delivery", move |conn| {
            let inserted = conn.prepare_cached(&SQL.insert)?.execute(params![
                entry.dedupe_key,
                entry.event_id,
                entry.event_type,
                sql::headers_json(&entry.headers),
                entry.body.as_ref(),
                entry.received_at_ms,
            ])?;
            if inserted == 1 {
                return Ok(Enqueued::Stored);
            }
            let state: String = conn
                .prepare_cached(&SQL.state_of_key)?
                .query_row([&entry.dedupe_key], |row| row.get(0))?;
            Ok(Enqueued::Duplicate(parse_state(&state)))
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
        let rows = self
            .call("lease due rows", move |conn| {
                let mut rows = Vec::new();
                for due in [false, true] {
                    let left = limit.saturating_sub(rows.len());
                    if left == 0 {
                        break;
                    }
                    let mut take = conn.prepare_cached(SQL.take(due))?;
                    let taken = take.query_map(
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
                    for row in taken {
                        rows.push(row?);
                    }
                }
                Ok(rows)
            })
            .await?;
        rows.into_iter()
            .map(|(id, attempts, key, headers, body, received)| {
                sql::job(token, id, attempts, key, &headers, body, received)
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
        self.call("settle a row", move |conn| {
            let changed = conn.prepare_cached(&SQL.settle)?.execute(params![
                p.state,
                p.run_after,
                p.attempts,
                p.settled_at,
                p.last_error,
                id,
                token
            ])?;
            Ok(completion(changed))
        })
        .await
    }

    pub(crate) async fn renew(
        &self,
        job: &LeasedEntry,
        until_ms: i64,
    ) -> Result<Completion, InboxError> {
        let (id, token) = (job.id, job.token.to_hex());
        self.call("renew a lease", move |conn| {
            let changed = conn
                .prepare_cached(&SQL.renew)?
                .execute(params![until_ms, id, token])?;
            Ok(completion(changed))
        })
        .await
    }

    pub(crate) async fn purge_done(&self, before_ms: i64) -> Result<u64, InboxError> {
        self.call("purge done rows", move |conn| {
            let purged = conn.prepare_cached(&SQL.purge_done)?.execute([before_ms])?;
            Ok(purged as u64)
        })
        .await
    }

    pub(crate) async fn stats(&self) -> Result<InboxStats, InboxError> {
        self.call("count rows", |conn| {
            let mut stats = InboxStats::default();
            let mut query = conn.prepare_cached(&SQL.counts)?;
            let mut rows = query.query([])?;
            while let Some(row) = rows.next()? {
                let state: String = row.get(0)?;
                crate::add_count(&mut stats, &state, row.get(1)?);
            }
            stats.oldest_pending_ms = conn
                .prepare_cached(&SQL.oldest_pending)?
                .query_row([], |row| row.get(0))?;
            Ok(stats)
        })
        .await
    }

    pub(crate) async fn list(
        &self,
        state: Option<EntryState>,
        limit: usize,
    ) -> Result<Vec<Entry>, InboxError> {
        self.call("list rows", move |conn| {
            let mut query = conn.prepare_cached(&SQL.list)?;
            let rows =
                query.query_map(params![state.map(EntryState::as_str), limit as i64], record)?;
            rows.collect()
        })
        .await
    }

    pub(crate) async fn get(&self, id: i64) -> Result<Option<Entry>, InboxError> {
        self.call("read a row", move |conn| {
            conn.prepare_cached(&SQL.get)?
                .query_row([id], record)
                .optional()
        })
        .await
    }

    pub(crate) async fn retry(&self, id: i64, now_ms: i64) -> Result<bool, InboxError> {
        self.call("retry a row", move |conn| {
            Ok(conn
                .prepare_cached(&SQL.retry_one)?
                .execute(params![now_ms, id])?
                == 1)
        })
        .await
    }

    pub(crate) async fn retry_dead(&self, now_ms: i64) -> Result<u64, InboxError> {
        self.call("retry dead rows", move |conn| {
            Ok(conn.prepare_cached(&SQL.retry_dead)?.execute([now_ms])? as u64)
        })
        .await
    }
}

fn connect(path: &Path, durability: Durability) -> Result<Connection, InboxError> {
    let shown = path.display();
    let failed = |what: &str, err: rusqlite::Error| {
        InboxError::caused_by(format!("SQLite inbox {shown}: could not {what}"), err)
    };
    let conn = Connection::open(path).map_err(|e| failed("open the file", e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| failed("set the busy time-out", e))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(|e| failed("switch to WAL mode", e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(InboxError::new(format!(
            "SQLite inbox {shown}: the file stays in {mode} journal mode, not WAL"
        )));
    }
    let synchronous = match durability {
        Durability::ProcessCrash => "NORMAL",
        Durability::PowerLoss => "FULL",
    };
    conn.pragma_update(None, "synchronous", synchronous)
        .map_err(|e| failed("set synchronous", e))?;
    // Recent rows and the indexes stay in memory instead of being read back
    // from the operating system by every statement (the default is 2 MiB).
    conn.pragma_update(None, "cache_size", CACHE_KIB)
        .map_err(|e| failed("set the cache size", e))?;
    conn.execute_batch(&SQL.schema)
        .map_err(|e| failed("create the inbox table", e))?;
    Ok(conn)
}

/// The writer thread: waits for an operation, gathers whatever else is
/// queued, and commits them all at once. Ends when every handle is gone.
fn serve(conn: Connection, queue: &mpsc::Receiver<Op>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        if let Err(err) = conn.execute_batch("BEGIN IMMEDIATE") {
            let why = err.to_string();
            for op in batch {
                op(Err(&why))(Some(&why));
            }
            continue;
        }
        let mut finishes = Vec::with_capacity(batch.len());
        for op in batch {
            // An I/O or disk-full error can end the transaction early; the
            // rest must not run outside it.
            if conn.is_autocommit() {
                finishes.push(op(Err("the transaction ended early after an error")));
            } else {
                finishes.push(op(Ok(&conn)));
            }
        }
        let commit = if conn.is_autocommit() {
            Err("the transaction was rolled back after an error".to_owned())
        } else {
            conn.execute_batch("COMMIT").map_err(|err| {
                let _ = conn.execute_batch("ROLLBACK");
                err.to_string()
            })
        };
        let why = commit.err();
        for finish in finishes {
            finish(why.as_deref());
        }
    }
}

fn record(row: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    let headers: String = row.get(6)?;
    Ok(Entry {
        id: row.get(0)?,
        state: parse_state(&row.get::<_, String>(1)?),
        attempts: u32::try_from(row.get::<_, i64>(2)?).unwrap_or(u32::MAX),
        dedupe_key: row.get(3)?,
        event_id: row.get(4)?,
        event_type: row.get(5)?,
        headers: sql::parse_headers(&headers).unwrap_or_default(),
        body: row.get::<_, Vec<u8>>(7)?.into(),
        received_at_ms: row.get(8)?,
        run_after_ms: row.get(9)?,
        settled_at_ms: row.get(10)?,
        last_error: row.get(11)?,
    })
}

/// One row changed: the caller's lease held; none: another worker's now.
pub(crate) fn completion(changed: usize) -> Completion {
    if changed == 1 {
        Completion::Recorded
    } else {
        Completion::Overtaken
    }
}

/// A state read back from the table; the table only ever holds the four.
pub(crate) fn parse_state(name: &str) -> EntryState {
    EntryState::parse(name).unwrap_or(EntryState::Pending)
}
