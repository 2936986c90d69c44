//! Does the SQLite writer stall as the table grows? The acknowledgement
//! wait (`InboxStore::enqueue`, what a delivery's 200 waits for) under a
//! steady load on a large inbox, while what runs beside a receiver in
//! production reads it: the depth gauge's `stats()` every 5 s, and the
//! CLI's `ckwebhook inbox list --state <state>` (a process of its own:
//! connect, the counts per state, the newest 50 rows in a state).
//!
//! The inbox is filled through its own API to `ROWS` rows (default
//! 1,000,000), `PENDING` of them pending (default 200,000, bodies of
//! `BODY` bytes, default 1 KiB) and the rest done (their bodies dropped, as
//! done rows keep only their key). Then short rounds rotate through four
//! conditions: quiet, the gauge, the CLI, both; each runs `ROUND_SECONDS`
//! (default 10) at `RATE` deliveries per second (default 1,000), and
//! `ROUNDS` rounds (default 3) rotate their order. No worker runs, so the
//! table keeps its shape.
//!
//! ```text
//! cargo bench -p costkatana-webhooks-inbox --bench stall
//! ROWS=200000 PENDING=50000 RATE=2000 cargo bench -p costkatana-webhooks-inbox --bench stall
//! ```

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use costkatana_webhooks::inbox::{EntryQuery, EntryState, InboxStore, NewEntry, Settlement};
use costkatana_webhooks_inbox::Inbox;
use support::{env, now_ms};

/// Set in the CLI's process: the inbox URL and the state to list.
const CLI_ENV: &str = "CKW_STALL_BENCH_CLI";

fn entry(key: &str, body: usize) -> NewEntry {
    NewEntry {
        dedupe_key: format!("5:bench:event:{key}"),
        event_id: Some(key.to_owned()),
        event_type: Some("cost.alert".to_owned()),
        headers: vec![
            ("x-webhook-signature".to_owned(), "ab".repeat(32)),
            ("x-webhook-timestamp".to_owned(), now_ms().to_string()),
        ],
        body: Bytes::from(vec![b'x'; body]),
        received_at_ms: now_ms(),
    }
}

/// Stores `count` entries named `<prefix><n>`, 2,000 at a time (the
/// writer commits whatever is queued together).
async fn enqueue_many(inbox: &Inbox, prefix: &str, count: u64, body: usize) {
    let mut n = 0;
    while n < count {
        let chunk: Vec<_> = (n..(n + 2_000).min(count))
            .map(|i| {
                let inbox = inbox.clone();
                let entry = entry(&format!("{prefix}{i}"), body);
                tokio::spawn(async move { inbox.enqueue(entry).await.unwrap() })
            })
            .collect();
        n += chunk.len() as u64;
        for stored in chunk {
            stored.await.unwrap();
        }
    }
}

/// Fills the inbox: `rows - pending` done rows, then `pending` pending.
async fn fill(inbox: &Inbox, rows: u64, pending: u64, body: usize) {
    let done = rows - pending;
    let started = Instant::now();
    enqueue_many(inbox, "done-", done, 16).await;
    let mut settled = 0;
    while settled < done {
        let jobs = inbox
            .take(now_ms(), Duration::from_secs(3600), 1_000)
            .await
            .unwrap();
        let settles: Vec<_> = jobs
            .into_iter()
            .map(|job| {
                let inbox = inbox.clone();
                tokio::spawn(async move {
                    inbox
                        .settle(&job, Settlement::Done, now_ms())
                        .await
                        .unwrap()
                })
            })
            .collect();
        settled += settles.len() as u64;
        for settle in settles {
            settle.await.unwrap();
        }
    }
    enqueue_many(inbox, "pending-", pending, body).await;
    println!(
        "filled {rows} rows ({pending} pending) in {:.0} s",
        started.elapsed().as_secs_f64()
    );
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Condition {
    Quiet,
    Gauge,
    Cli,
    Both,
}

impl Condition {
    fn name(self) -> &'static str {
        match self {
            Condition::Quiet => "quiet",
            Condition::Gauge => "gauge stats() every 5 s",
            Condition::Cli => "CLI list --state, back to back",
            Condition::Both => "gauge and CLI",
        }
    }

    fn gauge(self) -> bool {
        matches!(self, Condition::Gauge | Condition::Both)
    }

    fn cli(self) -> bool {
        matches!(self, Condition::Cli | Condition::Both)
    }
}

/// What one round of one condition measured.
#[derive(Default)]
struct Round {
    waits: Vec<Duration>,
    gauges: Vec<Duration>,
    clis: Vec<Duration>,
}

/// The `q` quantile of `values`, in ms.
fn quantile(values: &mut [Duration], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort();
    let at = ((values.len() as f64 * q) as usize).min(values.len() - 1);
    values[at].as_secs_f64() * 1000.0
}

/// One CLI run, as `ckwebhook inbox --url <url> list --state <state>`
/// does it, in a process of its own (this binary, run again).
fn run_cli(url: &str, state: EntryState) -> Duration {
    let started = Instant::now();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .env(CLI_ENV, format!("{state} {url}"))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the CLI process failed");
    started.elapsed()
}

/// The CLI's process: what `list --state` reads.
fn cli_process(arg: &str) {
    let (state, url) = arg.split_once(' ').unwrap();
    let state = EntryState::parse(state).unwrap();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let inbox = Inbox::connect(url).await.unwrap();
            let stats = inbox.stats().await.unwrap();
            let rows = inbox
                .list(&EntryQuery::new().state(state).limit(50))
                .await
                .unwrap();
            println!("{} {}", stats.count(state), rows.len());
        });
}

