//! `ckwebhook listen`: a local receiver that verifies and prints events.
//!
//! It is the library's [`Receiver`], served like the examples: the same
//! verification, dedupe keys, claims and answers as a user's receiver.

mod handler;
mod print;

use std::sync::Arc;

use axum::Router;
use costkatana_webhooks::Receiver;

use crate::cli::ListenArgs;
use crate::util::random_bytes;
use crate::Exit;

pub(crate) fn run(args: &ListenArgs) -> Result<Exit, String> {
    let (secret, generated) = match &args.secret {
        Some(secret) if secret.is_empty() => return Err("the secret is empty".into()),
        Some(secret) => (secret.clone(), false),
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
        .map_err(|err| format!("cannot verify with these settings: {err}"))?;
    let listening = Arc::new(handler::Listening { receiver, style });
    let app = Router::new()
        .fallback(handler::receive)
        .with_state(listening);
    crate::runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .map_err(|err| format!("cannot listen on {}: {err}", args.addr))?;
        let addr = listener
            .local_addr()
            .map_err(|err| format!("no local address: {err}"))?;
        outln!("listening on http://{addr} (POST to any path, e.g. http://{addr}/webhooks/costkatana); Ctrl-C stops");
        if generated {
            outln!("secret (generated; pass --secret to choose one): {secret}");
        }
        // Cuts clients slow to send headers or gone idle; backs off on
        // accept errors.
        costkatana_webhooks_tower::serve(listener, app)
            .with_graceful_shutdown(async {
                // If the signal handler cannot be installed, run until killed.
                if tokio::signal::ctrl_c().await.is_err() {
                    std::future::pending::<()>().await;
                }
            })
            .await
            .map_err(|err| format!("the server failed: {err}"))?;
        outln!("stopped");
        Ok(Exit::Success)
    })
}
