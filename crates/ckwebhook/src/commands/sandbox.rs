//! `ckwebhook sandbox`: a local Cost Katana (the webhook management API and
//! the delivery engine, in memory) to try a receiver and an API client
//! against without an account. The sandbox is
//! `costkatana-webhooks-sandbox`'s; this starts it and says how to use it.

use std::fmt;
use std::net::SocketAddr;

use clap::Args;
use costkatana_webhooks_sandbox::{Sandbox, StartError};

use crate::error::{CliError, CliResult};

#[derive(Args)]
#[command(
    about = "Run a local Cost Katana: the webhook API and delivery engine, in memory",
    long_about = "Run a local Cost Katana: the webhook management API and the delivery engine, in memory.\n\n\
        Serves every /api/webhooks route of the live service with its answers, validation and \
        errors, and delivers events to your receivers as it does: signed once, each attempt a \
        delivery record, 5xx and time-outs retried with the original request, refused \
        connections failed at once, webhooks deactivated after more than 50 failures in 24 h, \
        replays re-sending the original request. Two routes stand for the dashboard: \
        GET /sandbox/webhooks/:id/secret (the full secret) and POST /sandbox/events \
        ({\"eventType\": …, \"data\"?: {…}, \"userId\"?: …}) to emit an event. \
        Everything is lost when it stops (Ctrl-C or SIGTERM)."
)]
pub(crate) struct SandboxArgs {
    /// Address to listen on (port 0 picks a free port)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4000")]
    addr: SocketAddr,
    /// The API key every route requires as `Authorization: Bearer <key>` [default: a random dak_ key, printed at start]
    #[arg(
        long,
        value_name = "KEY",
        env = "COSTKATANA_API_KEY",
        hide_env_values = true
    )]
    api_key: Option<String>,
    /// Divides every retry delay: 10 turns the live 10, 20, 40 s into 1, 2, 4 s (nothing else changes)
    #[arg(long, value_name = "N", default_value_t = 1.0)]
    speed: f64,
}

impl fmt::Debug for SandboxArgs {
    // The key, if given, is shown by its prefix only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = self.api_key.as_deref().map(prefix);
        f.debug_struct("SandboxArgs")
            .field("addr", &self.addr)
            .field("api_key", &key)
            .field("speed", &self.speed)
            .finish()
    }
}

/// What may be shown of a key: `dak_…`, `ck_…`, or `…`.
fn prefix(key: &str) -> String {
    let shown = ["dak_", "ck_"]
        .into_iter()
        .find(|p| key.starts_with(p))
        .unwrap_or("");
    format!("{shown}…")
}

pub(crate) fn exec(args: SandboxArgs) -> CliResult {
    let given_key = args.api_key.clone();
    let mut builder = Sandbox::builder().bind(args.addr).speed(args.speed);
    if let Some(key) = args.api_key {
        builder = builder.api_key(key);
    }
    crate::runtime()
        .map_err(CliError::system)?
        .block_on(async move {
            let sandbox = builder.start().await.map_err(|err| match err {
                StartError::ApiKey(_) | StartError::Speed(_) | StartError::Bind { .. } => {
                    CliError::bad_input(err.to_string()).with_source(err)
                }
                other => CliError::system(&other).with_source(other),
            })?;
            // Installed before the lines that say it runs: a signal sent as
            // soon as they are read stops it cleanly.
            let stop = costkatana_webhooks_tower::shutdown_signal();
            let url = sandbox.url();
            outln!(
                "Cost Katana sandbox on {url} (in memory; retry delays divided by {}); Ctrl-C stops",
                args.speed
            );
            outln!("export COSTKATANA_API_URL={url}");
            match given_key {
                // A key the user gave is theirs and may be a live one: not
                // printed (they have it).
                Some(key) => {
                    outln!("# COSTKATANA_API_KEY: the key you gave ({})", prefix(&key));
                    outln!(
                        "curl -H \"Authorization: Bearer $COSTKATANA_API_KEY\" {url}/api/webhooks/events"
                    );
                }
                None => {
                    let key = sandbox.api_key().expose();
                    outln!(
                        "export COSTKATANA_API_KEY={key}  # generated; --api-key or COSTKATANA_API_KEY chooses one"
                    );
                    outln!("curl -H \"Authorization: Bearer {key}\" {url}/api/webhooks/events");
                }
            }
            stop.await;
            sandbox.shutdown().await;
            outln!("stopped");
            Ok(())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_show_their_prefix_only() {
        assert_eq!(prefix("dak_123_456_789"), "dak_…");
        assert_eq!(prefix("ck_abc"), "ck_…");
        assert_eq!(prefix("s3cret"), "…");
    }
}
