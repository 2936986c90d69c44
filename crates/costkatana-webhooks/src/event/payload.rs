//! What a verified body turns out to be.

use bytes::Bytes;
use serde_json::Value;

use super::{Event, Fields};

/// A verified body, classified.
///
/// Every verified body is authentic, so none is rejected for its shape.
///
/// ```
/// use costkatana_webhooks::Payload;
///
/// let event = Payload::parse(br#"{"eventType":"cost.alert","eventId":"e1"}"#);
/// assert!(matches!(event, Payload::Event(_)));
///
/// // A payload template renders to text that is sent as a JSON string literal.
/// let template = Payload::parse(br#""{\"text\": \"system.error: Webhook Test\"}""#);
/// assert_eq!(template, Payload::Template(r#"{"text": "system.error: Webhook Test"}"#.into()));
///
/// assert!(matches!(Payload::parse(b"[1,2]"), Payload::Json(_)));
/// assert_eq!(Payload::parse(b"not json"), Payload::NotJson);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Payload {
    /// A Cost Katana event (a JSON object with an event type).
    Event(Box<Event>),
    /// A payload-template delivery: the body is a JSON string literal; this
    /// is its text, which need not be JSON.
    Template(String),
    /// Valid JSON that is not an event; the raw bytes are also available.
    Json(Value),
    /// Bytes that are not JSON at all (the raw bytes are still available).
    NotJson,
}

impl Payload {
    /// Classifies `body`.
    pub fn parse(body: &[u8]) -> Payload {
        Payload::read(body, None)
    }

    /// [`Payload::parse`] of a body held in `Bytes`: an event's `data` is
    /// then a range of it, not a copy.
    pub(crate) fn parse_shared(body: &Bytes) -> Payload {
        Payload::read(body, Some(body))
    }

    fn read(body: &[u8], shared: Option<&Bytes>) -> Payload {
        // An object is read field by field, its values left raw, so an
        // event's `data` is not built; anything else is parsed in full.
        let object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        if object {
            let Some(fields) = Fields::read(body) else {
                return Payload::NotJson;
            };
            if let Ok(event) = Event::from_fields(fields, shared) {
                return Payload::Event(Box::new(event));
            }
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::String(text)) => Payload::Template(text),
            Ok(other) => Payload::Json(other),
            Err(_) => Payload::NotJson,
        }
    }

    /// The event id, when the payload is an event that has one.
    ///
    /// ```
    /// use costkatana_webhooks::Payload;
    /// assert_eq!(Payload::parse(br#"{"event_type":"x.y","event_id":"e1"}"#).event_id(), Some("e1"));
    /// ```
    pub fn event_id(&self) -> Option<&str> {
        match self {
            Payload::Event(event) => event.id.as_deref(),
            _ => None,
        }
    }
}
