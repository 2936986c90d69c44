//! Delivery records: one per attempt, as the sender keeps them.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::text_or_number;

/// Where a delivery attempt is.
///
/// ```
/// use costkatana_webhooks_api::DeliveryStatus;
/// let status: DeliveryStatus = serde_json::from_str(r#""failed""#)?;
/// assert_eq!(status, DeliveryStatus::Failed);
/// assert_eq!(status.as_str(), "failed");
/// let other: DeliveryStatus = serde_json::from_str(r#""queued""#)?;
/// assert_eq!(other, DeliveryStatus::Other("queued".into()));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeliveryStatus {
    /// Waiting to be sent (a first attempt, a retry or a replay).
    Pending,
    /// Answered 2xx.
    Success,
    /// Failed; its `error` says how (`retry_scheduled` when a later attempt
    /// follows).
    Failed,
    /// Timed out.
    Timeout,
    /// Cancelled.
    Cancelled,
    /// A status this crate does not know.
    Other(String),
}

impl DeliveryStatus {
    /// The status as the API spells it.
    pub fn as_str(&self) -> &str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Success => "success",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Timeout => "timeout",
            DeliveryStatus::Cancelled => "cancelled",
            DeliveryStatus::Other(other) => other,
        }
    }

    /// The status called `name`.
    ///
    /// ```
    /// # use costkatana_webhooks_api::DeliveryStatus;
    /// assert_eq!(DeliveryStatus::parse("success"), DeliveryStatus::Success);
    /// ```
    pub fn parse(name: &str) -> Self {
        match name {
            "pending" => DeliveryStatus::Pending,
            "success" => DeliveryStatus::Success,
            "failed" => DeliveryStatus::Failed,
            "timeout" => DeliveryStatus::Timeout,
            "cancelled" => DeliveryStatus::Cancelled,
            other => DeliveryStatus::Other(other.to_owned()),
        }
    }
}

impl std::fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DeliveryStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(DeliveryStatus::parse(&String::deserialize(deserializer)?))
    }
}

impl Serialize for DeliveryStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One delivery attempt: each attempt is its own record, and a retry or a
/// replay is a new record carrying the same stored request.
///
/// ```
/// use costkatana_webhooks_api::{Delivery, DeliveryStatus};
///
/// let delivery: Delivery = serde_json::from_str(r#"{
///     "id": "65f0c0ffee0000000000d00d", "webhookId": "65f0c0ffee0000000000beef",
///     "eventId": "cost_alert_1", "eventType": "cost.alert", "attempt": 1, "status": "failed",
///     "error": {"type": "network_error", "message": "connect ECONNREFUSED", "code": "ECONNREFUSED"},
///     "retriesLeft": 3, "createdAt": "2026-12-06T01:02:03.456Z"
/// }"#)?;
/// assert_eq!(delivery.status, DeliveryStatus::Failed);
/// assert!(delivery.never_reached_the_receiver());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Delivery {
    /// 24 hex characters.
    pub id: String,
    /// The webhook it belongs to.
    #[serde(default)]
    pub webhook_id: String,
    /// The event's id (the same for every attempt and replay of it).
    #[serde(default)]
    pub event_id: String,
    /// The event's type.
    #[serde(default)]
    pub event_type: String,
    /// The event, as the sender holds it.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub event_data: Value,
    /// The attempt number, from 1 (a replay starts at 1 again).
    #[serde(default)]
    pub attempt: u32,
    /// Where it is.
    pub status: DeliveryStatus,
    /// The stored request, sent unchanged on every attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<DeliveryRequest>,
    /// The receiver's answer, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<DeliveryResponse>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<DeliveryError>,
    /// When the next attempt is due (ISO-8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_retry_at: Option<String>,
    /// Retries left after this attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries_left: Option<u32>,
    /// The request's signature (the detail route only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Metadata, such as `originalDeliveryId` on a replay (detail only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// When the record was made (ISO-8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// When it last changed (ISO-8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Fields this crate does not know, kept as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Delivery {
    /// The failure's type (`network_error`, `http_error`, `timeout`,
    /// `retry_scheduled`, `webhook_inactive`, …), if it failed.
    pub fn error_type(&self) -> Option<&str> {
        self.error.as_ref().map(|error| error.kind.as_str())
    }

    /// Whether it failed without reaching the receiver at all: a refused
    /// connection or an unknown host, which the sender fails at once.
    pub fn never_reached_the_receiver(&self) -> bool {
        self.error.as_ref().is_some_and(|error| {
            error.kind == "network_error"
                && matches!(
                    error.code.as_deref(),
                    None | Some("ECONNREFUSED" | "ENOTFOUND" | "EAI_AGAIN")
                )
        })
    }

    /// Whether this attempt is the event's last word: failed, and no later
    /// attempt follows (unlike `retry_scheduled`).
    pub fn failed_for_good(&self) -> bool {
        matches!(
            self.status,
            DeliveryStatus::Failed | DeliveryStatus::Timeout
        ) && self.error_type() != Some("retry_scheduled")
    }

    /// The signature sent, from the detail route or the stored headers.
    pub fn sent_signature(&self) -> Option<&str> {
        self.signature.as_deref().or_else(|| {
            let headers = &self.request.as_ref()?.headers;
            headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("x-webhook-signature"))
                .and_then(|(_, value)| value.as_str())
        })
    }
}

