//! The `data` object of an event, with typed views of its common parts.
//!
//! Views are read leniently: a field of the wrong shape (or `null`, which
//! the sender emits for NaN) is `None`, never an error. Every key, known or
//! not, stays available through [`EventData::get`] and [`EventData::as_map`].

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
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventData(Map<String, Value>);

impl EventData {
    pub(crate) fn new(map: Map<String, Value>) -> Self {
        EventData(map)
    }

    /// Any key of `data`, known or not.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// The whole object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// Consumes the view, giving the whole object back.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }

    /// `data.cost`; for documented bodies with a flat `data.amount`, that.
    pub fn cost(&self) -> Option<Cost> {
        let object = self
            .object("cost")
            .or_else(|| self.0.get("amount").map(|_| &self.0))?;
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
        match self.0.get("tags") {
            Some(Value::Array(tags)) => tags.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// `data.context`, free-form.
    pub fn context(&self) -> Option<&Map<String, Value>> {
        self.object("context")
    }

    fn object(&self, key: &str) -> Option<&Map<String, Value>> {
        self.0.get(key).and_then(Value::as_object)
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
