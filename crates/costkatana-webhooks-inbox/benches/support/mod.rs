//! What the benches share: their settings from the environment, the
//! clock, the senders that post signed deliveries through a receiver, and
//! the quantiles and medians they report.

#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use costkatana_webhooks::signing::sign;
use costkatana_webhooks::testing::{sample_event, Shape};
use costkatana_webhooks::{EventType, Receiver, Scheme};

/// The secret the benches' receivers verify with.
pub const SECRET: &str = "whsec_inbox_bench";

/// The whole number in environment variable `name`, else `default`.
pub fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// What the senders saw.
pub struct Sent {
    /// Each delivery's time to its answer (for an inbox: the commit of
    /// its row), sorted.
    pub latencies: Vec<Duration>,
    /// Answers other than a 200, or a 200 for a duplicate.
    pub failed: u64,
    /// From the first send to the last answer.
    pub elapsed: Duration,
}

impl Sent {
    /// The `q` quantile of the latencies, in ms.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        let all = &self.latencies;
        all[((all.len() as f64 * q) as usize).min(all.len() - 1)].as_secs_f64() * 1000.0
    }

    /// Deliveries answered per second.
    pub fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }
}

/// `concurrency` senders post distinct signed `cost.alert` events (ids
/// `<tag>-<sender>-<n>`) to `receiver`, each waiting for its answer
/// before the next, for `seconds`.
pub async fn send(receiver: &Receiver, seconds: u64, concurrency: u64, tag: &str) -> Sent {
    // Senders watch the clock themselves: an inline receiver never yields,
    // so a timer might not fire while they run.
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let failed = Arc::new(AtomicU64::new(0));
    let mut senders = Vec::new();
    for sender in 0..concurrency {
        let (receiver, failed) = (receiver.clone(), failed.clone());
        let tag = tag.to_owned();
        senders.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                let id = format!("{tag}-{sender}-{n}");
                n += 1;
                let body = Bytes::from(sample_event(
                    &EventType::CostAlert,
                    Shape::Camel,
                    &id,
                    now_ms(),
                ));
                let headers = sign(Scheme::Current, SECRET, now_ms(), &body);
                let started = Instant::now();
                let outcome = receiver.receive("POST", &headers, body).await;
                latencies.push(started.elapsed());
                if outcome.answer().status != 200 || outcome.label() == "duplicate" {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                tokio::task::yield_now().await;
            }
            latencies
        }));
    }
    let started = Instant::now();
    let mut latencies = Vec::new();
    for sender in senders {
        latencies.extend(sender.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Sent {
        latencies,
        failed: failed.load(Ordering::Relaxed),
        elapsed,
    }
}

/// The median of `values` (the upper one of an even count).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
