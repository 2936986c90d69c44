//! Typed Cost Katana events, read from either body shape.

mod data;
mod envelope;
mod event_type;
mod payload;
mod severity;

pub use data::{Budget, Cost, EventData, Links, Metrics, Resource};
pub use event_type::{Category, EventType};
pub use payload::Payload;
pub use severity::Severity;

use bytes::Bytes;
use serde_json::{Map, Value};

pub(crate) use envelope::Fields;
use envelope::{str_of, string_of, value_of};

/// A Cost Katana event.
///
/// Read from the current sender's camelCase body (`eventId`, `eventType`,
/// `occurredAt`, `userId`, `projectId`, `data`, `metadata`) and from the
/// documented snake_case body (`event_id`, `event_type`, …). `severity`,
/// `title` and `description` are taken from the top level, or else from
/// `data`. Fields the body lacks are `None`; unknown top-level keys are kept
/// in [`Event::extra`].
///
/// ```
/// use costkatana_webhooks::{Event, EventType, Severity};
///
/// let camel = Event::from_slice(br#"{"eventId":"cost_alert_1","eventType":"cost.alert",
///     "occurredAt":"2026-04-28T12:00:00.000Z","userId":"u1",
///     "data":{"title":"Daily cost","severity":"high","cost":{"amount":125.5,"currency":"USD"}}}"#)
///     .unwrap();
/// let snake = Event::from_slice(br#"{"event_id":"cost_alert_1","event_type":"cost.alert",
///     "severity":"high","title":"Daily cost","data":{"cost":{"amount":125.5}}}"#)
///     .unwrap();
///
/// for event in [&camel, &snake] {
///     assert_eq!(event.id.as_deref(), Some("cost_alert_1"));
///     assert_eq!(event.event_type, EventType::CostAlert);
///     assert_eq!(event.severity, Some(Severity::High));
///     assert_eq!(event.title.as_deref(), Some("Daily cost"));
///     assert_eq!(event.data.cost().and_then(|c| c.amount), Some(125.5));
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Event {
    /// `eventId` / `event_id`. Absent in some documented examples.
    pub id: Option<String>,
    /// `eventType` / `event_type`.
    pub event_type: EventType,
    /// `occurredAt` / `occurred_at`, as sent (ISO-8601).
    pub occurred_at: Option<String>,
    /// `severity`, at the top level or in `data`.
    pub severity: Option<Severity>,
    /// `title`, at the top level or in `data`.
    pub title: Option<String>,
    /// `description`, at the top level or in `data`.
    pub description: Option<String>,
    /// `userId` / `user_id`.
    pub user_id: Option<String>,
    /// `projectId` / `project_id`.
    pub project_id: Option<String>,
    /// `data`, with typed views of its common parts.
    pub data: EventData,
    /// `metadata`, free-form.
    pub metadata: Option<Value>,
    /// Any other top-level keys.
    pub extra: Map<String, Value>,
}

impl Event {
    /// Parses an event from JSON bytes; `None` when the bytes are not a JSON
    /// object with a string `eventType`/`event_type`.
    ///
    /// ```
    /// use costkatana_webhooks::Event;
    /// assert!(Event::from_slice(br#"{"eventType":"budget.warning"}"#).is_some());
    /// assert!(Event::from_slice(br#"{"text":"hello"}"#).is_none());
    /// assert!(Event::from_slice(b"\xff").is_none());
    /// ```
    pub fn from_slice(bytes: &[u8]) -> Option<Event> {
        Event::from_fields(Fields::read(bytes)?, None).ok()
    }

    /// Builds an event from a JSON object's top-level fields, their values
    /// still raw JSON: `Err` when there is no string event type (or a value
    /// a full parse would refuse). `data` stays raw (a range of `shared`,
    /// the body the fields were read from, when given; else a copy); only
    /// `title`, `severity` and `description` are looked for in it, without
    /// building it.
    pub(crate) fn from_fields(mut fields: Fields<'_>, shared: Option<&Bytes>) -> Result<Event, ()> {
        let event_type = fields.take_str("eventType", "event_type").ok_or(())?;
        let (data, peek) = fields.take_data().unzip();
        let peek = peek.unwrap_or_default();
        // The severity is matched where it lies, copied only when unknown.
        let severity = fields
            .take_str("severity", "severity")
            .or_else(|| peek.get("severity").and_then(str_of))
            .map(|s| Severity::from_name(&s));
        let mut top_or_data = |key: &str| {
            fields
                .take_string(key, key)
                .or_else(|| peek.get(key).and_then(string_of))
        };
        let title = top_or_data("title");
        let description = top_or_data("description");
        let id = fields.take_string("eventId", "event_id");
        let occurred_at = fields.take_string("occurredAt", "occurred_at");
        let user_id = fields.take_string("userId", "user_id");
        let project_id = fields.take_string("projectId", "project_id");
        let metadata = fields.take("metadata").map(value_of).transpose()?;
        Ok(Event {
            id,
            event_type: EventType::from(&*event_type),
            occurred_at,
            severity,
            title,
            description,
            user_id,
            project_id,
            metadata,
            data: EventData::from_raw(data.map(|raw| {
                let raw = raw.as_bytes();
                // A borrowed raw value lies within the body it was read from.
                shared.map_or_else(|| Bytes::copy_from_slice(raw), |body| body.slice_ref(raw))
            })),
            extra: fields.into_rest()?,
        })
    }
}
