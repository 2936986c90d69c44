//! The cost of one catch-up pass over 10,000 failed deliveries, against
//! the sandbox, with the ledger on Redis (durable, shared by replicas):
//! the API calls it makes, the time it takes, and the memory it needs.
//!
//! ```text
//! cargo bench -p costkatana-webhooks-api --bench catch_up
//! CATCH_UP_BENCH_EVENTS=2000 CATCH_UP_BENCH_RATES=1000 cargo bench -p costkatana-webhooks-api --bench catch_up
//! ```
//!
//! `CATCH_UP_BENCH_EVENTS` (default 10,000) events are emitted to a webhook
//! whose URL nothing listens on: the first 51 deliveries are refused
//! (`network_error`), which deactivates the webhook, and the other records,
//! already queued, fail `webhook_inactive`, as on the live service. Every
//! event is then lost: failed for good and unknown to the store.
//!
//! One pass runs, for each rate of `CATCH_UP_BENCH_RATES` (replays asked a
//! second; default `1000,20`, 20 being catch-up's default, and `max` for no
//! pacing), on a fresh sandbox, in a **child process** that holds only what
//! a receiver's catch-up holds (the API client, the Redis ledger, a tokio
//! runtime): its resident set before the pass and its peak
//! (`/proc/self/status` `VmRSS`, `VmHWM`) are the pass's memory, apart from
//! the sandbox's. The receiver stays down during the pass; the replays'
//! fate does not change the pass's work.
//!
//! It starts its own redis-server (the Redis crate's test harness); without
//! one it says so and measures nothing. At the default pace the pass takes
//! about 10,000 / 20 = 500 s: the pacing, not the calls, sets its time.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use costkatana_webhooks::{Clock, EventType, Payload, Receiver, SystemClock};
use costkatana_webhooks_api::{CatchUp, Client, CreateWebhook, DeliveryQuery, DeliveryStatus};
use costkatana_webhooks_redis::testing::RedisServer;
use costkatana_webhooks_redis::RedisStore;
use costkatana_webhooks_sandbox::{Emission, Sandbox};
use serde_json::{json, Value};

/// Set in the child process: the JSON of its [`Job`].
const CHILD: &str = "CATCH_UP_BENCH_CHILD";

fn main() {
    if let Ok(job) = std::env::var(CHILD) {
        let job: Job = serde_json::from_str(&job).expect("the parent's job");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let measured = runtime.block_on(child(job));
        println!("{measured}");
        return;
    }
    let events: usize = setting("CATCH_UP_BENCH_EVENTS", "10000")
        .parse()
        .expect("CATCH_UP_BENCH_EVENTS: a number of events");
    let rates: Vec<u32> = setting("CATCH_UP_BENCH_RATES", "1000,20")
        .split(',')
        .map(|rate| match rate.trim() {
            "max" => u32::MAX,
            rate => rate.parse().expect("CATCH_UP_BENCH_RATES: numbers or max"),
        })
        .collect();
    let Some(redis) = RedisServer::start() else {
        return;
    };
    // One thread: the emitting loop runs to its end before any delivery is
    // attempted, so every event gets its record before the webhook is
    // deactivated.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    println!("one catch-up pass over {events} failed deliveries, ledger on Redis");
    for rate in rates {
        let run = runtime.block_on(parent(events, rate, &redis.url()));
        run.print(events);
    }
}

fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// What the child runs one pass with.
#[derive(serde::Serialize, serde::Deserialize)]
struct Job {
    api_url: String,
    api_key: String,
    webhook_id: String,
    secret: String,
    redis_url: String,
    rate: u32,
}

/// One pass, in the child: only the client, the ledger and the runtime.
async fn child(job: Job) -> Value {
    let store = RedisStore::connect(&job.redis_url)
        .await
        .expect("Redis answers");
    // The receiver's ledger: the same store and key namespace (its secret)
    // as the receiver that would run catch-up.
    let receiver = Receiver::builder()
        .secret(job.secret)
        .store(Arc::new(store))
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .expect("a receiver");
    let ledger = receiver.replay_ledger();
    let client = Client::builder()
        .base_url(job.api_url)
        .api_key(job.api_key)
        .build()
        .expect("a client");
    let catch_up = CatchUp::new(client, job.webhook_id).replays_per_second(job.rate);
    let before = memory();
    let started = Instant::now();
    let report = catch_up
        .run_once(Some(&ledger), SystemClock.now_ms(), false)
        .await
        .expect("the pass runs");
    let seconds = started.elapsed().as_secs_f64();
    let after = memory();
    json!({
        "report": report,
        "seconds": seconds,
        "rss_before_kib": before.rss_kib,
        "peak_before_kib": before.peak_kib,
        "peak_after_kib": after.peak_kib,
    })
}

