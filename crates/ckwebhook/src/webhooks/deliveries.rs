//! `ckwebhook webhooks deliveries`: a webhook's delivery records, one line
//! per attempt, newest first; one page or, with `--all`, every page.

use costkatana_webhooks_api::{Delivery, DeliveryQuery, DeliveryStatus, Pagination};
use futures_util::TryStreamExt;

use super::delivery::{failure, redacted};
use super::edit::event_names;
use super::table::Table;
use super::text::{or_dash, printable};
use super::{json, Api};
use crate::commands::webhooks::DeliveriesArgs;
use crate::error::CliResult;

const HEADINGS: [&str; 7] = [
    "DELIVERY ID",
    "EVENT ID",
    "TYPE",
    "ATTEMPT",
    "STATUS",
    "FAILURE",
    "CREATED",
];

pub(super) async fn run(api: &Api, args: &DeliveriesArgs) -> CliResult {
    let mut query = DeliveryQuery::new().limit(args.limit);
    if let Some(status) = args.status {
        query = query.status(DeliveryStatus::from(status));
    }
    if let Some(name) = &args.event_type {
        let spelled = event_names(std::slice::from_ref(name))?;
        query = query.event_type(spelled[0].clone());
    }
    let (records, pagination) = if args.all {
        let stream = api.client.delivery_stream(&args.id, query.limit(100));
        let all: Vec<Delivery> = stream.try_collect().await.map_err(|err| api.fail(err))?;
        (all, None)
    } else {
        let page = api
            .client
            .deliveries(&args.id, &query)
            .await
            .map_err(|err| api.fail(err))?;
        (page.items, Some(page.pagination))
    };
    if api.json {
        return json::print(&records.iter().map(redacted).collect::<Vec<_>>());
    }
    if records.is_empty() {
        outln!("no delivery records{}", filters(args));
        return Ok(());
    }
    let mut table = Table::new(&HEADINGS);
    for record in &records {
        table.row(row(record));
    }
    table.print();
    if let Some(more) = pagination.and_then(|page| more(&page, records.len())) {
        outln!("{more}");
    }
    Ok(())
}

fn row(record: &Delivery) -> Vec<String> {
    vec![
        printable(&record.id, false),
        or_dash(Some(&record.event_id)),
        or_dash(Some(&record.event_type)),
        record.attempt.to_string(),
        printable(record.status.as_str(), false),
        failure(record),
        or_dash(record.created_at.as_deref()),
    ]
}

/// ` matching status failed, type cost.alert`, or nothing.
fn filters(args: &DeliveriesArgs) -> String {
    let mut parts = Vec::new();
    if let Some(status) = args.status {
        parts.push(format!("status {}", DeliveryStatus::from(status)));
    }
    if let Some(name) = &args.event_type {
        parts.push(format!("type {}", printable(name, false)));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" matching {}", parts.join(", "))
    }
}

/// The line saying how many more records there are, when there are.
fn more(page: &Pagination, shown: usize) -> Option<String> {
    let hidden = page.total.saturating_sub(page.offset + shown as u64);
    (page.has_more || hidden > 0).then(|| {
        format!(
            "({hidden} older not shown, {} in all: raise --limit, or --all)",
            page.total
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_how_many_are_left() {
        let page: Pagination =
            serde_json::from_str(r#"{"total":45,"limit":20,"offset":0,"hasMore":true}"#).unwrap();
        assert_eq!(
            more(&page, 20).as_deref(),
            Some("(25 older not shown, 45 in all: raise --limit, or --all)")
        );
        let all: Pagination =
            serde_json::from_str(r#"{"total":3,"limit":20,"offset":0,"hasMore":false}"#).unwrap();
        assert_eq!(more(&all, 3), None);
    }
}
