//! `ckwebhook webhooks`: manage webhooks and their deliveries over the Cost
//! Katana API, and recover the events a receiver missed. The arguments are
//! here; the work is in [`crate::webhooks`].

use std::fmt;
use std::time::Duration;

use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use costkatana_webhooks_api::{ApiKey, DeliveryStatus, DEFAULT_BASE_URL};

use crate::duration::parse_duration;
use crate::error::CliResult;

#[derive(Debug, Args)]
#[command(
    about = "Manage webhooks, their deliveries and replays over the Cost Katana API",
    long_about = "Manage webhooks over the Cost Katana management API (the live service, or \
        `ckwebhook sandbox`): create, list, change and delete them, send a test, read their \
        delivery records, replay one, list the event types, and catch up on the events the \
        sender dropped while a receiver was down.\n\n\
        Every verb needs the API key (--api-key or COSTKATANA_API_KEY; only its dak_ or ck_ \
        prefix is ever shown) and reads the API at --api-url (COSTKATANA_API_URL). Output is \
        aligned tables; --json prints the API's object instead (the webhook, the list, the \
        delivery, the catalogue…), for scripts.\n\n\
        Exits 1 when the API cannot be reached, refuses the key, has no such webhook or \
        delivery, or refuses the request as it stands (a test of an inactive webhook, a \
        replay of a pending delivery); 2 for bad input, the API's validation errors included \
        (each invalid field is printed as `field: message`).",
    after_help = "Try it locally: `ckwebhook sandbox` prints the COSTKATANA_API_URL and \
        COSTKATANA_API_KEY to export, then `ckwebhook webhooks create --name Mine --url \
        http://127.0.0.1:3000/webhooks/costkatana --events cost.alert,budget.exceeded`."
)]
pub(crate) struct WebhooksArgs {
    #[command(flatten)]
    pub(crate) api: ApiArgs,
    #[command(subcommand)]
    pub(crate) command: WebhooksCommand,
}

/// Where the API is, the key it wants, and how to print its answers.
#[derive(Debug, Args)]
pub(crate) struct ApiArgs {
    /// The API's base URL (routes are under /api/webhooks)
    #[arg(
        long,
        value_name = "URL",
        env = "COSTKATANA_API_URL",
        default_value = DEFAULT_BASE_URL,
        global = true
    )]
    pub(crate) api_url: String,
    /// The API key, a dashboard key starting dak_ (older ones ck_); required
    #[arg(
        long,
        value_name = "KEY",
        env = "COSTKATANA_API_KEY",
        hide_env_values = true,
        global = true,
        value_parser = api_key
    )]
    pub(crate) api_key: Option<ApiKey>,
    /// Print the API's object as JSON instead of a table
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

/// The key as given (its `Debug` shows the prefix only); an empty one is
/// refused here, naming the variable it may have come from.
fn api_key(text: &str) -> Result<ApiKey, String> {
    let key = ApiKey::new(text);
    if key.is_empty() {
        return Err("the API key is empty (check COSTKATANA_API_KEY)".to_owned());
    }
    Ok(key)
}

