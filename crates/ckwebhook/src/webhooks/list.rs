//! `ckwebhook webhooks list`: one line per webhook, newest first.

use costkatana_webhooks_api::{Webhook, WebhookFilter};

use super::edit::event_names;
use super::show::redacted;
use super::table::Table;
use super::text::{or_dash, printable};
use super::{json, Api};
use crate::commands::webhooks::ListArgs;
use crate::error::CliResult;

const HEADINGS: [&str; 7] = [
    "ID",
    "NAME",
    "ACTIVE",
    "EVENTS",
    "URL",
    "DELIVERED/FAILED",
    "CREATED",
];

pub(super) async fn run(api: &Api, args: &ListArgs) -> CliResult {
    let filter = WebhookFilter {
        active: match (args.active, args.inactive) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        events: event_names(&args.events)?,
    };
    let webhooks = api
        .client
        .list_webhooks(&filter)
        .await
        .map_err(|err| api.fail(err))?;
    if api.json {
        return json::print(&webhooks.iter().map(redacted).collect::<Vec<_>>());
    }
    if webhooks.is_empty() {
        outln!("no webhooks at {}", api.client.base_url());
        return Ok(());
    }
    let mut table = Table::new(&HEADINGS);
    for webhook in &webhooks {
        table.row(row(webhook));
    }
    table.print();
    Ok(())
}

fn row(webhook: &Webhook) -> Vec<String> {
    let counters = webhook.stats.as_ref().map_or_else(
        || "-".to_owned(),
        |stats| {
            format!(
                "{}/{}",
                stats.successful_deliveries, stats.failed_deliveries
            )
        },
    );
    vec![
        printable(&webhook.id, false),
        printable(&webhook.name, false),
        if webhook.active { "yes" } else { "no" }.to_owned(),
        events(&webhook.events),
        printable(&webhook.url, false),
        counters,
        or_dash(webhook.created_at.as_deref()),
    ]
}

/// The first two types, and how many more.
fn events(events: &[String]) -> String {
    let shown: Vec<String> = events.iter().take(2).map(|e| printable(e, false)).collect();
    let mut text = shown.join(",");
    if events.len() > 2 {
        text.push_str(&format!(" +{}", events.len() - 2));
    }
    if text.is_empty() {
        text.push('-');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_event_lists_are_cut() {
        let names = |n: usize| -> Vec<String> { (0..n).map(|i| format!("t.{i}")).collect() };
        assert_eq!(events(&names(0)), "-");
        assert_eq!(events(&names(2)), "t.0,t.1");
        assert_eq!(events(&names(5)), "t.0,t.1 +3");
    }
}
