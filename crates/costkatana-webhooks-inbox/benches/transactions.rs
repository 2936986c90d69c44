//! What a transactional handler costs: acknowledgements (their p50 and
//! p99, the wait for the 200, which is the commit of the inbox row) and
//! handled deliveries per second, for a handler that writes one row
//! through [`InboxTransaction`] against a plain handler that writes
//! nothing, under the same load, on SQLite and on Postgres.
//!
//! `CONCURRENCY` senders (default 64) post distinct signed deliveries
//! through the receiver for `BENCH_SECONDS` (default 3) per contender and
//! round; then the bench waits for the workers to drain the inbox, and
//! handled/s is the done rows over the time from the first send to the
//! last done. Each contender gets a fresh inbox each round (a SQLite file
//! in a temporary directory, a database on a Postgres server the bench
//! starts), with example-ledger's table `handled_events` in it. `ROUNDS`
//! (default 5) rounds alternate which contender goes first, and the
//! ratios (transactional / plain) are taken within each round: the
//! median and range over rounds are reported per backend.
//!
//! ```text
//! cargo bench -p costkatana-webhooks-inbox --bench transactions
//! BENCH_SECONDS=5 ROUNDS=9 CONCURRENCY=128 cargo bench -p costkatana-webhooks-inbox --bench transactions
//! ```
//!
//! Postgres runs with its default settings (fsync and synchronous_commit
//! on); its rows are skipped, said so loudly, when Postgres is missing.
//!
//! [`InboxTransaction`]: costkatana_webhooks_inbox::InboxTransaction

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use costkatana_webhooks::{HandlerResult, Payload, Receiver};
use costkatana_webhooks_inbox::testing::PostgresServer;
use costkatana_webhooks_inbox::{Inbox, InboxTransaction};
use support::{env, median, now_ms, send, SECRET};

/// example-ledger's table and row: no unique constraint.
const TABLE: &str =
    "CREATE TABLE handled_events (event_id TEXT, event_type TEXT, handled_at BIGINT)";
const INSERT: &str =
    "INSERT INTO handled_events (event_id, event_type, handled_at) VALUES ($1, $2, $3)";

/// The longest the workers may take to drain a round's deliveries.
const DRAIN: Duration = Duration::from_secs(120);

#[derive(Clone, Copy, Debug, PartialEq)]
enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Handler {
    /// Returns `Ok(())`: the done mark is the only write.
    Plain,
    /// Inserts one row into `handled_events` through its
    /// `InboxTransaction`, committed with the done mark.
    Transactional,
}

impl Handler {
    fn name(self) -> &'static str {
        match self {
            Handler::Plain => "plain handler",
            Handler::Transactional => "InboxTransaction, 1 INSERT",
        }
    }
}

/// Where a round's inbox lives, to create and count the ledger's rows.
enum Db {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Db {
    fn url(&self) -> String {
        match self {
            Db::Sqlite(path) => format!("sqlite:{}", path.display()),
            Db::Postgres(url) => url.clone(),
        }
    }

    /// Runs `sql` and returns the first column of the first row, if any.
    async fn query(&self, sql: &str) -> Option<i64> {
        match self {
            Db::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                conn.busy_timeout(Duration::from_secs(10)).unwrap();
                let mut statement = conn.prepare(sql).unwrap();
                let mut rows = statement.query([]).unwrap();
                rows.next().unwrap().map(|row| row.get(0).unwrap())
            }
            Db::Postgres(url) => {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(connection);
                let rows = client.query(sql, &[]).await.unwrap();
                rows.first().map(|row| row.get(0))
            }
        }
    }
}

/// What one contender measured in one round.
struct Figures {
    acknowledged_per_second: f64,
    handled_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Answers other than a 200 for a new delivery.
    failed: u64,
    /// Rows in `handled_events` at the end.
    ledger_rows: i64,
    done: u64,
}

async fn record(payload: Payload, tx: InboxTransaction) -> HandlerResult {
    let event_type = match &payload {
        Payload::Event(event) => Some(event.event_type.to_string()),
        _ => None,
    };
    tx.execute(
        INSERT,
        &[
            payload.event_id().map(str::to_owned).into(),
            event_type.into(),
            now_ms().into(),
        ],
    )
    .await?;
    Ok(())
}

/// A fresh inbox for `backend`, with the ledger's table beside it.
async fn open(
    backend: Backend,
    dir: &Path,
    name: &str,
    pg: Option<&PostgresServer>,
) -> Option<(Inbox, Db)> {
    let db = match backend {
        Backend::Sqlite => Db::Sqlite(dir.join(format!("{name}.db"))),
        Backend::Postgres => Db::Postgres(pg?.create_database(name)),
    };
    let inbox = Inbox::open(&db.url()).await.unwrap();
    db.query(TABLE).await;
    Some((inbox, db))
}