/// The resident set now and its peak so far, in KiB.
struct Memory {
    rss_kib: u64,
    peak_kib: u64,
}

fn memory() -> Memory {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    Memory {
        rss_kib: field("VmRSS:"),
        peak_kib: field("VmHWM:"),
    }
}

/// A fresh sandbox with `events` lost deliveries; one pass at `rate` in a
/// child process.
async fn parent(events: usize, rate: u32, redis_url: &str) -> Run {
    let sandbox = Sandbox::builder()
        .speed(1000.0)
        .start()
        .await
        .expect("the sandbox starts");
    let client = Client::builder()
        .base_url(sandbox.url())
        .api_key(sandbox.api_key().expose())
        .build()
        .expect("a client");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("http://127.0.0.1:{port}/webhooks/costkatana");
    let webhook = client
        .create_webhook(&CreateWebhook::new("bench", url, ["budget.exceeded"]))
        .await
        .expect("a webhook");
    let secret = sandbox.webhook_secret(&webhook.id).expect("its secret");

    let emitting = Instant::now();
    for _ in 0..events {
        sandbox
            .emit(Emission::new(EventType::BudgetExceeded))
            .expect("emitted");
    }
    sandbox.settled().await;
    let emitted_in = emitting.elapsed();
    let failed = client
        .deliveries(
            &webhook.id,
            &DeliveryQuery::new().status(DeliveryStatus::Failed).limit(1),
        )
        .await
        .expect("the failed records")
        .pagination
        .total;
    assert_eq!(failed, events as u64, "every event has a failed record");

    let job = Job {
        api_url: sandbox.url().to_owned(),
        api_key: sandbox.api_key().expose().to_owned(),
        webhook_id: webhook.id.clone(),
        secret,
        redis_url: redis_url.to_owned(),
        rate,
    };
    let mut command = Command::new(std::env::current_exe().expect("this bench's path"));
    command
        .env(CHILD, serde_json::to_string(&job).expect("JSON"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // The child's pass calls this sandbox: wait for it off the runtime.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the wait")
        .expect("the child runs");
    assert!(
        output.status.success(),
        "the child failed: {}",
        output.status
    );
    let measured: Value =
        serde_json::from_slice(&output.stdout).expect("the child prints its measures");
    sandbox.settled().await;
    let records = client
        .deliveries(&webhook.id, &DeliveryQuery::new().limit(1))
        .await
        .expect("the records")
        .pagination
        .total;
    sandbox.shutdown().await;
    Run {
        rate,
        emitted_in,
        report: serde_json::from_value(measured["report"].clone()).expect("a report"),
        measured,
        records_after: records,
    }
}

/// What one run measured.
struct Run {
    rate: u32,
    emitted_in: Duration,
    report: ReportView,
    measured: Value,
    records_after: u64,
}

/// The fields of the pass's `CatchUpReport` this bench prints (the report
/// is only serialised).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReportView {
    reactivated: bool,
    deliveries_read: u64,
    events_seen: u64,
    lost: Vec<Value>,
    replays_asked: u64,
    api_calls: u64,
    api_errors: u64,
    complete: bool,
}

impl Run {
    fn print(&self, events: usize) {
        let r = &self.report;
        let kib = |name: &str| self.measured[name].as_u64().unwrap_or(0);
        let seconds = self.measured["seconds"].as_f64().unwrap_or(0.0);
        let pace = if self.rate == u32::MAX {
            "unpaced".to_owned()
        } else {
            format!("{}/s", self.rate)
        };
        // The webhook's get, its re-activation, one replay per lost event;
        // the rest are listings.
        let lists = r.api_calls - 1 - u64::from(r.reactivated) - r.replays_asked;
        println!(
            "\nreplays_per_second {pace} (emitting {events} events and settling took {:.1} s)",
            self.emitted_in.as_secs_f64()
        );
        println!(
            "  pass: {seconds:.1} s, complete {}, {} API calls ({} errors): 1 get, {} re-activation, {lists} listings of up to 100 (ideal {}), {} replays",
            r.complete,
            r.api_calls,
            r.api_errors,
            u64::from(r.reactivated),
            (events as u64).div_ceil(100),
            r.replays_asked,
        );
        println!(
            "  read {} records, {} events, {} lost; the sandbox holds {} records after",
            r.deliveries_read,
            r.events_seen,
            r.lost.len(),
            self.records_after
        );
        println!(
            "  memory of the process running the pass: {} KiB resident before, peak {} KiB after (peak before the pass {} KiB): +{} KiB",
            kib("rss_before_kib"),
            kib("peak_after_kib"),
            kib("peak_before_kib"),
            kib("peak_after_kib").saturating_sub(kib("rss_before_kib")),
        );
    }
}
