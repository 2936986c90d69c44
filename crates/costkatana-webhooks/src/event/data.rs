//! The `data` object of an event, with typed views of its common parts.
//!
//! Views are read leniently: a field of the wrong shape (or `null`, which
//! the sender emits for NaN) is `None`, never an error. Every key, known or
//! not, stays available through [`EventData::get`] and [`EventData::as_map`].

use std::sync::OnceLock;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The `data` object of an event.
///
/// ```
/// use costkatana_webhooks::Event;
///
/// let event = Event::from_slice(br#"{"eventType":"budget.exceeded","data":{
///     "budget":{"amount":1000,"currency":"USD","spent":1250.5,"remaining":-250.5},
///     "tags":["prod","team-a"],"warningThreshold":90}}"#).unwrap();
///
/// let budget = event.data.budget().unwrap();
/// assert_eq!(budget.spent, Some(1250.5));
/// assert_eq!(event.data.tags(), vec!["prod", "team-a"]);
/// assert_eq!(event.data.get("warningThreshold").and_then(|v| v.as_f64()), Some(90.0));
/// ```
///
/// The envelope of an event is typed when it is read; `data` is kept as
/// the JSON text it arrived as, and parsed only when something reads it
/// (a view such as [`EventData::cost`], [`EventData::get`], or your own
/// type through [`EventData::deserialize`]), once.
///
/// So `data` is checked only for its syntax on arrival. JSON whose syntax
/// is valid but that a full parse refuses (a number beyond f64, a lone
/// surrogate escape such as `"\uD800"`, nesting past 128 levels) inside
/// `data` leaves the event deliverable, with `data` reading as empty,
/// where parsing the whole body as one value would call it not JSON.
/// Everywhere else in the body such values make it not JSON, as a full
/// parse does, in the copies of a repeated key too.
#[derive(Clone, Default)]
pub struct EventData {
    /// `data` exactly as sent (valid JSON text); `None` when the event had
    /// none.
    raw: Option<Bytes>,
    parsed: OnceLock<Map<String, Value>>,
}

impl std::fmt::Debug for EventData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("EventData").field(self.map()).finish()
    }
}

impl PartialEq for EventData {
    fn eq(&self, other: &Self) -> bool {
        self.map() == other.map()
    }
}

impl EventData {
    /// `data` as sent (any JSON), not parsed yet.
    pub(crate) fn from_raw(raw: Option<Bytes>) -> Self {
        EventData {
            raw,
            parsed: OnceLock::new(),
        }
    }

    /// The object, parsed on first use: `data` itself, or for a `data`
    /// that is not an object, `{"value": <it>}`.
    fn map(&self) -> &Map<String, Value> {
        self.parsed
            .get_or_init(|| match self.raw.as_deref().map(serde_json::from_slice) {
                Some(Ok(Value::Object(map))) => map,
                Some(Ok(other)) => Map::from_iter([("value".to_owned(), other)]),
                // No `data`, or JSON that a full parse refuses although its
                // syntax is valid (a number beyond f64, a lone surrogate,
                // nesting past 128).
                None | Some(Err(_)) => Map::new(),
            })
    }

    /// `data` exactly as it was sent, as JSON text (`None` when the event
    /// had no `data`).
    ///
    /// ```
    /// use costkatana_webhooks::Event;
    /// let event = Event::from_slice(br#"{"eventType":"cost.alert","data":{"amount": 5}}"#).unwrap();
    /// assert_eq!(event.data.raw_json(), Some(r#"{"amount": 5}"#));
    /// ```
    pub fn raw_json(&self) -> Option<&str> {
        // It was read as JSON text, so it is UTF-8.
        self.raw
            .as_deref()
            .and_then(|raw| std::str::from_utf8(raw).ok())
    }

