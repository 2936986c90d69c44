//! The body of the sandbox's own `POST /sandbox/events` (the dashboard's
//! "emit an event"), checked in the live API's style.

use serde_json::Value;

use super::{Checker, Issue};
use crate::model::catalog;

/// What to emit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EmissionFields {
    pub(crate) event_type: String,
    /// The `data` object, as JSON text (its keys in the order given).
    pub(crate) data: Option<String>,
    pub(crate) user_id: Option<String>,
    pub(crate) project_id: Option<String>,
}

/// Checks `body` (`raw` is its text, which keeps `data`'s key order):
/// `eventType` one of the 57, `data` an object, `userId` and `projectId`
/// non-empty strings.
pub(crate) fn check(body: &Value, raw: &[u8]) -> Result<EmissionFields, Vec<Issue>> {
    let mut checker = Checker::default();
    let Some(map) = checker.object("", Some(body)) else {
        return Err(checker.finish(()).unwrap_err());
    };
    let event_type = checker.native_one_of("eventType", map.get("eventType"), &catalog::names());
    let data = map.get("data").and_then(|value| {
        checker.object("data", Some(value))?;
        Some(raw_data(raw))
    });
    let user_id = map
        .get("userId")
        .and_then(|value| checker.string("userId", Some(value), Some(1), None));
    let project_id = map
        .get("projectId")
        .and_then(|value| checker.string("projectId", Some(value), Some(1), None));
    let fields = event_type.map(|event_type| EmissionFields {
        event_type,
        data,
        user_id,
        project_id,
    });
    match checker.finish(fields) {
        Ok(Some(fields)) => Ok(fields),
        Ok(None) => unreachable!("a missing event type is an issue"),
        Err(issues) => Err(issues),
    }
}

/// The `data` member of `raw`, compact, its keys in the order given.
fn raw_data(raw: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Body<'a> {
        #[serde(borrow)]
        data: &'a serde_json::value::RawValue,
    }
    serde_json::from_slice::<Body<'_>>(raw).map_or_else(
        |_| "{}".to_owned(),
        |body| crate::model::event::compact(body.data.get()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_keeps_its_key_order() {
        let raw = br#"{"eventType": "budget.exceeded", "data": {"title": "B", "amount": 1.50}}"#;
        let body: Value = serde_json::from_slice(raw).unwrap();
        let fields = check(&body, raw).unwrap();
        assert_eq!(fields.event_type, "budget.exceeded");
        assert_eq!(
            fields.data.as_deref(),
            Some(r#"{"title":"B","amount":1.50}"#)
        );
    }

    #[test]
    fn unknown_types_and_bad_data_are_refused() {
        let raw = br#"{"eventType": "usage.spike_detected", "data": [1], "userId": ""}"#;
        let body: Value = serde_json::from_slice(raw).unwrap();
        let issues = check(&body, raw).unwrap_err();
        let fields: Vec<&str> = issues.iter().map(|i| i.field.as_str()).collect();
        assert_eq!(fields, ["eventType", "data", "userId"]);
    }
}
