//! A pass's report for people: what was read, what was lost, what was
//! asked, and the lost events one per line.

use std::time::Duration;

use costkatana_webhooks_api::{CatchUpReport, LostEvent};

use super::super::table::{fields, Table};
use super::super::text::{or_dash, printable};
use crate::util::iso8601;

/// What the report is about, besides itself.
pub(super) struct Context<'a> {
    pub(super) id: &'a str,
    pub(super) server: &'a str,
    pub(super) since: Duration,
    pub(super) since_ms: i64,
    /// The store, named; `None` without one.
    pub(super) store: Option<&'a str>,
    pub(super) dry_run: bool,
    pub(super) reactivate: bool,
    pub(super) report: &'a CatchUpReport,
}

pub(super) fn print(context: &Context<'_>) {
    for line in lines(context) {
        outln!("{line}");
    }
}

fn lines(context: &Context<'_>) -> Vec<String> {
    let report = context.report;
    let mut out = vec![format!(
        "catch-up of webhook {} at {}, records since {} ({}){}",
        printable(context.id, false),
        context.server,
        iso8601(context.since_ms),
        words(context.since),
        if context.dry_run {
            ": dry run, nothing changed"
        } else {
            ""
        }
    )];
    out.push(match context.store {
        Some(store) => format!("store: {store}"),
        None => "store: none given, so only deliveries that never reached the receiver \
                 (refused connection, unknown host) count as lost"
            .to_owned(),
    });
    out.push(String::new());
    let api_calls = match report.api_errors {
        0 => report.api_calls.to_string(),
        failed => format!("{} ({failed} failed)", report.api_calls),
    };
    let complete = if report.complete {
        "yes".to_owned()
    } else {
        format!("no: {}", or_dash(report.stopped_by.as_deref()))
    };
    out.extend(fields(&[
        ("webhook", state(context)),
        ("records read", report.deliveries_read.to_string()),
        ("events", report.events_seen.to_string()),
        ("lost", report.lost.len().to_string()),
        ("replays asked", report.replays_asked.to_string()),
        (
            "already asked",
            format!(
                "{} (a replay was asked before, by an earlier pass or a replica)",
                report.already_asked
            ),
        ),
        (
            "known to store",
            format!(
                "{} (failed at the sender, yet the receiver has them)",
                report.known_to_the_store
            ),
        ),
        (
            "uncertain",
            format!(
                "{} (reached the receiver, which may have handled them: left alone)",
                report.uncertain
            ),
        ),
        ("api calls", api_calls),
        ("complete", complete),
    ]));
    if report.lost.is_empty() {
        out.push(String::new());
        out.push("nothing lost".to_owned());
        return out;
    }
    out.push(String::new());
    let mut table = Table::new(&["EVENT ID", "TYPE", "DELIVERY ID", "FAILURE", "REPLAY"]);
    let not_asked = report.lost.iter().filter(|e| !e.replay_asked).count() as u64;
    for event in &report.lost {
        table.row(vec![
            printable(&event.event_id, false),
            printable(&event.event_type, false),
            printable(&event.delivery_id, false),
            or_dash(Some(&event.error_type)),
            replay(context, event, not_asked),
        ]);
    }
    out.extend(table.lines());
    out
}

/// Whether the webhook was active, and what the pass did about it.
fn state(context: &Context<'_>) -> String {
    let report = context.report;
    if report.reactivated {
        "was inactive (the sender deactivated it): re-activated; events emitted while it was \
         inactive are gone for good"
            .to_owned()
    } else if !report.was_inactive {
        "active".to_owned()
    } else if !context.reactivate {
        "inactive (the sender deactivated it): left so (--no-reactivate)".to_owned()
    } else {
        "inactive (the sender deactivated it): a pass without --dry-run re-activates it".to_owned()
    }
}

/// What became of a lost event's replay.
fn replay(context: &Context<'_>, event: &LostEvent, not_asked: u64) -> String {
    if event.replay_asked {
        "asked".to_owned()
    } else if context.store.is_none() {
        "not asked (no store)".to_owned()
    } else if context.dry_run {
        "not asked (dry run)".to_owned()
    } else if context.report.already_asked == not_asked {
        "already asked".to_owned()
    } else {
        "not asked (asked before, or a replay is pending)".to_owned()
    }
}

/// A duration as the command line takes it, in its largest exact unit
/// (hours up to two days: `24h`, `36h`, `2d`).
fn words(value: Duration) -> String {
    let ms = value.as_millis();
    [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1000, "s"),
    ]
    .iter()
    .find(|(size, unit)| ms != 0 && ms % size == 0 && (*unit != "d" || ms >= 2 * 86_400_000))
    .map_or_else(
        || format!("{ms}ms"),
        |(size, unit)| format!("{}{unit}", ms / size),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dry_run_without_a_store_says_what_counts_as_lost() {
        // LostEvent cannot be made outside its crate: the lost events'
        // lines are checked by the tests that run the binary.
        let mut report = CatchUpReport::default();
        report.was_inactive = true;
        report.complete = true;
        let context = Context {
            id: "65f0c0ffee0000000000beef",
            server: "http://127.0.0.1:4000",
            since: Duration::from_secs(24 * 3600),
            since_ms: 1_777_377_600_000,
            store: None,
            dry_run: true,
            reactivate: true,
            report: &report,
        };
        let text = lines(&context).join("\n");
        assert!(
            text.starts_with(
                "catch-up of webhook 65f0c0ffee0000000000beef at http://127.0.0.1:4000, records \
                 since 2026-04-28T12:00:00.000Z (24h): dry run, nothing changed\nstore: none given"
            ),
            "{text}"
        );
        assert!(
            text.contains("a pass without --dry-run re-activates it"),
            "{text}"
        );
        assert!(text.contains("\ncomplete        yes"), "{text}");
        assert!(text.ends_with("\nnothing lost"), "{text}");
    }

    #[test]
    fn durations_in_words() {
        assert_eq!(words(Duration::from_secs(24 * 3600)), "24h");
        assert_eq!(words(Duration::from_secs(7 * 24 * 3600)), "7d");
        assert_eq!(words(Duration::from_secs(90)), "90s");
        assert_eq!(words(Duration::from_millis(1500)), "1500ms");
    }
}
