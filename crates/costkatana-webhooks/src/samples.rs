//! Realistic sample events of every type, in either body shape, for tests,
//! demos and tools such as `ckwebhook send`. Sign them with
//! [`crate::signing`].
//!
//! ```
//! use costkatana_webhooks::signing::sign;
//! use costkatana_webhooks::samples::{sample_event, Shape};
//! use costkatana_webhooks::{EventType, Scheme, Verifier};
//!
//! let now_ms = 1_777_377_600_000;
//! let body = sample_event(&EventType::BudgetExceeded, Shape::Camel, "evt_1", now_ms);
//! let headers = sign(Scheme::Current, "s3cret", now_ms, body.as_bytes());
//!
//! let verifier = Verifier::builder().secret("s3cret").build()?;
//! let verified = verifier.verify_at(&headers, body, now_ms)?;
//! assert_eq!(verified.event().unwrap().event_type, EventType::BudgetExceeded);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde_json::{json, Map, Value};

use crate::{Category, EventType};

/// The body shape of a sample event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// The current sender's compact camelCase body (`eventId`, `data.title`, …).
    Camel,
    /// The documented snake_case body (`event_id`, top-level `title`, …).
    Snake,
}

/// A realistic body for an event of type `event_type`, with id `id`,
/// occurring at `occurred_at_ms`, as compact JSON in `shape`.
///
/// Each category carries the parts its real events carry: cost and budget
/// figures, metrics with a change percentage, resources, links, tags.
///
/// ```
/// use costkatana_webhooks::samples::{sample_event, Shape};
/// use costkatana_webhooks::{Event, EventType};
///
/// for ty in EventType::KNOWN {
///     for shape in [Shape::Camel, Shape::Snake] {
///         let event = Event::from_slice(sample_event(&ty, shape, "evt_1", 0).as_bytes()).unwrap();
///         assert_eq!(event.event_type, ty);
///         assert!(event.title.is_some() && event.severity.is_some());
///     }
/// }
/// ```
pub fn sample_event(event_type: &EventType, shape: Shape, id: &str, occurred_at_ms: i64) -> String {
    let (title, severity, mut data) = sample_data(event_type, shape);
    let description = format!("{title} ({})", event_type.as_str());
    let occurred_at = iso8601(occurred_at_ms);
    let body = match shape {
        Shape::Camel => {
            let mut head = Map::new();
            head.insert("title".into(), title.into());
            head.insert("description".into(), description.into());
            head.insert("severity".into(), severity.into());
            head.append(&mut data);
            json!({
                "eventId": id,
                "eventType": event_type.as_str(),
                "occurredAt": occurred_at,
                "userId": "65f0c0ffee0000000000beef",
                "projectId": "65f0c0ffee0000000000f00d",
                "data": head,
                "metadata": { "source": "cost-katana", "version": "1.0" },
            })
        }
        Shape::Snake => json!({
            "event_id": id,
            "event_type": event_type.as_str(),
            "occurred_at": occurred_at,
            "severity": severity,
            "title": title,
            "description": description,
            "user_id": "65f0c0ffee0000000000beef",
            "project_id": "65f0c0ffee0000000000f00d",
            "data": data,
        }),
    };
    body.to_string()
}

/// A realistic camelCase body for an event of type `event_type`, as the
/// live sender makes it: a fresh id (see [`fresh_id`]), occurring now.
/// Each call is a new event; send one body twice for a duplicate.
///
/// ```
/// use costkatana_webhooks::samples;
/// use costkatana_webhooks::{Event, EventType};
///
/// let body = samples::event(&EventType::BudgetWarning);
/// let event = Event::from_slice(body.as_bytes()).unwrap();
/// assert_eq!(event.event_type, EventType::BudgetWarning);
/// assert!(event.id.unwrap().starts_with("budget_warning_"));
/// assert_ne!(samples::event(&EventType::BudgetWarning), body, "a fresh id each time");
/// ```
pub fn event(event_type: &EventType) -> String {
    let now_ms = crate::Clock::now_ms(&crate::SystemClock);
    sample_event(event_type, Shape::Camel, &fresh_id(event_type), now_ms)
}

/// A `cost.alert` from [`event`]: the commonest delivery, for a first test.
///
/// ```
/// use costkatana_webhooks::{samples, Event, EventType};
/// let event = Event::from_slice(samples::cost_alert().as_bytes()).unwrap();
/// assert_eq!(event.event_type, EventType::CostAlert);
/// ```
pub fn cost_alert() -> String {
    event(&EventType::CostAlert)
}

