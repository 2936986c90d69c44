//! `ckwebhook inbox list`: the counts per state, then one line per row.

use costkatana_webhooks::inbox::{EntryQuery, EntryState, EntrySummary, InboxStats, MAX_LIST};
use costkatana_webhooks_inbox::{Inbox, InboxError};

use super::text::{age, or_dash, printable};
use crate::commands::inbox::InboxListArgs;
use crate::error::CliResult;
use crate::util::{iso8601, now_ms};

const HEADINGS: [&str; 7] = [
    "ID",
    "STATE",
    "ATTEMPTS",
    "TYPE",
    "EVENT ID",
    "RECEIVED",
    "LAST ERROR",
];

pub(super) async fn run(inbox: &Inbox, args: &InboxListArgs) -> CliResult {
    let state = args.state.map(EntryState::from);
    let stats = inbox.stats().await?;
    let rows = newest(inbox, state, args.limit).await?;
    outln!("{}", counts(&stats, now_ms()));
    if rows.is_empty() {
        match state {
            Some(state) => outln!("no {state} rows"),
            None => outln!("no rows"),
        }
        return Ok(());
    }
    for line in lines(&rows) {
        outln!("{line}");
    }
    let total = state.map_or_else(
        || EntryState::ALL.map(|s| stats.count(s)).iter().sum(),
        |s| stats.count(s),
    );
    let hidden = total.saturating_sub(rows.len() as u64);
    if hidden > 0 {
        outln!("({hidden} older not shown: raise --limit)");
    }
    Ok(())
}

/// Up to `limit` rows, newest first, in `state` or in any: page after page
/// when `limit` is more than one listing returns.
async fn newest(
    inbox: &Inbox,
    state: Option<EntryState>,
    limit: usize,
) -> Result<Vec<EntrySummary>, InboxError> {
    let mut query = EntryQuery::new();
    if let Some(state) = state {
        query = query.state(state);
    }
    let mut rows: Vec<EntrySummary> = Vec::new();
    while rows.len() < limit {
        let want = (limit - rows.len()).min(MAX_LIST);
        let page = inbox.list(&query.clone().limit(want)).await?;
        let Some(last) = page.last() else { break };
        query = query.before_id(last.id);
        let full = page.len() == want;
        rows.extend(page);
        if !full {
            break;
        }
    }
    Ok(rows)
}

/// `pending 3  running 0  done 10  dead 1  (oldest pending 12 s old)`.
fn counts(stats: &InboxStats, now_ms: i64) -> String {
    let mut line = EntryState::ALL
        .iter()
        .map(|state| format!("{state} {}", stats.count(*state)))
        .collect::<Vec<_>>()
        .join("  ");
    if let Some(oldest) = stats.oldest_pending_ms {
        line.push_str(&format!("  (oldest pending {} old)", age(now_ms - oldest)));
    }
    line
}

/// A heading line and one line per row, columns aligned.
fn lines(rows: &[EntrySummary]) -> Vec<String> {
    let mut table = vec![HEADINGS.map(str::to_owned)];
    table.extend(rows.iter().map(|row| {
        [
            row.id.to_string(),
            row.state.to_string(),
            row.attempts.to_string(),
            or_dash(row.event_type.as_deref()),
            or_dash(row.event_id.as_deref()),
            iso8601(row.received_at_ms),
            row.last_error
                .as_deref()
                .map_or_else(String::new, |e| printable(e, false)),
        ]
    }));
    let mut widths = [0usize; 7];
    for cells in &table {
        for (width, cell) in widths.iter_mut().zip(cells) {
            *width = (*width).max(cell.chars().count());
        }
    }
    table
        .iter()
        .map(|cells| {
            let padded: Vec<String> = cells
                .iter()
                .zip(widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            padded.join("  ").trim_end().to_owned()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_line_names_every_state() {
        let mut stats = InboxStats {
            pending: 3,
            dead: 1,
            ..InboxStats::default()
        };
        assert_eq!(counts(&stats, 0), "pending 3  running 0  done 0  dead 1");
        stats.oldest_pending_ms = Some(1_000);
        assert!(counts(&stats, 13_500).ends_with("  (oldest pending 12 s old)"));
    }
}
