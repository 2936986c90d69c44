//! A transactional handler's writes on SQLite: checked when made, kept
//! until the handler returns, then run in the writer's transaction that
//! settles the entry, inside a savepoint, after the lease is checked. The
//! handler's slow part never holds the one writer.

use std::sync::{Arc, Mutex, PoisonError};

use costkatana_webhooks::dedupe::Completion;
use costkatana_webhooks::inbox::{LeasedEntry, Settlement};

use super::{settle_in, Sqlite};
use crate::error::attempt_ended as ended;
use crate::error::{InboxError, InboxErrorKind};
use crate::rows::SettleParams;
use crate::sql::Dialect;
use crate::transaction::value::SqlValue;

/// A statement kept for the commit, and its parameters.
type Kept = (String, Vec<SqlValue>);

/// The statements an attempt's handler made; `None` once the attempt
/// ended (committed or dropped).
pub(crate) struct SqliteTransaction {
    sqlite: Sqlite,
    statements: Mutex<Option<Vec<Kept>>>,
}

impl SqliteTransaction {
    pub(crate) fn new(sqlite: Sqlite) -> SqliteTransaction {
        SqliteTransaction {
            sqlite,
            statements: Mutex::new(Some(Vec::new())),
        }
    }

    /// Checks `sql` against the file's schema and keeps it for the commit.
    pub(crate) async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<(), InboxError> {
        let sql = Dialect::Sqlite.placeholders(sql);
        self.sqlite.reader.check(sql.clone(), params.len()).await?;
        match self.lock().as_mut() {
            Some(statements) => {
                statements.push((sql, params.to_vec()));
                Ok(())
            }
            None => Err(ended()),
        }
    }

    /// Drops what was kept: the attempt ended without a commit.
    pub(crate) fn end(&self) {
        self.lock().take();
    }

    /// Settles `entry` done and runs the kept statements, in a savepoint
    /// of the writer's next transaction: both or neither. Nothing is
    /// written when the lease is no longer this attempt's.
    pub(crate) async fn commit(
        &self,
        entry: &LeasedEntry,
        now_ms: i64,
    ) -> Result<Completion, InboxError> {
        let statements = self.lock().take().ok_or_else(ended)?;
        let sqlite = &self.sqlite;
        let p = SettleParams::new(entry, Settlement::Done, now_ms, sqlite.keep_done_bodies);
        let due = p.count_in(&sqlite.activity);
        let (id, token) = (entry.id, entry.token.to_hex());
        let (sql, worker) = (Arc::clone(&sqlite.sql), Arc::clone(&sqlite.worker));
        let completion = sqlite
            .writer
            .call("commit the handler's writes", move |conn| {
                conn.execute_batch("SAVEPOINT costkatana_handler_writes")?;
                let written = (|| {
                    let completion = settle_in(conn, &sql, &p, id, &token, &worker)?;
                    if completion == Completion::Recorded {
                        for (statement, params) in &statements {
                            conn.prepare_cached(statement)?
                                .execute(rusqlite::params_from_iter(params))?;
                        }
                    }
                    Ok(completion)
                })();
                let end = match written {
                    Ok(Completion::Recorded) => "RELEASE costkatana_handler_writes",
                    _ => {
                        "ROLLBACK TO costkatana_handler_writes; \
                         RELEASE costkatana_handler_writes"
                    }
                };
                conn.execute_batch(end)?;
                written
            })
            .await?;
        sqlite.flush(due).await;
        Ok(completion)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Vec<Kept>>> {
        // A list of statements: a panic elsewhere leaves it whole.
        self.statements
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The error for a statement that does not compile or fit its
/// parameters.
pub(super) fn refused(why: impl std::fmt::Display) -> InboxError {
    InboxError::new(
        InboxErrorKind::Invalid,
        format!("the handler's statement was refused: {why}"),
    )
}
