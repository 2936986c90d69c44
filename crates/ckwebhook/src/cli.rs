//! Command-line arguments: what each subcommand accepts, with its help text.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use costkatana_webhooks::inbox::EntryState;
use costkatana_webhooks::testing::Shape;
use costkatana_webhooks::Scheme;

use crate::duration::parse_duration;

/// Sign, send, receive and check Cost Katana webhooks on your machine.
#[derive(Debug, Parser)]
#[command(
    name = "ckwebhook",
    version,
    about = "Sign, send, receive and check Cost Katana webhooks locally",
    long_about = "Sign, send, receive and check Cost Katana webhooks locally.\n\n\
        `send` behaves like the real Cost Katana sender (same headers, same retries), \
        `listen` is a verifying receiver that prints every event, `verify` explains why a \
        captured request does not verify, `sign` prints the headers for a body, `inbox` \
        inspects and replays a durable inbox, and `events` lists every event type.",
    after_help = "Try it: `ckwebhook listen --secret s3cret` in one terminal, then \
        `ckwebhook send budget.exceeded --url http://127.0.0.1:3000/webhooks/costkatana --secret s3cret` \
        in another.\n\nExit status: 0 success, 1 not delivered or not valid, 2 bad input."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// List the 57 event types by category, with their alias spellings
    Events,
    /// Print the signature headers for a body
    #[command(long_about = "Print the signature headers to send with a body, one \
        `Name: value` per line.\n\nThe body is signed exactly as read (raw bytes of FILE, \
        or of stdin with `-` or no FILE): it is never parsed or re-serialised.")]
    Sign(SignArgs),
    /// Send a signed event like the Cost Katana sender does
    #[command(
        long_about = "Send a signed event like the Cost Katana sender does.\n\n\
        Builds a realistic event of EVENT_TYPE (or sends --body as is), signs it and POSTs it \
        with the sender's headers. 2xx means delivered; 5xx and timeouts are retried with the \
        ORIGINAL headers and timestamp (delay = initial-delay x multiplier^(n-1) x jitter \
        0.85-1.15, capped at 1 h); any other answer (4xx, 3xx, connection refused) is a \
        permanent failure. Exits 0 only when delivered.\n\nWith --count, sends that many \
        distinct events (each --duplicates times, concurrently) and prints a summary."
    )]
    Send(SendArgs),
    /// Run a local receiver that verifies and prints every event
    #[command(
        long_about = "Run a local receiver that verifies and prints every event.\n\n\
        Accepts POST on any path, verifies the signature (scheme detected per request), \
        deduplicates on the event id, and answers per the status table (200 processed or \
        duplicate, 400/401 rejected, 405 not a POST, 413 over 1 MiB, 503 in progress). \
        Stops on Ctrl-C."
    )]
    Listen(ListenArgs),
    /// Check a captured request and explain what is wrong with it
    #[command(
        long_about = "Check a captured request and explain what is wrong with it.\n\n\
        Reports the scheme the headers look like, the timestamp's age against the 300 s \
        default tolerance, and, when the signature does not match, whether it WOULD match \
        with a common mistake: a re-serialised body, a trailing newline added or removed, \
        whitespace in the secret, a hex- or base64-decoded secret, or the `whsec_` prefix \
        stripped. Exits 0 when the request is valid, 1 otherwise."
    )]
    Verify(VerifyArgs),
    /// Inspect and replay a durable inbox (SQLite or Postgres)
    #[command(
        long_about = "Inspect and replay the durable inbox a receiver stores its deliveries \
        in (costkatana-webhooks-inbox), on SQLite or Postgres.\n\n\
        `list` prints the rows per state and the newest rows, `show` one row in full (header \
        values that are signatures or credentials are always shown as [redacted]; the body \
        is the event, pretty-printed when it is JSON), `retry` makes a row or every dead \
        letter pending again for the receiver's workers, and `purge` deletes done rows \
        settled before a given age (a purged event's resent copy would be handled again). \
        A SQLite inbox is never created here: the file must exist.\n\n\
        Exits 1 when the inbox cannot be reached or the row does not exist (or is running, \
        for retry), 2 for a URL that is neither sqlite:<path> nor postgres:// or a SQLite \
        file that does not exist."
    )]
    Inbox(InboxArgs),
}

