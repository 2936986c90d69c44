//! The Cost Katana webhook API from Rust, and the recovery of the events
//! its sender dropped.
//!
//! - [`Client`]: every route of the guide's API reference (webhooks,
//!   test deliveries, stats, delivery records, replays) plus the event
//!   catalogue and the queue's stats, with the shapes the backend really
//!   returns, typed errors carrying the server's message and field errors,
//!   time-outs on every call and retries only where a retry cannot do a
//!   thing twice.
//! - [`CatchUp`]: a receiver's background task that keeps the webhook
//!   active and asks the sender to replay, once, each event it failed to
//!   deliver and the receiver's store does not know.
//!
//! ```no_run
//! use costkatana_webhooks::{Payload, Receiver};
//! use costkatana_webhooks_api::{CatchUp, Client};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder()
//!     .api_key(std::env::var("COSTKATANA_API_KEY")?)
//!     .build()?;
//! let receiver = Receiver::builder()
//!     .secret(std::env::var("COSTKATANA_WEBHOOK_SECRET")?)
//!     .background(CatchUp::new(client, std::env::var("COSTKATANA_WEBHOOK_ID")?))
//!     .fallback(|payload: Payload| async move { println!("{payload:?}"); Ok(()) })
//!     .build()?;
//! receiver.start().await?; // checks the webhook exists, then catches up every minute
//! # Ok(()) }
//! ```

mod catch_up;
mod client;
mod error;
mod key;
mod model;
mod time;

pub use catch_up::{
    CatchUp, CatchUpReport, LostEvent, CATCH_UP_API_ERRORS_TOTAL, CATCH_UP_LOST_TOTAL,
    CATCH_UP_REACTIVATIONS_TOTAL, CATCH_UP_REPLAYS_TOTAL,
};
pub use client::{Client, ClientBuilder, DEFAULT_ATTEMPTS, DEFAULT_BASE_URL, DEFAULT_TIMEOUT};
pub use error::{ApiError, ApiErrorKind, FieldError};
pub use key::ApiKey;
pub use model::{
    AuthSummary, CatalogEvent, CreateWebhook, Delivery, DeliveryAck, DeliveryError, DeliveryQuery,
    DeliveryRequest, DeliveryResponse, DeliveryStatus, EventCatalog, Page, Pagination, QueueStats,
    RetryConfig, StatsWindow, UpdateWebhook, Webhook, WebhookCounters, WebhookFilter, WebhookStats,
};