/// The request a delivery sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DeliveryRequest {
    /// Where.
    #[serde(default)]
    pub url: String,
    /// The method (POST).
    #[serde(default)]
    pub method: String,
    /// Its headers (signature and timestamp among them).
    #[serde(default)]
    pub headers: BTreeMap<String, Value>,
    /// When it was signed, as the backend records it.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub timestamp: Value,
    /// The body (the detail route only).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub body: Value,
}

/// The receiver's answer to an attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DeliveryResponse {
    /// The HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    /// The body, truncated by the sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// How long it took, in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_time: Option<f64>,
    /// Fields this crate does not know, kept as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeliveryError {
    /// `network_error`, `http_error`, `timeout`, `retry_scheduled`,
    /// `webhook_inactive`, …
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Its message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Its code: an HTTP status, or `ECONNREFUSED`, `ENOTFOUND`, …
    #[serde(
        default,
        deserialize_with = "text_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub code: Option<String>,
}

/// Which deliveries a listing returns.
///
/// ```
/// use costkatana_webhooks_api::{DeliveryQuery, DeliveryStatus};
/// let failed = DeliveryQuery::new().status(DeliveryStatus::Failed).limit(100);
/// assert_eq!(failed.limit, 100);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryQuery {
    /// Only this status.
    pub status: Option<DeliveryStatus>,
    /// Only this event type.
    pub event_type: Option<String>,
    /// Records per page (1–100; the API's default is 20).
    pub limit: u32,
    /// How many records to skip, newest first.
    pub offset: u64,
}

impl Default for DeliveryQuery {
    fn default() -> Self {
        DeliveryQuery {
            status: None,
            event_type: None,
            limit: 20,
            offset: 0,
        }
    }
}

impl DeliveryQuery {
    /// Every delivery, newest first, 20 a page.
    pub fn new() -> Self {
        DeliveryQuery::default()
    }

    /// Only deliveries with `status`.
    #[must_use]
    pub fn status(mut self, status: DeliveryStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Only deliveries of `event_type`.
    #[must_use]
    pub fn event_type(mut self, event_type: impl Into<String>) -> Self {
        self.event_type = Some(event_type.into());
        self
    }

    /// Records per page, clamped to 1–100.
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit.clamp(1, 100);
        self
    }

    /// Records to skip.
    #[must_use]
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }
}

/// Where a page sits in the whole listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Pagination {
    /// Records in the whole listing.
    #[serde(default)]
    pub total: u64,
    /// Records per page.
    #[serde(default)]
    pub limit: u64,
    /// Records skipped.
    #[serde(default)]
    pub offset: u64,
    /// Whether more follow.
    #[serde(default)]
    pub has_more: bool,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The records, newest first.
    pub items: Vec<T>,
    /// Where the page sits.
    pub pagination: Pagination,
}

/// What a call that queues a delivery answers (test, replay).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DeliveryAck {
    /// The API's message.
    #[serde(default)]
    pub message: String,
    /// The new delivery's id.
    #[serde(default)]
    pub delivery_id: String,
}
