//! `ckwebhook listen`: a local receiver that verifies and prints events.
//!
//! It is the library's [`Receiver`], served like the examples: the same
//! verification, dedupe keys, claims and answers as a user's receiver.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use clap::Args;
use costkatana_webhooks::Receiver;

use crate::duration::parse_duration;
use crate::error::{CliError, CliResult};
use crate::listen::{handler, print};
use crate::util::random_bytes;

#[derive(Debug, Args)]
#[command(
    about = "Run a local receiver that verifies and prints every event",
    long_about = "Run a local receiver that verifies and prints every event.\n\n\
        Accepts POST on any path, verifies the signature (scheme detected per request), \
        deduplicates on the event id, and answers per the status table (200 processed or \
        duplicate, 400/401 rejected, 405 not a POST, 413 over 1 MiB, 503 in progress). \
        Stops on Ctrl-C."
)]
pub(crate) struct ListenArgs {
    /// Address to listen on (port 0 picks a free port)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3000")]
    addr: SocketAddr,
    /// The webhook secret [default: a random one, printed at start]
    #[arg(
        long,
        value_name = "SECRET",
        env = "COSTKATANA_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    secret: Option<String>,
    /// How old a timestamp may be (sender retries re-send the original timestamp)
    #[arg(long, value_name = "DURATION", default_value = "300s", value_parser = parse_duration)]
    tolerance: Duration,
}

pub(crate) fn exec(args: ListenArgs) -> CliResult {
    let (secret, generated) = match args.secret {
        Some(secret) if secret.is_empty() => {
            return Err(CliError::bad_input("the secret is empty"))
        }
        Some(secret) => (secret, false),
        None => (
            format!("whsec_{}", hex::encode(random_bytes::<16>()?)),
            true,
        ),
    };
    let style = print::Style::for_stdout();
    let receiver = Receiver::builder()
        .secret(secret.as_str())
        // The default dedupe TTL covers the whole timestamp window.
        .past_tolerance(args.tolerance)
        .share(style)
        .fallback(handler::note)
        .build()
        .map_err(|err| {
            CliError::bad_input(format!("cannot verify with these settings: {err}"))
                .with_source(err)
        })?;
    let listening = Arc::new(handler::Listening { receiver, style });
    let app = Router::new()
        .fallback(handler::receive)
        .with_state(listening);
    let addr = args.addr;
    crate::runtime()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(addr).await.map_err(|err| {
                CliError::bad_input(format!("cannot listen on {addr}: {err}")).with_source(err)
            })?;
            let addr = listener
                .local_addr()
                .map_err(|err| CliError::system(format!("no local address: {err}")))?;
            // Installed before the lines that say it runs (Ctrl-C or SIGTERM).
            let stop = costkatana_webhooks_tower::shutdown_signal();
            outln!("listening on http://{addr} (POST to any path, e.g. http://{addr}/webhooks/costkatana); Ctrl-C stops");
            if generated {
                outln!("secret (generated; pass --secret to choose one): {secret}");
            }
            // Cuts clients slow to send headers or gone idle; backs off on
            // accept errors.
            costkatana_webhooks_tower::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await
                .map_err(|err| CliError::system(format!("the server failed: {err}")))?;
            outln!("stopped");
            Ok(())
        })
}
