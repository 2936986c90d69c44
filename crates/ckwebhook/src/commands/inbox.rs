//! `ckwebhook inbox`: inspect and replay a durable inbox. The arguments are
//! here; the work is in [`crate::inbox`].

use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use costkatana_webhooks::inbox::EntryState;

use crate::duration::parse_duration;
use crate::error::CliResult;

#[derive(Debug, Args)]
#[command(
    about = "Inspect and replay a durable inbox (SQLite or Postgres)",
    long_about = "Inspect and replay the durable inbox a receiver stores its deliveries \
        in (costkatana-webhooks-inbox), on SQLite or Postgres.\n\n\
        `list` prints the rows per state and the newest rows, `show` one row in full (header \
        values that are signatures or credentials, and a dedupe key that is a signature, are \
        always shown as [redacted]; the body is the event, pretty-printed when it is JSON), \
        `retry` makes a row or every dead letter pending again for the receiver's workers, \
        and `purge` deletes done or dead rows settled before a given age (a purged event's \
        resent copy would be handled again). Control and bidirectional-formatting characters \
        in stored values are shown escaped. A SQLite inbox is never created here: the file \
        must exist.\n\n\
        Exits 1 when the inbox cannot be reached or the row does not exist (or is running, \
        or is done and --force is not given, for retry), 2 for a URL that is neither \
        sqlite:<path> nor postgres:// or a SQLite file that does not exist."
)]
pub(crate) struct InboxArgs {
    // Help set as an attribute: `<path>` in a doc comment reads as HTML to rustdoc.
    // Global, so that `inbox console --url ...` reads as well as `inbox --url ... console`
    // (clap refuses a global argument that is required: inbox::run asks for it).
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "INBOX_URL",
        hide_env_values = true,
        help = "The inbox: sqlite:<path> or postgres://user:password@host:port/database"
    )]
    pub(crate) url: Option<String>,
    #[command(subcommand)]
    pub(crate) command: InboxCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum InboxCommand {
    /// Print the rows per state, then the newest rows
    #[command(
        long_about = "Print the rows per state (and the age of the oldest pending \
        row), then one line per row, newest first: id, state, attempts, event type, event \
        id, arrival time (UTC) and the last attempt's error."
    )]
    List(InboxListArgs),
    /// Print one row in full: fields, redacted headers and body
    #[command(
        long_about = "Print one row in full: every field (a dedupe key that is the \
        delivery's signature, for a body without an event id, with the signature shown as \
        [redacted]), the stored headers with signature, Authorization and Cookie values \
        shown as [redacted], and the body as text (pretty-printed, keys kept in order, when \
        it is JSON). A done row keeps neither body nor headers unless its inbox keeps them \
        (keep_done_bodies): it says so. Exits 1 when there is no such row."
    )]
    Show(InboxShowArgs),
    /// Make a row, or the dead (or done) rows a filter matches, pending again
    #[command(
        long_about = "Make rows pending again with their attempts counted from zero, \
        for the receiver's workers to run: row ID (a dead letter; a done row only with \
        --force, since its event was already handled and would be handled again), or with \
        --dead the dead letters, or with --done --force the done rows, that --type, --since, \
        --id-prefix and --text match (all of them without a filter), at most --per-second a second \
        (default 100), after printing how many; --dry-run prints the count only. Pending and \
        running rows are never touched, nor done rows whose body was not kept. Exits 1 when \
        row ID does not exist, is running, or is done without --force (or done and its body \
        was not kept)."
    )]
    Retry(InboxRetryArgs),
    /// Delete done or dead rows settled more than a given age ago
    #[command(
        long_about = "Delete the rows in --state (done, the default, or dead) settled \
        more than --older-than ago that --type, --id-prefix and --text match (when given), \
        and print how many; with --dry-run \
        only count them. Pending and running rows are never deleted. A receiver purges done \
        rows past its dedupe TTL by itself; purging earlier forgets those events, so a \
        resent copy would be handled again. Dead letters are kept until purged here (or \
        with Inbox::purge): a purged dead letter is gone for good."
    )]
    Purge(InboxPurgeArgs),
    /// Serve the inbox console (web pages and a JSON API) on 127.0.0.1:8081
    #[command(
        long_about = "Serve the inbox console for this inbox: the counts by state, the \
        deliveries with filters, each one's headers (credentials redacted) and body, Retry and \
        Purge one or all on a filter, and a JSON API for scripts, under /console/. Sign in with \
        the token in INBOX_CONSOLE_TOKEN, or the one generated and printed at start. Binds \
        127.0.0.1:8081 unless --addr says otherwise; behind a TLS proxy give --public-origin. \
        Stops on Ctrl-C or SIGTERM."
    )]
    Console(InboxConsoleArgs),
}

