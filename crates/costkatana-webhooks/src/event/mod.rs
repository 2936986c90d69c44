//! Typed Cost Katana events, read from either body shape.

mod data;
mod event_type;
mod payload;
mod severity;

pub use data::{Budget, Cost, EventData, Links, Metrics, Resource};
pub use event_type::{Category, EventType};
pub use payload::Payload;
pub use severity::Severity;

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
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
        Event::from_fields(serde_json::from_slice(bytes).ok()?, None).ok()
    }

    /// Builds an event from a JSON object's top-level fields, their values
    /// still raw JSON: `Err` when there is no string event type (or a value
    /// a full parse would refuse). `data` stays raw (a range of `shared`,
    /// the body the fields were read from, when given; else a copy); only
    /// `title`, `severity` and `description` are looked for in it, without
    /// building it.
    pub(crate) fn from_fields(mut fields: Fields<'_>, shared: Option<&Bytes>) -> Result<Event, ()> {
        let event_type = take_string(&mut fields, "eventType", "event_type").ok_or(())?;
        let data = fields.remove("data");
        let peek = data.map(DataPeek::of).unwrap_or_default();
        let mut top_or_data = |key: &str, in_data: Option<&RawValue>| {
            take_string(&mut fields, key, key).or_else(|| in_data.and_then(string_of))
        };
        let severity = top_or_data("severity", peek.severity).map(|s| Severity::from_name(&s));
        let title = top_or_data("title", peek.title);
        let description = top_or_data("description", peek.description);
        let id = take_string(&mut fields, "eventId", "event_id");
        let occurred_at = take_string(&mut fields, "occurredAt", "occurred_at");
        let user_id = take_string(&mut fields, "userId", "user_id");
        let project_id = take_string(&mut fields, "projectId", "project_id");
        let metadata = fields.remove("metadata").map(value_of).transpose()?;
        let extra = fields
            .into_iter()
            .map(|(key, raw)| Ok((key, value_of(raw)?)))
            .collect::<Result<_, ()>>()?;
        Ok(Event {
            id,
            event_type: EventType::from(event_type.as_str()),
            occurred_at,
            severity,
            title,
            description,
            user_id,
            project_id,
            metadata,
            data: EventData::from_raw(data.map(|raw| {
                let raw = raw.get().as_bytes();
                // A borrowed raw value lies within the body it was read from.
                shared.map_or_else(|| Bytes::copy_from_slice(raw), |body| body.slice_ref(raw))
            })),
            extra,
        })
    }
}

/// A JSON object's top-level fields, values unparsed (the last of a
/// repeated key wins, as in a full parse).
pub(crate) type Fields<'a> = BTreeMap<String, &'a RawValue>;

/// `title`, `severity` and `description` inside `data`, found without
/// building `data` (the last of a repeated key, as a full parse keeps).
#[derive(Default)]
struct DataPeek<'a> {
    title: Option<&'a RawValue>,
    severity: Option<&'a RawValue>,
    description: Option<&'a RawValue>,
}

impl<'a> DataPeek<'a> {
    /// Nothing when `data` is not an object (a full parse would wrap it as
    /// `{"value": …}`, which has none of these keys).
    fn of(data: &'a RawValue) -> Self {
        if data.get().starts_with('{') {
            serde_json::from_str(data.get()).unwrap_or_default()
        } else {
            DataPeek::default()
        }
    }
}

impl<'de> Deserialize<'de> for DataPeek<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(PeekVisitor)
    }
}

struct PeekVisitor;

impl<'de> Visitor<'de> for PeekVisitor {
    type Value = DataPeek<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the data object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut peek = DataPeek::default();
        while let Some(key) = map.next_key::<PeekKey>()? {
            let slot = match key {
                PeekKey::Title => &mut peek.title,
                PeekKey::Severity => &mut peek.severity,
                PeekKey::Description => &mut peek.description,
                PeekKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = Some(map.next_value()?);
        }
        Ok(peek)
    }
}

/// A key of `data`, told apart without allocating it.
enum PeekKey {
    Title,
    Severity,
    Description,
    Other,
}

impl<'de> Deserialize<'de> for PeekKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = PeekKey;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a key")
            }

            fn visit_str<E>(self, key: &str) -> Result<PeekKey, E> {
                Ok(match key {
                    "title" => PeekKey::Title,
                    "severity" => PeekKey::Severity,
                    "description" => PeekKey::Description,
                    _ => PeekKey::Other,
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// Removes `camel` (or else `snake`) from `fields` when it is a string or
/// a number (ids are sometimes numeric); other shapes stay.
fn take_string(fields: &mut Fields<'_>, camel: &str, snake: &str) -> Option<String> {
    for key in [camel, snake] {
        if let Some(text) = fields.get(key).copied().and_then(string_of) {
            fields.remove(key);
            return Some(text);
        }
    }
    None
}

fn string_of(raw: &RawValue) -> Option<String> {
    // Only a string or a number qualifies, so nothing larger is parsed.
    match raw.get().as_bytes().first()? {
        b'"' => serde_json::from_str(raw.get()).ok(),
        b'-' | b'0'..=b'9' => match serde_json::from_str(raw.get()).ok()? {
            Value::Number(number) => Some(number.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// A raw value parsed in full; `Err` where a full parse of the body fails.
fn value_of(raw: &RawValue) -> Result<Value, ()> {
    serde_json::from_str(raw.get()).map_err(|_| ())
}
