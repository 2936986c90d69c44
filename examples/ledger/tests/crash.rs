//! Exactly once across crashes, with real processes, on SQLite and on a
//! real Postgres: 500 distinct events, each sent twice at once over HTTP,
//! while the receiver is killed with SIGKILL at 10 random moments with
//! handlers running (each waits `HANDLER_DELAY_MS` before its write) and
//! restarted each time on the same port and inbox. Deliveries refused
//! while it is down are sent again, as a patient sender would, until each
//! got a 200. Once every entry is done, each event id is in
//! `handled_events` exactly once (read straight from the database), and
//! each handler a kill interrupted ran again.
//!
//! `LEDGER_CRASH_SEED=<n>` repeats a run's kill moments (the seed is
//! printed).

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use costkatana_webhooks::EventType;
use costkatana_webhooks_inbox::testing::PostgresServer;
use costkatana_webhooks_inbox::Inbox;
use support::{
    client, event, free_port, now_ms, poll, Db, Delivery, Ledger, TempDir, SERIAL, WAIT,
};
use tokio::task::JoinSet;

const EVENTS: usize = 500;
const KILLS: usize = 10;
/// Each handler's wait before it writes: the window a kill lands in.
const HANDLER_DELAY_MS: u64 = 300;
/// The sender's pace: one event (two deliveries) every 10 ms.
const PACE: Duration = Duration::from_millis(10);
/// The bound on the whole run.
const RUN: Duration = Duration::from_secs(150);

/// xorshift64*: the kill moments, from a seed a failing run prints.
struct Rng(u64);

impl Rng {
    fn seeded() -> (Rng, u64) {
        let seed = std::env::var("LEDGER_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                let mut bytes = [0u8; 8];
                getrandom::fill(&mut bytes).expect("random bytes");
                u64::from_le_bytes(bytes)
            });
        (Rng(seed | 1), seed)
    }

    /// A number in `low..high`.
    fn range(&mut self, low: u64, high: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        low + self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % (high - low)
    }
}

/// What the sender saw: per event, how many of its two deliveries were
/// answered `stored`; and how many attempts failed before a 200.
struct Sent {
    stored: HashMap<String, usize>,
    failed_attempts: usize,
}

