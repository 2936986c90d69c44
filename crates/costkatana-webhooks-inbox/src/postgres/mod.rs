//! The shared backend: a Postgres table many replicas use at once. Workers
//! lease rows with `FOR UPDATE SKIP LOCKED`, so no row is leased twice and
//! no worker waits on another's lock, and leases are judged by the
//! database's clock; deliveries that arrive together are stored in one
//! transaction (`batch.rs`); connections and their time-outs are
//! `pools.rs`'s, text Postgres cannot hold `text.rs`'s, the schema
//! `schema.rs`'s and the leadership of maintenance tasks `leader.rs`'s.

mod batch;
mod leader;
mod pools;
mod schema;
pub(crate) mod text;
pub(crate) mod transaction;

use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::clock::{millis, Clock};
use costkatana_webhooks::dedupe::{ClaimToken, Completion};
use costkatana_webhooks::inbox::{
    Enqueued, Entry, EntryQuery, EntryState, EntrySummary, InboxStats, LeasedEntry, NewEntry,
    Settlement,
};
use deadpool_postgres::GenericClient;
use deadpool_postgres::{Object, Pool};
use tokio::sync::{mpsc, oneshot};
use tokio::time::error::Elapsed;
use tokio_postgres::types::ToSql;

use crate::error::{InboxError, InboxErrorKind};
use crate::history::{self, ActivityBuffer, Attempt, AttemptOutcome, MinuteActivity};
use crate::listing::{counting, listing, purge_delete, purge_page, Listing, Param};
use crate::options::Options;
use crate::purge;
use crate::rows::{self, SettleParams, Taken};
use crate::sql::{Dialect, Statements};
use crate::table::Table;
use crate::url::describe;
use leader::Leader;
use pools::{Pools, OP_TIMEOUT};
use text::{decode, decode_opt, encode};

/// The longest a delivery waits to be stored before it is answered 503:
/// well within the sender's 30 s.
const ENQUEUE_TIMEOUT: Duration = Duration::from_secs(20);

/// The Postgres inbox; cheap to clone.
#[derive(Clone)]
pub(crate) struct Postgres {
    pools: Pools,
    batches: mpsc::Sender<batch::Pending>,
    sql: Arc<Statements>,
    /// `Postgres inbox postgres://host:port/database`, for errors.
    shown: Arc<str>,
    leader: Arc<Leader>,
    keep_done_bodies: bool,
    /// Attempts ended since the last flush to the activity table.
    activity: Arc<ActivityBuffer>,
    /// This process, as its failed attempts name their worker.
    worker: Arc<str>,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("server", &self.shown)
            .field("table", &self.sql.table)
            .finish()
    }
}

/// An operation's outcome: its result, or that it ran out of time.
type Bounded<T> = Result<Result<T, tokio_postgres::Error>, Elapsed>;

impl Postgres {
    /// Connects to the database. With `create`, its schema is created and
    /// migrated as needed; without, it must be at the latest version, and
    /// no statement that changes the schema is sent.
    pub(crate) async fn open(
        config: &tokio_postgres::Config,
        table: Table,
        clock: Arc<dyn Clock>,
        create: bool,
        options: Options,
    ) -> Result<Self, InboxError> {
        let shown: Arc<str> = format!("Postgres inbox {}", describe(config)).into();
        let pools = Pools::new(config)?;
        let mut client = pools.work.get().await.map_err(|err| {
            InboxError::caused_by(
                InboxErrorKind::Unavailable,
                format!("{shown}: could not connect"),
                err,
            )
        })?;
        if create {
            schema::migrate(&mut client, &table, clock.as_ref(), &shown).await?;
        } else {
            schema::current(&client, &table, &shown).await?;
        }
        drop(client);
        let sql = Arc::new(Statements::new(Dialect::Postgres, &table));
        let leader = Arc::new(Leader::new(
            pools::config(config),
            table,
            Arc::clone(&shown),
        ));
        Ok(Postgres {
            batches: batch::start(&pools.ack, &sql, &shown),
            pools,
            sql,
            shown,
            leader,
            keep_done_bodies: options.keep_done_bodies,
            activity: Arc::default(),
            worker: history::worker_name().into(),
        })
    }

