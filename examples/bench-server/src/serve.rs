//! The server under load: a bare route, a naive parsing one, and the
//! handler behind the receiver.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use costkatana_webhooks::dedupe::MemoryStore;
use costkatana_webhooks::{Category, Event, HandlerResult, Payload, ReceiverBuilder};
use costkatana_webhooks_axum::{serve, WebhookEndpoint};
use example_common::{init_observability, shutdown_signal, Config, SHUTDOWN_GRACE, WEBHOOK_PATH};
use hmac::{Hmac, Mac};
use sha2::Sha256;

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

/// What a receiver written without this crate does, as the published
/// examples show: check the `current` scheme's HMAC (keyed per request,
/// hex-encoded, compared as text) and the timestamp's age, then parse the
/// body into a `serde_json::Value` and answer. No dedupe.
async fn naive(secret: &str, headers: &HeaderMap, body: Bytes) -> (StatusCode, String) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(timestamp), Some(signature)) =
        (header("x-webhook-timestamp"), header("x-webhook-signature"))
    else {
        return (StatusCode::BAD_REQUEST, "no signature".to_owned());
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "no key".to_owned());
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(&body);
    if hex::encode(mac.finalize().into_bytes()) != signature {
        return (StatusCode::UNAUTHORIZED, "invalid signature".to_owned());
    }
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    match timestamp.parse::<i64>() {
        Ok(ms) if (now_ms - ms).abs() <= 3_600_000 => {}
        _ => return (StatusCode::UNAUTHORIZED, "stale".to_owned()),
    }
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
    let mut builder = config.receiver_builder().await?;
    if config.inbox_url.is_none() && config.redis_url.is_none() {
        // Room for every id a bench sends (the default keeps 1,000,000,
        // oldest out first), so the duplicates stay duplicates.
        let entries = std::env::var("BENCH_STORE_ENTRIES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(4_000_000);
        builder = builder.store(MemoryStore::builder().max_entries(entries).build());
    }
    let receiver = routes(builder).build().map_err(|e| e.to_string())?;
    // The naive route's secret: the first of the list.
    let secret = std::env::var("COSTKATANA_WEBHOOK_SECRET").unwrap_or_default();
    let secret: Arc<str> = secret.split(',').next().unwrap_or_default().trim().into();
    receiver.start().await.map_err(|e| e.to_string())?;
    let mut app = axum::Router::new()
        .route("/bare", post(bare))
        .route(
            "/naive",
            post(move |headers: HeaderMap, body: Bytes| {
                let secret = Arc::clone(&secret);
                async move { naive(&secret, &headers, body).await }
            }),
        )
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
