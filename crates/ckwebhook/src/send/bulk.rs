//! `send --count`: many distinct events, each sent K times concurrently,
//! with a progress bar and a summary.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{deliver, format_latency, RequestBuilder, RetryPolicy};
use crate::Exit;

/// How many events, how many copies of each, how many in flight.
pub(crate) struct Plan {
    pub(crate) count: u64,
    pub(crate) concurrency: usize,
    pub(crate) duplicates: u32,
}

#[derive(Default)]
struct Stats {
    statuses: BTreeMap<String, u64>,
    latencies: Vec<Duration>,
    events_delivered: u64,
    copies_delivered: u64,
    first_failure: Option<String>,
}

pub(crate) async fn run(
    client: reqwest::Client,
    builder: RequestBuilder,
    policy: RetryPolicy,
    plan: Plan,
) -> Result<Exit, String> {
    let progress = progress_bar(plan.count);
    let shared = Arc::new((client, builder, policy, Mutex::new(Stats::default())));
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    let workers_needed = usize::try_from(plan.count)
        .unwrap_or(usize::MAX)
        .min(plan.concurrency);
    for _ in 0..workers_needed {
        let (shared, next, progress) = (Arc::clone(&shared), Arc::clone(&next), progress.clone());
        let (count, duplicates) = (plan.count, plan.duplicates);
        workers.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < count {
                send_event(&shared, duplicates).await?;
                progress.inc(1);
            }
            Ok::<(), String>(())
        }));
    }
    for worker in workers {
        worker
            .await
            .map_err(|err| format!("a sending task failed: {err}"))??;
    }
    progress.finish_and_clear();
    let elapsed = started.elapsed();
    let stats = shared.3.lock().map_err(|_| "statistics lost".to_string())?;
    print_summary(&stats, &plan, elapsed);
    Ok(if stats.events_delivered == plan.count {
        Exit::Success
    } else {
        Exit::Failure
    })
}

type Shared = (reqwest::Client, RequestBuilder, RetryPolicy, Mutex<Stats>);

/// One event: signed once, its copies sent concurrently (as the sender's
/// fallback mode may), each retried on its own.
async fn send_event(shared: &Arc<Shared>, duplicates: u32) -> Result<(), String> {
    let (body, _) = shared.1.sample()?;
    let request = Arc::new(shared.1.sign(body));
    let copies: Vec<_> = (0..duplicates)
        .map(|_| {
            let (shared, request) = (Arc::clone(shared), Arc::clone(&request));
            tokio::spawn(async move {
                let (client, _, policy, stats) = &*shared;
                deliver(client, &request, policy, |attempt| {
                    if let Ok(mut stats) = stats.lock() {
                        *stats.statuses.entry(attempt.answer.label()).or_default() += 1;
                        stats.latencies.push(attempt.latency);
                        if !attempt.answer.is_delivered() && stats.first_failure.is_none() {
                            stats.first_failure = Some(format!("{:?}", attempt.answer));
                        }
                    }
                })
                .await
            })
        })
        .collect();
    let mut delivered = 0;
    for copy in copies {
        if copy
            .await
            .map_err(|err| format!("a sending task failed: {err}"))?
        {
            delivered += 1;
        }
    }
    let mut stats = shared.3.lock().map_err(|_| "statistics lost".to_string())?;
    stats.copies_delivered += delivered;
    if delivered > 0 {
        stats.events_delivered += 1;
    }
    Ok(())
}

/// A bar on stderr, hidden when stderr is not a terminal.
fn progress_bar(count: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(Some(count), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(count);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} events {per_sec} eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}

fn print_summary(stats: &Stats, plan: &Plan, elapsed: Duration) {
    let requests: u64 = stats.statuses.values().sum();
    outln!(
        "sent {} event(s) x {} cop{} in {:.2} s: {requests} request(s), {:.0} req/s",
        plan.count,
        plan.duplicates,
        if plan.duplicates == 1 { "y" } else { "ies" },
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    let histogram: Vec<String> = stats
        .statuses
        .iter()
        .map(|(label, n)| format!("{label} x {n}"))
        .collect();
    outln!("statuses: {}", histogram.join(", "));
    let mut latencies = stats.latencies.clone();
    latencies.sort();
    if !latencies.is_empty() {
        outln!(
            "latency: p50 {}, p99 {}, max {}",
            format_latency(percentile(&latencies, 50)),
            format_latency(percentile(&latencies, 99)),
            format_latency(latencies[latencies.len() - 1])
        );
    }
    outln!(
        "delivered: {}/{} events ({} of {} copies)",
        stats.events_delivered,
        plan.count,
        stats.copies_delivered,
        plan.count.saturating_mul(u64::from(plan.duplicates))
    );
    if let Some(failure) = &stats.first_failure {
        outln!("first answer other than 2xx: {failure}");
    }
}

/// The nearest-rank percentile of sorted, non-empty `values`.
fn percentile(values: &[Duration], pct: usize) -> Duration {
    let rank = (values.len() * pct).div_ceil(100).max(1);
    values[rank.min(values.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let values: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&values, 50), Duration::from_millis(50));
        assert_eq!(percentile(&values, 99), Duration::from_millis(99));
        assert_eq!(percentile(&values[..1], 99), Duration::from_millis(1));
    }
}
