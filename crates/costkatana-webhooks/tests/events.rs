//! Bodies: both field spellings, every type, aliases, unknown types,
//! templates, non-events, non-UTF-8 and the user's own types.

use costkatana_webhooks::testing::{sample_event, sign, Shape};
use costkatana_webhooks::{Category, Event, EventType, Payload, Scheme, Severity, Verifier};

const NOW: i64 = 1_777_377_600_000;

fn verify(body: &[u8]) -> costkatana_webhooks::Verified {
    let headers = sign(Scheme::Current, "s3cret", NOW, body);
    Verifier::builder()
        .secret("s3cret")
        .build()
        .unwrap()
        .verify_at(&headers, body.to_vec(), NOW)
        .unwrap()
}

#[test]
fn every_type_in_both_shapes() {
    assert_eq!(EventType::KNOWN.len(), 57);
    for ty in EventType::KNOWN {
        for shape in [Shape::Camel, Shape::Snake] {
            let body = sample_event(&ty, shape, "evt_1", NOW);
            let verified = verify(body.as_bytes());
            let event = verified.event().unwrap_or_else(|| panic!("{ty} {shape:?}"));
            assert_eq!(event.event_type, ty);
            assert_eq!(event.id.as_deref(), Some("evt_1"));
            assert_eq!(
                event.occurred_at.as_deref(),
                Some("2026-04-28T12:00:00.000Z")
            );
            assert_eq!(event.user_id.as_deref(), Some("65f0c0ffee0000000000beef"));
            assert!(
                event.title.is_some() && event.description.is_some() && event.severity.is_some()
            );
            assert!(event.data.links().is_some(), "{ty}");
        }
    }
}

#[test]
fn display_and_from_str_round_trip() {
    for ty in EventType::KNOWN {
        assert_eq!(ty.to_string().parse::<EventType>().unwrap(), ty);
        assert_eq!(
            ty.category().as_str(),
            ty.as_str().split('.').next().unwrap()
        );
        assert!(!matches!(ty.category(), Category::Other(_)), "{ty}");
    }
    assert_eq!(Category::KNOWN.len(), 21);
    assert_eq!(
        "savings.milestone_reached".parse::<EventType>().unwrap(),
        EventType::SavingsMilestone
    );
    assert_eq!(
        "usage.spike_detected".parse::<EventType>().unwrap(),
        EventType::UsageSpike
    );
    let json: EventType = serde_json::from_str(r#""usage.spike_detected""#).unwrap();
    assert_eq!(serde_json::to_string(&json).unwrap(), r#""usage.spike""#);
}

#[test]
fn unknown_types_are_delivered() {
    let verified = verify(br#"{"eventId":"e9","eventType":"billing.invoice_paid","data":{}}"#);
    let event = verified.event().unwrap();
    assert_eq!(
        event.event_type,
        EventType::Other("billing.invoice_paid".into())
    );
    assert_eq!(
        event.event_type.category(),
        Category::Other("billing".into())
    );
    assert_eq!(event.event_type.to_string(), "billing.invoice_paid");
}

#[test]
fn camel_and_snake_read_alike() {
    let camel = Event::from_slice(
        br#"{"eventId":"e1","eventType":"cost.spike_detected","occurredAt":"2026-04-28T12:00:00.000Z",
        "userId":"u1","projectId":"p1","data":{"title":"Spike","description":"d","severity":"critical",
        "metrics":{"changePercentage":520.0,"current":null},"resource":{"type":"project","id":"p1","name":"Prod"},
        "warningThreshold":90},"metadata":{"k":"v"}}"#,
    )
    .unwrap();
    let snake = Event::from_slice(
        br#"{"event_id":"e1","event_type":"cost.spike_detected","occurred_at":"2026-04-28T12:00:00.000Z",
        "user_id":"u1","project_id":"p1","severity":"critical","title":"Spike","description":"d",
        "data":{"spike":{"changePercentage":520.0},"resource":{"type":"project","id":"p1","name":"Prod"},
        "warningThreshold":90},"metadata":{"k":"v"}}"#,
    )
    .unwrap();
    for event in [&camel, &snake] {
        assert_eq!(event.id.as_deref(), Some("e1"));
        assert_eq!(event.project_id.as_deref(), Some("p1"));
        assert_eq!(event.severity, Some(Severity::Critical));
        assert_eq!(event.title.as_deref(), Some("Spike"));
        assert_eq!(event.data.metrics().unwrap().change_percentage, Some(520.0));
        assert_eq!(event.data.resource().unwrap().name.as_deref(), Some("Prod"));
        assert_eq!(
            event.data.get("warningThreshold").and_then(|v| v.as_u64()),
            Some(90)
        );
        assert_eq!(event.metadata.as_ref().unwrap()["k"], "v");
    }
    assert_eq!(
        camel.data.metrics().unwrap().current,
        None,
        "null (NaN on the sender) is None"
    );
}

#[test]
fn documented_examples_read() {
    let event = Event::from_slice(
        br#"{"event_id":"evt_abc123","event_type":"cost.alert","occurred_at":"2024-01-15T10:30:00Z",
        "severity":"high","title":"Daily Cost Threshold Exceeded","description":"Current: $125.50, Threshold: $100.00",
        "data":{"cost":{"amount":125.50,"threshold":100.00}}}"#,
    )
    .unwrap();
    let cost = event.data.cost().unwrap();
    assert_eq!((cost.amount, cost.threshold), (Some(125.5), Some(100.0)));
    let flat = Event::from_slice(br#"{"event_type":"cost.alert","data":{"amount":100}}"#).unwrap();
    assert_eq!(flat.id, None);
    assert_eq!(flat.data.cost().unwrap().amount, Some(100.0));
    let budget = Event::from_slice(
        br#"{"event_type":"budget.warning","data":{"budget":{"percentUsed":"91.5"}}}"#,
    )
    .unwrap();
    assert_eq!(
        budget.data.budget().unwrap().percent_used,
        Some(91.5),
        "numeric strings are read"
    );
}

#[test]
fn other_bodies_are_never_rejected() {
    let template = verify(br#""{\"text\": \"cost.alert: &lt;b&gt;over&lt;/b&gt;\"}""#);
    assert_eq!(
        template.payload(),
        &Payload::Template(r#"{"text": "cost.alert: &lt;b&gt;over&lt;/b&gt;"}"#.into())
    );
    assert!(matches!(verify(b"[1,2,3]").payload(), Payload::Json(_)));
    assert!(
        matches!(verify(br#"{"eventType":42}"#).payload(), Payload::Event(_)),
        "numbers as type text"
    );
    assert!(matches!(
        verify(br#"{"eventType":{"nested":1}}"#).payload(),
        Payload::Json(_)
    ));
    assert_eq!(verify(b"").payload(), &Payload::NotJson);
    let binary = verify(b"\xff\xfe\x00binary");
    assert_eq!(binary.payload(), &Payload::NotJson);
    assert_eq!(binary.body(), b"\xff\xfe\x00binary");
}

#[test]
fn user_types_through_json() {
    #[derive(Debug, serde::Deserialize)]
    struct Mine {
        #[serde(rename = "eventId")]
        id: String,
        data: std::collections::HashMap<String, serde_json::Value>,
    }
    let verified =
        verify(sample_event(&EventType::BudgetExceeded, Shape::Camel, "b1", NOW).as_bytes());
    let mine: Mine = verified.json().unwrap();
    assert_eq!(mine.id, "b1");
    assert!(mine.data.contains_key("budget"));
    let err = verify(b"not json").json::<Mine>().unwrap_err();
    assert!(err.to_string().contains("line 1"));
}
