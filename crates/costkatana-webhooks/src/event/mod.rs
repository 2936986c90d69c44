//! Typed Cost Katana events, read from either body shape.

mod data;
mod event_type;
mod payload;
mod severity;

pub use data::{Budget, Cost, EventData, Links, Metrics, Resource};
pub use event_type::{Category, EventType};
pub use payload::Payload;
pub use severity::Severity;

use serde_json::{Map, Value};

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
        match serde_json::from_slice(bytes).ok()? {
            Value::Object(map) => Event::from_map(map).ok(),
            _ => None,
        }
    }

    /// Builds an event from a JSON object, giving the object back when it
    /// has no string event type.
    pub(crate) fn from_map(mut map: Map<String, Value>) -> Result<Event, Map<String, Value>> {
        let Some(event_type) = take_string(&mut map, "eventType", "event_type") else {
            return Err(map);
        };
        let data = match map.remove("data") {
            Some(Value::Object(data)) => data,
            Some(other) => Map::from_iter([("value".to_owned(), other)]),
            None => Map::new(),
        };
        let mut top_or_data =
            |key: &str| take_string(&mut map, key, key).or_else(|| string_of(data.get(key)));
        let severity = top_or_data("severity").map(|s| Severity::from_name(&s));
        let title = top_or_data("title");
        let description = top_or_data("description");
        Ok(Event {
            id: take_string(&mut map, "eventId", "event_id"),
            event_type: EventType::from(event_type.as_str()),
            occurred_at: take_string(&mut map, "occurredAt", "occurred_at"),
            severity,
            title,
            description,
            user_id: take_string(&mut map, "userId", "user_id"),
            project_id: take_string(&mut map, "projectId", "project_id"),
            metadata: map.remove("metadata"),
            data: EventData::new(data),
            extra: map,
        })
    }
}

/// Removes `camel` (or else `snake`) from `map` when it is a string or a
/// number (ids are sometimes numeric); other shapes stay in `map`.
fn take_string(map: &mut Map<String, Value>, camel: &str, snake: &str) -> Option<String> {
    for key in [camel, snake] {
        if let Some(text) = string_of(map.get(key)) {
            map.remove(key);
            return Some(text);
        }
    }
    None
}

fn string_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}
