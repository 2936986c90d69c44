//! A Cost Katana webhook receiver served by hyper 1 with the tower
//! [`WebhookEndpoint`], no web framework, and the examples' fixed
//! interface (see `example-common`): `COSTKATANA_WEBHOOK_SECRET`, `ADDR`,
//! `COSTKATANA_WEBHOOK_TOLERANCE_SECS`, `REDIS_URL`; `POST
//! /webhooks/costkatana`, `GET /health`, `GET /metrics`.
//!
//! ```text
//! COSTKATANA_WEBHOOK_SECRET=s3cret cargo run -p example-tower
//! ```

mod routes;

use costkatana_webhooks_tower::{serve, WebhookEndpoint};
use example_common::{init_observability, shutdown_signal, Config, SHUTDOWN_GRACE, WEBHOOK_PATH};

use routes::Routes;

#[tokio::main]
async fn main() -> Result<(), String> {
    let metrics = init_observability()?;
    let config = Config::from_env()?;
    // Bound before the receiver starts, so that what its first catch-up pass
    // replays finds a listener (a refused connection fails a delivery for good).
    let listener = tokio::net::TcpListener::bind(&config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let receiver = config.receiver().await?;
    let routes = Routes {
        endpoint: WebhookEndpoint::new(receiver.clone()),
        receiver: receiver.clone(),
        metrics,
        console: config.console(&receiver)?,
    };

    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Installed before announcing the address, so no signal is missed.
    let shutdown = shutdown_signal();
    println!("listening on http://{addr}{WEBHOOK_PATH}");

    // Header-read and idle time-outs, accept back-off, graceful shutdown.
    serve(listener, routes)
        .with_graceful_shutdown(shutdown)
        .shutdown_grace(SHUTDOWN_GRACE)
        .await
        .map_err(|e| e.to_string())?;
    // Drains background handlers in ack-first mode; returns at once otherwise.
    receiver.shutdown(SHUTDOWN_GRACE).await;
    Ok(())
}
