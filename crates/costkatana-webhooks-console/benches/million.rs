//! The console's queries at a million rows, on SQLite and on Postgres:
//! each one the overview and the list make, timed through the inbox API
//! the console calls (median of 7 runs, after one warm-up), then the
//! overview and list pages over HTTP. Filling takes a few minutes; run
//! with
//!
//! ```text
//! cargo bench -p costkatana-webhooks-console --bench million
//! ```
//!
//! It prints a table: the figures are reported, not a pass mark. The
//! Postgres half needs the server binaries (it says so when they are
//! missing).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use costkatana_webhooks::inbox::{EntryQuery, EntryState};
use costkatana_webhooks_inbox::testing::PostgresServer;
use costkatana_webhooks_inbox::Inbox;
use support::http::Http;
use support::{now_ms, TempDir};

const ROWS: i64 = 1_000_000;
const TYPES: [&str; 5] = [
    "cost.alert",
    "budget.exceeded",
    "usage.spike",
    "security.alert",
    "optimization.suggested",
];

/// The state of row `i`: 90 % done, 5 % dead, 4 % pending, 1 % running.
fn state_of(i: i64) -> &'static str {
    match i % 100 {
        0..=89 => "done",
        90..=94 => "dead",
        95..=98 => "pending",
        _ => "running",
    }
}

fn fill_sqlite(path: &std::path::Path, start_ms: i64) {
    let mut conn = rusqlite::Connection::open(path).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO costkatana_webhook_inbox (dedupe_key, event_id, event_type, headers, \
                 body, received_at, state, attempts, run_after, settled_at, last_error) \
                 VALUES (?1, ?2, ?3, '[]', X'7B7D', ?4, ?5, 1, ?4, ?6, ?7)",
            )
            .unwrap();
        for i in 0..ROWS {
            let state = state_of(i);
            let at = start_ms + i * 86; // a day's worth of arrivals
            let settled = matches!(state, "done" | "dead").then_some(at + 5);
            let error = (state == "dead").then_some("downstream answered 500");
            insert
                .execute(rusqlite::params![
                    format!("4:bulk:event:evt_{i:07}"),
                    format!("evt_{i:07}"),
                    TYPES[(i % 5) as usize],
                    at,
                    state,
                    settled,
                    error,
                ])
                .unwrap();
        }
    }
    tx.commit().unwrap();
    conn.execute_batch(&activity_fill(start_ms)).unwrap();
    conn.execute_batch("ANALYZE").unwrap();
}

/// A busy day of activity: every minute of it with attempts of each
/// outcome, their durations in 20 buckets (the most a minute holds in
/// practice), as an `INSERT … SELECT` both databases run: per minute, a
/// row per outcome and a row per bucket.
fn activity_fill(start_ms: i64) -> String {
    format!(
        "WITH RECURSIVE m(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM m WHERE i < 1439), \
         b(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM b WHERE j < 20) \
         INSERT INTO costkatana_webhook_inbox_activity (minute, outcome, bucket, n) \
         SELECT ({start_ms} / 60000 + m.i) * 60000, o.outcome, -1, 200 \
         FROM m, (SELECT 'done' AS outcome UNION ALL SELECT 'retried' UNION ALL \
         SELECT 'dead') o \
         UNION ALL \
         SELECT ({start_ms} / 60000 + m.i) * 60000, 'all', b.j * 5, 30 FROM m, b"
    )
}

async fn fill_postgres(url: &str, start_ms: i64) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute(&format!(
            // Triggers are off for the fill, and the counters set after it
            // from one count: run for a million rows in one transaction,
            // the counters' trigger updates one row a million times, each
            // update walking the versions the transaction made before it
            // (the receiver writes a batch at a time, so never this many).
            "SET session_replication_role = replica; \
             INSERT INTO costkatana_webhook_inbox (dedupe_key, event_id, event_type, headers, body, \
             received_at, state, attempts, run_after, settled_at, last_error, key_digest) \
             SELECT '4:bulk:event:evt_' || lpad(i::text, 7, '0'), 'evt_' || lpad(i::text, 7, '0'), \
             (ARRAY['{}'])[1 + i % 5], '[]', '\\x7b7d'::bytea, {start_ms} + i * 86, \
             CASE WHEN i % 100 < 90 THEN 'done' WHEN i % 100 < 95 THEN 'dead' \
                  WHEN i % 100 < 99 THEN 'pending' ELSE 'running' END, 1, {start_ms} + i * 86, \
             CASE WHEN i % 100 < 95 THEN {start_ms} + i * 86 + 5 END, \
             CASE WHEN i % 100 BETWEEN 90 AND 94 THEN 'downstream answered 500' END, \
             sha256(convert_to('4:bulk:event:evt_' || lpad(i::text, 7, '0'), 'UTF8')) \
             FROM generate_series(0, {}) AS i; \
             SET session_replication_role = DEFAULT; \
             UPDATE costkatana_webhook_inbox_counts c SET n = t.n \
             FROM (SELECT state, COUNT(*) AS n FROM costkatana_webhook_inbox GROUP BY state) t \
             WHERE c.state = t.state AND c.shard = 0; {}; ANALYZE;",
            TYPES.join("','"),
            ROWS - 1,
            activity_fill(start_ms)
        ))
        .await
        .unwrap();
}

