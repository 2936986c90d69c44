//! `ckwebhook webhooks stats`: the webhook's own counters, which move, and
//! the stats route's aggregate, which reads zero on the live service; both
//! shown, each named for what it is.

use costkatana_webhooks_api::{StatsWindow, WebhookCounters, WebhookStats};
use serde::Serialize;

use super::table::{print_fields, Table};
use super::text::{or_dash, printable, response_ms};
use super::{json, Api};
use crate::error::CliResult;

/// Why the aggregate is not the truth.
const AGGREGATE_NOTE: &str = "the stats route's aggregate reads zero on the live service \
    whatever was delivered (its query matches no delivery record): the webhook's own counters \
    are the figures that move";

/// What `--json` prints: both objects, and which is which.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Both<'a> {
    id: &'a str,
    /// `GET /api/webhooks/:id`'s `stats`.
    counters: &'a WebhookCounters,
    /// `GET /api/webhooks/:id/stats`'s `stats`.
    aggregate: &'a WebhookStats,
    note: &'static str,
}

pub(super) async fn run(api: &Api, id: &str) -> CliResult {
    let fail = |err| api.fail(err);
    let (webhook, aggregate) = tokio::try_join!(
        async { api.client.webhook(id).await.map_err(fail) },
        async { api.client.webhook_stats(id).await.map_err(fail) },
    )?;
    let counters = webhook.stats.unwrap_or_default();
    if api.json {
        return json::print(&Both {
            id,
            counters: &counters,
            aggregate: &aggregate,
            note: AGGREGATE_NOTE,
        });
    }
    outln!(
        "webhook {} ({}), {}",
        printable(&webhook.id, false),
        printable(&webhook.name, false),
        if webhook.active { "active" } else { "inactive" }
    );
    outln!();
    outln!("Its own counters (GET /api/webhooks/:id; the sender counts each delivery that ends):");
    print_fields(&counter_fields(&counters));
    outln!();
    outln!("The stats route's aggregate (GET /api/webhooks/:id/stats):");
    aggregate_table(&aggregate).print();
    outln!();
    outln!("note: {AGGREGATE_NOTE}.");
    let moved = counters.total_deliveries > 0;
    if moved && aggregate.overall.total == 0 {
        outln!(
            "      Here it reads 0 deliveries while the counters read {}.",
            counters.total_deliveries
        );
    }
    Ok(())
}

fn counter_fields(counters: &WebhookCounters) -> Vec<(&'static str, String)> {
    vec![
        ("  deliveries", counters.total_deliveries.to_string()),
        ("  delivered", counters.successful_deliveries.to_string()),
        ("  failed", counters.failed_deliveries.to_string()),
        (
            "  last delivery",
            or_dash(counters.last_delivery_at.as_deref()),
        ),
        (
            "  last success",
            or_dash(counters.last_success_at.as_deref()),
        ),
        (
            "  last failure",
            or_dash(counters.last_failure_at.as_deref()),
        ),
        (
            "  last answer",
            format!(
                "{} (the last success's time, which the API calls averageResponseTime)",
                response_ms(counters.average_response_time)
            ),
        ),
    ]
}

fn aggregate_table(stats: &WebhookStats) -> Table {
    let mut table = Table::new(&[
        "  WINDOW",
        "TOTAL",
        "SUCCESSFUL",
        "FAILED",
        "SUCCESS RATE",
        "AVERAGE RESPONSE",
    ]);
    let windows: [(&str, &StatsWindow); 4] = [
        ("  overall", &stats.overall),
        ("  last 24h", &stats.last_24h),
        ("  last 7d", &stats.last_7d),
        ("  last 30d", &stats.last_30d),
    ];
    for (name, window) in windows {
        table.row(vec![
            name.to_owned(),
            window.total.to_string(),
            window.successful.to_string(),
            window.failed.to_string(),
            window.success_rate.as_deref().map_or_else(
                || "-".to_owned(),
                |rate| format!("{}%", printable(rate, false)),
            ),
            response_ms(window.average_response_time),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_window_is_a_row() {
        let stats: WebhookStats = serde_json::from_value(serde_json::json!({
            "overall": {"total": 0, "successful": 0, "failed": 0, "successRate": "0.00",
                        "averageResponseTime": 0}
        }))
        .unwrap();
        let lines = aggregate_table(&stats).lines();
        assert_eq!(lines.len(), 5);
        assert!(lines[1].starts_with("  overall"), "{lines:?}");
        assert!(lines[1].contains("0.00%"), "{lines:?}");
        assert!(lines[2].contains(" - "), "no rate sent: {lines:?}");
    }
}