/// Sends every event twice at once, one event per [`PACE`], each delivery
/// patiently until it is answered 200.
async fn send_all(url: String, events: Vec<(String, EventType)>, deadline: Instant) -> Sent {
    let client = client();
    let url = Arc::new(url);
    let mut sends = JoinSet::new();
    let started = tokio::time::Instant::now();
    for (i, (id, event_type)) in events.into_iter().enumerate() {
        tokio::time::sleep_until(started + PACE * u32::try_from(i).expect("fits")).await;
        for _copy in 0..2 {
            // Two deliveries of one event, each signed on its own.
            let delivery = Delivery::new(event(&event_type, &id));
            let (client, url, id) = (client.clone(), Arc::clone(&url), id.clone());
            sends.spawn(async move {
                let (answer, failed) = delivery.send_until_200(&client, &url, deadline).await;
                (id, answer.contains(r#""stored":true"#), failed)
            });
        }
    }
    let mut sent = Sent {
        stored: HashMap::new(),
        failed_attempts: 0,
    };
    while let Some(done) = sends.join_next().await {
        let (id, stored, failed) = done.expect("a send");
        *sent.stored.entry(id).or_insert(0) += usize::from(stored);
        sent.failed_attempts += failed;
    }
    sent
}

async fn exactly_once_across_kills(url: &str, tag: &str) {
    let _serial = SERIAL.lock().await;
    let (mut rng, seed) = Rng::seeded();
    eprintln!("{tag}: kill moments from seed {seed} (LEDGER_CRASH_SEED={seed} repeats them)");
    let deadline = Instant::now() + RUN;
    let delay = HANDLER_DELAY_MS.to_string();
    let env = [
        ("INBOX_URL", url),
        ("INBOX_LEASE_SECS", "1"),
        ("INBOX_RETRY_DELAY_MS", "100"),
        ("HANDLER_DELAY_MS", delay.as_str()),
    ];
    let types = [
        EventType::CostAlert,
        EventType::BudgetExceeded,
        EventType::SecurityAlert,
        EventType::UsageSpike,
    ];
    let events: Vec<(String, EventType)> = (0..EVENTS)
        .map(|i| (format!("evt_{tag}_{i}"), types[i % types.len()].clone()))
        .collect();

    let port = free_port();
    let mut ledger = Ledger::start_at(port, &env);
    let sender = tokio::spawn(send_all(ledger.webhook_url(), events.clone(), deadline));

    // Each kill: after the k-th handler this life started, and within a
    // third of its delay, so that handler is mid-run (between its start
    // and its write).
    let mut recordings: HashMap<String, usize> = HashMap::new();
    let mut interrupted = Vec::new();
    for kill in 0..KILLS {
        let k = rng.range(1, 30);
        let mut running = None;
        for _ in 0..k {
            let next = tokio::time::timeout(WAIT, ledger.recording.recv()).await;
            match next {
                Ok(Some(id)) => running = Some(id),
                _ => panic!(
                    "kill {kill}: no handler started within {WAIT:?}; the log:\n{}",
                    ledger.log_text()
                ),
            }
        }
        tokio::time::sleep(Duration::from_millis(rng.range(0, HANDLER_DELAY_MS / 3))).await;
        ledger.kill_9();
        for id in ledger.recordings() {
            *recordings.entry(id).or_insert(0) += 1;
        }
        interrupted.push(running.expect("a running handler"));
        drop(ledger);
        ledger = Ledger::start_at(port, &env);
    }

    let sent = sender.await.expect("the sender");
    assert_eq!(sent.stored.len(), EVENTS);
    for (id, stored) in &sent.stored {
        assert!(*stored <= 1, "{id} was stored {stored} times");
    }
    let inbox = Inbox::open(url).await.expect("the inbox opens");
    let stats = poll("every entry done", deadline - Instant::now(), || {
        let inbox = inbox.clone();
        async move {
            let stats = inbox.stats().await.expect("stats");
            (stats.done == EVENTS as u64 && stats.pending + stats.running == 0).then_some(stats)
        }
    })
    .await;
    drop(inbox);
    assert_eq!(stats.dead, 0, "{stats:?}");
    for id in ledger.recordings() {
        *recordings.entry(id).or_insert(0) += 1;
    }
    ledger.stop();

    // Straight from the database: each event id exactly once, its type.
    let rows = Db::of(url).handled().await;
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (id, _, _) in &rows {
        *counts.entry(id.as_str()).or_insert(0) += 1;
    }
    let wrong: Vec<_> = counts.iter().filter(|(_, &n)| n != 1).collect();
    assert!(wrong.is_empty(), "event ids not recorded once: {wrong:?}");
    assert_eq!(rows.len(), EVENTS, "rows for other ids?");
    for (id, event_type) in &events {
        let row = rows.iter().find(|row| &row.0 == id);
        let row = row.unwrap_or_else(|| panic!("{id} was never recorded"));
        assert_eq!(row.1.as_deref(), Some(event_type.as_str()), "{row:?}");
        assert!(row.2 <= now_ms());
    }
    // Each kill cut a handler between its start and its write: it ran
    // again, and still wrote once.
    for id in &interrupted {
        let runs = recordings.get(id).copied().unwrap_or(0);
        assert!(runs >= 2, "{id}, cut by a kill, ran {runs} times");
    }
    let runs: usize = recordings.values().sum();
    eprintln!(
        "{tag}: {EVENTS} events, {KILLS} kills, {runs} handler runs, {} delivery attempts \
         refused or failed and sent again; every event recorded once",
        sent.failed_attempts
    );
    assert!(runs >= EVENTS + KILLS, "{runs} handler runs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_records_each_event_once_across_10_kills() {
    let dir = TempDir::new("crash");
    exactly_once_across_kills(&dir.sqlite_url(), "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_records_each_event_once_across_10_kills() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    exactly_once_across_kills(&server.create_database("ledger_crash"), "postgres").await;
}
