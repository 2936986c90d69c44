//! `ckwebhook listen`: a local receiver that verifies and prints events.

mod handler;
mod print;

use std::sync::Arc;

use axum::Router;
use costkatana_webhooks::dedupe::MemoryStore;
use costkatana_webhooks::Verifier;

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
    let verifier = Verifier::builder()
        .secret(secret.as_str())
        .past_tolerance(args.tolerance)
        .build()
        .map_err(|err| format!("cannot verify with these settings: {err}"))?;
    let state = Arc::new(handler::State {
        verifier,
        store: MemoryStore::new(),
        style: print::Style::for_stdout(),
        dedupe_ttl: args.tolerance.max(handler::MIN_DEDUPE_TTL),
    });
    let app = Router::new().fallback(handler::receive).with_state(state);
    crate::runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .map_err(|err| format!("cannot listen on {}: {err}", args.addr))?;
        let addr = listener
            .local_addr()
            .map_err(|err| format!("no local address: {err}"))?;
        println!("listening on http://{addr} (POST to any path, e.g. http://{addr}/webhooks/costkatana); Ctrl-C stops");
        if generated {
            println!("secret (generated; pass --secret to choose one): {secret}");
        }
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                // If the signal handler cannot be installed, run until killed.
                if tokio::signal::ctrl_c().await.is_err() {
                    std::future::pending::<()>().await;
                }
            })
            .await
            .map_err(|err| format!("the server failed: {err}"))?;
        println!("stopped");
        Ok(Exit::Success)
    })
}
