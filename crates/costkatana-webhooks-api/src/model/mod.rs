//! The shapes the API answers with, as the backend really sends them
//! (PROTOCOL §7), read leniently: fields the backend leaves out are
//! `None`, fields this crate does not know are kept in `other`.

mod delivery;
mod stats;
mod webhook;

pub use delivery::{
    Delivery, DeliveryAck, DeliveryError, DeliveryQuery, DeliveryRequest, DeliveryResponse,
    DeliveryStatus, Page, Pagination,
};
pub use stats::{CatalogEvent, EventCatalog, QueueStats, StatsWindow, WebhookStats};
pub use webhook::{
    AuthSummary, CreateWebhook, RetryConfig, UpdateWebhook, Webhook, WebhookCounters, WebhookFilter,
};

use serde::{Deserialize, Deserializer};

/// A value the backend sends as a string or a number (a success rate of
/// `"96.00"`, an error code of `500` or `"ECONNREFUSED"`), kept as text.
fn text_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Text(String),
        Number(serde_json::Number),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Option::<Either>::deserialize(deserializer)? {
        Some(Either::Text(text)) => Some(text),
        Some(Either::Number(number)) => Some(number.to_string()),
        Some(Either::Other(_)) | None => None,
    })
}
