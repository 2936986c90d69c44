//! Aggregates: the stats route, the event catalogue, the queue.

use serde::{Deserialize, Serialize};

use super::text_or_number;

/// What `GET /api/webhooks/:id/stats` answers.
///
/// **On the live backend every figure here is zero**: its aggregation
/// matches no delivery. The webhook's own counters
/// ([`Webhook::stats`](crate::Webhook::stats)) are the numbers that move.
///
/// ```
/// use costkatana_webhooks_api::WebhookStats;
/// let stats: WebhookStats = serde_json::from_str(r#"{"overall":
///     {"total":0,"successful":0,"failed":0,"successRate":"0.00","averageResponseTime":0}}"#)?;
/// assert_eq!(stats.overall.success_rate.as_deref(), Some("0.00"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WebhookStats {
    /// All time.
    #[serde(default)]
    pub overall: StatsWindow,
    /// The last 24 h.
    #[serde(default, rename = "last24h")]
    pub last_24h: StatsWindow,
    /// The last 7 days.
    #[serde(default, rename = "last7d")]
    pub last_7d: StatsWindow,
    /// The last 30 days.
    #[serde(default, rename = "last30d")]
    pub last_30d: StatsWindow,
}

/// One window of [`WebhookStats`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StatsWindow {
    /// Deliveries.
    #[serde(default)]
    pub total: u64,
    /// Successful ones.
    #[serde(default)]
    pub successful: u64,
    /// Failed ones.
    #[serde(default)]
    pub failed: u64,
    /// A percentage, sent as text (`"96.00"`).
    #[serde(default, deserialize_with = "text_or_number")]
    pub success_rate: Option<String>,
    /// In ms.
    #[serde(default)]
    pub average_response_time: Option<f64>,
}

/// The event types the API accepts (`GET /api/webhooks/events`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EventCatalog {
    /// Each type.
    #[serde(default)]
    pub events: Vec<CatalogEvent>,
    /// The categories.
    #[serde(default)]
    pub categories: Vec<String>,
    /// How many types (57).
    #[serde(default)]
    pub total: u64,
}

/// One event type of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CatalogEvent {
    /// The backend's constant name (`COST_ALERT`).
    #[serde(default)]
    pub key: String,
    /// The type as sent (`cost.alert`).
    #[serde(default)]
    pub value: String,
    /// Its category (`cost`).
    #[serde(default)]
    pub category: String,
    /// A readable name (`alert`).
    #[serde(default)]
    pub name: String,
}

/// The sender's delivery queue (`GET /api/webhooks/queue/stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct QueueStats {
    /// Waiting.
    #[serde(default)]
    pub waiting: u64,
    /// Being sent.
    #[serde(default)]
    pub active: u64,
    /// Done.
    #[serde(default)]
    pub completed: u64,
    /// Failed.
    #[serde(default)]
    pub failed: u64,
}
