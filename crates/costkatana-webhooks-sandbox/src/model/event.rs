//! An event as it happens in the sandbox, and the body the sender makes of
//! it: the default compact camelCase payload (PROTOCOL.md §2).

use serde_json::Value;

/// What happened, for whom, with what data.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EventFacts {
    /// `<prefix>_<uuid4>`.
    pub(crate) event_id: String,
    pub(crate) event_type: String,
    pub(crate) occurred_at: i64,
    pub(crate) user_id: String,
    pub(crate) project_id: Option<String>,
    /// Compact JSON text, keys in the order they were given.
    pub(crate) data: String,
}

impl EventFacts {
    /// The default payload: `eventId`, `eventType`, `occurredAt` (ISO-8601
    /// with ms), `userId`, `projectId` (when there is one), `data`, in
    /// that order, without spaces. (`metadata` is left out, as the live
    /// emitters leave it.)
    pub(crate) fn body(&self) -> String {
        let mut body = String::with_capacity(self.data.len() + 200);
        body.push('{');
        let text = |s: &str| Value::from(s).to_string();
        let mut field = |key: &str, json: &str| {
            if body.len() > 1 {
                body.push(',');
            }
            body.push('"');
            body.push_str(key);
            body.push_str("\":");
            body.push_str(json);
        };
        field("eventId", &text(&self.event_id));
        field("eventType", &text(&self.event_type));
        field(
            "occurredAt",
            &text(&costkatana_webhooks::samples::iso8601(self.occurred_at)),
        );
        field("userId", &text(&self.user_id));
        if let Some(project) = &self.project_id {
            field("projectId", &text(project));
        }
        field("data", &self.data);
        body.push('}');
        body
    }
}

/// JSON text without the spaces and line breaks between its tokens (the
/// rest kept byte for byte).
pub(crate) fn compact(json: &str) -> String {
    String::from_utf8_lossy(&costkatana_webhooks::diagnose::minify(json.as_bytes())).into_owned()
}

/// The `data` of the core's realistic sample of `event_type`: what an event
/// emitted without data of its own carries.
pub(crate) fn sample_data(event_type: &costkatana_webhooks::EventType, now_ms: i64) -> String {
    use costkatana_webhooks::samples::{sample_event, Shape};
    #[derive(serde::Deserialize)]
    struct Sample<'a> {
        #[serde(borrow)]
        data: &'a serde_json::value::RawValue,
    }
    let sample = sample_event(event_type, Shape::Camel, "sample", now_ms);
    serde_json::from_str::<Sample<'_>>(&sample)
        .map_or_else(|_| "{}".to_owned(), |s| s.data.get().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use costkatana_webhooks::{Event, EventType};

    #[test]
    fn the_default_body_keeps_its_key_order() {
        let facts = EventFacts {
            event_id: "cost_alert_1".into(),
            event_type: "cost.alert".into(),
            occurred_at: 1_777_377_600_123,
            user_id: "u1".into(),
            project_id: None,
            data: r#"{"title":"T","severity":"high","cost":{"amount":125.50}}"#.into(),
        };
        assert_eq!(
            facts.body(),
            r#"{"eventId":"cost_alert_1","eventType":"cost.alert","occurredAt":"2026-04-28T12:00:00.123Z","userId":"u1","data":{"title":"T","severity":"high","cost":{"amount":125.50}}}"#
        );
        let with_project = EventFacts {
            project_id: Some("p\"1".into()),
            ..facts
        };
        assert!(with_project
            .body()
            .contains(r#""userId":"u1","projectId":"p\"1","data""#));
    }

    #[test]
    fn samples_give_realistic_data_for_every_type() {
        for ty in EventType::KNOWN {
            let facts = EventFacts {
                event_id: "e_1".into(),
                event_type: ty.as_str().into(),
                occurred_at: 0,
                user_id: "u".into(),
                project_id: None,
                data: sample_data(&ty, 0),
            };
            let event = Event::from_slice(facts.body().as_bytes()).unwrap();
            assert_eq!(event.event_type, ty);
            assert!(event.title.is_some(), "{ty}");
        }
    }

    #[test]
    fn compact_removes_only_the_spaces_between_tokens() {
        assert_eq!(compact("{ \"a b\" : [1, 2.50] }"), r#"{"a b":[1,2.50]}"#);
    }
}
