//! A SQLite inbox's file: opening it (creating it or not), its pragmas,
//! reading what schema it holds, and migrating it.

use std::path::Path;
use std::time::Duration;

use costkatana_webhooks::clock::Clock;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::error::{InboxError, InboxErrorKind};
use crate::migrations::{self, Applied, Found, Next, Schema};
use crate::table::Table;
use crate::Durability;

/// SQLite's page cache, in KiB (a negative `cache_size` is KiB).
const CACHE_KIB: i64 = -64 * 1024;
/// How long a statement waits for another process's lock (the CLI, say).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// What the write-ahead log is cut back to once checkpointed: without a
/// limit, a burst of large bodies leaves a log as large as the burst.
const JOURNAL_SIZE_LIMIT: i64 = 16 << 20;
/// The log's length, in pages, at which the writer thread checkpoints
/// itself (16 MiB): four times SQLite's default, reached only when the
/// checkpoint thread cannot start the log over.
const WRITER_CHECKPOINT_PAGES: i64 = 4096;

/// What names the file in errors: `SQLite inbox <path>`.
pub(super) fn shown(path: &Path) -> String {
    format!("SQLite inbox {}", path.display())
}

fn failed(path: &Path, what: &str, err: rusqlite::Error) -> InboxError {
    InboxError::caused_by(
        InboxErrorKind::Unavailable,
        format!("{}: could not {what}", shown(path)),
        err,
    )
}

/// The read-write connection: the file is created when `create`, else it
/// must exist (a typo must not become a new, empty inbox).
pub(super) fn open_writer(path: &Path, create: bool) -> Result<Connection, InboxError> {
    let conn = if create {
        Connection::open(path)
    } else {
        if !path.is_file() {
            return Err(InboxError::new(
                InboxErrorKind::Schema,
                format!(
                    "there is no inbox file at {} (a receiver creates it when it starts; \
                     Inbox::open does too)",
                    path.display()
                ),
            ));
        }
        let flags = OpenFlags::default().difference(OpenFlags::SQLITE_OPEN_CREATE);
        Connection::open_with_flags(path, flags)
    }
    .map_err(|e| failed(path, "open the file", e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| failed(path, "set the busy time-out", e))?;
    Ok(conn)
}

/// A read-only connection: it reads while the writer commits (WAL), and
/// cannot write by mistake.
pub(super) fn open_reader(path: &Path) -> Result<Connection, InboxError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| failed(path, "open a read-only connection", e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| failed(path, "set the busy time-out", e))?;
    Ok(conn)
}

/// WAL (readers do not wait for the writer, nor it for them), the
/// durability's `synchronous`, a larger page cache, a log cut back after
/// a burst, and no checkpoint inside the writer's commits.
pub(super) fn configure(
    conn: &Connection,
    path: &Path,
    durability: Durability,
) -> Result<(), InboxError> {
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(|e| failed(path, "switch to WAL mode", e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(InboxError::new(
            InboxErrorKind::Unavailable,
            format!(
                "{}: the file stays in {mode} journal mode, not WAL",
                shown(path)
            ),
        ));
    }
    let synchronous = match durability {
        Durability::ProcessCrash => "NORMAL",
        Durability::PowerLoss => "FULL",
    };
    conn.pragma_update(None, "synchronous", synchronous)
        .map_err(|e| failed(path, "set synchronous", e))?;
    // Recent rows and the indexes stay in memory instead of being read back
    // from the operating system by every statement (the default is 2 MiB).
    conn.pragma_update(None, "cache_size", CACHE_KIB)
        .map_err(|e| failed(path, "set the cache size", e))?;
    conn.pragma_update(None, "journal_size_limit", JOURNAL_SIZE_LIMIT)
        .map_err(|e| failed(path, "set the journal size limit", e))?;
    // Checkpoints run on a thread of their own (`checkpoint.rs`). The
    // writer checkpoints only when that thread cannot keep the log short
    // (writes without a pause leave it no moment to start the log over).
    conn.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)
        .map_err(|e| failed(path, "set the writer's checkpoint threshold", e))?;
    Ok(())
}

