//! A Cost Katana receiver that raises real alerts, the four uses of the
//! README's "Real-World Use Cases" as routed handlers:
//!
//! | event | action |
//! |---|---|
//! | `budget.exceeded` | a Slack incoming-webhook message (`SLACK_WEBHOOK_URL`) |
//! | `security.alert` | a PagerDuty Events API v2 trigger (`PAGERDUTY_ROUTING_KEY`, `PAGERDUTY_URL`), `dedup_key` = the event id |
//! | `cost.spike_detected` above 500 % | `{"rate":0.5}` to `THROTTLE_URL`, then an urgent Slack note |
//! | `optimization.suggested` | the potential savings to `NOTIFY_URL` |
//!
//! A failed downstream call fails the handler: the delivery is answered
//! 500 and the sender retries it. A handled event is remembered, so its
//! retries and duplicates do not alert twice. In inbox mode (`INBOX_URL`,
//! see `example-common`) the delivery is answered 200 once stored and the
//! inbox retries the failed handler itself, with backoff.
//!
//! The handlers share one HTTP client and the configuration through
//! [`Shared`](costkatana_webhooks::Shared): see [`routes`].
//!
//! ```
//! use costkatana_webhooks::Receiver;
//! use example_alerts::{app, routes, AlertsConfig};
//!
//! let config = AlertsConfig {
//!     slack_webhook_url: Some("https://hooks.slack.com/services/T0/B0/XXXX".into()),
//!     ..AlertsConfig::default()
//! };
//! let receiver = routes(Receiver::builder().secret("s3cret"), config)?.build()?;
//! let app: axum::Router = app(receiver);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod config;
mod downstream;
mod handlers;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use costkatana_webhooks::{
    Delivery, Event, EventType, HandlerResult, Payload, Receiver, ReceiverBuilder,
};
use costkatana_webhooks_axum::WebhookEndpoint;

pub use config::{AlertsConfig, DEFAULT_PAGERDUTY_URL, DEFAULT_TIMEOUT};
pub use handlers::{THROTTLE_ABOVE_PERCENT, THROTTLE_RATE};

use downstream::Downstream;
use handlers::Alerts;

/// The alert handlers on `builder`, one per use, and a fallback that logs
/// everything else. They share the configuration and one HTTP client as
/// the receiver's state.
///
/// # Errors
///
/// The HTTP client cannot be built (no TLS backend).
///
/// ```
/// use costkatana_webhooks::Receiver;
/// let builder = example_alerts::routes(Receiver::builder().secret("s3cret"), Default::default())?;
/// # Ok::<(), String>(())
/// ```
pub fn routes(builder: ReceiverBuilder, config: AlertsConfig) -> Result<ReceiverBuilder, String> {
    let downstream = Downstream::new(config.timeout)?;
    Ok(builder
        .share(Alerts { config, downstream })
        .on(EventType::BudgetExceeded, handlers::budget_exceeded)
        .on(EventType::SecurityAlert, handlers::security_alert)
        .on(EventType::CostSpikeDetected, handlers::cost_spike)
        .on(
            EventType::OptimizationSuggested,
            handlers::optimization_suggested,
        )
        .fallback(log_other))
}

/// `POST /webhooks/costkatana` (the receiver) and `GET /health`.
///
/// ```
/// # use costkatana_webhooks::Receiver;
/// # let receiver = example_alerts::routes(Receiver::builder().secret("s3cret"), Default::default())?
/// #     .build()?;
/// let app: axum::Router = example_alerts::app(receiver);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn app(receiver: Receiver) -> axum::Router {
    axum::Router::new()
        .route_service(
            example_common::WEBHOOK_PATH,
            WebhookEndpoint::new(receiver.clone()),
        )
        .route("/health", get(health).with_state(receiver))
}

/// `GET /health`: 200 while the receiver's store can take deliveries.
async fn health(State(receiver): State<Receiver>) -> (StatusCode, &'static str) {
    let (status, body) = example_common::health(&receiver).await;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    (status, body)
}

async fn log_other(payload: Payload, delivery: Delivery) -> HandlerResult {
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
