//! `ckwebhook webhooks`: the Cost Katana management API from the command
//! line, through the library's typed [`Client`], and one pass of its
//! [`CatchUp`](costkatana_webhooks_api::CatchUp).
//!
//! Each verb's module calls the API and presents the answer: aligned
//! tables for people, or the API's object as JSON ([`json`]). Failures go
//! through [`failure`], which names the server and the cause and never the
//! key past its prefix. Header values that are signatures or credentials
//! are only ever shown redacted.

mod catch_up;
mod deliveries;
mod delivery;
mod edit;
mod events;
mod failure;
mod json;
mod list;
mod resend;
mod show;
mod stats;
mod table;
mod text;

use costkatana_webhooks_api::Client;

use crate::commands::webhooks::{ApiArgs, WebhooksArgs, WebhooksCommand};
use crate::error::{CliError, CliResult};

/// What every verb works with: the client, and how to print.
pub(crate) struct Api {
    /// The API's client.
    pub(crate) client: Client,
    /// `--json`: print the API's objects.
    pub(crate) json: bool,
}

/// Runs a `webhooks` verb.
pub(crate) fn run(args: WebhooksArgs) -> CliResult {
    let api = connect(&args.api)?;
    crate::runtime()?.block_on(async move {
        match args.command {
            WebhooksCommand::List(list) => list::run(&api, &list).await,
            WebhooksCommand::Get(id) => show::get(&api, &id.id).await,
            WebhooksCommand::Create(create) => edit::create(&api, create).await,
            WebhooksCommand::Update(update) => edit::update(&api, update).await,
            WebhooksCommand::Delete(id) => edit::delete(&api, &id.id).await,
            WebhooksCommand::Test(id) => resend::test(&api, &id.id).await,
            WebhooksCommand::Stats(id) => stats::run(&api, &id.id).await,
            WebhooksCommand::Deliveries(query) => deliveries::run(&api, &query).await,
            WebhooksCommand::Delivery(id) => delivery::run(&api, &id.id).await,
            WebhooksCommand::Replay(id) => resend::replay(&api, &id.id).await,
            WebhooksCommand::Events(_) => events::run(&api).await,
            WebhooksCommand::CatchUp(catch_up) => catch_up::run(&api, catch_up).await,
        }
    })
}

/// The client for `--api-url` with `--api-key`; no key is bad input.
fn connect(args: &ApiArgs) -> Result<Api, CliError> {
    let Some(key) = args.api_key.clone() else {
        return Err(CliError::bad_input(
            "no API key: pass --api-key or set COSTKATANA_API_KEY (a dashboard key, dak_…; \
             `ckwebhook sandbox` prints one for a local API)",
        ));
    };
    let client = Client::builder()
        .base_url(args.api_url.as_str())
        .api_key(key)
        .build()
        .map_err(|err| failure::api(err, None))?;
    Ok(Api {
        client,
        json: args.json,
    })
}
