//! `ckwebhook inbox retry` and `purge`: queue rows again, forget done ones.

use std::time::Duration;

use costkatana_webhooks::inbox::EntryState;
use costkatana_webhooks_inbox::{Inbox, InboxError};

use super::text::{duration, or_dash};
use crate::commands::inbox::InboxRetryArgs;
use crate::Exit;

pub(super) async fn retry(inbox: &Inbox, args: &InboxRetryArgs) -> Result<Exit, InboxError> {
    // The argument group admits exactly one of ID and --dead.
    let Some(id) = args.id else {
        let queued = inbox.retry_dead().await?;
        outln!("{queued} dead letter(s) queued again");
        return Ok(Exit::Success);
    };
    let Some(before) = inbox.get(id).await? else {
        return Ok(super::no_row(id));
    };
    if before.state == EntryState::Running || !inbox.retry(id).await? {
        // Running now, or it went between the two calls: ask again to say which.
        let Some(now) = inbox.get(id).await? else {
            return Ok(super::no_row(id));
        };
        if now.state == EntryState::Running {
            eprintln!(
                "error: row {id} is running: a worker holds it; retry it once it is done \
                 or dead"
            );
        } else {
            eprintln!(
                "error: row {id} changed while queueing it (now {}): try again",
                now.state
            );
        }
        return Ok(Exit::Failure);
    }
    outln!(
        "row {id} queued again: was {} after {} attempt(s), {} {}",
        before.state,
        before.attempts,
        or_dash(before.event_type.as_deref()),
        or_dash(before.event_id.as_deref()),
    );
    Ok(Exit::Success)
}

pub(super) async fn purge(inbox: &Inbox, older_than: Duration) -> Result<Exit, InboxError> {
    let deleted = inbox.purge_done(older_than).await?;
    outln!(
        "{deleted} done row(s) settled more than {} ago deleted",
        duration(older_than)
    );
    Ok(Exit::Success)
}
