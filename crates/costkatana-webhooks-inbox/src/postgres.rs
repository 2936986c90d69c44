//! The shared backend: a Postgres table many replicas use at once. Workers
//! lease rows with `FOR UPDATE SKIP LOCKED`, so no row is leased twice and
//! no worker waits on another's lock; deliveries that arrive together are
//! stored in one transaction (group commit).

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use costkatana_webhooks::clock::millis;
use costkatana_webhooks::dedupe::{ClaimToken, Completion};
use costkatana_webhooks::inbox::{
    Enqueued, Entry, EntryState, InboxStats, LeasedEntry, NewEntry, Settlement,
};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use futures_util::future::try_join_all;
use tokio::sync::{mpsc, oneshot, Mutex};
use tokio_postgres::NoTls;

use crate::sql::{self, SettleParams, Statements};
use crate::sqlite::{completion, parse_state};
use crate::InboxError;

/// The statements, in Postgres's dialect.
static SQL: LazyLock<Statements> = LazyLock::new(Statements::postgres);
/// Connections per process.
const POOL_SIZE: usize = 16;
/// How long to wait for a connection before answering 503.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The most deliveries one transaction stores.
const MAX_BATCH: usize = 256;
/// Transactions storing deliveries at once: while one commits, the next
/// gathers.
const BATCHERS: usize = 2;
/// Serialises the `CREATE TABLE IF NOT EXISTS` of replicas starting together.
const SCHEMA_LOCK: i64 = 0x636b_7769_6e62_6f78; // "ckwinbox"

type Pending = (NewEntry, oneshot::Sender<Result<Enqueued, String>>);

/// The Postgres inbox; cheap to clone.
#[derive(Clone)]
pub(crate) struct Postgres {
    pool: Pool,
    batches: mpsc::Sender<Pending>,
    shown: Arc<str>,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("server", &self.shown)
            .finish()
    }
}

