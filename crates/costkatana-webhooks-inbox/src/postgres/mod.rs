//! The shared backend: a Postgres table many replicas use at once. Workers
//! lease rows with `FOR UPDATE SKIP LOCKED`, so no row is leased twice and
//! no worker waits on another's lock; deliveries that arrive together are
//! stored in one transaction (`batch.rs`); the schema is `schema.rs`'s and
//! the leadership of maintenance tasks `leader.rs`'s.

mod batch;
mod leader;
mod schema;

use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::clock::{millis, Clock};
use costkatana_webhooks::dedupe::{ClaimToken, Completion};
use costkatana_webhooks::inbox::{
    Enqueued, Entry, EntryQuery, EntryState, EntrySummary, InboxStats, LeasedEntry, NewEntry,
    Settlement,
};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::types::ToSql;
use tokio_postgres::NoTls;

use crate::error::{InboxError, InboxErrorKind};
use crate::listing::{listing, Param};
use crate::rows::{self, SettleParams};
use crate::sql::{Dialect, Statements};
use crate::table::Table;
use crate::url::describe;
use leader::Leader;

/// Connections per process.
const POOL_SIZE: usize = 16;
/// How long to wait for a connection before answering 503.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The Postgres inbox; cheap to clone.
#[derive(Clone)]
pub(crate) struct Postgres {
    pool: Pool,
    batches: mpsc::Sender<batch::Pending>,
    sql: Arc<Statements>,
    /// `Postgres inbox postgres://host:port/database`, for errors.
    shown: Arc<str>,
    leader: Arc<Leader>,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("server", &self.shown)
            .field("table", &self.sql.table)
            .finish()
    }
}