/// A row state on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum StateArg {
    /// Stored, waiting for a worker
    Pending,
    /// A worker's handler is running it
    Running,
    /// Handled
    Done,
    /// Dead-lettered: failed its last attempt, or refused
    Dead,
}

impl From<StateArg> for EntryState {
    fn from(arg: StateArg) -> Self {
        match arg {
            StateArg::Pending => EntryState::Pending,
            StateArg::Running => EntryState::Running,
            StateArg::Done => EntryState::Done,
            StateArg::Dead => EntryState::Dead,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct InboxListArgs {
    /// Only rows in this state
    #[arg(long, value_enum, value_name = "STATE")]
    pub(crate) state: Option<StateArg>,
    /// At most this many rows, newest first
    #[arg(
        long,
        value_name = "N",
        default_value_t = 50,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    pub(crate) limit: usize,
}

#[derive(Debug, Args)]
pub(crate) struct InboxShowArgs {
    /// The row's id (the first column of `list`)
    #[arg(value_name = "ID")]
    pub(crate) id: i64,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("target").required(true).args(["id", "dead", "done"]))]
pub(crate) struct InboxRetryArgs {
    /// The row to queue again
    #[arg(value_name = "ID", conflicts_with_all = ["event_type", "id_prefix", "text"])]
    pub(crate) id: Option<i64>,
    /// Queue the dead letters again (every one, or those the filters match)
    #[arg(long)]
    pub(crate) dead: bool,
    /// Queue done rows again (those the filters match; needs --force)
    #[arg(long, requires = "force")]
    pub(crate) done: bool,
    /// Run again what was already handled: row ID when it is done, or --done
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) matching: MatchArgs,
    /// Only rows that arrived within this long (e.g. 24h, 7d)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, conflicts_with = "id")]
    pub(crate) since: Option<Duration>,
    /// Count the rows that would be queued, queueing none
    #[arg(long, conflicts_with = "id")]
    pub(crate) dry_run: bool,
    /// Queue at most this many a second, so the handlers' downstream is not flooded
    #[arg(
        long,
        value_name = "N",
        default_value_t = 100,
        value_parser = clap::value_parser!(u32).range(1..),
        conflicts_with = "id"
    )]
    pub(crate) per_second: u32,
}

/// The filters `retry` and `purge` share.
#[derive(Debug, Args)]
pub(crate) struct MatchArgs {
    /// Only rows of this event type (as listed, such as cost.alert)
    #[arg(long = "type", value_name = "TYPE")]
    pub(crate) event_type: Option<String>,
    /// Only rows whose event id starts with this
    #[arg(long, value_name = "PREFIX")]
    pub(crate) id_prefix: Option<String>,
    /// Only rows whose event id, type, last error or stored body contains this text
    /// (case-sensitive; reads every row the other filters leave)
    #[arg(long, value_name = "TEXT")]
    pub(crate) text: Option<String>,
}

/// The states a purge deletes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PurgeStateArg {
    /// Handled
    Done,
    /// Dead-lettered
    Dead,
}

impl From<PurgeStateArg> for EntryState {
    fn from(arg: PurgeStateArg) -> Self {
        match arg {
            PurgeStateArg::Done => EntryState::Done,
            PurgeStateArg::Dead => EntryState::Dead,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct InboxPurgeArgs {
    /// Delete rows in this state
    #[arg(long, value_enum, value_name = "STATE", default_value = "done")]
    pub(crate) state: PurgeStateArg,
    /// Delete rows settled longer ago than this (e.g. 7d, 24h, 30m)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) older_than: Duration,
    #[command(flatten)]
    pub(crate) matching: MatchArgs,
    /// Count the rows that would be deleted, deleting none
    #[arg(long)]
    pub(crate) dry_run: bool,
}

#[derive(Debug, Args)]
pub(crate) struct InboxConsoleArgs {
    /// Where to listen
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8081")]
    pub(crate) addr: std::net::SocketAddr,
    /// The console's public origin behind a proxy (`https://ops.example.com`): the only one
    /// its forms are accepted from; an https one also makes its cookies Secure
    #[arg(long, value_name = "ORIGIN")]
    pub(crate) public_origin: Option<String>,
    /// Believe X-Forwarded-Proto and X-Forwarded-Host (only behind a proxy that sets them)
    #[arg(long)]
    pub(crate) trust_forwarded_headers: bool,
}

pub(crate) fn exec(args: InboxArgs) -> CliResult {
    crate::inbox::run(&args)
}
