//! The server under load: a bare route, a naive parsing one, and the
//! handler behind the receiver.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::{get, post};
use costkatana_webhooks::{Category, Event, HandlerResult, Payload, ReceiverBuilder};
use costkatana_webhooks_axum::{serve, WebhookEndpoint};
use example_common::{init_observability, shutdown_signal, Config, SHUTDOWN_GRACE, WEBHOOK_PATH};

use crate::null_store::NullStore;

/// Events handled, so the handler has an effect the optimiser must keep.
static HANDLED: AtomicU64 = AtomicU64::new(0);

/// The handler both routes run.
async fn handle(event: Event) -> HandlerResult {
    if event.id.is_some() {
        HANDLED.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

/// The floor: read the body as bytes and answer the receiver's JSON, with
/// no parsing, no verification, no dedupe.
async fn bare(body: Bytes) -> (StatusCode, String) {
    HANDLED.fetch_add(u64::from(!body.is_empty()), Ordering::Relaxed);
    (
        StatusCode::OK,
        serde_json::json!({ "received": true, "event_id": "" }).to_string(),
    )
}

/// What a handler written without this crate does: parse the body into a
/// `serde_json::Value` (no verification, no dedupe) and answer.
async fn naive(body: Bytes) -> (StatusCode, String) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON".to_owned());
    };
    let id = value["eventId"].as_str().unwrap_or_default();
    HANDLED.fetch_add(u64::from(!id.is_empty()), Ordering::Relaxed);
    (
        StatusCode::OK,
        serde_json::json!({ "received": true, "event_id": id }).to_string(),
    )
}

/// The one handler, routed as a user would.
fn routes(builder: ReceiverBuilder) -> ReceiverBuilder {
    builder
        .on(Category::Cost, handle)
        .fallback(|payload: Payload| async move {
            match payload {
                Payload::Event(event) => handle(*event).await,
                _ => Ok(()),
            }
        })
}

pub(crate) async fn run() -> Result<(), String> {
    let metrics = init_observability()?;
    let config = Config::from_env()?;
    // The default store: in memory, bounded.
    let receiver = routes(config.receiver_builder().await?)
        .build()
        .map_err(|e| e.to_string())?;
    receiver.start().await.map_err(|e| e.to_string())?;
    let mut app = axum::Router::new()
        .route("/bare", post(bare))
        .route("/naive", post(naive))
        .route_service(WEBHOOK_PATH, WebhookEndpoint::new(receiver.clone()))
        .route(
            "/metrics",
            get(move || std::future::ready(metrics.render())),
        );
    // Diagnostic: the same receiver with a store that remembers nothing
    // (an inbox is its own store, so not in inbox mode).
    if config.inbox_url.is_none() {
        let without_store = routes(config.receiver_builder().await?.store(NullStore))
            .build()
            .map_err(|e| e.to_string())?;
        app = app.route_service("/diagnostic/no-store", WebhookEndpoint::new(without_store));
    }
    let listener = tokio::net::TcpListener::bind(&config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
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
