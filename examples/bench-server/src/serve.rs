//! The server under load: the same handler bare and behind the receiver.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::{get, post};
use costkatana_webhooks::receiver::{Delivery, HandlerError, Receiver, Router};
use costkatana_webhooks::{Event, Payload, Verifier};
use example_common::{init_observability, shutdown_signal, Config, WEBHOOK_PATH};

use crate::null_store::NullStore;

/// Events handled, so the handler has an effect the optimiser must keep.
static HANDLED: AtomicU64 = AtomicU64::new(0);

/// The handler both routes run.
async fn handle(event: Event) -> Result<(), HandlerError> {
    if event.id.is_some() {
        HANDLED.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

/// No verification, no dedupe: parse and handle, answer as the receiver does.
async fn bare(body: Bytes) -> (StatusCode, String) {
    let Some(event) = Event::from_slice(&body) else {
        return (StatusCode::BAD_REQUEST, "not an event".to_owned());
    };
    let id = event.id.clone().unwrap_or_default();
    match handle(event).await {
        Ok(()) => (
            StatusCode::OK,
            serde_json::json!({ "received": true, "event_id": id }).to_string(),
        ),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, String::new()),
    }
}

pub(crate) async fn run() -> Result<(), String> {
    let metrics = init_observability()?;
    let config = Config::from_env()?;
    let verifier = Verifier::builder()
        .secrets(config.secrets.iter().cloned())
        .past_tolerance(config.past_tolerance)
        .build()
        .map_err(|e| e.to_string())?;
    let handlers = Router::new()
        .on_category(costkatana_webhooks::Category::Cost, |event: Event, _| {
            handle(event)
        })
        .fallback(|payload: Payload, _: Delivery| async move {
            match payload {
                Payload::Event(event) => handle(*event).await,
                _ => Ok(()),
            }
        });
    // The default store: in memory, bounded.
    let receiver = Receiver::builder(verifier.clone())
        .router(handlers.clone())
        .build()
        .map_err(|e| e.to_string())?;
    // Diagnostic: the same receiver with a store that remembers nothing.
    let without_store = Receiver::builder(verifier)
        .store(NullStore)
        .router(handlers)
        .build()
        .map_err(|e| e.to_string())?;
    let app = axum::Router::new()
        .route("/bare", post(bare))
        .route(
            WEBHOOK_PATH,
            costkatana_webhooks_axum::receiver_route(receiver),
        )
        .route(
            "/diagnostic/no-store",
            costkatana_webhooks_axum::receiver_route(without_store),
        )
        .route(
            "/metrics",
            get(move || std::future::ready(metrics.render())),
        );
    let listener = tokio::net::TcpListener::bind(&config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on http://{addr}{WEBHOOK_PATH}");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}
