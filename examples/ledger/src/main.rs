//! The ledger receiver: every handled event recorded once in
//! `handled_events`, in the inbox's own database (see the crate docs).
//!
//! ```text
//! COSTKATANA_WEBHOOK_SECRET=s3cret INBOX_URL=sqlite:inbox.db cargo run -p example-ledger
//! sqlite3 inbox.db 'SELECT event_id, COUNT(*) FROM handled_events GROUP BY event_id'
//! ```
//!
//! Exits with status 2 when its settings are wrong (no `INBOX_URL`), 1
//! when it cannot start (an inbox it cannot open).

use std::process::ExitCode;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use costkatana_webhooks::Receiver;
use costkatana_webhooks_axum::{serve, WebhookEndpoint};
use example_common::{init_observability, shutdown_signal, Config, SHUTDOWN_GRACE, WEBHOOK_PATH};

fn main() -> ExitCode {
    let settings = Config::from_env().and_then(|config| {
        let url = config.inbox_url.clone().ok_or(
            "INBOX_URL is required: the ledger writes to the inbox's own database \
             (INBOX_URL=sqlite:<path> or postgres://…)",
        )?;
        Ok((config, url, example_ledger::handler_delay_from_env()?))
    });
    let (config, url, delay) = match settings {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("example-ledger: {err}");
            return ExitCode::from(2);
        }
    };
    match run(&config, &url, delay) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("example-ledger: {err}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn run(config: &Config, url: &str, delay: Duration) -> Result<(), String> {
    let metrics = init_observability()?;
    let listener = tokio::net::TcpListener::bind(&config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    // Opens (and migrates) the inbox, then adds the ledger's table beside it.
    let builder = config.receiver_builder().await?;
    example_ledger::create_table(url).await?;
    let receiver = example_ledger::routes(builder, delay)
        .build()
        .map_err(|e| e.to_string())?;
    receiver.start().await.map_err(|e| e.to_string())?;

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
    serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| e.to_string())?;
    receiver.shutdown(SHUTDOWN_GRACE).await;
    Ok(())
}

/// `GET /health`: 200 while the inbox can take deliveries.
async fn health(State(receiver): State<Receiver>) -> (StatusCode, &'static str) {
    let (status, body) = example_common::health(&receiver).await;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    (status, body)
}
