//! `ckwebhook inbox retry` and `purge`: queue rows again, forget done or
//! dead ones.

use costkatana_webhooks::clock::{millis, Clock, SystemClock};
use costkatana_webhooks::inbox::{EntryQuery, EntryState};
use costkatana_webhooks_inbox::{Inbox, InboxErrorKind};

use super::text::{duration, or_dash, printable};
use crate::commands::inbox::{InboxPurgeArgs, InboxRetryArgs, MatchArgs};
use crate::error::{CliError, CliResult, ErrorKind};
use crate::util::iso8601;

pub(super) async fn retry(inbox: &Inbox, args: &InboxRetryArgs) -> CliResult {
    // The argument group admits exactly one of ID, --dead and --done.
    let Some(id) = args.id else {
        return retry_matching(inbox, args).await;
    };
    // Read first: the line printed says what the row was.
    let before = match inbox.get(id).await {
        Ok(before) => before,
        Err(err) if err.kind() == InboxErrorKind::NotFound => return Err(super::no_row(id)),
        Err(err) => return Err(err.into()),
    };
    // A done row's event was handled: running it again is a choice.
    if before.state == EntryState::Done && !args.force {
        let settled = before
            .settled_at_ms
            .map_or_else(String::new, |at| format!(" at {}", iso8601(at)));
        return Err(CliError::new(
            ErrorKind::Unavailable,
            format!(
                "row {id} is done: its event ({} {}) was already handled{settled}; pass \
                 --force to run it again",
                or_dash(before.event_type.as_deref()),
                or_dash(before.event_id.as_deref()),
            ),
        ));
    }
    let was = match inbox.retry(id).await {
        Ok(was) => was,
        // It went between the two calls.
        Err(err) if err.kind() == InboxErrorKind::NotFound => return Err(super::no_row(id)),
        Err(err) if err.kind() == InboxErrorKind::Conflict => {
            // Running, or done with its body dropped: the library says which.
            return Err(CliError::new(
                ErrorKind::Unavailable,
                printable(&err.to_string(), false),
            ));
        }
        Err(err) => return Err(err.into()),
    };
    let handled = if was == EntryState::Done {
        " (its event was already handled: it runs again)"
    } else {
        ""
    };
    outln!(
        "row {id} queued again: was {was} after {} attempt(s), {} {}{handled}",
        before.attempts,
        or_dash(before.event_type.as_deref()),
        or_dash(before.event_id.as_deref()),
    );
    Ok(())
}

/// The dead (or done) rows the filters match, queued again at the set
/// pace, their count printed first.
async fn retry_matching(inbox: &Inbox, args: &InboxRetryArgs) -> CliResult {
    let state = if args.done {
        EntryState::Done
    } else {
        EntryState::Dead
    };
    let (mut query, mut filters) = matching(EntryQuery::new().state(state), &args.matching);
    if let Some(since) = args.since {
        query = query.received_since(SystemClock.now_ms().saturating_sub(millis(since)));
        filters.push(format!("received within {}", duration(since)));
    }
    let rows = format!("{state} row(s){}", joined(&filters));
    let count = inbox.count(&query).await?;
    if args.dry_run {
        outln!("{count} {rows} would be queued again (dry run: nothing queued)");
        return Ok(());
    }
    outln!(
        "queueing {count} {rows} again, at most {} a second",
        args.per_second
    );
    let queued = inbox.retry_matching(&query, args.per_second).await?;
    outln!("{queued} {rows} queued again");
    Ok(())
}

/// `query` narrowed by the shared filters, and each one said in words.
fn matching(mut query: EntryQuery, args: &MatchArgs) -> (EntryQuery, Vec<String>) {
    let mut said = Vec::new();
    if let Some(event_type) = &args.event_type {
        query = query.event_type(event_type.clone());
        said.push(format!("of type {}", printable(event_type, false)));
    }
    if let Some(prefix) = &args.id_prefix {
        query = query.event_id_prefix(prefix.clone());
        said.push(format!(
            "with an event id starting {}",
            printable(prefix, false)
        ));
    }
    if let Some(text) = &args.text {
        query = query.text(text.clone());
        said.push(format!("containing {}", printable(text, false)));
    }
    (query, said)
}

/// ` a, b and c` (with a leading space), or nothing.
fn joined(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => format!(" {one}"),
        [rest @ .., last] => format!(" {} and {last}", rest.join(", ")),
    }
}

pub(super) async fn purge(inbox: &Inbox, args: &InboxPurgeArgs) -> CliResult {
    let state = EntryState::from(args.state);
    let before_ms = SystemClock.now_ms().saturating_sub(millis(args.older_than));
    let query = EntryQuery::new().state(state).settled_before(before_ms);
    let (query, filters) = matching(query, &args.matching);
    let rows = format!(
        "{state} row(s){} settled more than {} ago",
        joined(&filters),
        duration(args.older_than)
    );
    if args.dry_run {
        let count = inbox.count(&query).await?;
        outln!("{count} {rows} would be deleted (dry run: nothing deleted)");
        return Ok(());
    }
    let deleted = inbox.purge(&query).await?;
    outln!("{deleted} {rows} deleted");
    Ok(())
}
