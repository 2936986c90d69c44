//! A delivery record (one attempt of one event to one webhook) and the
//! shapes the live API answers with for it.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::id::Id;
use crate::js;

/// A record's state. The live service only ever sets these three
/// (`timeout` and `cancelled` exist in its schema, unused: a time-out with
/// no retries left is `failed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Pending,
    Success,
    Failed,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Success => "success",
            Status::Failed => "failed",
        }
    }
}

/// The request as signed when the event happened: what every retry and
/// replay of it sends again, unchanged. Its `Debug` names the headers
/// without their values (an auth header is a credential).
#[derive(PartialEq)]
pub(crate) struct StoredRequest {
    pub(crate) url: String,
    /// In the order the sender sets them; the signature's last.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
    /// When it was signed (ms).
    pub(crate) timestamp: i64,
}

impl std::fmt::Debug for StoredRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("StoredRequest")
            .field("url", &self.url)
            .field("headers", &names)
            .field("body_len", &self.body.len())
            .field("timestamp", &self.timestamp)
            .finish()
    }
}

impl StoredRequest {
    fn to_json(&self, with_body: bool) -> Value {
        let headers: Map<String, Value> = self
            .headers
            .iter()
            .map(|(name, value)| (name.clone(), Value::from(value.as_str())))
            .collect();
        let mut view = json!({
            "url": self.url,
            "method": "POST",
            "headers": headers,
            "timestamp": js::date(self.timestamp),
        });
        if with_body {
            view["body"] = self.body.as_str().into();
        }
        view
    }
}

/// What the receiver answered (status 0 for a time-out).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResponseRecord {
    pub(crate) status_code: u16,
    pub(crate) headers: Vec<(String, String)>,
    /// As the live service keeps it: the answer re-encoded as JSON (a text
    /// that is not JSON becomes a JSON string), cut at 10,000 characters.
    pub(crate) body: String,
    pub(crate) response_time: u64,
    pub(crate) timestamp: i64,
}

impl ResponseRecord {
    fn to_json(&self) -> Value {
        let headers: Map<String, Value> = self
            .headers
            .iter()
            .map(|(name, value)| (name.clone(), Value::from(value.as_str())))
            .collect();
        json!({
            "statusCode": self.status_code,
            "headers": headers,
            "body": self.body,
            "responseTime": self.response_time,
            "timestamp": js::date(self.timestamp),
        })
    }
}

/// Why an attempt failed: `retry_scheduled`, `http_error`, `timeout`,
/// `network_error`, `request_error`, `webhook_inactive`, `webhook_not_found`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DeliveryError {
    pub(crate) kind: &'static str,
    pub(crate) message: String,
    pub(crate) code: Option<String>,
    pub(crate) details: Option<Value>,
}

impl DeliveryError {
    pub(crate) fn new(kind: &'static str, message: impl Into<String>) -> DeliveryError {
        DeliveryError {
            kind,
            message: message.into(),
            code: None,
            details: None,
        }
    }

    pub(crate) fn code(mut self, code: impl Into<String>) -> DeliveryError {
        self.code = Some(code.into());
        self
    }

    fn to_json(&self) -> Value {
        let mut view = json!({ "type": self.kind, "message": self.message });
        if let Some(code) = &self.code {
            view["code"] = code.as_str().into();
        }
        if let Some(details) = &self.details {
            view["details"] = details.clone();
        }
        view
    }
}

/// One attempt of one event to one webhook.
#[derive(Debug)]
pub(crate) struct Delivery {
    pub(crate) id: Id,
    pub(crate) webhook_id: Id,
    pub(crate) event_id: String,
    pub(crate) event_type: String,
    /// The event's `data`, as JSON text.
    pub(crate) event_data: Arc<str>,
    pub(crate) attempt: u32,
    pub(crate) status: Status,
    pub(crate) request: Arc<StoredRequest>,
    pub(crate) response: Option<ResponseRecord>,
    pub(crate) error: Option<DeliveryError>,
    pub(crate) next_retry_at: Option<i64>,
    /// A JavaScript number on the live service (`maxRetries || 3`, then
    /// one less per retry), kept as one.
    pub(crate) retries_left: f64,
    /// Set on the first attempt of an event only, as on the live service.
    pub(crate) signature: Option<String>,
    pub(crate) metadata: Map<String, Value>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    /// An attempt is being made now (counted as `active` in queue stats).
    pub(crate) in_flight: bool,
}

impl Delivery {
    /// Each record of `GET /api/webhooks/:id/deliveries`.
    pub(crate) fn listed_view(&self) -> Value {
        self.view(false)
    }

    /// `GET /api/webhooks/deliveries/:id`: the request's body, the
    /// signature and the metadata too.
    pub(crate) fn detailed_view(&self) -> Value {
        let mut view = self.view(true);
        if let Some(signature) = &self.signature {
            view["signature"] = signature.as_str().into();
        }
        view["metadata"] = self.metadata.clone().into();
        view
    }

    fn view(&self, detailed: bool) -> Value {
        let mut view = json!({
            "id": self.id.to_string(),
            "webhookId": self.webhook_id.to_string(),
            "eventId": self.event_id,
            "eventType": self.event_type,
            "eventData": serde_json::from_str::<Value>(&self.event_data).unwrap_or(Value::Null),
            "attempt": self.attempt,
            "status": self.status.as_str(),
            "request": self.request.to_json(detailed),
            "retriesLeft": js::number(self.retries_left),
            "createdAt": js::date(self.created_at),
            "updatedAt": js::date(self.updated_at),
        });
        if let Some(response) = &self.response {
            view["response"] = response.to_json();
        }
        if let Some(error) = &self.error {
            view["error"] = error.to_json();
        }
        if let Some(at) = self.next_retry_at {
            view["nextRetryAt"] = js::date(at);
        }
        view
    }
}