/// A signing scheme on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SchemeArg {
    // Help set as attributes: `<hex>` in a doc comment reads as HTML to rustdoc.
    #[value(help = "X-Webhook-Timestamp (ms) + X-Webhook-Signature (hex): the live sender")]
    Current,
    #[value(help = "X-CostKatana-Timestamp (ms) + X-CostKatana-Signature: sha256=<hex>")]
    Legacy,
    #[value(help = "X-CostKatana-Signature: t=<seconds>,v1=<hex>, as in the docs")]
    Documented,
}

impl From<SchemeArg> for Scheme {
    fn from(arg: SchemeArg) -> Self {
        match arg {
            SchemeArg::Current => Scheme::Current,
            SchemeArg::Legacy => Scheme::Legacy,
            SchemeArg::Documented => Scheme::Documented,
        }
    }
}

/// A body shape on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ShapeArg {
    /// The live sender's camelCase body (eventId, data.title, ...)
    Camel,
    /// The documented snake_case body (event_id, top-level title, ...)
    Snake,
}

impl From<ShapeArg> for Shape {
    fn from(arg: ShapeArg) -> Self {
        match arg {
            ShapeArg::Camel => Shape::Camel,
            ShapeArg::Snake => Shape::Snake,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// The webhook secret, used as given (UTF-8 text, never decoded)
    #[arg(
        long,
        value_name = "SECRET",
        env = "COSTKATANA_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    pub(crate) secret: String,
    /// The signing scheme
    #[arg(long, value_enum, value_name = "SCHEME", default_value_t = SchemeArg::Current)]
    pub(crate) scheme: SchemeArg,
    /// When it was signed: seconds (10 digits) or milliseconds (13 digits) since the epoch, or with an s/ms suffix [default: now]; each scheme gets its own unit
    #[arg(long, value_name = "TIME")]
    pub(crate) timestamp: Option<String>,
    /// The body file; `-` or nothing reads stdin
    #[arg(value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// The event type, such as budget.exceeded (see `ckwebhook events`)
    #[arg(value_name = "EVENT_TYPE", required_unless_present = "body")]
    pub(crate) event_type: Option<String>,
    /// Where to POST, such as http://127.0.0.1:3000/webhooks/costkatana
    #[arg(long, value_name = "URL")]
    pub(crate) url: String,
    /// The webhook secret, used as given
    #[arg(
        long,
        value_name = "SECRET",
        env = "COSTKATANA_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    pub(crate) secret: String,
    /// The signing scheme
    #[arg(long, value_enum, value_name = "SCHEME", default_value_t = SchemeArg::Current)]
    pub(crate) scheme: SchemeArg,
    /// The body shape of the generated event
    #[arg(long, value_enum, value_name = "SHAPE", default_value_t = ShapeArg::Camel)]
    pub(crate) shape: ShapeArg,
    /// Send this file's raw bytes instead of a generated event
    #[arg(long, value_name = "FILE", conflicts_with = "count")]
    pub(crate) body: Option<PathBuf>,
    /// An extra header, repeatable (e.g. `Authorization: Bearer t0ken`)
    #[arg(long = "header", value_name = "NAME:VALUE")]
    pub(crate) headers: Vec<String>,
    /// Retries after the first attempt, on 5xx and timeouts
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub(crate) retries: u32,
    /// Delay before the first retry (e.g. 200ms, 5s, 1m)
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub(crate) initial_delay: Duration,
    /// Factor between successive retry delays
    #[arg(long, value_name = "FACTOR", default_value_t = 2.0)]
    pub(crate) multiplier: f64,
    /// Per-attempt timeout (e.g. 500ms, 30s)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub(crate) timeout: Duration,
    /// Send this many distinct events and print a summary
    #[arg(long, value_name = "N")]
    pub(crate) count: Option<u64>,
    /// With --count: requests in flight at once
    #[arg(long, value_name = "C", default_value_t = 8, requires = "count")]
    pub(crate) concurrency: usize,
    /// With --count: identical copies of each event, sent concurrently
    #[arg(long, value_name = "K", default_value_t = 1, requires = "count")]
    pub(crate) duplicates: u32,
}

#[derive(Debug, Args)]
pub(crate) struct ListenArgs {
    /// Address to listen on (port 0 picks a free port)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3000")]
    pub(crate) addr: SocketAddr,
    /// The webhook secret [default: a random one, printed at start]
    #[arg(
        long,
        value_name = "SECRET",
        env = "COSTKATANA_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    pub(crate) secret: Option<String>,
    /// How old a timestamp may be (sender retries re-send the original timestamp)
    #[arg(long, value_name = "DURATION", default_value = "300s", value_parser = parse_duration)]
    pub(crate) tolerance: Duration,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("input").required(true).args(["request", "headers"]))]
pub(crate) struct VerifyArgs {
    /// The webhook secret you expect the request to be signed with
    #[arg(
        long,
        value_name = "SECRET",
        env = "COSTKATANA_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    pub(crate) secret: String,
    /// A raw HTTP/1.1 request: request line, headers, a blank line, the body
    #[arg(long, value_name = "FILE", conflicts_with_all = ["headers", "body"])]
    pub(crate) request: Option<PathBuf>,
    /// A file of `Name: value` header lines (use with --body)
    #[arg(long, value_name = "FILE", requires = "body")]
    pub(crate) headers: Option<PathBuf>,
    /// The raw body file (use with --headers)
    #[arg(long, value_name = "FILE", requires = "headers")]
    pub(crate) body: Option<PathBuf>,
    /// Check as of this time: seconds or milliseconds since the epoch (told apart by length, or an s/ms suffix), or `now` [default: now]
    #[arg(long, value_name = "TIME")]
    pub(crate) at: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct InboxArgs {
    // Help set as an attribute: `<path>` in a doc comment reads as HTML to rustdoc.
    #[arg(
        long,
        value_name = "URL",
        env = "INBOX_URL",
        hide_env_values = true,
        help = "The inbox: sqlite:<path> or postgres://user:password@host:port/database"
    )]
    pub(crate) url: String,
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
        long_about = "Print one row in full: every field, the stored headers with \
        signature, Authorization and Cookie values shown as [redacted], and the body as \
        text (pretty-printed, keys kept in order, when it is JSON). Exits 1 when there is \
        no such row."
    )]
    Show(InboxShowArgs),
    /// Make a row, or every dead letter, pending again
    #[command(
        long_about = "Make a row pending again with its attempts counted from zero, \
        for the receiver's workers to run: row ID (a dead letter, or a done row to replay), \
        or with --dead every dead letter. Exits 1 when row ID does not exist or is running."
    )]
    Retry(InboxRetryArgs),
    /// Delete done rows settled more than a given age ago
    #[command(
        long_about = "Delete done rows settled more than --older-than ago and print \
        how many. Pending, running and dead rows are never deleted. A receiver purges done \
        rows past its dedupe TTL by itself; purging earlier forgets those events, so a \
        resent copy would be handled again."
    )]
    Purge(InboxPurgeArgs),
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
#[command(group = clap::ArgGroup::new("target").required(true).args(["id", "dead"]))]
pub(crate) struct InboxRetryArgs {
    /// The row to queue again
    #[arg(value_name = "ID")]
    pub(crate) id: Option<i64>,
    /// Queue every dead letter again instead
    #[arg(long)]
    pub(crate) dead: bool,
}

#[derive(Debug, Args)]
pub(crate) struct InboxPurgeArgs {
    /// Delete done rows settled longer ago than this (e.g. 7d, 24h, 30m)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) older_than: Duration,
}
