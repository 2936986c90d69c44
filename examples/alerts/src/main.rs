//! The alerts receiver, with the examples' fixed interface (see
//! `example-common`) plus the downstream settings of [`AlertsConfig`].
//!
//! ```text
//! COSTKATANA_WEBHOOK_SECRET=s3cret SLACK_WEBHOOK_URL=https://hooks.slack.com/services/... \
//!   PAGERDUTY_ROUTING_KEY=... THROTTLE_URL=http://127.0.0.1:9000/throttle \
//!   NOTIFY_URL=http://127.0.0.1:9000/notify cargo run -p example-alerts
//! ```

use axum::routing::get;
use costkatana_webhooks_axum::serve;
use example_alerts::{app, routes, AlertsConfig};
use example_common::{init_observability, shutdown_signal, Config, SHUTDOWN_GRACE, WEBHOOK_PATH};

#[tokio::main]
async fn main() -> Result<(), String> {
    let metrics = init_observability()?;
    let config = Config::from_env()?;
    let alerts = AlertsConfig::from_env();
    tracing::info!(?alerts, "alerting to");
    // Bound before the receiver starts, so that what its first catch-up pass
    // replays finds a listener (a refused connection fails a delivery for good).
    let listener = tokio::net::TcpListener::bind(&config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let receiver = routes(config.receiver_builder().await?, alerts)?
        .build()
        .map_err(|e| e.to_string())?;
    receiver.start().await.map_err(|e| e.to_string())?;
    let app = app(receiver.clone()).route(
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
    serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| e.to_string())?;
    receiver.shutdown(SHUTDOWN_GRACE).await;
    Ok(())
}
