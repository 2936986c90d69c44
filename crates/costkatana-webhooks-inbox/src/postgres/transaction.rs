//! A transactional handler's writes on Postgres: a real transaction on a
//! connection of the inbox's own pool, begun at the handler's first write
//! and ended by the attempt: committed with the done mark (the settle
//! statement checks the lease in it), or rolled back.

use costkatana_webhooks::dedupe::Completion;
use costkatana_webhooks::inbox::{LeasedEntry, Settlement};
use deadpool_postgres::{GenericClient, Object};
use tokio::sync::Mutex;
use tokio_postgres::types::ToSql;

use super::pools::OP_TIMEOUT;
use super::Postgres;
use crate::error::attempt_ended as ended;
use crate::error::{InboxError, InboxErrorKind};
use crate::rows::SettleParams;
use crate::transaction::value::SqlValue;

/// Where an attempt's transaction is.
enum State {
    /// No write yet: no connection held.
    Idle,
    /// `BEGIN` sent on this connection.
    Open(Box<Object>),
    /// Committed or dropped.
    Ended,
}

pub(crate) struct PgTransaction {
    postgres: Postgres,
    state: Mutex<State>,
}

impl PgTransaction {
    pub(crate) fn new(postgres: Postgres) -> PgTransaction {
        PgTransaction {
            postgres,
            state: Mutex::new(State::Idle),
        }
    }

    /// Runs `sql` in the transaction, beginning it first if need be.
    pub(crate) async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<(), InboxError> {
        let mut state = self.state.lock().await;
        if let State::Idle = *state {
            *state = State::Open(Box::new(self.begin().await?));
        }
        let State::Open(client) = &*state else {
            return Err(ended());
        };
        let params: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let ran = tokio::time::timeout(OP_TIMEOUT, async {
            let statement = client.prepare_cached(sql).await?;
            client.execute(&statement, &params).await
        })
        .await;
        match ran {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => Err(refused(&self.postgres, err)),
            Err(_) => {
                // The connection may be stuck: close it (the server rolls
                // the transaction back); the attempt cannot commit now.
                if let State::Open(client) = std::mem::replace(&mut *state, State::Ended) {
                    drop(Object::take(*client));
                }
                Err(InboxError::new(
                    InboxErrorKind::Unavailable,
                    format!(
                        "{}: the handler's statement had no answer within {} s (its transaction \
                         was rolled back)",
                        self.postgres.shown,
                        OP_TIMEOUT.as_secs()
                    ),
                ))
            }
        }
    }

    /// A connection with `BEGIN` sent on it.
    async fn begin(&self) -> Result<Object, InboxError> {
        let what = "begin the handler's transaction";
        let client = self.postgres.client(&self.postgres.pools.tx, what).await?;
        match tokio::time::timeout(OP_TIMEOUT, client.batch_execute("BEGIN")).await {
            Ok(Ok(())) => Ok(client),
            outcome => {
                drop(Object::take(client));
                Err(match outcome {
                    Ok(Err(err)) => self.postgres.failed(what, err),
                    _ => InboxError::new(
                        InboxErrorKind::Unavailable,
                        format!("{}: could not {what}: no answer", self.postgres.shown),
                    ),
                })
            }
        }
    }

    /// Rolls back what was written: the attempt ended without a commit.
    pub(crate) fn end(&self) {
        let Ok(mut state) = self.state.try_lock() else {
            // A statement is running: it ends when the handler's future is
            // dropped, and the connection with it (see `execute`).
            return;
        };
        if let State::Open(client) = std::mem::replace(&mut *state, State::Ended) {
            roll_back(*client);
        }
    }

    /// Settles `entry` done in the transaction, and commits it only if the
    /// settlement was recorded under this attempt's lease; with no write
    /// made, settles it as any attempt.
    pub(crate) async fn commit(
        &self,
        entry: &LeasedEntry,
        now_ms: i64,
    ) -> Result<Completion, InboxError> {
        let held = std::mem::replace(&mut *self.state.lock().await, State::Ended);
        let client = match held {
            State::Idle => return self.postgres.settle(entry, Settlement::Done, now_ms).await,
            State::Ended => return Err(ended()),
            State::Open(client) => *client,
        };
        let pg = &self.postgres;
        let p = SettleParams::new(entry, Settlement::Done, now_ms, pg.keep_done_bodies);
        let token = entry.token.to_hex();
        let what = "commit the handler's writes";
        let outcome = tokio::time::timeout(OP_TIMEOUT, async {
            let completion = pg.settle_on(&client, &p, entry.id, &token).await?;
            let end = if completion == Completion::Recorded {
                "COMMIT"
            } else {
                "ROLLBACK"
            };
            client.batch_execute(end).await?;
            Ok::<_, tokio_postgres::Error>(completion)
        })
        .await;
        let completion = match outcome {
            Ok(Ok(completion)) => {
                drop(client);
                completion
            }
            // Whatever failed, the connection is closed: its transaction
            // (if still open) rolls back with it, and it is not given back
            // mid-transaction.
            Ok(Err(err)) => {
                drop(Object::take(client));
                return Err(pg.failed(what, err));
            }
            Err(_) => {
                drop(Object::take(client));
                return Err(InboxError::new(
                    InboxErrorKind::Unavailable,
                    format!("{}: could not {what}: no answer", pg.shown),
                ));
            }
        };
        if completion == Completion::Recorded {
            pg.flush(p.count_in(&pg.activity)).await;
        }
        Ok(completion)
    }
}

/// Rolls back on a task of its own, then gives the connection back; with
/// no runtime to run it on, closes the connection instead (the server
/// rolls back).
fn roll_back(client: Object) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(async move {
                let rolled =
                    tokio::time::timeout(OP_TIMEOUT, client.batch_execute("ROLLBACK")).await;
                if !matches!(rolled, Ok(Ok(()))) {
                    drop(Object::take(client));
                }
            });
        }
        Err(_) => drop(Object::take(client)),
    }
}

/// A statement the database refused (its own words, with the SQLSTATE),
/// or a connection that failed.
fn refused(postgres: &Postgres, err: tokio_postgres::Error) -> InboxError {
    match err.as_db_error() {
        Some(db) => InboxError::new(
            InboxErrorKind::Invalid,
            format!(
                "the handler's statement was refused: {} (SQLSTATE {})",
                db.message(),
                db.code().code()
            ),
        ),
        None => postgres.failed("run the handler's statement", err),
    }
}