async fn measure(
    inbox: &Inbox,
    url: &str,
    condition: Condition,
    tag: &str,
    seconds: u64,
    rate: u64,
    body: usize,
) -> Round {
    let round = Arc::new(Mutex::new(Round::default()));
    let running = Arc::new(AtomicBool::new(true));
    let mut helpers = Vec::new();
    if condition.gauge() {
        let (inbox, round, running) = (inbox.clone(), round.clone(), running.clone());
        helpers.push(tokio::spawn(async move {
            while running.load(Ordering::SeqCst) {
                let started = Instant::now();
                inbox.stats().await.unwrap();
                round.lock().unwrap().gauges.push(started.elapsed());
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }));
    }
    if condition.cli() {
        let (url, round, running) = (url.to_owned(), round.clone(), running.clone());
        helpers.push(tokio::task::spawn_blocking(move || {
            let states = [EntryState::Pending, EntryState::Done, EntryState::Dead];
            let mut n = 0;
            while running.load(Ordering::SeqCst) {
                let took = run_cli(&url, states[n % states.len()]);
                round.lock().unwrap().clis.push(took);
                n += 1;
            }
        }));
    }
    let mut ticks = tokio::time::interval(Duration::from_secs(1) / rate as u32);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut sends = Vec::new();
    let mut n = 0u64;
    while Instant::now() < deadline {
        ticks.tick().await;
        let inbox = inbox.clone();
        let entry = entry(&format!("{tag}-{n}"), body);
        n += 1;
        sends.push(tokio::spawn(async move {
            let started = Instant::now();
            inbox.enqueue(entry).await.unwrap();
            started.elapsed()
        }));
    }
    let mut waits = Vec::with_capacity(sends.len());
    for send in sends {
        waits.push(send.await.unwrap());
    }
    running.store(false, Ordering::SeqCst);
    for helper in helpers {
        helper.abort();
        let _ = helper.await;
    }
    let mut round = std::mem::take(&mut *round.lock().unwrap());
    round.waits = waits;
    round
}

fn main() {
    if let Ok(arg) = std::env::var(CLI_ENV) {
        cli_process(&arg);
        return;
    }
    let rows = env("ROWS", 1_000_000);
    let pending = env("PENDING", 200_000).min(rows);
    let body = env("BODY", 1024) as usize;
    let seconds = env("ROUND_SECONDS", 10);
    let rounds = env("ROUNDS", 3) as usize;
    let rate = env("RATE", 1_000).max(1);
    let dir = std::env::temp_dir().join(format!("ckw-inbox-stall-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite:{}", dir.join("inbox.db").display());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let inbox = runtime.block_on(async {
        let inbox = Inbox::open(&url).await.unwrap();
        fill(&inbox, rows, pending, body).await;
        inbox
    });
    println!(
        "file {:.0} MiB; {rounds} rounds of {seconds} s per condition at {rate} deliveries/s\n",
        size(&dir) as f64 / (1 << 20) as f64
    );
    let conditions = [
        Condition::Quiet,
        Condition::Gauge,
        Condition::Cli,
        Condition::Both,
    ];
    let mut all: Vec<Round> = conditions.iter().map(|_| Round::default()).collect();
    for r in 0..rounds {
        for k in 0..conditions.len() {
            let i = (k + r) % conditions.len();
            let condition = conditions[i];
            let mut round = runtime.block_on(measure(
                &inbox,
                &url,
                condition,
                &format!("r{r}c{i}"),
                seconds,
                rate,
                body,
            ));
            println!(
                "round {r}: {:<32} p50 {:>6.3} ms  p99 {:>6.3} ms  max {:>7.3} ms  ({} deliveries; \
                 {} stats() p50 {:.1} ms; {} CLI runs p50 {:.0} ms)",
                condition.name(),
                quantile(&mut round.waits, 0.50),
                quantile(&mut round.waits, 0.99),
                quantile(&mut round.waits, 1.0),
                round.waits.len(),
                round.gauges.len(),
                quantile(&mut round.gauges, 0.5),
                round.clis.len(),
                quantile(&mut round.clis, 0.5),
            );
            all[i].waits.extend(round.waits);
            all[i].gauges.extend(round.gauges);
            all[i].clis.extend(round.clis);
        }
    }
    let stats = runtime.block_on(inbox.stats()).unwrap();
    println!(
        "\nall rounds ({} rows at the end, {} pending); the acknowledgement wait:\n",
        stats.pending + stats.running + stats.done + stats.dead,
        stats.pending
    );
    println!("| condition | deliveries | p50 | p99 | p99.9 | max | stats() p50 | CLI run p50 |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (condition, round) in conditions.iter().zip(&mut all) {
        println!(
            "| {} | {} | {:.3} ms | {:.3} ms | {:.3} ms | {:.3} ms | {} | {} |",
            condition.name(),
            round.waits.len(),
            quantile(&mut round.waits, 0.50),
            quantile(&mut round.waits, 0.99),
            quantile(&mut round.waits, 0.999),
            quantile(&mut round.waits, 1.0),
            if round.gauges.is_empty() {
                "-".to_owned()
            } else {
                format!("{:.1} ms", quantile(&mut round.gauges, 0.5))
            },
            if round.clis.is_empty() {
                "-".to_owned()
            } else {
                format!("{:.0} ms", quantile(&mut round.clis, 0.5))
            },
        );
    }
    drop(inbox);
    drop(runtime);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The bytes in `dir`'s files.
fn size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter_map(|entry| entry.metadata().ok())
        .map(|metadata| metadata.len())
        .sum()
}