    fn failed(
        &self,
        what: &str,
        err: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> InboxError {
        InboxError::caused_by(
            InboxErrorKind::Unavailable,
            format!("{}: could not {what}", self.shown),
            err,
        )
    }

    /// A connection from `pool` (waiting at most 5 s for one).
    async fn client(&self, pool: &Pool, what: &str) -> Result<Object, InboxError> {
        pool.get().await.map_err(|err| self.failed(what, err))
    }

    /// The result of an operation run on `client` under
    /// `tokio::time::timeout(OP_TIMEOUT, …)`. A connection whose operation
    /// ran out of time may be stuck (a lost network, a lock): it is
    /// closed, not given back to its pool.
    fn finish<T>(&self, client: Object, outcome: Bounded<T>, what: &str) -> Result<T, InboxError> {
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(self.failed(what, err)),
            Err(_) => {
                drop(Object::take(client));
                Err(InboxError::new(
                    InboxErrorKind::Unavailable,
                    format!(
                        "{}: could not {what}: no answer within {} s (the connection was closed)",
                        self.shown,
                        OP_TIMEOUT.as_secs()
                    ),
                ))
            }
        }
    }

    pub(crate) async fn migrate(&self, clock: Arc<dyn Clock>) -> Result<Vec<u32>, InboxError> {
        let mut client = self.client(&self.pools.work, "connect").await?;
        schema::migrate(&mut client, &self.sql.table, clock.as_ref(), &self.shown).await
    }

    pub(crate) async fn schema_version(&self) -> Result<u32, InboxError> {
        let client = self.client(&self.pools.work, "connect").await?;
        schema::version(&client, &self.sql.table, &self.shown).await
    }

    pub(crate) async fn lead(&self, task: &'static str) -> Result<bool, InboxError> {
        self.leader.lead(task).await
    }

    /// Queues the delivery for the next batch; answers once it is
    /// committed, or with why not within [`ENQUEUE_TIMEOUT`].
    pub(crate) async fn enqueue(&self, entry: NewEntry) -> Result<Enqueued, InboxError> {
        let stopped = || {
            InboxError::new(
                InboxErrorKind::Unavailable,
                format!("{}: the inbox has stopped", self.shown),
            )
        };
        let stored = async {
            let (reply, answer) = oneshot::channel();
            self.batches
                .send((entry, reply))
                .await
                .map_err(|_| stopped())?;
            answer.await.map_err(|_| stopped())?
        };
        tokio::time::timeout(ENQUEUE_TIMEOUT, stored)
            .await
            .unwrap_or_else(|_| {
                Err(InboxError::new(
                    InboxErrorKind::Unavailable,
                    format!(
                        "{}: could not store the delivery: no answer within {} s",
                        self.shown,
                        ENQUEUE_TIMEOUT.as_secs()
                    ),
                ))
            })
    }