impl Postgres {
    pub(crate) async fn open(url: &str) -> Result<Self, InboxError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|err| InboxError::caused_by("the Postgres URL is not valid", err))?;
        let shown: Arc<str> = describe(&config).into();
        let manager = Manager::from_config(
            config,
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
            .map_err(|err| InboxError::caused_by("could not build the Postgres pool", err))?;
        let failed = |what: &str| format!("Postgres inbox {shown}: could not {what}");
        let mut client = pool
            .get()
            .await
            .map_err(|err| InboxError::caused_by(failed("connect"), err))?;
        let tx = client
            .transaction()
            .await
            .map_err(|err| InboxError::caused_by(failed("begin"), err))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
            .await
            .map_err(|err| InboxError::caused_by(failed("lock the schema"), err))?;
        tx.batch_execute(&SQL.schema)
            .await
            .map_err(|err| InboxError::caused_by(failed("create the inbox table"), err))?;
        tx.commit()
            .await
            .map_err(|err| InboxError::caused_by(failed("commit the schema"), err))?;
        drop(client);

        let (batches, queue) = mpsc::channel(MAX_BATCH * 4);
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..BATCHERS {
            tokio::spawn(store_batches(
                pool.clone(),
                Arc::clone(&queue),
                Arc::clone(&shown),
            ));
        }
        Ok(Postgres {
            pool,
            batches,
            shown,
        })
    }

    fn failed(
        &self,
        what: &str,
        err: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> InboxError {
        InboxError::caused_by(
            format!("Postgres inbox {}: could not {what}", self.shown),
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

    pub(crate) async fn enqueue(&self, entry: NewEntry) -> Result<Enqueued, InboxError> {
        let (reply, answer) = oneshot::channel();
        self.batches
            .send((entry, reply))
            .await
            .map_err(|_| InboxError::new("the Postgres inbox has stopped"))?;
        answer
            .await
            .map_err(|_| InboxError::new("the Postgres inbox stopped mid-write"))?
            .map_err(InboxError::new)
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
        let mut rows = Vec::new();
        for due in [false, true] {
            let left = limit.saturating_sub(rows.len());
            if left == 0 {
                break;
            }
            let take = self
                .prepared(&client, SQL.take(due), "lease due rows")
                .await?;
            let taken = client
                .query(&take, &[&hex, &lease_until, &now_ms, &(left as i64)])
                .await
                .map_err(|err| self.failed("lease due rows", err))?;
            rows.extend(taken);
        }
        rows.into_iter()
            .map(|row| {
                sql::job(
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
        let client = self.client().await?;
        let settle = self.prepared(&client, &SQL.settle, "settle a row").await?;
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
                    &job.token.to_hex(),
                ],
            )
            .await
            .map_err(|err| self.failed("settle a row", err))?;
        Ok(completion(changed as usize))
    }

    pub(crate) async fn renew(
        &self,
        job: &LeasedEntry,
        until_ms: i64,
    ) -> Result<Completion, InboxError> {
        let client = self.client().await?;
        let renew = self.prepared(&client, &SQL.renew, "renew a lease").await?;
        let changed = client
            .execute(&renew, &[&until_ms, &job.id, &job.token.to_hex()])
            .await
            .map_err(|err| self.failed("renew a lease", err))?;
        Ok(completion(changed as usize))
    }

    pub(crate) async fn purge_done(&self, before_ms: i64) -> Result<u64, InboxError> {
        let client = self.client().await?;
        client
            .execute(&SQL.purge_done, &[&before_ms])
            .await
            .map_err(|err| self.failed("purge done rows", err))
    }

    pub(crate) async fn stats(&self) -> Result<InboxStats, InboxError> {
        let client = self.client().await?;
        let counts = client
            .query(&SQL.counts, &[])
            .await
            .map_err(|err| self.failed("count rows", err))?;
        let mut stats = InboxStats::default();
        for row in counts {
            crate::add_count(&mut stats, row.get(0), row.get(1));
        }
        stats.oldest_pending_ms = client
            .query_one(&SQL.oldest_pending, &[])
            .await
            .map_err(|err| self.failed("find the oldest pending row", err))?
            .get(0);
        Ok(stats)
    }

    pub(crate) async fn list(
        &self,
        state: Option<EntryState>,
        limit: usize,
    ) -> Result<Vec<Entry>, InboxError> {
        let client = self.client().await?;
        let rows = client
            .query(
                &SQL.list,
                &[&state.map(EntryState::as_str), &(limit as i64)],
            )
            .await
            .map_err(|err| self.failed("list rows", err))?;
        Ok(rows.iter().map(record).collect())
    }

    pub(crate) async fn get(&self, id: i64) -> Result<Option<Entry>, InboxError> {
        let client = self.client().await?;
        let row = client
            .query_opt(&SQL.get, &[&id])
            .await
            .map_err(|err| self.failed("read a row", err))?;
        Ok(row.as_ref().map(record))
    }

    pub(crate) async fn retry(&self, id: i64, now_ms: i64) -> Result<bool, InboxError> {
        let client = self.client().await?;
        let changed = client
            .execute(&SQL.retry_one, &[&now_ms, &id])
            .await
            .map_err(|err| self.failed("retry a row", err))?;
        Ok(changed == 1)
    }

    pub(crate) async fn retry_dead(&self, now_ms: i64) -> Result<u64, InboxError> {
        let client = self.client().await?;
        client
            .execute(&SQL.retry_dead, &[&now_ms])
            .await
            .map_err(|err| self.failed("retry dead rows", err))
    }
}

/// Gathers the deliveries queued meanwhile and stores them in one
/// transaction; every sender learns the outcome after the commit.
async fn store_batches(pool: Pool, queue: Arc<Mutex<mpsc::Receiver<Pending>>>, shown: Arc<str>) {
    loop {
        let batch = {
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
        let mut batch = batch;
        batch.sort_by(|(a, _), (b, _)| a.dedupe_key.cmp(&b.dedupe_key));
        let (entries, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        match store(&pool, &entries).await {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(Ok(result));
                }
            }
            Err(err) => {
                let why = format!("Postgres inbox {shown}: could not store the delivery: {err}");
                for reply in replies {
                    let _ = reply.send(Err(why.clone()));
                }
            }
        }
    }
}

async fn store(
    pool: &Pool,
    entries: &[NewEntry],
) -> Result<Vec<Enqueued>, Box<dyn std::error::Error + Send + Sync>> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let insert = tx.prepare_cached(&SQL.insert).await?;
    let headers: Vec<String> = entries
        .iter()
        .map(|e| sql::headers_json(&e.headers))
        .collect();
    // Sent together: one round trip for the batch, not one per delivery.
    let inserted = try_join_all(entries.iter().zip(&headers).map(|(entry, headers)| {
        let (tx, insert) = (&tx, &insert);
        async move {
            let body: &[u8] = &entry.body;
            tx.execute(
                insert,
                &[
                    &entry.dedupe_key,
                    &entry.event_id,
                    &entry.event_type,
                    headers,
                    &body,
                    &entry.received_at_ms,
                ],
            )
            .await
        }
    }))
    .await?;
    let state_of = tx.prepare_cached(&SQL.state_of_key).await?;
    let results = try_join_all(entries.iter().zip(inserted).map(|(entry, inserted)| {
        let state_of = &state_of;
        let tx = &tx;
        async move {
            if inserted == 1 {
                return Ok(Enqueued::Stored);
            }
            let row = tx.query_one(state_of, &[&entry.dedupe_key]).await?;
            Ok::<_, tokio_postgres::Error>(Enqueued::Duplicate(parse_state(row.get(0))))
        }
    }))
    .await?;
    tx.commit().await?;
    Ok(results)
}

fn record(row: &tokio_postgres::Row) -> Entry {
    Entry {
        id: row.get(0),
        state: parse_state(row.get(1)),
        attempts: u32::try_from(row.get::<_, i64>(2)).unwrap_or(u32::MAX),
        dedupe_key: row.get(3),
        event_id: row.get(4),
        event_type: row.get(5),
        headers: sql::parse_headers(row.get(6)).unwrap_or_default(),
        body: row.get::<_, Vec<u8>>(7).into(),
        received_at_ms: row.get(8),
        run_after_ms: row.get(9),
        settled_at_ms: row.get(10),
        last_error: row.get(11),
    }
}

/// The server and database, never the password.
fn describe(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().unwrap_or("postgres");
    format!("postgres://{host}:{port}/{db}")
}