/// The median of 7 timed runs of `call`, after one warm-up.
async fn median<F, Fut, T>(mut call: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    call().await;
    let mut times = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        call().await;
        times.push(started.elapsed());
    }
    times.sort();
    times[3]
}

async fn measure(backend: &str, inbox: &Inbox) {
    let deep = ROWS / 2;
    let queries: Vec<(&str, EntryQuery)> = vec![
        ("list: newest 50", EntryQuery::new()),
        (
            "list: state=dead",
            EntryQuery::new().state(EntryState::Dead),
        ),
        (
            "list: state=pending",
            EntryQuery::new().state(EntryState::Pending),
        ),
        (
            "list: type=security.alert",
            EntryQuery::new().event_type("security.alert"),
        ),
        (
            "list: q=evt_05 (id prefix)",
            EntryQuery::new().event_id_prefix("evt_05"),
        ),
        (
            "list: page at row 500000 (before)",
            EntryQuery::new().before_id(deep),
        ),
        (
            "list: state=dead, page at row 500000",
            EntryQuery::new().state(EntryState::Dead).before_id(deep),
        ),
    ];
    println!("\n{backend}, {ROWS} rows:");
    let stats = median(|| inbox.stats()).await;
    println!("  overview: stats (counts by state, oldest pending)  {stats:>10.2?}");
    let now = start_ms_of_day() + 86_400_000;
    let activity = median(|| inbox.activity(now - 86_400_000, now)).await;
    println!("  overview: activity (24 h of minutes, charts)    {activity:>10.2?}");
    for (name, query) in &queries {
        let time = median(|| inbox.list(query)).await;
        println!("  {name:<48} {time:>10.2?}");
    }
}

/// The start of the day the rows were filled over.
fn start_ms_of_day() -> i64 {
    now_ms() - 86_400_000
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let start_ms = start_ms_of_day();

    let dir = TempDir::new("million");
    let path = dir.0.join("inbox.db");
    drop(
        Inbox::open(&format!("sqlite:{}", path.display()))
            .await
            .unwrap(),
    );
    let filled = Instant::now();
    fill_sqlite(&path, start_ms);
    println!("SQLite filled in {:?}", filled.elapsed());
    let inbox = Inbox::open(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    measure("SQLite", &inbox).await;
    pages("SQLite", inbox).await;

    let Some(server) = PostgresServer::start() else {
        println!("Postgres: no server binaries here, not measured");
        return;
    };
    let url = server.create_database("million");
    drop(Inbox::open(&url).await.unwrap());
    let filled = Instant::now();
    fill_postgres(&url, start_ms).await;
    println!("Postgres filled in {:?}", filled.elapsed());
    let inbox = Inbox::open(&url).await.unwrap();
    measure("Postgres", &inbox).await;
    pages("Postgres", inbox).await;
}

/// The overview and list pages over HTTP, signed in, on `inbox`.
async fn pages(backend: &'static str, inbox: Inbox) {
    let stack = support::Stack::on(inbox, backend).await;
    let http = Http::new(&stack);
    let session = http.sign_in().await;
    for path in [
        "/console/",
        "/console/deliveries",
        "/console/deliveries?state=dead",
        "/console/deliveries?type=security.alert&before=500000",
        "/console/api/deliveries?q=evt_05",
    ] {
        let time = median(|| http.page(path, &session)).await;
        println!("  page {path:<52} {time:>10.2?}");
    }
}