#[derive(Debug, Subcommand)]
pub(crate) enum WebhooksCommand {
    /// List the webhooks, newest first
    #[command(
        long_about = "List the webhooks, newest first: id, name, whether it is \
        active, its event types, its URL and its own delivery counters (delivered / failed, \
        counted by the sender once per delivery that ends). --active or --inactive keeps one \
        kind (the sender deactivates a webhook after more than 50 failed attempts in 24 h), \
        --events only those receiving one of these types. With --json, the API's list."
    )]
    List(ListArgs),
    /// Show one webhook: settings and counters
    #[command(
        long_about = "Show one webhook: name, URL, state, event types, time-out, \
        retry settings, auth kind, custom headers (credentials shown as [redacted]), filters, \
        the secret as the API masks it (****abcd: the API never returns a secret), and its \
        own delivery counters. With --json, the API's webhook object. Exits 1 when there is \
        no such webhook."
    )]
    Get(WebhookId),
    /// Create a webhook; the API generates its secret
    #[command(
        long_about = "Create a webhook delivering --events to --url and print it. \
        Event names are checked here against the 57 types (`ckwebhook events`); the guide's \
        spellings savings.milestone_reached and usage.spike_detected are accepted and sent \
        as the API spells them (savings.milestone, usage.spike); an unknown name is refused \
        (exit 2) with the closest known names. Durations take units and are sent in ms \
        (--timeout 30s sends 30000). Unset settings take the API's defaults: active, a 30 s \
        time-out, 3 retries from 5 s doubling.\n\n\
        The API never returns the secret (a secret you send is ignored; it generates 64 hex \
        characters): copy it from the dashboard, or on the sandbox from \
        GET /sandbox/webhooks/<id>/secret, into your receiver's COSTKATANA_WEBHOOK_SECRET."
    )]
    Create(CreateArgs),
    /// Change a webhook's settings; --active re-activates it
    #[command(
        long_about = "Change the settings given and print the webhook as the API \
        answers. Event names are checked and translated as for `create`; --events replaces \
        the whole list. A retry setting given alone keeps the other two as they are (read \
        first from the API). --active re-activates a webhook the sender deactivated (more than \
        50 failed attempts in 24 h): events emitted while it was inactive are gone for good; \
        `catch-up` recovers the ones that failed before. Exits 1 when there is no such \
        webhook, 2 when nothing is to change."
    )]
    Update(UpdateArgs),
    /// Delete a webhook and its delivery records
    #[command(
        long_about = "Delete a webhook; the API deletes its delivery records with it \
        (nothing can be replayed afterwards). Exits 1 when there is no such webhook."
    )]
    Delete(WebhookId),
    /// Send a test delivery (system.error, "Webhook Test")
    #[command(long_about = "Ask the API to send a test delivery to the webhook: a \
        system.error event titled \"Webhook Test\", signed with the webhook's secret like any \
        other. Prints the new delivery's id (`delivery <id>` shows how it went). Exits 1 \
        when the webhook is inactive (the API refuses to test it) or does not exist.")]
    Test(WebhookId),
    /// Show a webhook's delivery counters and the API's stats aggregate
    #[command(
        long_about = "Show a webhook's delivery figures from both places the API \
        keeps them, and which is which: the webhook's own counters (GET /api/webhooks/:id, \
        updated by the sender on every delivery that ends: the figures that move) and the \
        stats route's aggregate (GET /api/webhooks/:id/stats, overall and over 24 h, 7 and \
        30 days), which reads zero on the live service whatever was delivered (its query \
        matches no record). With --json, both objects under `counters` and `aggregate`."
    )]
    Stats(WebhookId),
    /// List a webhook's delivery records, newest first
    #[command(
        long_about = "List a webhook's delivery records, newest first: one per \
        attempt (a retry or a replay is a record of its own, with the same event id), with \
        its status and how it failed (network_error ECONNREFUSED: nothing listened; \
        http_error 4xx; retry_scheduled: a later attempt follows). --status and --type \
        filter, --limit sets how many (at most 100), --all reads every page. The sender \
        keeps records 30 days. With --json, the list of records."
    )]
    Deliveries(DeliveriesArgs),
    /// Show one delivery record, credentials redacted
    #[command(
        long_about = "Show one delivery record in full: status, attempt, error, the \
        receiver's answer, the stored request (URL, timestamp, headers, body) and, for a \
        replay, the delivery it replays. Signature and credential header values, and the \
        signature field, are shown as [redacted], in the --json output too: with the body \
        they would let anyone re-send the request within the receiver's window. Exits 1 \
        when there is no such delivery."
    )]
    Delivery(DeliveryId),
    /// Ask the sender to replay a delivery
    #[command(long_about = "Ask the sender to replay a delivery and print the new \
        record's id. A replay re-sends the original request unchanged (same URL, timestamp and \
        signature), so a receiver past its timestamp window refuses it as stale unless it \
        expects that replay: `catch-up` records the replays it asks for in the receiver's \
        store, this verb does not. Exits 1 for a pending delivery (the API refuses) or one \
        that does not exist.")]
    Replay(DeliveryId),
    /// List the event types the API accepts
    #[command(
        long_about = "List the event types the API accepts (its catalogue: 57 \
        types in 21 categories), with the guide's alias spellings that `create` and `update` \
        translate. With --json, the API's catalogue."
    )]
    Events(EventsArgs),
    /// Recover the events the sender dropped while a receiver was down
    #[command(
        long_about = "Run one pass of catch-up for a webhook and print what it \
        found and did. The sender fails a refused connection at once and never retries it, \
        and deactivates a webhook after more than 50 failures in 24 h: a receiver that was \
        down lost those events. A pass re-activates the webhook if the sender deactivated it \
        (events emitted while it was inactive are gone for good), reads its records since \
        --since, decides per event (its latest attempt failed for good, and the receiver's \
        store does not know it), and asks the sender to replay each lost event once.\n\n\
        A replay carries its original, old timestamp: the receiver lets it in only when its \
        store expects it. So catch-up records each replay in the receiver's store before \
        asking for it: give that store (--inbox-url or --redis-url) and the receiver's \
        secrets (--secret, comma-separated; the store's keys are namespaced by them, or by \
        --namespace when the receiver sets one). The record also keeps a second pass, or \
        another replica, from asking again. Without a store only --dry-run runs, and it \
        reports only the deliveries that never reached the receiver (refused connection, \
        unknown host): a time-out or a 5xx may have been handled.\n\n\
        --dry-run changes nothing: no re-activation, no replay, no record. Exits 1 when \
        the pass could not finish (run it again), 2 without a store outside --dry-run."
    )]
    CatchUp(CatchUpArgs),
}

