//! The query strings of the two listing routes, read as the live API reads
//! them (Express's parser, then zod): a key given twice is an array, and
//! `limit` and `offset` go through JavaScript's `parseInt`.

use serde_json::Value;

use super::{Checker, Issue};
use crate::js;
use crate::model::catalog;

const STATUSES: [&str; 5] = ["pending", "success", "failed", "timeout", "cancelled"];

/// A query string's values per key, in order (`events[]` counts as
/// `events`); one value is a string, several an array, as Express gives
/// them.
fn parse(query: Option<&str>) -> serde_json::Map<String, Value> {
    let mut values: Vec<(String, Vec<String>)> = Vec::new();
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let key = key.strip_suffix("[]").unwrap_or(&key).to_owned();
        match values.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(value.into_owned()),
            None => values.push((key, vec![value.into_owned()])),
        }
    }
    values
        .into_iter()
        .map(|(key, mut list)| {
            let value = if list.len() == 1 {
                Value::String(list.remove(0))
            } else {
                list.into()
            };
            (key, value)
        })
        .collect()
}

/// `GET /api/webhooks`: `active` (`true` is true, any other text false)
/// and `events` (any of them). `limit` and `offset` are read and ignored,
/// as on the live API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct WebhookQuery {
    pub(crate) active: Option<bool>,
    pub(crate) events: Option<Vec<String>>,
}

pub(crate) fn webhooks(query: Option<&str>) -> Result<WebhookQuery, Vec<Issue>> {
    let params = parse(query);
    let mut checker = Checker::default();
    let mut result = WebhookQuery::default();
    if let Some(value) = params.get("active") {
        result.active = checker
            .string("active", Some(value), None, None)
            .map(|text| text == "true");
    }
    if let Some(value) = params.get("events") {
        result.events = match value {
            Value::String(one) => Some(vec![one.clone()]),
            many => checker.strings("events", Some(many)),
        };
    }
    for key in ["limit", "offset"] {
        if let Some(value) = params.get(key) {
            checker.string(key, Some(value), None, None);
        }
    }
    checker.finish(result)
}

/// `GET /api/webhooks/:id/deliveries`: `status`, `eventType`, `limit`
/// (`parseInt`, 20 when absent, zero or not a number, at most 100) and
/// `offset` (`parseInt`, 0 by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeliveryQuery {
    pub(crate) status: Option<String>,
    pub(crate) event_type: Option<String>,
    pub(crate) limit: i64,
    pub(crate) offset: i64,
}

pub(crate) fn deliveries(query: Option<&str>) -> Result<DeliveryQuery, Vec<Issue>> {
    let params = parse(query);
    let mut checker = Checker::default();
    let status = params
        .get("status")
        .and_then(|value| checker.one_of("status", Some(value), &STATUSES));
    let event_type = params
        .get("eventType")
        .and_then(|value| checker.native_one_of("eventType", Some(value), &catalog::names()));
    let mut number = |key: &str| {
        params
            .get(key)
            .and_then(|value| checker.string(key, Some(value), None, None))
            .and_then(|text| js::parse_int(&text))
            .filter(|n| *n != 0)
    };
    let limit = number("limit").unwrap_or(20).min(100);
    let offset = number("offset").unwrap_or(0);
    checker.finish(DeliveryQuery {
        status,
        event_type,
        limit,
        offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_filters() {
        assert_eq!(webhooks(None).unwrap(), WebhookQuery::default());
        let query = webhooks(Some("active=yes&events=cost.alert&limit=5")).unwrap();
        assert_eq!(query.active, Some(false));
        assert_eq!(query.events, Some(vec!["cost.alert".to_owned()]));
        let query = webhooks(Some("active=true&events=a&events[]=b")).unwrap();
        assert_eq!(query.active, Some(true));
        assert_eq!(query.events, Some(vec!["a".to_owned(), "b".to_owned()]));
        let issues = webhooks(Some("active=true&active=false")).unwrap_err();
        assert_eq!(issues[0].message, "Expected string, received array");
    }

    #[test]
    fn delivery_filters_and_pages() {
        let query = deliveries(None).unwrap();
        assert_eq!((query.limit, query.offset), (20, 0));
        let query = deliveries(Some(
            "status=failed&eventType=cost.alert&limit=500&offset=7",
        ))
        .unwrap();
        assert_eq!(query.status.as_deref(), Some("failed"));
        assert_eq!(query.event_type.as_deref(), Some("cost.alert"));
        assert_eq!((query.limit, query.offset), (100, 7));
        assert_eq!(deliveries(Some("limit=0")).unwrap().limit, 20);
        assert_eq!(deliveries(Some("limit=abc")).unwrap().limit, 20);
        assert_eq!(deliveries(Some("limit=5x")).unwrap().limit, 5);
        let issues = deliveries(Some("status=done&eventType=usage.spike_detected")).unwrap_err();
        let fields: Vec<&str> = issues.iter().map(|i| i.field.as_str()).collect();
        assert_eq!(fields, ["status", "eventType"]);
        assert!(issues.iter().all(|i| i.code == "invalid_enum_value"));
    }
}
