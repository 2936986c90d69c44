//! `send --count` as `ckwebhook` shows it: a progress bar while sending,
//! then a summary of every attempt.

use std::io::IsTerminal;

use costkatana_webhooks_sandbox::bulk::Summary;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::report::format_latency;

/// A bar of `count` events on stderr, hidden when stderr is not a terminal.
pub(crate) fn progress_bar(count: u64) -> ProgressBar {
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

/// Requests, statuses, latencies and deliveries, a line each.
pub(crate) fn print(summary: &Summary) {
    let plan = summary.plan();
    let requests = summary.requests();
    let elapsed = summary.elapsed().as_secs_f64();
    outln!(
        "sent {} event(s) x {} cop{} in {:.2} s: {requests} request(s), {:.0} req/s",
        plan.count(),
        plan.copies(),
        if plan.copies() == 1 { "y" } else { "ies" },
        elapsed,
        requests as f64 / elapsed.max(1e-9)
    );
    let histogram: Vec<String> = summary
        .statuses()
        .iter()
        .map(|(label, n)| format!("{label} x {n}"))
        .collect();
    outln!("statuses: {}", histogram.join(", "));
    let percentiles = (
        summary.latency_percentile(50),
        summary.latency_percentile(99),
        summary.max_latency(),
    );
    if let (Some(p50), Some(p99), Some(max)) = percentiles {
        outln!(
            "latency: p50 {}, p99 {}, max {}",
            format_latency(p50),
            format_latency(p99),
            format_latency(max)
        );
    }
    outln!(
        "delivered: {}/{} events ({} of {} copies)",
        summary.events_delivered(),
        plan.count(),
        summary.copies_delivered(),
        plan.count().saturating_mul(u64::from(plan.copies()))
    );
    if let Some(failure) = summary.first_failure() {
        outln!("first answer other than 2xx: {failure:?}");
    }
}
