//! Acknowledged, durable deliveries per second and the time to acknowledge,
//! in one run, for every backend beside the in-memory inline receiver (no
//! durability: the ceiling the inbox is measured against).
//!
//! `CONCURRENCY` senders (default 64) post distinct signed deliveries for
//! `BENCH_SECONDS` (default 3) per contender and round; `ROUNDS` (default 3) rounds
//! rotate the order, and the ratios are taken within each round. Workers run
//! the (empty) handlers from the inbox meanwhile, as in production, so the
//! figures include taking and settling every row.
//!
//! ```text
//! cargo bench -p costkatana-webhooks-inbox --bench inbox
//! BENCH_SECONDS=10 ROUNDS=5 CONCURRENCY=128 cargo bench -p costkatana-webhooks-inbox --bench inbox
//! ```
//!
//! Postgres runs on a server the bench starts (default settings: fsync and
//! synchronous_commit on); it is skipped, said so, when Postgres is missing.

mod support;

use std::path::Path;
use std::time::Duration;

use costkatana_webhooks::{Payload, Receiver, ReceiverBuilder};
use costkatana_webhooks_inbox::testing::PostgresServer;
use costkatana_webhooks_inbox::{Durability, Inbox};
use support::{env, median, send, SECRET};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Contender {
    MemoryInline,
    SqliteProcessCrash,
    SqlitePowerLoss,
    Postgres,
}

impl Contender {
    fn name(self) -> &'static str {
        match self {
            Contender::MemoryInline => "memory, inline (not durable)",
            Contender::SqliteProcessCrash => "SQLite, process-crash durable",
            Contender::SqlitePowerLoss => "SQLite, power-loss durable",
            Contender::Postgres => "Postgres (fsync on)",
        }
    }
}

struct Figures {
    per_second: f64,
    /// Handled by the workers within the window (all of them, inline).
    handled_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    failed: u64,
}

fn builder() -> ReceiverBuilder {
    Receiver::builder()
        .secret(SECRET)
        .fallback(|_: Payload| async { Ok(()) })
}

async fn receiver(
    contender: Contender,
    dir: &Path,
    round: usize,
    pg: Option<&PostgresServer>,
) -> Option<(Receiver, Option<Inbox>)> {
    let inbox = match contender {
        Contender::MemoryInline => return Some((builder().build().unwrap(), None)),
        Contender::SqliteProcessCrash | Contender::SqlitePowerLoss => {
            let durability = if contender == Contender::SqlitePowerLoss {
                Durability::PowerLoss
            } else {
                Durability::ProcessCrash
            };
            let path = dir.join(format!("{contender:?}-{round}.db"));
            Inbox::sqlite(&path, durability).await.unwrap()
        }
        Contender::Postgres => {
            let url = pg?.create_database(&format!("bench_{round}"));
            Inbox::open(&url).await.unwrap()
        }
    };
    let receiver = builder().inbox(inbox.clone()).build().unwrap();
    receiver.start().await.unwrap();
    Some((receiver, Some(inbox)))
}

async fn measure(
    (receiver, inbox): (Receiver, Option<Inbox>),
    seconds: u64,
    concurrency: u64,
    tag: &str,
) -> Figures {
    let sent = send(&receiver, seconds, concurrency, tag).await;
    let elapsed = sent.elapsed.as_secs_f64();
    let handled = match &inbox {
        Some(inbox) => inbox.stats().await.unwrap().done as f64,
        None => sent.latencies.len() as f64,
    };
    receiver.shutdown(Duration::from_secs(30)).await;
    Figures {
        per_second: sent.per_second(),
        handled_per_second: handled / elapsed,
        p50_ms: sent.quantile_ms(0.50),
        p99_ms: sent.quantile_ms(0.99),
        failed: sent.failed,
    }
}

fn main() {
    let seconds = env("BENCH_SECONDS", 3);
    let rounds = env("ROUNDS", 3) as usize;
    let concurrency = env("CONCURRENCY", 64);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("ckw-inbox-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pg = PostgresServer::start();
    if pg.is_none() {
        println!("Postgres is not installed: its row is skipped");
    }
    let contenders = [
        Contender::MemoryInline,
        Contender::SqliteProcessCrash,
        Contender::SqlitePowerLoss,
        Contender::Postgres,
    ];
    println!(
        "{seconds} s per contender and round, {rounds} rounds, {concurrency} concurrent senders\n"
    );
    let mut results: Vec<Vec<Figures>> = contenders.iter().map(|_| Vec::new()).collect();
    for round in 0..rounds {
        for k in 0..contenders.len() {
            let i = (k + round) % contenders.len();
            let contender = contenders[i];
            let figures = runtime.block_on(async {
                let receiver = receiver(contender, &dir, round, pg.as_ref()).await?;
                Some(measure(receiver, seconds, concurrency, &format!("r{round}")).await)
            });
            if let Some(figures) = figures {
                println!(
                    "round {round}: {:<32} {:>9.0}/s acknowledged, {:>9.0}/s handled  p50 {:>7.3} ms  p99 {:>7.3} ms  not 200: {}",
                    contender.name(),
                    figures.per_second,
                    figures.handled_per_second,
                    figures.p50_ms,
                    figures.p99_ms,
                    figures.failed
                );
                results[i].push(figures);
            }
        }
    }
    println!("\nmedians over rounds; ratio = acknowledged/s against the in-memory inline receiver, taken within each round:\n");
    println!("| contender | acknowledged/s | handled/s | p50 ack | p99 ack | ratio to memory |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (i, contender) in contenders.iter().enumerate() {
        let rows = &results[i];
        if rows.is_empty() {
            continue;
        }
        let ratios: Vec<f64> = rows
            .iter()
            .zip(&results[0])
            .map(|(row, base)| row.per_second / base.per_second)
            .collect();
        println!(
            "| {} | {:.0} | {:.0} | {:.3} ms | {:.3} ms | {:.3} |",
            contender.name(),
            median(rows.iter().map(|r| r.per_second).collect()),
            median(rows.iter().map(|r| r.handled_per_second).collect()),
            median(rows.iter().map(|r| r.p50_ms).collect()),
            median(rows.iter().map(|r| r.p99_ms).collect()),
            median(ratios),
        );
    }
    drop(pg);
    let _ = std::fs::remove_dir_all(&dir);
}