/// A webhook's id.
#[derive(Debug, Args)]
pub(crate) struct WebhookId {
    /// The webhook's id: 24 hex characters (the first column of `list`)
    #[arg(value_name = "ID")]
    pub(crate) id: String,
}

/// A delivery record's id.
#[derive(Debug, Args)]
pub(crate) struct DeliveryId {
    /// The delivery record's id (the first column of `deliveries`)
    #[arg(value_name = "DELIVERY_ID")]
    pub(crate) id: String,
}

/// `events` takes nothing but the global flags.
#[derive(Debug, Args)]
pub(crate) struct EventsArgs {}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Only active webhooks
    #[arg(long, conflicts_with = "inactive")]
    pub(crate) active: bool,
    /// Only inactive webhooks (the sender deactivates one after more than 50 failures in 24 h)
    #[arg(long)]
    pub(crate) inactive: bool,
    /// Only webhooks receiving one of these event types (comma-separated)
    #[arg(long, value_name = "TYPES", value_delimiter = ',')]
    pub(crate) events: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// Its name (1 to 100 characters)
    #[arg(long, value_name = "NAME")]
    pub(crate) name: String,
    /// Where deliveries go (your receiver's URL)
    #[arg(long, value_name = "URL")]
    pub(crate) url: String,
    /// The event types it receives, comma-separated (1 to 50 of the 57; aliases accepted)
    #[arg(long, value_name = "TYPES", value_delimiter = ',', required = true)]
    pub(crate) events: Vec<String>,
    #[command(flatten)]
    pub(crate) settings: Settings,
}

#[derive(Debug, Args)]
pub(crate) struct UpdateArgs {
    /// The webhook's id
    #[arg(value_name = "ID")]
    pub(crate) id: String,
    /// A new name
    #[arg(long, value_name = "NAME")]
    pub(crate) name: Option<String>,
    /// A new URL
    #[arg(long, value_name = "URL")]
    pub(crate) url: Option<String>,
    /// New event types, comma-separated: they replace the list (aliases accepted)
    #[arg(long, value_name = "TYPES", value_delimiter = ',')]
    pub(crate) events: Option<Vec<String>>,
    #[command(flatten)]
    pub(crate) settings: Settings,
}

/// The optional settings `create` and `update` share.
#[derive(Debug, Args)]
#[command(group = ArgGroup::new("state").args(["active", "inactive"]))]
pub(crate) struct Settings {
    /// A description (at most 500 characters)
    #[arg(long, value_name = "TEXT")]
    pub(crate) description: Option<String>,
    /// How long the sender waits for an answer, 5s to 120s (sent in ms) [API default: 30s]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) timeout: Option<Duration>,
    /// Retries after a 5xx or a time-out, 0 to 10 (the API reads 0 as 3) [API default: 3]
    #[arg(long, value_name = "N")]
    pub(crate) max_retries: Option<u32>,
    /// The wait before the first retry, 1s to 60s (sent in ms) [API default: 5s]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) initial_delay: Option<Duration>,
    /// The factor between two waits, 1 to 5 [API default: 2]
    #[arg(long, value_name = "FACTOR")]
    pub(crate) backoff_multiplier: Option<f64>,
    /// Make it active (update: re-activate it)
    #[arg(long)]
    pub(crate) active: bool,
    /// Make it inactive: it gets no deliveries, and events meanwhile are not kept
    #[arg(long)]
    pub(crate) inactive: bool,
}

