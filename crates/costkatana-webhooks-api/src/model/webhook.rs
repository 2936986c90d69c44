//! A webhook, and what creating or changing one sends.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A webhook as the API answers it. Which fields are present depends on
/// the call: a listing and `get` carry most, `create` and `update` fewer.
///
/// `secret` is always masked (`****` and its last four characters): the
/// API never returns a secret.
///
/// ```
/// use costkatana_webhooks_api::Webhook;
///
/// let webhook: Webhook = serde_json::from_str(r#"{
///     "id": "65f0c0ffee0000000000beef", "name": "Alerts", "url": "https://example.com/hook",
///     "events": ["cost.alert"], "active": true, "secret": "****1a2b",
///     "stats": {"totalDeliveries": 3, "successfulDeliveries": 2, "failedDeliveries": 1}
/// }"#)?;
/// assert_eq!(webhook.stats.unwrap().failed_deliveries, 1);
/// assert_eq!(webhook.secret.as_deref(), Some("****1a2b"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Webhook {
    /// 24 hex characters.
    pub id: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where deliveries go.
    #[serde(default)]
    pub url: String,
    /// The event types it receives, as the API spells them.
    #[serde(default)]
    pub events: Vec<String>,
    /// Whether it gets deliveries; the sender deactivates a webhook after
    /// more than 50 failed attempts in 24 h.
    #[serde(default)]
    pub active: bool,
    /// The backend's version field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Value>,
    /// The secret, masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Its retry settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_config: Option<RetryConfig>,
    /// The delivery time-out, in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// The auth it sends, without its credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthSummary>,
    /// Its filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Value>,
    /// Custom headers it sends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    /// A payload template, when one replaces the default body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_template: Option<String>,
    /// Whether the default body is sent (else the template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_default_payload: Option<bool>,
    /// The webhook's own counters, updated on every attempt: the numbers
    /// that move (the `/stats` route's aggregate reports zeros).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<WebhookCounters>,
    /// When it was created (ISO-8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// When it last changed (ISO-8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Fields this crate does not know, kept as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Webhook {
    /// Whether deliveries carry a payload template instead of the default
    /// body: those bodies have no event id, so a receiver keys them by
    /// their signature.
    ///
    /// ```
    /// # use costkatana_webhooks_api::Webhook;
    /// let webhook: Webhook = serde_json::from_str(
    ///     r#"{"id":"x","useDefaultPayload":false,"payloadTemplate":"{{title}}"}"#)?;
    /// assert!(webhook.uses_template());
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn uses_template(&self) -> bool {
        self.use_default_payload == Some(false)
            && self
                .payload_template
                .as_deref()
                .is_some_and(|t| !t.is_empty())
    }
}

/// How the sender retries a webhook's deliveries.
///
/// ```
/// use costkatana_webhooks_api::RetryConfig;
/// let config = RetryConfig { max_retries: 5, backoff_multiplier: 2.0, initial_delay: 1000 };
/// assert_eq!(serde_json::to_string(&config)?,
///     r#"{"maxRetries":5,"backoffMultiplier":2.0,"initialDelay":1000}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryConfig {
    /// Retries after the first attempt (0–10; the backend reads 0 as 3).
    pub max_retries: u32,
    /// The factor between two waits (1–5).
    pub backoff_multiplier: f64,
    /// The first wait, in ms (1000–60000).
    pub initial_delay: u64,
}

/// A webhook's auth, as the API shows it: the kind, never the credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AuthSummary {
    /// `basic`, `bearer`, `custom_header`, …
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Whether credentials are set.
    #[serde(default)]
    pub has_credentials: bool,
}

/// A webhook's own counters, updated by the sender on every attempt.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WebhookCounters {
    /// Attempts made.
    #[serde(default)]
    pub total_deliveries: u64,
    /// Attempts answered 2xx.
    #[serde(default)]
    pub successful_deliveries: u64,
    /// Attempts that failed.
    #[serde(default)]
    pub failed_deliveries: u64,
    /// The last attempt (ISO-8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_delivery_at: Option<String>,
    /// The last success (ISO-8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success_at: Option<String>,
    /// The last failure (ISO-8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure_at: Option<String>,
    /// In ms; really the last success's time, not an average.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_response_time: Option<f64>,
}

/// What creating a webhook sends. Unset fields take the API's defaults
/// (active, a 30 s time-out, 3 retries from 5 s doubling). A secret cannot
/// be chosen: the API generates one, shown in the dashboard.
///
/// ```
/// use costkatana_webhooks_api::CreateWebhook;
///
/// let create = CreateWebhook::new("Alerts", "https://example.com/hook", ["cost.alert", "budget.exceeded"])
///     .description("production")
///     .timeout_ms(10_000);
/// let json = serde_json::to_value(&create)?;
/// assert_eq!(json["events"][1], "budget.exceeded");
/// assert_eq!(json["timeout"], 10_000);
/// assert!(json.get("active").is_none());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CreateWebhook {
    /// Its name (1–100 characters).
    pub name: String,
    /// Where deliveries go.
    pub url: String,
    /// The event types, as the API spells them (1–50 of the 57).
    pub events: Vec<String>,
    /// The rest, all optional.
    #[serde(flatten)]
    pub settings: UpdateWebhook,
}

impl CreateWebhook {
    /// A webhook called `name` delivering `events` to `url`.
    pub fn new(
        name: impl Into<String>,
        url: impl Into<String>,
        events: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        CreateWebhook {
            name: name.into(),
            url: url.into(),
            events: events.into_iter().map(Into::into).collect(),
            settings: UpdateWebhook::default(),
        }
    }

    /// Its description (at most 500 characters).
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.settings.description = Some(description.into());
        self
    }

    /// Whether it starts active (default yes).
    #[must_use]
    pub fn active(mut self, active: bool) -> Self {
        self.settings.active = Some(active);
        self
    }

    /// The delivery time-out in ms (5000–120000, default 30000).
    #[must_use]
    pub fn timeout_ms(mut self, timeout: u64) -> Self {
        self.settings.timeout = Some(timeout);
        self
    }

    /// Its retry settings.
    #[must_use]
    pub fn retry_config(mut self, config: RetryConfig) -> Self {
        self.settings.retry_config = Some(config);
        self
    }
}

/// What changing a webhook sends: only the fields that are set.
///
/// ```
/// use costkatana_webhooks_api::UpdateWebhook;
/// let reactivate = UpdateWebhook { active: Some(true), ..UpdateWebhook::default() };
/// assert_eq!(serde_json::to_string(&reactivate)?, r#"{"active":true}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateWebhook {
    /// A new name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A new URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// New event types.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    /// A new description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Active or not: `Some(true)` re-activates a deactivated webhook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// The delivery time-out, in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// Retry settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_config: Option<RetryConfig>,
}

/// Which webhooks a listing returns.
///
/// ```
/// use costkatana_webhooks_api::WebhookFilter;
/// let inactive = WebhookFilter { active: Some(false), ..WebhookFilter::default() };
/// assert_eq!(inactive.active, Some(false));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebhookFilter {
    /// Only active (or only inactive) webhooks.
    pub active: Option<bool>,
    /// Only webhooks receiving these event types.
    pub events: Vec<String>,
}
