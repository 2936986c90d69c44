//! A Cost Katana webhook receiver on axum, with the examples' fixed
//! interface (see `example-common`).
//!
//! ```text
//! COSTKATANA_WEBHOOK_SECRET=s3cret cargo run -p example-axum
//! ```

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use costkatana_webhooks::Receiver;
use costkatana_webhooks_axum::{serve, WebhookEndpoint};
use example_common::{init_observability, shutdown_signal, Config, WEBHOOK_PATH};

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
    let app = axum::Router::new()
        .route_service(WEBHOOK_PATH, WebhookEndpoint::new(receiver.clone()))
        .route("/health", get(health).with_state(receiver.clone()))
        .route(
            "/metrics",
            get(move || std::future::ready(metrics.render())),
        );
    let app = match config.console(&receiver)? {
        Some(console) => app.nest_service("/console", console),
        None => app,
    };

    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let shutdown = shutdown_signal();
    println!("listening on http://{addr}{WEBHOOK_PATH}");
    // Unlike `axum::serve`, cuts clients that are slow to send headers or
    // go idle, and backs off on accept errors.
    serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| e.to_string())?;
    // Drains background handlers in ack-first mode; returns at once otherwise.
    receiver.shutdown(example_common::SHUTDOWN_GRACE).await;
    Ok(())
}

/// `GET /health`: 200 while the receiver's store can take deliveries.
async fn health(State(receiver): State<Receiver>) -> (StatusCode, &'static str) {
    let (status, body) = example_common::health(&receiver).await;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    (status, body)
}