impl Settings {
    /// `Some(true)` for --active, `Some(false)` for --inactive.
    pub(crate) fn state(&self) -> Option<bool> {
        match (self.active, self.inactive) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        }
    }
}

/// A delivery status on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum StatusArg {
    /// Waiting to be sent (a first attempt, a retry, a replay)
    Pending,
    /// Answered 2xx
    Success,
    /// Failed (retry_scheduled when a later attempt follows)
    Failed,
    /// Timed out
    Timeout,
    /// Cancelled
    Cancelled,
}

impl From<StatusArg> for DeliveryStatus {
    fn from(status: StatusArg) -> Self {
        match status {
            StatusArg::Pending => DeliveryStatus::Pending,
            StatusArg::Success => DeliveryStatus::Success,
            StatusArg::Failed => DeliveryStatus::Failed,
            StatusArg::Timeout => DeliveryStatus::Timeout,
            StatusArg::Cancelled => DeliveryStatus::Cancelled,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct DeliveriesArgs {
    /// The webhook's id
    #[arg(value_name = "ID")]
    pub(crate) id: String,
    /// Only records with this status
    #[arg(long, value_enum, value_name = "STATUS")]
    pub(crate) status: Option<StatusArg>,
    /// Only records of this event type (aliases accepted)
    #[arg(long = "type", value_name = "TYPE")]
    pub(crate) event_type: Option<String>,
    /// How many records, newest first (1 to 100)
    #[arg(
        long,
        value_name = "N",
        default_value_t = 20,
        value_parser = clap::value_parser!(u32).range(1..=100)
    )]
    pub(crate) limit: u32,
    /// Every record, page after page
    #[arg(long, conflicts_with = "limit")]
    pub(crate) all: bool,
}

#[derive(Debug, Args)]
pub(crate) struct CatchUpArgs {
    /// The webhook's id
    #[arg(value_name = "ID")]
    pub(crate) id: String,
    /// How far back to read the delivery records (at most 30d, the sender's retention)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "24h")]
    pub(crate) since: Duration,
    /// Change nothing: report what a pass would do
    #[arg(long)]
    pub(crate) dry_run: bool,
    // Help set as an attribute: `<path>` in a doc comment reads as HTML to rustdoc.
    #[arg(
        long,
        value_name = "URL",
        help = "The receiver's inbox: sqlite:<path> or postgres://… (it must exist)",
        env = "INBOX_URL",
        hide_env_values = true,
        conflicts_with = "redis_url",
        value_parser = hidden
    )]
    pub(crate) inbox_url: Option<Hidden>,
    /// The receiver's Redis store: redis://… or rediss://…
    #[arg(
        long,
        value_name = "URL",
        env = "REDIS_URL",
        hide_env_values = true,
        value_parser = hidden
    )]
    pub(crate) redis_url: Option<Hidden>,
    /// The key prefix the receiver's Redis store uses [default: costkatana:webhooks:]
    #[arg(long, value_name = "PREFIX", requires = "redis_url")]
    pub(crate) redis_prefix: Option<String>,
    /// The receiver's secrets, comma-separated (its store's keys are namespaced by them)
    #[arg(
        long,
        value_name = "SECRETS",
        env = "COSTKATANA_WEBHOOK_SECRET",
        hide_env_values = true,
        value_parser = hidden
    )]
    pub(crate) secret: Option<Hidden>,
    /// The receiver's namespace, when it sets one (ReceiverBuilder::namespace)
    #[arg(long, value_name = "NAMESPACE")]
    pub(crate) namespace: Option<String>,
    /// How long the receiver accepts a replay asked for now
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "1h")]
    pub(crate) replay_window: Duration,
    /// The most replays asked of the sender in a second
    #[arg(
        long,
        value_name = "N",
        default_value_t = 20,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub(crate) replays_per_second: u32,
    /// Leave a webhook the sender deactivated inactive
    #[arg(long)]
    pub(crate) no_reactivate: bool,
}

/// A value that is a credential or may hold one (a secret, a store URL
/// with its password): `Debug` never shows it.
#[derive(Clone)]
pub(crate) struct Hidden(pub(crate) String);

impl fmt::Debug for Hidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hidden(…)")
    }
}

fn hidden(text: &str) -> Result<Hidden, std::convert::Infallible> {
    Ok(Hidden(text.to_owned()))
}

pub(crate) fn exec(args: WebhooksArgs) -> CliResult {
    crate::webhooks::run(args)
}