async fn measure(
    (inbox, db): (Inbox, Db),
    handler: Handler,
    seconds: u64,
    concurrency: u64,
    tag: &str,
) -> Figures {
    let builder = Receiver::builder().secret(SECRET).inbox(inbox.clone());
    let receiver = match handler {
        Handler::Plain => builder.fallback(|_: Payload| async { Ok(()) }),
        Handler::Transactional => builder.fallback(record),
    }
    .build()
    .unwrap();
    receiver.start().await.unwrap();
    let started = Instant::now();
    let sent = send(&receiver, seconds, concurrency, tag).await;
    let stats = loop {
        let stats = inbox.stats().await.unwrap();
        if stats.pending + stats.running == 0 {
            break stats;
        }
        assert!(
            started.elapsed() < Duration::from_secs(seconds) + DRAIN,
            "the workers did not drain the inbox: {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let handled_in = started.elapsed().as_secs_f64();
    receiver.shutdown(Duration::from_secs(30)).await;
    assert_eq!(stats.dead, 0, "no delivery may be dead-lettered");
    Figures {
        acknowledged_per_second: sent.per_second(),
        handled_per_second: stats.done as f64 / handled_in,
        p50_ms: sent.quantile_ms(0.50),
        p99_ms: sent.quantile_ms(0.99),
        failed: sent.failed,
        ledger_rows: db
            .query("SELECT COUNT(*) FROM handled_events")
            .await
            .unwrap_or_default(),
        done: stats.done,
    }
}

/// `median (min … max)` of `values`.
fn spread(values: &[f64]) -> String {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{:.2} ({min:.2} … {max:.2})", median(values.to_vec()))
}

fn main() {
    let seconds = env("BENCH_SECONDS", 3);
    let rounds = env("ROUNDS", 5) as usize;
    let concurrency = env("CONCURRENCY", 64);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("ckw-txn-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pg = PostgresServer::start();
    let mut backends = vec![Backend::Sqlite];
    match pg {
        Some(_) => backends.push(Backend::Postgres),
        None => println!(
            "\n*** POSTGRES IS NOT INSTALLED: the Postgres half of this bench is SKIPPED ***\n"
        ),
    }
    let handlers = [Handler::Plain, Handler::Transactional];
    println!(
        "{seconds} s of sending per contender and round, then the drain; {rounds} rounds; \
         {concurrency} concurrent senders\n"
    );
    // results[backend][handler][round]
    let mut results: Vec<Vec<Vec<Figures>>> = backends
        .iter()
        .map(|_| handlers.iter().map(|_| Vec::new()).collect())
        .collect();
    for round in 0..rounds {
        for (b, &backend) in backends.iter().enumerate() {
            for k in 0..handlers.len() {
                let h = (k + round) % handlers.len();
                let handler = handlers[h];
                let name = format!("txn_{round}_{backend:?}_{handler:?}").to_lowercase();
                let figures = runtime.block_on(async {
                    let opened = open(backend, &dir, &name, pg.as_ref()).await.unwrap();
                    measure(opened, handler, seconds, concurrency, &format!("r{round}")).await
                });
                println!(
                    "round {round}: {:<8} {:<27} {:>7.0}/s acknowledged  {:>7.0}/s handled  \
                     p50 {:>7.3} ms  p99 {:>7.3} ms  not 200: {}  done {}, ledger rows {}",
                    format!("{backend:?}"),
                    handler.name(),
                    figures.acknowledged_per_second,
                    figures.handled_per_second,
                    figures.p50_ms,
                    figures.p99_ms,
                    figures.failed,
                    figures.done,
                    figures.ledger_rows,
                );
                let expected = match handler {
                    Handler::Plain => 0,
                    Handler::Transactional => figures.done as i64,
                };
                assert_eq!(
                    figures.ledger_rows, expected,
                    "one ledger row per done entry"
                );
                results[b][h].push(figures);
            }
        }
    }
    println!(
        "\nratios transactional / plain, taken within each round: median (min … max) over \
         {rounds} rounds\n"
    );
    println!("| backend | ack p50 | ack p99 | acknowledged/s | handled/s | per-round ack p99 ratios | per-round handled/s ratios |");
    println!("|---|---:|---:|---:|---:|---|---|");
    for (b, backend) in backends.iter().enumerate() {
        let (plain, txn) = (&results[b][0], &results[b][1]);
        let ratio = |f: fn(&Figures) -> f64| -> Vec<f64> {
            plain.iter().zip(txn).map(|(p, t)| f(t) / f(p)).collect()
        };
        let list = |values: &[f64]| {
            values
                .iter()
                .map(|v| format!("{v:.2}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let p99 = ratio(|f| f.p99_ms);
        let handled = ratio(|f| f.handled_per_second);
        println!(
            "| {backend:?} | {} | {} | {} | {} | {} | {} |",
            spread(&ratio(|f| f.p50_ms)),
            spread(&p99),
            spread(&ratio(|f| f.acknowledged_per_second)),
            spread(&handled),
            list(&p99),
            list(&handled),
        );
    }
    println!("\nmedians over rounds:\n");
    println!("| backend | handler | acknowledged/s | handled/s | ack p50 | ack p99 |");
    println!("|---|---|---:|---:|---:|---:|");
    for (b, backend) in backends.iter().enumerate() {
        for (h, handler) in handlers.iter().enumerate() {
            let rows = &results[b][h];
            let of = |f: fn(&Figures) -> f64| median(rows.iter().map(f).collect());
            println!(
                "| {backend:?} | {} | {:.0} | {:.0} | {:.3} ms | {:.3} ms |",
                handler.name(),
                of(|f| f.acknowledged_per_second),
                of(|f| f.handled_per_second),
                of(|f| f.p50_ms),
                of(|f| f.p99_ms),
            );
        }
    }
    drop(pg);
    let _ = std::fs::remove_dir_all(&dir);
}
