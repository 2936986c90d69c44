//! The overview: counts by state, the oldest pending delivery's age, bulk
//! retries in progress, and the last 24 hours as charts.

use std::sync::Arc;

use costkatana_webhooks::inbox::{EntryState, InboxStats};
use maud::{html, Markup};

use super::layout::{page, Nav, View};
use crate::chart::{line_chart, Series};
use crate::jobs::{Job, Outcome};
use crate::source::Activity;
use crate::text::{age, iso, utc};

/// What the overview shows.
pub(crate) struct Overview<'a> {
    pub(crate) stats: &'a InboxStats,
    pub(crate) activity: &'a Activity,
    pub(crate) jobs: &'a [Arc<Job>],
    /// Rejections the receiver keeps, when the console has a receiver.
    pub(crate) rejections: Option<usize>,
}

pub(crate) fn render(view: &View<'_>, overview: &Overview<'_>) -> Markup {
    let stats = overview.stats;
    let body = html! {
        h1 { "Overview" }
        section.cards aria-label="Deliveries by state" {
            @for state in EntryState::ALL {
                a class=(format!("card state-{state}"))
                    href=(view.href(&format!("/deliveries?state={state}"))) {
                    span.count { (stats.count(state)) }
                    span.label { (state.as_str()) }
                }
            }
            div.card.oldest {
                @match stats.oldest_pending_ms {
                    Some(ms) => {
                        span.count { (age(view.now_ms - ms)) }
                        span.label { "oldest pending" }
                        time datetime=(iso(ms)) data-ms=(ms) { (utc(ms)) }
                    }
                    None => {
                        span.count { "–" }
                        span.label { "nothing pending" }
                    }
                }
            }
            @if let Some(rejections) = overview.rejections {
                a.card.rejections href=(view.href("/rejections")) {
                    span.count { (rejections) }
                    span.label { "recent rejections" }
                }
            }
        }
        @if !overview.jobs.is_empty() {
            section.jobs {
                h2 { "Bulk retries" }
                table {
                    thead { tr { th { "Started" } th { "Deliveries" } th { "Progress" } th { "State" } } }
                    tbody {
                        @for job in overview.jobs {
                            tr {
                                td { time datetime=(iso(job.started_ms)) data-ms=(job.started_ms) { (utc(job.started_ms)) } }
                                td { (job.scope) }
                                td { (job.done()) " of " (job.expected) }
                                td { (match job.outcome() {
                                    Outcome::Running => "running",
                                    Outcome::Finished => "finished",
                                    Outcome::Failed => "stopped: the inbox failed (see the log)",
                                }) }
                            }
                        }
                    }
                }
            }
        }
        (charts(overview.activity))
    };
    page(view, "Overview", Nav::Overview, body)
}

fn charts(activity: &Activity) -> Markup {
    let counts = |pick: fn(&crate::source::Minute) -> u64| -> Vec<Option<f64>> {
        activity
            .minutes
            .iter()
            .map(|m| Some(pick(m) as f64))
            .collect()
    };
    let durations = |pick: fn(&crate::source::Minute) -> Option<f64>| -> Vec<Option<f64>> {
        activity.minutes.iter().map(pick).collect()
    };
    let total = |pick: fn(&crate::source::Minute) -> u64| -> u64 {
        activity.minutes.iter().map(pick).sum()
    };
    let (handled, failed, dead) = (total(|m| m.handled), total(|m| m.failed), total(|m| m.dead));
    html! {
        section.charts {
            h2 { "Last 24 hours" }
            p.totals {
                (handled) " handled, " (failed) " failed attempts, " (dead) " dead-lettered"
            }
            (line_chart(
                "Attempts per minute: handled, failed, dead-lettered",
                "",
                activity.start_ms,
                60_000,
                &[
                    Series { name: "handled", class: "s-handled", values: counts(|m| m.handled) },
                    Series { name: "failed", class: "s-failed", values: counts(|m| m.failed) },
                    Series { name: "dead-lettered", class: "s-dead", values: counts(|m| m.dead) },
                ],
            ))
            (line_chart(
                "Handler duration per minute: p50, p90, p99",
                "ms",
                activity.start_ms,
                60_000,
                &[
                    Series { name: "p50", class: "s-p50", values: durations(|m| m.p50_ms) },
                    Series { name: "p90", class: "s-p90", values: durations(|m| m.p90_ms) },
                    Series { name: "p99", class: "s-p99", values: durations(|m| m.p99_ms) },
                ],
            ))
        }
    }
}