    /// Leases due rows by the database's clock; a row whose stored headers
    /// do not parse is dead-lettered, saying why, and the others handed
    /// out.
    pub(crate) async fn take(
        &self,
        now_ms: i64,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<LeasedEntry>, InboxError> {
        let token = ClaimToken::random();
        let hex = token.to_hex();
        let lease_ms = millis(lease);
        let what = "lease due rows";
        let client = self.client(&self.pools.lease, what).await?;
        let outcome = tokio::time::timeout(OP_TIMEOUT, async {
            let mut taken = Vec::new();
            for due in [false, true] {
                let left = limit.saturating_sub(taken.len()) as i64;
                if left == 0 {
                    break;
                }
                let take = client.prepare_cached(self.sql.take(due)).await?;
                let rows = if due {
                    client
                        .query(&take, &[&hex, &lease_ms, &now_ms, &left])
                        .await?
                } else {
                    client.query(&take, &[&hex, &lease_ms, &left]).await?
                };
                taken.extend(rows.iter().map(|row| Taken {
                    id: row.get(0),
                    attempts: row.get(1),
                    dedupe_key: decode(row.get(2)),
                    headers: row.get(3),
                    body: row.get(4),
                    received_at_ms: row.get(5),
                }));
            }
            let mut jobs = Vec::with_capacity(taken.len());
            for row in taken {
                let (id, attempt) = (row.id, row.attempt());
                match row.into_job(token, now_ms) {
                    Ok(job) => jobs.push(job),
                    Err(why) => {
                        let p = rows::unreadable(attempt, &why, now_ms);
                        self.write_settlement(&client, &p, id, &hex).await?;
                    }
                }
            }
            Ok(jobs)
        })
        .await;
        self.finish(client, outcome, what)
    }

    /// Writes a settlement's columns on row `id` under lease `token`, and
    /// records a failed attempt in the same statement; the number of rows
    /// changed. `client` is a connection or a transaction.
    async fn write_settlement(
        &self,
        client: &impl GenericClient,
        p: &SettleParams,
        id: i64,
        token: &str,
    ) -> Result<u64, tokio_postgres::Error> {
        let settle = client.prepare_cached(&self.sql.settle).await?;
        let last_error = p.last_error.as_deref().map(encode);
        let outcome = p.failed.map(AttemptOutcome::as_str);
        let attempt_error = p
            .failed
            .and(p.last_error.as_deref())
            .map(|error| encode(&history::bounded(error)).into_owned());
        let row = client
            .query_one(
                &settle,
                &[
                    &p.state,
                    &p.run_after,
                    &p.attempts,
                    &p.settled_at,
                    &last_error.as_deref(),
                    &id,
                    &token,
                    &p.drop_body,
                    &p.started_at,
                    &p.ended_at,
                    &outcome,
                    &attempt_error,
                    &&*self.worker,
                ],
            )
            .await?;
        Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }

    /// Settles `job`, recording a failed attempt with it, then adds the
    /// activity counts that are due.
    pub(crate) async fn settle(
        &self,
        job: &LeasedEntry,
        settlement: Settlement,
        now_ms: i64,
    ) -> Result<Completion, InboxError> {
        let p = SettleParams::new(job, settlement, now_ms, self.keep_done_bodies);
        let token = job.token.to_hex();
        let what = "settle a row";
        let client = self.client(&self.pools.work, what).await?;
        let outcome =
            tokio::time::timeout(OP_TIMEOUT, self.settle_on(&client, &p, job.id, &token)).await;
        let completion = self.finish(client, outcome, what)?;
        self.flush(p.count_in(&self.activity)).await;
        Ok(completion)
    }

    /// Settles row `id` under lease `token` on `client`; how it came out.
    async fn settle_on(
        &self,
        client: &impl GenericClient,
        p: &SettleParams,
        id: i64,
        token: &str,
    ) -> Result<Completion, tokio_postgres::Error> {
        if self.write_settlement(client, p, id, token).await? == 1 {
            return Ok(Completion::Recorded);
        }
        let row = client.query_opt(&self.sql.settled, &[&id]).await?;
        Ok(p.judge(token, row.map(|row| (row.get(0), row.get(1), row.get(2)))))
    }

    /// Adds `counts` to the activity table; a failed write puts them back
    /// for the next flush (the charts are not worth failing a settlement
    /// over).
    async fn flush(&self, counts: history::Counts) {
        if counts.is_empty() {
            return;
        }
        let what = "add to the activity";
        let written = async {
            let client = self.client(&self.pools.work, what).await?;
            let outcome = tokio::time::timeout(OP_TIMEOUT, async {
                let add = client.prepare_cached(&self.sql.activity_add).await?;
                for ((minute, outcome, bucket), n) in &counts {
                    client.execute(&add, &[minute, outcome, bucket, n]).await?;
                }
                Ok(())
            })
            .await;
            self.finish(client, outcome, what)
        };
        if let Err(err) = written.await {
            tracing::debug!(error = %err, "could not add to the inbox's activity; later");
            self.activity.restore(counts);
        }
    }

    /// Extends the lease by its length from the database's clock (`until_ms`
    /// only for a row leased before the length was kept).
    pub(crate) async fn renew(
        &self,
        job: &LeasedEntry,
        until_ms: i64,
    ) -> Result<Completion, InboxError> {
        let what = "renew a lease";
        let client = self.client(&self.pools.lease, what).await?;
        let token = job.token.to_hex();
        let outcome = tokio::time::timeout(OP_TIMEOUT, async {
            let renew = client.prepare_cached(&self.sql.renew).await?;
            client.execute(&renew, &[&until_ms, &job.id, &token]).await
        })
        .await;
        Ok(rows::completion(self.finish(client, outcome, what)?))
    }

    /// Deletes the done or dead entries `query` matches, a page at a time
    /// (each page its own statement, so no long-held row locks).
    pub(crate) async fn purge(&self, query: &EntryQuery) -> Result<u64, InboxError> {
        let mut deleted = 0;
        for state in purge::states(query)? {
            let mut after = None;
            loop {
                let page = purge_page(
                    Dialect::Postgres,
                    &self.sql.table,
                    query,
                    state,
                    after,
                    purge::PAGE,
                );
                let rows = self.rows(&page, "find rows to purge").await?;
                let Some(last) = rows.last() else {
                    break;
                };
                after = Some((last.get::<_, i64>(1), last.get::<_, i64>(0)));
                let ids: Vec<i64> = rows.iter().map(|row| row.get(0)).collect();
                let delete = purge_delete(
                    Dialect::Postgres,
                    &self.sql.table,
                    &ids,
                    state,
                    query.settled_before_ms,
                );
                deleted += self.execute(&delete, "purge rows").await?;
                if rows.len() < purge::PAGE {
                    break;
                }
            }
        }
        Ok(deleted)
    }

    pub(crate) async fn count(&self, query: &EntryQuery) -> Result<u64, InboxError> {
        let counting = counting(Dialect::Postgres, &self.sql.table, query);
        let rows = self.rows(&counting, "count rows").await?;
        Ok(rows
            .first()
            .map_or(0, |row| u64::try_from(row.get::<_, i64>(0)).unwrap_or(0)))
    }

    /// Writes a row in a transaction that is rolled back, on a connection
    /// of the pool that stores deliveries: the connection, the table's
    /// locks and the role's rights are what a delivery needs.
    pub(crate) async fn probe(&self) -> Result<(), InboxError> {
        let what = "write a test row (rolled back)";
        let key = ClaimToken::random().to_hex();
        let digest = batch::key_digest(&key);
        // Negative, so never a real row's; random, so no replica's probe
        // waits for another's.
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        let id = -(i64::from_be_bytes(first) & i64::MAX).max(1);
        let mut client = self.client(&self.pools.ack, what).await?;
        let outcome = tokio::time::timeout(OP_TIMEOUT, async {
            let tx = client.transaction().await?;
            tx.execute(&self.sql.probe, &[&id, &key, &digest]).await?;
            tx.rollback().await
        })
        .await;
        self.finish(client, outcome, what)
    }

    pub(crate) async fn stats(&self) -> Result<InboxStats, InboxError> {
        let what = "count rows";
        let client = self.client(&self.pools.work, what).await?;
        let outcome = tokio::time::timeout(OP_TIMEOUT, async {
            let counts = client.query(&self.sql.counts, &[]).await?;
            let mut stats = InboxStats::default();
            for row in counts {
                rows::add_count(&mut stats, row.get(0), row.get(1));
            }
            stats.oldest_pending_ms = client
                .query_one(&self.sql.oldest_pending, &[])
                .await?
                .get(0);
            Ok(stats)
        })
        .await;
        self.finish(client, outcome, what)
    }

    /// The rows `listing` selects.
    async fn rows(
        &self,
        listing: &Listing,
        what: &str,
    ) -> Result<Vec<tokio_postgres::Row>, InboxError> {
        let params = params(&listing.params);
        let client = self.client(&self.pools.work, what).await?;
        let outcome = tokio::time::timeout(OP_TIMEOUT, client.query(&listing.sql, &params)).await;
        self.finish(client, outcome, what)
    }

    /// How many rows `listing` changed.
    async fn execute(&self, listing: &Listing, what: &str) -> Result<u64, InboxError> {
        let params = params(&listing.params);
        let client = self.client(&self.pools.work, what).await?;
        let outcome = tokio::time::timeout(OP_TIMEOUT, client.execute(&listing.sql, &params)).await;
        self.finish(client, outcome, what)
    }

    pub(crate) async fn list(&self, query: &EntryQuery) -> Result<Vec<EntrySummary>, InboxError> {
        let listing = listing(Dialect::Postgres, &self.sql.table, query);
        let rows = self.rows(&listing, "list rows").await?;
        Ok(rows.iter().map(summary).collect())
    }

    pub(crate) async fn get(&self, id: i64) -> Result<Entry, InboxError> {
        let what = "read a row";
        let client = self.client(&self.pools.work, what).await?;
        let outcome =
            tokio::time::timeout(OP_TIMEOUT, client.query_opt(&self.sql.get, &[&id])).await;
        let row = self.finish(client, outcome, what)?;
        row.as_ref().map(entry).ok_or_else(|| rows::no_row(id))
    }

    /// One statement that answers the state the row was in; only when it
    /// changes nothing, one read to tell a missing row from a running one
    /// or a done one whose body was not kept.
    pub(crate) async fn retry(&self, id: i64, now_ms: i64) -> Result<EntryState, InboxError> {
        let what = "retry a row";
        let client = self.client(&self.pools.work, what).await?;
        let outcome = tokio::time::timeout(OP_TIMEOUT, async {
            if let Some(row) = client
                .query_opt(&self.sql.retry_one, &[&now_ms, &id])
                .await?
            {
                return Ok(Ok(rows::parse_state(row.get(0))));
            }
            let state = client.query_opt(&self.sql.state_of_id, &[&id]).await?;
            Ok(Err(match state {
                None => rows::no_row(id),
                Some(row) if row.get::<_, bool>(1) => rows::not_kept(id),
                // Running when the retry ran (it may have been settled since).
                Some(_) => rows::running(id),
            }))
        })
        .await;
        self.finish(client, outcome, what)?
    }

    /// An entry's attempts (see [`history::attempts`]).
    pub(crate) async fn attempts(&self, id: i64) -> Result<Vec<Attempt>, InboxError> {
        let what = "read a row's attempts";
        let client = self.client(&self.pools.work, what).await?;
        let outcome = tokio::time::timeout(OP_TIMEOUT, async {
            let Some(last) = client.query_opt(&self.sql.last_attempt, &[&id]).await? else {
                return Ok(None);
            };
            let failed = client
                .query(&self.sql.attempts_of, &[&id])
                .await?
                .iter()
                .map(|row| {
                    (
                        row.get(0),
                        row.get(1),
                        row.get(2),
                        row.get(3),
                        decode_opt(row.get(4)),
                        row.get(5),
                    )
                })
                .collect();
            let last = (last.get(0), last.get(1), last.get(2), last.get(3));
            Ok(Some(history::attempts(failed, last)))
        })
        .await;
        self.finish(client, outcome, what)?
            .ok_or_else(|| rows::no_row(id))
    }

    /// The minutes in `[since_ms, until_ms)` that saw attempts, this
    /// process's buffered counts added first.
    pub(crate) async fn activity(
        &self,
        since_ms: i64,
        until_ms: i64,
        now_ms: i64,
    ) -> Result<Vec<MinuteActivity>, InboxError> {
        self.flush(self.activity.take_due(now_ms, true)).await;
        let what = "read the activity";
        let client = self.client(&self.pools.work, what).await?;
        let outcome = tokio::time::timeout(
            OP_TIMEOUT,
            client.query(&self.sql.activity_read, &[&since_ms, &until_ms]),
        )
        .await;
        let rows = self.finish(client, outcome, what)?;
        Ok(history::minutes(rows.iter().map(|row| {
            (
                row.get(0),
                history::counted(row.get(1), row.get(2)),
                row.get(3),
            )
        })))
    }

    pub(crate) async fn state_of(&self, key: &str) -> Result<Option<EntryState>, InboxError> {
        let what = "read a key's state";
        let digest = batch::key_digest(key);
        let client = self.client(&self.pools.work, what).await?;
        let outcome = tokio::time::timeout(
            OP_TIMEOUT,
            client.query_opt(&self.sql.state_of_key, &[&digest]),
        )
        .await;
        let row = self.finish(client, outcome, what)?;
        Ok(row.map(|row| rows::parse_state(row.get(0))))
    }

    pub(crate) async fn expect_replay(
        &self,
        key: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, InboxError> {
        let what = "record a replay asked for";
        let digest = batch::key_digest(key);
        let client = self.client(&self.pools.work, what).await?;
        let outcome = tokio::time::timeout(
            OP_TIMEOUT,
            client.execute(&self.sql.replay_expect, &[&digest, &until_ms, &now_ms]),
        )
        .await;
        Ok(self.finish(client, outcome, what)? == 1)
    }

    pub(crate) async fn replay_expected(&self, key: &str, now_ms: i64) -> Result<bool, InboxError> {
        let what = "read the replays expected";
        let digest = batch::key_digest(key);
        let client = self.client(&self.pools.work, what).await?;
        let outcome = tokio::time::timeout(
            OP_TIMEOUT,
            client.query_opt(&self.sql.replay_expected, &[&digest, &now_ms]),
        )
        .await;
        Ok(self.finish(client, outcome, what)?.is_some())
    }

    /// Forgets activity older than `activity_before` and replay records
    /// that ended by `now_ms`.
    pub(crate) async fn trim(&self, activity_before: i64, now_ms: i64) -> Result<(), InboxError> {
        let what = "trim the activity and replays";
        let client = self.client(&self.pools.work, what).await?;
        let outcome = tokio::time::timeout(OP_TIMEOUT, async {
            client
                .execute(&self.sql.activity_trim, &[&activity_before])
                .await?;
            client.execute(&self.sql.replays_trim, &[&now_ms]).await?;
            Ok(())
        })
        .await;
        self.finish(client, outcome, what)
    }

    /// Deletes one done or dead row, answering the state it was in.
    pub(crate) async fn delete(&self, id: i64) -> Result<EntryState, InboxError> {
        let what = "delete a row";
        let client = self.client(&self.pools.work, what).await?;
        let outcome = tokio::time::timeout(OP_TIMEOUT, async {
            if let Some(row) = client.query_opt(&self.sql.delete_one, &[&id]).await? {
                return Ok(Ok(rows::parse_state(row.get(0))));
            }
            let state = client.query_opt(&self.sql.state_of_id, &[&id]).await?;
            Ok(Err(state.map(|row| rows::parse_state(row.get(0)))))
        })
        .await;
        self.finish(client, outcome, what)?
            .map_err(|state| rows::not_deletable(id, state))
    }

    pub(crate) async fn retry_dead(&self, now_ms: i64) -> Result<u64, InboxError> {
        let what = "retry dead rows";
        let client = self.client(&self.pools.work, what).await?;
        let outcome =
            tokio::time::timeout(OP_TIMEOUT, client.execute(&self.sql.retry_dead, &[&now_ms]))
                .await;
        self.finish(client, outcome, what)
    }
}

/// A statement's parameters as tokio-postgres takes them.
fn params(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|param| match param {
            Param::Text(text) => text as &(dyn ToSql + Sync),
            Param::Int(int) => int as &(dyn ToSql + Sync),
        })
        .collect()
}

fn summary(row: &tokio_postgres::Row) -> EntrySummary {
    EntrySummary {
        id: row.get(0),
        state: rows::parse_state(row.get(1)),
        attempts: u32::try_from(row.get::<_, i64>(2)).unwrap_or(u32::MAX),
        event_id: decode_opt(row.get(3)),
        event_type: decode_opt(row.get(4)),
        received_at_ms: row.get(5),
        run_after_ms: row.get(6),
        settled_at_ms: row.get(7),
        last_error: decode_opt(row.get(8)),
    }
}

/// A whole row. Headers that do not parse (a row written by hand) show
/// as none rather than hiding the rest of the row.
fn entry(row: &tokio_postgres::Row) -> Entry {
    Entry {
        id: row.get(0),
        state: rows::parse_state(row.get(1)),
        attempts: u32::try_from(row.get::<_, i64>(2)).unwrap_or(u32::MAX),
        dedupe_key: decode(row.get(3)),
        event_id: decode_opt(row.get(4)),
        event_type: decode_opt(row.get(5)),
        headers: rows::parse_headers(row.get(6)).unwrap_or_default(),
        body: row.get::<_, Vec<u8>>(7).into(),
        received_at_ms: row.get(8),
        run_after_ms: row.get(9),
        settled_at_ms: row.get(10),
        last_error: decode_opt(row.get(11)),
    }
}
