//! `ckwebhook inbox retry` and `purge`: queue rows again, forget done ones.

use std::time::Duration;

use costkatana_webhooks::clock::{millis, Clock, SystemClock};
use costkatana_webhooks::inbox::InboxStore;
use costkatana_webhooks_inbox::{Inbox, InboxError, InboxErrorKind};

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
    // Read first: the line printed says what the row was.
    let before = match inbox.get(id).await {
        Ok(before) => before,
        Err(err) if err.kind() == InboxErrorKind::NotFound => return Ok(super::no_row(id)),
        Err(err) => return Err(err),
    };
    let was = match inbox.retry(id).await {
        Ok(was) => was,
        // It went between the two calls.
        Err(err) if err.kind() == InboxErrorKind::NotFound => return Ok(super::no_row(id)),
        Err(err) if err.kind() == InboxErrorKind::Conflict => {
            eprintln!(
                "error: row {id} is running: a worker holds it; retry it once it is done \
                 or dead"
            );
            return Ok(Exit::Failure);
        }
        Err(err) => return Err(err),
    };
    outln!(
        "row {id} queued again: was {was} after {} attempt(s), {} {}",
        before.attempts,
        or_dash(before.event_type.as_deref()),
        or_dash(before.event_id.as_deref()),
    );
    Ok(Exit::Success)
}

pub(super) async fn purge(inbox: &Inbox, older_than: Duration) -> Result<Exit, InboxError> {
    let before_ms = SystemClock.now_ms().saturating_sub(millis(older_than));
    let deleted = match inbox.purge_done(before_ms).await {
        Ok(deleted) => deleted,
        // The store's error carries the inbox's message as it is.
        Err(err) => {
            eprintln!("error: {err}");
            return Ok(Exit::Failure);
        }
    };
    outln!(
        "{deleted} done row(s) settled more than {} ago deleted",
        duration(older_than)
    );
    Ok(Exit::Success)
}
