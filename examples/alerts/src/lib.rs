//! A Cost Katana receiver that raises real alerts, the four uses of the
//! README's "Real-World Use Cases" as routed handlers:
//!
//! | event | action |
//! |---|---|
//! | `budget.exceeded` | a Slack incoming-webhook message (`SLACK_WEBHOOK_URL`) |
//! | `security.alert` | a PagerDuty Events API v2 trigger (`PAGERDUTY_ROUTING_KEY`, `PAGERDUTY_EVENTS_URL`), `dedup_key` = the event id |
//! | `cost.spike_detected` above 500 % | `{"rate":0.5}` to `THROTTLE_URL`, then an urgent Slack note |
//! | `optimization.suggested` | the potential savings to `NOTIFY_URL` |
//!
//! A failed downstream call fails the handler: the delivery is answered
//! 500 and the sender retries it. A handled event is remembered, so its
//! retries and duplicates do not alert twice.
//!
//! ```
//! use costkatana_webhooks::receiver::Receiver;
//! use costkatana_webhooks::Verifier;
//! use example_alerts::{app, router, AlertsConfig};
//!
//! let config = AlertsConfig {
//!     slack_webhook_url: Some("https://hooks.slack.com/services/T0/B0/XXXX".into()),
//!     ..AlertsConfig::default()
//! };
//! let receiver = Receiver::builder(Verifier::builder().secret("s3cret").build()?)
//!     .router(router(config)?)
//!     .build()?;
//! let app: axum::Router = app(receiver);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod config;
mod downstream;
mod handlers;

use std::sync::Arc;

use axum::routing::get;
use costkatana_webhooks::receiver::{Delivery, HandlerError, Receiver, Router};
use costkatana_webhooks::{Event, EventType, Payload};

pub use config::{AlertsConfig, DEFAULT_TIMEOUT, PAGERDUTY_EVENTS_URL};
pub use handlers::{THROTTLE_ABOVE_PERCENT, THROTTLE_RATE};

use downstream::Downstream;
use handlers::Alerts;

/// The handlers: one per use, and a fallback that logs everything else.
///
/// # Errors
///
/// The HTTP client cannot be built (no TLS backend).
///
/// ```
/// let handlers = example_alerts::router(example_alerts::AlertsConfig::default())?;
/// # Ok::<(), String>(())
/// ```
pub fn router(config: AlertsConfig) -> Result<Router, String> {
    let downstream = Downstream::new(config.timeout)?;
    let alerts = Arc::new(Alerts { config, downstream });
    let (budget, security, spike, optimization) = (
        Arc::clone(&alerts),
        Arc::clone(&alerts),
        Arc::clone(&alerts),
        alerts,
    );
    Ok(Router::new()
        .on(EventType::BudgetExceeded, move |event, _| {
            handlers::budget_exceeded(Arc::clone(&budget), event)
        })
        .on(EventType::SecurityAlert, move |event, delivery| {
            handlers::security_alert(Arc::clone(&security), event, delivery)
        })
        .on(EventType::CostSpikeDetected, move |event, _| {
            handlers::cost_spike(Arc::clone(&spike), event)
        })
        .on(EventType::OptimizationSuggested, move |event, _| {
            handlers::optimization_suggested(Arc::clone(&optimization), event)
        })
        .fallback(log_other))
}

/// `POST /webhooks/costkatana` (the receiver) and `GET /health`.
///
/// ```
/// # use costkatana_webhooks::{receiver::Receiver, Verifier};
/// # let receiver = Receiver::builder(Verifier::builder().secret("s3cret").build()?)
/// #     .router(example_alerts::router(Default::default())?)
/// #     .build()?;
/// let app: axum::Router = example_alerts::app(receiver);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn app(receiver: Receiver) -> axum::Router {
    axum::Router::new()
        .route(
            example_common::WEBHOOK_PATH,
            costkatana_webhooks_axum::receiver_route(receiver),
        )
        .route("/health", get(|| async { "ok" }))
}

async fn log_other(payload: Payload, delivery: Delivery) -> Result<(), HandlerError> {
    match payload {
        Payload::Event(event) => log_event(&event, &delivery),
        _ => tracing::info!(scheme = %delivery.scheme(), "verified delivery that is not an event"),
    }
    Ok(())
}

fn log_event(event: &Event, delivery: &Delivery) {
    tracing::info!(
        event_id = event.id.as_deref().unwrap_or("-"),
        event_type = %event.event_type,
        scheme = %delivery.scheme(),
        "verified event; no alert for this type"
    );
}