    /// `data` read straight into your own type, without the generic map.
    ///
    /// # Errors
    ///
    /// When `data` is absent or does not fit `T`.
    ///
    /// ```
    /// use costkatana_webhooks::Event;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Spend { amount: f64 }
    ///
    /// let event = Event::from_slice(br#"{"eventType":"cost.alert","data":{"amount": 5}}"#).unwrap();
    /// assert_eq!(event.data.deserialize::<Spend>()?.amount, 5.0);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(self.raw.as_deref().unwrap_or(b"null"))
    }

    /// Any key of `data`, known or not.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.map().get(key)
    }

    /// The whole object.
    pub fn as_map(&self) -> &Map<String, Value> {
        self.map()
    }

    /// Consumes the view, giving the whole object back.
    pub fn into_map(self) -> Map<String, Value> {
        self.map();
        self.parsed.into_inner().unwrap_or_default()
    }

    /// `data.cost`; for documented bodies with a flat `data.amount`, that.
    pub fn cost(&self) -> Option<Cost> {
        let object = self
            .object("cost")
            .or_else(|| self.map().get("amount").map(|_| self.map()))?;
        Some(Cost {
            amount: number(object, &["amount"]),
            currency: text(object, &["currency"]),
            period: text(object, &["period"]),
            threshold: number(object, &["threshold"]),
            breakdown: object.get("breakdown").cloned(),
        })
    }

    /// `data.metrics`, or the documented `data.spike`.
    pub fn metrics(&self) -> Option<Metrics> {
        let object = self.object("metrics").or_else(|| self.object("spike"))?;
        Some(Metrics {
            current: number(object, &["current"]),
            previous: number(object, &["previous"]),
            threshold: number(object, &["threshold"]),
            change: number(object, &["change"]),
            change_percentage: number(object, &["changePercentage", "change_percentage"]),
            unit: text(object, &["unit"]),
        })
    }

    /// `data.budget`.
    pub fn budget(&self) -> Option<Budget> {
        let object = self.object("budget")?;
        Some(Budget {
            amount: number(object, &["amount"]),
            currency: text(object, &["currency"]),
            spent: number(object, &["spent"]),
            remaining: number(object, &["remaining"]),
            percent_used: number(object, &["percentUsed", "percent_used"]),
        })
    }

    /// `data.resource`.
    pub fn resource(&self) -> Option<Resource> {
        let object = self.object("resource")?;
        Some(Resource {
            kind: text(object, &["type"]),
            id: text(object, &["id"]),
            name: text(object, &["name"]),
            metadata: object.get("metadata").cloned(),
        })
    }

    /// `data.links` (paths relative to the Cost Katana dashboard).
    pub fn links(&self) -> Option<Links> {
        let object = self.object("links")?;
        Some(Links {
            dashboard: text(object, &["dashboard"]),
            details: text(object, &["details"]),
            actions: match object.get("actions") {
                Some(Value::Array(actions)) => actions.clone(),
                _ => Vec::new(),
            },
        })
    }

    /// `data.tags`: the string entries, in order (empty when absent).
    pub fn tags(&self) -> Vec<&str> {
        match self.map().get("tags") {
            Some(Value::Array(tags)) => tags.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// `data.context`, free-form.
    pub fn context(&self) -> Option<&Map<String, Value>> {
        self.object("context")
    }

    fn object(&self, key: &str) -> Option<&Map<String, Value>> {
        self.map().get(key).and_then(Value::as_object)
    }
}

/// `data.cost`: what was spent.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Cost {
    /// `amount`.
    pub amount: Option<f64>,
    /// `currency`, such as `USD`.
    pub currency: Option<String>,
    /// `period`, such as `daily`.
    pub period: Option<String>,
    /// `threshold` (documented bodies).
    pub threshold: Option<f64>,
    /// `breakdown`, free-form.
    pub breakdown: Option<Value>,
}

/// `data.metrics` (or the documented `data.spike`): a measured change.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Metrics {
    /// `current`.
    pub current: Option<f64>,
    /// `previous`.
    pub previous: Option<f64>,
    /// `threshold`.
    pub threshold: Option<f64>,
    /// `change`.
    pub change: Option<f64>,
    /// `changePercentage`.
    pub change_percentage: Option<f64>,
    /// `unit`.
    pub unit: Option<String>,
}

/// `data.budget`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Budget {
    /// `amount`: the budget.
    pub amount: Option<f64>,
    /// `currency`.
    pub currency: Option<String>,
    /// `spent`.
    pub spent: Option<f64>,
    /// `remaining`.
    pub remaining: Option<f64>,
    /// `percentUsed` (documented bodies).
    pub percent_used: Option<f64>,
}

/// `data.resource`: what the event is about.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Resource {
    /// `type`, such as `webhook` or `project`.
    pub kind: Option<String>,
    /// `id`.
    pub id: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `metadata`, free-form.
    pub metadata: Option<Value>,
}

/// `data.links`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Links {
    /// `dashboard`.
    pub dashboard: Option<String>,
    /// `details`.
    pub details: Option<String>,
    /// `actions`, as sent.
    pub actions: Vec<Value>,
}

fn number(object: &Map<String, Value>, keys: &[&str]) -> Option<f64> {
    keys.iter().find_map(|key| match object.get(*key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

fn text(object: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|key| match object.get(*key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}
