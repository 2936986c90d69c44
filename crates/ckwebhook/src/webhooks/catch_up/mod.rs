//! `ckwebhook webhooks catch-up`: one pass of the library's
//! [`CatchUp`], with the receiver's store recording the replays it asks
//! for, and its report.

mod report;
mod store;

use std::time::Duration;

use costkatana_webhooks_api::CatchUp;

use super::{json, Api};
use crate::commands::webhooks::CatchUpArgs;
use crate::error::{CliError, CliResult, ErrorKind};

/// The sender keeps delivery records 30 days: no pass reads further back.
const RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

pub(super) async fn run(api: &Api, args: CatchUpArgs) -> CliResult {
    if !store::given(&args) && !args.dry_run {
        return Err(CliError::bad_input(
            "catch-up needs the receiver's store: a replay carries its original, old \
             timestamp, and the receiver lets it in only if its store expects it, so each \
             replay is recorded there before it is asked for (which also keeps a second pass \
             from asking again). Pass --inbox-url or --redis-url with the receiver's --secret, \
             or --dry-run to see what was lost without changing anything",
        ));
    }
    let store = store::open(&args).await?;
    let since = args.since.min(RETENTION);
    let catch_up = CatchUp::new(api.client.clone(), args.id.as_str())
        .since(since)
        .replay_window(args.replay_window)
        .replays_per_second(args.replays_per_second)
        .reactivate(!args.no_reactivate);
    let now_ms = crate::util::now_ms();
    let ledger = store.as_ref().map(|store| &store.ledger);
    let report = catch_up
        .run_once(ledger, now_ms, args.dry_run)
        .await
        .map_err(|err| api.fail(err))?;
    if api.json {
        json::print(&report)?;
    } else {
        report::print(&report::Context {
            id: &args.id,
            server: api.client.base_url(),
            since,
            since_ms: now_ms.saturating_sub(costkatana_webhooks::clock::millis(since)),
            store: store.as_ref().map(|store| store.name.as_str()),
            dry_run: args.dry_run,
            reactivate: !args.no_reactivate,
            report: &report,
        });
    }
    if report.complete {
        return Ok(());
    }
    Err(CliError::new(
        ErrorKind::Unavailable,
        format!(
            "the pass did not finish ({}): run it again; a later pass reads from the same start",
            report.stopped_by.as_deref().unwrap_or("no reason given")
        ),
    ))
}