/// Refuses to create the inbox in a file that already holds tables of
/// something else (an application's own database, named by mistake): its
/// tables are listed, and the file is left as it was. Other inboxes'
/// tables (several inboxes may share a file) are not something else.
pub(super) fn refuse_other_tables(
    conn: &Connection,
    path: &Path,
    table: &Table,
) -> Result<(), InboxError> {
    let read = || -> rusqlite::Result<(bool, Vec<String>)> {
        let ours = conn
            .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1")?
            .exists([table.name()])?;
        // An inbox table has a lease token; a table of migrations, a
        // checksum and a dirty flag; an inbox's own tables beside it are
        // named after it.
        let beside: Vec<String> = crate::table::BESIDE
            .iter()
            .map(|suffix| format!("i.name || '_{suffix}'"))
            .collect();
        let others = conn
            .prepare(&format!(
                "SELECT m.name FROM sqlite_master m
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
                 AND NOT EXISTS (SELECT 1 FROM pragma_table_info(m.name) c
                                 WHERE c.name = 'lease_token')
                 AND (SELECT COUNT(*) FROM pragma_table_info(m.name) c
                      WHERE c.name IN ('checksum', 'dirty')) < 2
                 AND NOT EXISTS (
                     SELECT 1 FROM sqlite_master i
                     WHERE i.type = 'table' AND m.name IN ({})
                     AND EXISTS (SELECT 1 FROM pragma_table_info(i.name) c
                                 WHERE c.name = 'lease_token'))
                 ORDER BY m.name",
                beside.join(", ")
            ))?
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok((ours, others))
    };
    let (ours, others) = read().map_err(|e| failed(path, "read the schema", e))?;
    if ours || others.is_empty() {
        return Ok(());
    }
    Err(InboxError::new(
        InboxErrorKind::Schema,
        format!(
            "{}: the file holds other tables ({}) and no inbox table {table}: it looks like \
             another application's database, so no inbox was created in it (point the inbox \
             at a file of its own, or allow it with InboxBuilder::allow_other_tables)",
            shown(path),
            others.join(", ")
        ),
    ))
}

/// What the file holds, schema-wise.
pub(super) fn inspect(conn: &Connection, table: &Table) -> rusqlite::Result<Found> {
    let exists = |name: &str| -> rusqlite::Result<bool> {
        conn.prepare_cached("SELECT 1 FROM sqlite_master WHERE name = ?1")?
            .query_row([name], |_| Ok(()))
            .optional()
            .map(|found| found.is_some())
    };
    let mut found = Found::default();
    if exists(&table.migrations())? {
        let mut rows = conn.prepare(&format!(
            "SELECT version, name, checksum, dirty FROM {} ORDER BY version",
            table.migrations()
        ))?;
        found.applied = rows
            .query_map([], |row| {
                Ok(Applied {
                    version: row.get(0)?,
                    name: row.get(1)?,
                    checksum: row.get(2)?,
                    dirty: row.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
    }
    found.columns = conn
        .prepare_cached("SELECT name FROM pragma_table_info(?1)")?
        .query_map([table.name()], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for migration in migrations::sqlite() {
        let mut all = true;
        for relation in migration.creates(table) {
            all &= exists(&relation)?;
        }
        found.created.push(all);
    }
    Ok(found)
}

/// How a schema is judged, for this file.
pub(super) fn schema<'a>(table: &'a Table, shown: &'a str) -> Schema<'a> {
    Schema {
        shipped: migrations::sqlite(),
        table,
        shown,
    }
}

/// The version the file is at, refusing one this code cannot use as it is.
pub(super) fn current(conn: &Connection, path: &Path, table: &Table) -> Result<u32, InboxError> {
    let found = inspect(conn, table).map_err(|e| failed(path, "read the schema", e))?;
    schema(table, &shown(path)).current(&found)
}

/// Brings the file to the latest version: each pending migration in its
/// own `BEGIN IMMEDIATE` transaction (another process migrating at the
/// same time waits for it, then finds nothing left to do), recorded in the
/// migrations table. Returns the versions it ran or adopted.
pub(super) fn migrate(
    conn: &mut Connection,
    path: &Path,
    table: &Table,
    clock: &dyn Clock,
) -> Result<Vec<u32>, InboxError> {
    let shown = shown(path);
    let schema = schema(table, &shown);
    // Nothing to do is found without a write lock or any DDL.
    let found = inspect(conn, table).map_err(|e| failed(path, "read the schema", e))?;
    if schema.next(&found)? == Next::Nothing {
        return Ok(Vec::new());
    }
    let mut done = Vec::new();
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| failed(path, "begin a migration", e))?;
        tx.execute_batch(&migrations::migrations_table_ddl(table))
            .map_err(|e| failed(path, "create the migrations table", e))?;
        let found = inspect(&tx, table).map_err(|e| failed(path, "read the schema", e))?;
        let (ran, recorded) = match schema.next(&found)? {
            Next::Nothing => return Ok(done),
            Next::Adopt(adopted) => (None, adopted),
            Next::Run(migration) => (Some(migration), vec![migration]),
        };
        if let Some(migration) = ran {
            tx.execute_batch(&table.apply(migration.sql)).map_err(|e| {
                InboxError::caused_by(
                    InboxErrorKind::Schema,
                    format!(
                        "{shown}: migration {} ({}) failed and was rolled back",
                        migration.version, migration.name
                    ),
                    e,
                )
            })?;
        }
        let insert = format!(
            "INSERT INTO {} (version, name, checksum, applied_at, dirty) \
             VALUES (?1, ?2, ?3, ?4, FALSE)",
            table.migrations()
        );
        for migration in &recorded {
            tx.execute(
                &insert,
                params![
                    i64::from(migration.version),
                    migration.name,
                    migration.checksum(),
                    clock.now_ms()
                ],
            )
            .map_err(|e| failed(path, "record a migration", e))?;
        }
        tx.commit()
            .map_err(|e| failed(path, "commit a migration", e))?;
        done.extend(recorded.iter().map(|m| m.version));
    }
}