/// A new event id as the live sender makes them: the type with `_` for
/// `.`, then a random UUID (`cost_alert_<uuid4>`). Unique within a
/// process even if the system's randomness fails.
///
/// ```
/// use costkatana_webhooks::{samples::fresh_id, EventType};
/// let id = fresh_id(&EventType::CostAlert);
/// assert!(id.starts_with("cost_alert_") && id.len() == "cost_alert_".len() + 36);
/// assert_ne!(id, fresh_id(&EventType::CostAlert));
/// ```
pub fn fresh_id(event_type: &EventType) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        let time = u64::try_from(crate::Clock::now_ms(&crate::SystemClock)).unwrap_or(0);
        b[..8].copy_from_slice(&time.to_be_bytes());
    }
    let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed).to_be_bytes();
    for (byte, seq) in b[8..].iter_mut().zip(sequence) {
        *byte ^= seq;
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = hex::encode(b);
    format!(
        "{}_{}-{}-{}-{}-{}",
        event_type.as_str().replace('.', "_"),
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Title, severity and category-specific `data` keys of a sample event.
fn sample_data(event_type: &EventType, shape: Shape) -> (String, &'static str, Map<String, Value>) {
    let camel = shape == Shape::Camel;
    let change = if camel {
        "changePercentage"
    } else {
        "change_percentage"
    };
    let resource =
        json!({ "type": "project", "id": "65f0c0ffee0000000000f00d", "name": "Production" });
    let links = json!({ "dashboard": "/dashboard", "details": "/dashboard/alerts", "actions": [] });
    let (title, severity, data) = match event_type {
        EventType::CostSpikeDetected => (
            "Cost spike detected",
            "critical",
            json!({
                "metrics": { "current": 620.0, "previous": 100.0, "change": 520.0, change: 520.0, "unit": "USD" },
                "spike": { "changePercentage": 520.0 },
                "cost": { "amount": 620.0, "currency": "USD", "period": "daily" },
                "resource": resource,
                "links": links,
            }),
        ),
        EventType::BudgetWarning | EventType::BudgetExceeded => (
            if *event_type == EventType::BudgetWarning {
                "Budget 90% used"
            } else {
                "Budget exceeded"
            },
            if *event_type == EventType::BudgetWarning {
                "high"
            } else {
                "critical"
            },
            json!({
                "budget": { "amount": 1000.0, "currency": "USD", "spent": 1250.5, "remaining": -250.5, "percentUsed": 125.05 },
                "warningThreshold": 90,
                "cost": { "amount": 1250.5, "currency": "USD", "period": "monthly" },
                "links": links,
            }),
        ),
        EventType::OptimizationSuggested => (
            "Switch summarisation to a smaller model",
            "medium",
            json!({
                "optimization": { "potentialSavings": 312.4, "currency": "USD" },
                "recommendation": "Route short prompts to a smaller model to save about $312/month.",
                "links": links,
            }),
        ),
        _ => match event_type.category() {
            Category::Cost
            | Category::Savings
            | Category::Usage
            | Category::Token
            | Category::Api => (
                "Cost threshold exceeded",
                "high",
                json!({
                    "cost": { "amount": 125.5, "currency": "USD", "period": "daily",
                              "breakdown": { "gpt-4": 100.25, "claude-3-5-sonnet": 25.25 } },
                    "metrics": { "current": 125.5, "previous": 80.0, "threshold": 100.0, "change": 45.5, change: 56.875, "unit": "USD" },
                    "tags": ["cost", "production"],
                    "links": links,
                }),
            ),
            Category::Security | Category::Compliance | Category::Data | Category::Moderation => (
                "Prompt injection attempt blocked",
                "critical",
                json!({ "resource": resource, "tags": ["security"], "context": { "ip": "203.0.113.7" }, "links": links }),
            ),
            Category::Model | Category::Quality => (
                "Model latency above threshold",
                "high",
                json!({
                    "metrics": { "current": 2400.0, "previous": 900.0, "threshold": 2000.0, "change": 1500.0, change: 166.7, "unit": "ms" },
                    "resource": { "type": "model", "id": "gpt-4", "name": "gpt-4" },
                    "links": links,
                }),
            ),
            Category::Subscription => (
                "Subscription updated",
                "low",
                json!({ "resource": { "type": "subscription", "id": "sub_42", "name": "Pro" }, "links": links }),
            ),
            _ => (
                "Webhook Test",
                "low",
                json!({ "resource": resource, "context": {}, "links": links }),
            ),
        },
    };
    let Value::Object(data) = data else {
        unreachable!("sample data is an object")
    };
    (title.to_owned(), severity, data)
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (the sender's `occurredAt` format) for a time
/// in ms since the epoch.
///
/// ```
/// use costkatana_webhooks::samples::iso8601;
/// assert_eq!(iso8601(1_777_377_600_000), "2026-04-28T12:00:00.000Z");
/// ```
pub fn iso8601(ms: i64) -> String {
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::iso8601;

    #[test]
    fn formats_iso8601() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_777_377_600_000), "2026-04-28T12:00:00.000Z");
        assert_eq!(iso8601(951_782_400_123), "2000-02-29T00:00:00.123Z");
    }
}