impl Postgres {
    /// Connects to the database. With `create`, its schema is created and
    /// migrated as needed; without, it must be at the latest version, and
    /// no statement that changes the schema is sent.
    pub(crate) async fn open(
        config: &tokio_postgres::Config,
        table: Table,
        clock: Arc<dyn Clock>,
        create: bool,
    ) -> Result<Self, InboxError> {
        let shown: Arc<str> = format!("Postgres inbox {}", describe(config)).into();
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|err| {
                InboxError::caused_by(
                    InboxErrorKind::Invalid,
                    "could not build the Postgres pool",
                    err,
                )
            })?;
        let mut client = pool.get().await.map_err(|err| {
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
        let leader = Arc::new(Leader::new(config.clone(), table, Arc::clone(&shown)));
        Ok(Postgres {
            batches: batch::start(&pool, &sql, &shown),
            pool,
            sql,
            shown,
            leader,
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

    async fn client(&self) -> Result<deadpool_postgres::Object, InboxError> {
        self.pool
            .get()
            .await
            .map_err(|err| self.failed("connect", err))
    }

    /// `statement`, prepared once per connection (the workers' statements
    /// run for every delivery; preparing each time is a round trip more).
    async fn prepared(
        &self,
        client: &deadpool_postgres::Object,
        statement: &str,
        what: &str,
    ) -> Result<tokio_postgres::Statement, InboxError> {
        client
            .prepare_cached(statement)
            .await
            .map_err(|err| self.failed(what, err))
    }

    pub(crate) async fn migrate(&self, clock: Arc<dyn Clock>) -> Result<Vec<u32>, InboxError> {
        let mut client = self.client().await?;
        schema::migrate(&mut client, &self.sql.table, clock.as_ref(), &self.shown).await
    }

    pub(crate) async fn schema_version(&self) -> Result<u32, InboxError> {
        let client = self.client().await?;
        schema::version(&client, &self.sql.table, &self.shown).await
    }

    pub(crate) async fn lead(&self, task: &'static str) -> Result<bool, InboxError> {
        self.leader.lead(task).await
    }

    pub(crate) async fn enqueue(&self, entry: NewEntry) -> Result<Enqueued, InboxError> {
        let stopped = || {
            InboxError::new(
                InboxErrorKind::Unavailable,
                format!("{}: the inbox has stopped", self.shown),
            )
        };
        let (reply, answer) = oneshot::channel();
        self.batches
            .send((entry, reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    pub(crate) async fn take(
        &self,
        now_ms: i64,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<LeasedEntry>, InboxError> {
        let token = ClaimToken::random();
        let lease_until = now_ms.saturating_add(millis(lease));
        let client = self.client().await?;
        let hex = token.to_hex();
        let mut taken = Vec::new();
        for due in [false, true] {
            let left = limit.saturating_sub(taken.len());
            if left == 0 {
                break;
            }
            let take = self
                .prepared(&client, self.sql.take(due), "lease due rows")
                .await?;
            let rows = client
                .query(&take, &[&hex, &lease_until, &now_ms, &(left as i64)])
                .await
                .map_err(|err| self.failed("lease due rows", err))?;
            taken.extend(rows);
        }
        taken
            .into_iter()
            .map(|row| {
                rows::job(
                    token,
                    row.get(0),
                    row.get(1),
                    row.get(2),
                    row.get::<_, &str>(3),
                    row.get(4),
                    row.get(5),
                )
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
        let token = job.token.to_hex();
        let client = self.client().await?;
        let settle = self
            .prepared(&client, &self.sql.settle, "settle a row")
            .await?;
        let changed = client
            .execute(
                &settle,
                &[
                    &p.state,
                    &p.run_after,
                    &p.attempts,
                    &p.settled_at,
                    &p.last_error,
                    &job.id,
                    &token,
                ],
            )
            .await
            .map_err(|err| self.failed("settle a row", err))?;
        if changed == 1 {
            return Ok(Completion::Recorded);
        }
        let row = client
            .query_opt(&self.sql.settled, &[&job.id])
            .await
            .map_err(|err| self.failed("read a settled row", err))?;
        Ok(p.judge(&token, row.map(|row| (row.get(0), row.get(1), row.get(2)))))
    }

    pub(crate) async fn renew(
        &self,
        job: &LeasedEntry,
        until_ms: i64,
    ) -> Result<Completion, InboxError> {
        let client = self.client().await?;
        let renew = self
            .prepared(&client, &self.sql.renew, "renew a lease")
            .await?;
        let changed = client
            .execute(&renew, &[&until_ms, &job.id, &job.token.to_hex()])
            .await
            .map_err(|err| self.failed("renew a lease", err))?;
        Ok(rows::completion(changed))
    }

    pub(crate) async fn purge_done(&self, before_ms: i64) -> Result<u64, InboxError> {
        let client = self.client().await?;
        client
            .execute(&self.sql.purge_done, &[&before_ms])
            .await
            .map_err(|err| self.failed("purge done rows", err))
    }

    pub(crate) async fn stats(&self) -> Result<InboxStats, InboxError> {
        let client = self.client().await?;
        let counts = client
            .query(&self.sql.counts, &[])
            .await
            .map_err(|err| self.failed("count rows", err))?;
        let mut stats = InboxStats::default();
        for row in counts {
            rows::add_count(&mut stats, row.get(0), row.get(1));
        }
        stats.oldest_pending_ms = client
            .query_one(&self.sql.oldest_pending, &[])
            .await
            .map_err(|err| self.failed("find the oldest pending row", err))?
            .get(0);
        Ok(stats)
    }

    pub(crate) async fn list(&self, query: &EntryQuery) -> Result<Vec<EntrySummary>, InboxError> {
        let listing = listing(Dialect::Postgres, &self.sql.table, query);
        let params: Vec<&(dyn ToSql + Sync)> = listing
            .params
            .iter()
            .map(|param| match param {
                Param::Text(text) => text as &(dyn ToSql + Sync),
                Param::Int(int) => int as &(dyn ToSql + Sync),
            })
            .collect();
        let client = self.client().await?;
        let rows = client
            .query(&listing.sql, &params)
            .await
            .map_err(|err| self.failed("list rows", err))?;
        Ok(rows.iter().map(summary).collect())
    }

    pub(crate) async fn get(&self, id: i64) -> Result<Entry, InboxError> {
        let client = self.client().await?;
        let row = client
            .query_opt(&self.sql.get, &[&id])
            .await
            .map_err(|err| self.failed("read a row", err))?;
        row.as_ref().map(entry).ok_or_else(|| rows::no_row(id))
    }

    /// One statement that answers the state the row was in; only when it
    /// changes nothing, one read to tell a missing row from a running one.
    pub(crate) async fn retry(&self, id: i64, now_ms: i64) -> Result<EntryState, InboxError> {
        let client = self.client().await?;
        let retried = client
            .query_opt(&self.sql.retry_one, &[&now_ms, &id])
            .await
            .map_err(|err| self.failed("retry a row", err))?;
        if let Some(row) = retried {
            return Ok(rows::parse_state(row.get(0)));
        }
        let state = client
            .query_opt(&self.sql.state_of_id, &[&id])
            .await
            .map_err(|err| self.failed("read a row", err))?;
        match state {
            None => Err(rows::no_row(id)),
            // Running when the retry ran (it may have been settled since).
            Some(_) => Err(rows::running(id)),
        }
    }

    pub(crate) async fn retry_dead(&self, now_ms: i64) -> Result<u64, InboxError> {
        let client = self.client().await?;
        client
            .execute(&self.sql.retry_dead, &[&now_ms])
            .await
            .map_err(|err| self.failed("retry dead rows", err))
    }
}

fn summary(row: &tokio_postgres::Row) -> EntrySummary {
    EntrySummary {
        id: row.get(0),
        state: rows::parse_state(row.get(1)),
        attempts: u32::try_from(row.get::<_, i64>(2)).unwrap_or(u32::MAX),
        event_id: row.get(3),
        event_type: row.get(4),
        received_at_ms: row.get(5),
        run_after_ms: row.get(6),
        settled_at_ms: row.get(7),
        last_error: row.get(8),
    }
}

/// A whole row. Headers that do not parse (a row written by hand) show
/// as none rather than hiding the rest of the row.
fn entry(row: &tokio_postgres::Row) -> Entry {
    Entry {
        id: row.get(0),
        state: rows::parse_state(row.get(1)),
        attempts: u32::try_from(row.get::<_, i64>(2)).unwrap_or(u32::MAX),
        dedupe_key: row.get(3),
        event_id: row.get(4),
        event_type: row.get(5),
        headers: rows::parse_headers(row.get(6)).unwrap_or_default(),
        body: row.get::<_, Vec<u8>>(7).into(),
        received_at_ms: row.get(8),
        run_after_ms: row.get(9),
        settled_at_ms: row.get(10),
        last_error: row.get(11),
    }
}
