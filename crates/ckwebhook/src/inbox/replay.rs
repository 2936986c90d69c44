//! `ckwebhook inbox retry` and `purge`: queue rows again, forget done ones.

use std::time::Duration;

use costkatana_webhooks::clock::{millis, Clock, SystemClock};
use costkatana_webhooks::inbox::InboxStore;
use costkatana_webhooks_inbox::{Inbox, InboxErrorKind};

use super::text::{duration, or_dash};
use crate::commands::inbox::InboxRetryArgs;
use crate::error::{CliError, CliResult, ErrorKind};

pub(super) async fn retry(inbox: &Inbox, args: &InboxRetryArgs) -> CliResult {
    // The argument group admits exactly one of ID and --dead.
    let Some(id) = args.id else {
        let queued = inbox.retry_dead().await?;
        outln!("{queued} dead letter(s) queued again");
        return Ok(());
    };
    // Read first: the line printed says what the row was.
    let before = match inbox.get(id).await {
        Ok(before) => before,
        Err(err) if err.kind() == InboxErrorKind::NotFound => return Err(super::no_row(id)),
        Err(err) => return Err(err.into()),
    };
    let was = match inbox.retry(id).await {
        Ok(was) => was,
        // It went between the two calls.
        Err(err) if err.kind() == InboxErrorKind::NotFound => return Err(super::no_row(id)),
        Err(err) if err.kind() == InboxErrorKind::Conflict => {
            return Err(CliError::new(
                ErrorKind::Unavailable,
                format!("row {id} is running: a worker holds it; retry it once it is done or dead"),
            ));
        }
        Err(err) => return Err(err.into()),
    };
    outln!(
        "row {id} queued again: was {was} after {} attempt(s), {} {}",
        before.attempts,
        or_dash(before.event_type.as_deref()),
        or_dash(before.event_id.as_deref()),
    );
    Ok(())
}

pub(super) async fn purge(inbox: &Inbox, older_than: Duration) -> CliResult {
    let before_ms = SystemClock.now_ms().saturating_sub(millis(older_than));
    // The store's error carries the inbox's message as it is.
    let deleted = inbox
        .purge_done(before_ms)
        .await
        .map_err(|err| CliError::new(ErrorKind::Unavailable, err.to_string()).with_source(err))?;
    outln!(
        "{deleted} done row(s) settled more than {} ago deleted",
        duration(older_than)
    );
    Ok(())
}
