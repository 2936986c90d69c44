//! The alerts receiver, with the examples' fixed interface (see
//! `example-common`) plus the downstream settings of [`AlertsConfig`].
//!
//! ```text
//! COSTKATANA_WEBHOOK_SECRET=s3cret SLACK_WEBHOOK_URL=https://hooks.slack.com/services/... \
//!   PAGERDUTY_ROUTING_KEY=... THROTTLE_URL=http://127.0.0.1:9000/throttle \
//!   NOTIFY_URL=http://127.0.0.1:9000/notify cargo run -p example-alerts
//! ```

use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use costkatana_webhooks::dedupe::{DedupeStore, MemoryStore};
use costkatana_webhooks::receiver::Receiver;
use costkatana_webhooks::Verifier;
use example_alerts::{app, router, AlertsConfig};
use example_common::{init_observability, shutdown_signal, Config, WEBHOOK_PATH};

/// How long in-flight deliveries may take to finish after SIGINT/SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() -> Result<(), String> {
    let metrics = init_observability()?;
    let config = Config::from_env()?;
    let alerts = AlertsConfig::from_env();
    tracing::info!(?alerts, "alerting to");
    let verifier = Verifier::builder()
        .secrets(config.secrets.iter().cloned())
        .past_tolerance(config.past_tolerance)
        .build()
        .map_err(|e| e.to_string())?;
    let receiver = Receiver::builder(verifier)
        .store(store(config.redis_url.as_deref()).await?)
        .router(router(alerts)?)
        .build()
        .map_err(|e| e.to_string())?;
    let app = app(receiver.clone()).route(
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
        .map_err(|e| e.to_string())?;
    receiver.shutdown(SHUTDOWN_GRACE).await;
    Ok(())
}

/// Redis when `REDIS_URL` is set (replicas then alert once between them),
/// memory otherwise.
async fn store(redis_url: Option<&str>) -> Result<Arc<dyn DedupeStore>, String> {
    match redis_url {
        None => Ok(Arc::new(MemoryStore::new())),
        Some(url) => {
            let store = costkatana_webhooks_redis::RedisStore::connect(url)
                .await
                .map_err(|e| format!("REDIS_URL: {e}"))?;
            tracing::info!("deduplicating on Redis");
            Ok(Arc::new(store))
        }
    }
}
