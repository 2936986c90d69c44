//! The lean event reader (envelope typed, `data` left raw) against an
//! oracle: the reading it replaced, a full `serde_json::Value` parse then
//! the same rules. For any object built from the envelope's keys, aliases,
//! repeated keys, odd shapes and unknown keys, both agree on the payload's
//! kind and on every field of the event.

use costkatana_webhooks::{Event, EventType, Payload, Severity};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// What the previous reader made of a body.
#[derive(Debug, PartialEq)]
enum Oracle {
    Event(Box<Expected>),
    Template(String),
    Json(Value),
    NotJson,
}

/// An event's fields as the previous reader set them.
#[derive(Debug, PartialEq)]
struct Expected {
    id: Option<String>,
    event_type: EventType,
    occurred_at: Option<String>,
    severity: Option<Severity>,
    title: Option<String>,
    description: Option<String>,
    user_id: Option<String>,
    project_id: Option<String>,
    data: Map<String, Value>,
    metadata: Option<Value>,
    extra: Map<String, Value>,
}

fn string_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn take_string(map: &mut Map<String, Value>, camel: &str, snake: &str) -> Option<String> {
    for key in [camel, snake] {
        if let Some(text) = string_of(map.get(key)) {
            map.remove(key);
            return Some(text);
        }
    }
    None
}

fn oracle(body: &[u8]) -> Oracle {
    let mut map = match serde_json::from_slice::<Value>(body) {
        Ok(Value::String(text)) => return Oracle::Template(text),
        Ok(Value::Object(map)) => map,
        Ok(other) => return Oracle::Json(other),
        Err(_) => return Oracle::NotJson,
    };
    let Some(event_type) = take_string(&mut map, "eventType", "event_type") else {
        return Oracle::Json(Value::Object(map));
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
    Oracle::Event(Box::new(Expected {
        id: take_string(&mut map, "eventId", "event_id"),
        event_type: EventType::from(event_type.as_str()),
        occurred_at: take_string(&mut map, "occurredAt", "occurred_at"),
        severity,
        title,
        description,
        user_id: take_string(&mut map, "userId", "user_id"),
        project_id: take_string(&mut map, "projectId", "project_id"),
        metadata: map.remove("metadata"),
        data,
        extra: map,
    }))
}

fn observed(body: &[u8]) -> Oracle {
    match Payload::parse(body) {
        Payload::Event(event) => Oracle::Event(Box::new(fields(&event))),
        Payload::Template(text) => Oracle::Template(text),
        Payload::Json(value) => Oracle::Json(value),
        Payload::NotJson => Oracle::NotJson,
        other => panic!("a payload kind this test does not know: {other:?}"),
    }
}

fn fields(event: &Event) -> Expected {
    Expected {
        id: event.id.clone(),
        event_type: event.event_type.clone(),
        occurred_at: event.occurred_at.clone(),
        severity: event.severity.clone(),
        title: event.title.clone(),
        description: event.description.clone(),
        user_id: event.user_id.clone(),
        project_id: event.project_id.clone(),
        data: event.data.as_map().clone(),
        metadata: event.metadata.clone(),
        extra: event.extra.clone(),
    }
}

/// Small JSON values of every shape, as text.
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| serde_json::to_string(&f).expect("a finite number")),
        prop_oneof![
            Just("budget.exceeded".to_owned()),
            Just("cost.alert".to_owned()),
            Just("high".to_owned()),
            Just("Daily cost".to_owned()),
            "[a-z\\. é\"\\\\]{0,12}",
        ]
        .prop_map(|s| serde_json::to_string(&s).expect("a string")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|items| format!("[{}]", items.join(","))),
            prop::collection::vec((key(), inner), 0..4).prop_map(|pairs| object(&pairs)),
        ]
    })
}

/// The envelope's keys, their aliases, and others.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "eventId",
            "event_id",
            "eventType",
            "event_type",
            "occurredAt",
            "occurred_at",
            "severity",
            "title",
            "description",
            "userId",
            "user_id",
            "projectId",
            "project_id",
            "data",
            "metadata",
            "value",
            "cost",
            "tags",
        ])
        .prop_map(str::to_owned),
        "[a-z_]{1,8}",
    ]
}

/// An object's text; keys may repeat, as a sender's may.
fn object(pairs: &[(String, String)]) -> String {
    let fields: Vec<String> = pairs
        .iter()
        .map(|(key, value)| format!("{}:{value}", serde_json::to_string(key).expect("a key")))
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// An event-like body: most carry an event type and a `data` object with
/// envelope keys of its own.
fn body() -> impl Strategy<Value = String> {
    let data = prop::collection::vec((key(), value()), 0..6).prop_map(|pairs| object(&pairs));
    (
        prop::collection::vec((key(), value()), 0..8),
        prop::option::of(prop::sample::select(vec!["eventType", "event_type"])),
        prop::option::of(data),
    )
        .prop_map(|(mut pairs, type_key, data)| {
            if let Some(type_key) = type_key {
                pairs.push((type_key.to_owned(), "\"cost.alert\"".to_owned()));
            }
            if let Some(data) = data {
                pairs.push(("data".to_owned(), data));
            }
            object(&pairs)
        })
}

/// An object's text with `ws` around every token of its own level.
fn spaced(pairs: &[(String, String)], ws: &str) -> String {
    let fields: Vec<String> = pairs
        .iter()
        .map(|(key, value)| {
            let key = serde_json::to_string(key).expect("a key");
            format!("{ws}{key}{ws}:{ws}{value}{ws}")
        })
        .collect();
    format!("{{{ws}{}{ws}}}", fields.join(","))
}

/// [`body`] with JSON whitespace around the tokens of the top level and of
/// `data`, where the reader finds `data`'s text itself; `data` is often
/// empty, and its key sometimes escaped (read the slower way).
fn spaced_body() -> impl Strategy<Value = String> {
    let ws = "[ \t\n\r]{0,3}";
    let data = (prop::collection::vec((key(), value()), 0..4), ws)
        .prop_map(|(pairs, ws)| spaced(&pairs, &ws));
    (
        prop::collection::vec((key(), value()), 0..6),
        prop::option::of(data),
        any::<bool>(),
        ws,
    )
        .prop_map(|(mut pairs, data, escaped, ws)| {
            pairs.push(("eventType".to_owned(), "\"cost.alert\"".to_owned()));
            let mut body = spaced(&pairs, &ws);
            if let Some(data) = data {
                let key = if escaped {
                    r#""d\u0061ta""#
                } else {
                    r#""data""#
                };
                body.pop();
                body = format!("{body},{ws}{key}{ws}:{ws}{data}{ws}}}");
            }
            body
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn reads_spaced_objects_as_the_full_parse_did(body in spaced_body()) {
        prop_assert_eq!(observed(body.as_bytes()), oracle(body.as_bytes()), "{}", body);
        if let Payload::Event(event) = Payload::parse(body.as_bytes()) {
            // `data` exactly as sent: a part of the body, one JSON value
            // without the whitespace around it.
            if let Some(raw) = event.data.raw_json() {
                prop_assert!(body.contains(raw));
                prop_assert_eq!(raw.trim(), raw);
                prop_assert!(serde_json::from_str::<Value>(raw).is_ok(), "{}", raw);
            }
        }
    }

    #[test]
    fn reads_every_object_as_the_full_parse_did(body in body()) {
        prop_assert_eq!(observed(body.as_bytes()), oracle(body.as_bytes()), "{}", body);
    }

    #[test]
    fn reads_any_json_value_as_the_full_parse_did(body in value()) {
        prop_assert_eq!(observed(body.as_bytes()), oracle(body.as_bytes()), "{}", body);
    }

    #[test]
    fn reads_any_bytes_as_the_full_parse_did(body in prop::collection::vec(any::<u8>(), 0..64)) {
        prop_assert_eq!(observed(&body), oracle(&body));
    }
}

#[test]
fn both_body_shapes_and_whitespace_agree() {
    for body in [
        r#"{"eventId":"cost_alert_1","eventType":"cost.alert","data":{"title":"Daily cost","severity":"high","cost":{"amount":125.5}}}"#,
        r#"{"event_id":"cost_alert_1","event_type":"cost.alert","severity":"high","title":"Daily cost","data":{"amount":125.5}}"#,
        " \n\t{\"eventType\":\"x.y\",\"data\":[1,2]} \r\n",
        r#"{"eventType":"x.y","eventType":"a.b","data":{"title":"one","title":"two"}}"#,
        r#"{"eventType":7,"event_type":"budget.warning","eventId":{"nested":true}}"#,
        r#""a template body""#,
        "[1,2,3]",
        "{\"eventType\":\"x.y\"",
    ] {
        assert_eq!(observed(body.as_bytes()), oracle(body.as_bytes()), "{body}");
    }
}

/// The one difference, by design: JSON whose syntax is valid but that a
/// full parse refuses (a number beyond f64 here; a lone surrogate escape
/// or nesting past 128, below) inside the `data` that is kept no longer
/// makes the body "not JSON", since `data` is not parsed until read; the
/// event is delivered and its `data` reads as empty.
#[test]
fn an_unparsable_number_inside_data_no_longer_hides_the_event() {
    let body = br#"{"eventId":"e1","eventType":"cost.alert","data":{"amount":1e400}}"#;
    assert_eq!(oracle(body), Oracle::NotJson);
    let Payload::Event(event) = Payload::parse(body) else {
        panic!("the event is delivered");
    };
    assert_eq!(event.id.as_deref(), Some("e1"));
    assert!(event.data.as_map().is_empty());
    assert_eq!(event.data.raw_json(), Some(r#"{"amount":1e400}"#));
    // Elsewhere in the body, it is refused as before.
    let outside = br#"{"eventId":"e1","eventType":"cost.alert","amount":1e400}"#;
    assert_eq!(Payload::parse(outside), Payload::NotJson);
}

/// Through a verified request, `data` is a range of the body, read when
/// asked for, and reads the same as from a slice.
#[test]
fn a_verified_event_reads_its_data_from_the_body() {
    use costkatana_webhooks::signing::sign;
    use costkatana_webhooks::{Scheme, Verifier};
    const NOW: i64 = 1_777_377_600_000;
    let body = r#"{"eventId":"e1","eventType":"budget.exceeded","data":{"title":"Over","budget":{"amount":100,"spent":150}}}"#;
    let verifier = Verifier::builder().secret("whsec_lean").build().unwrap();
    let headers = sign(Scheme::Current, "whsec_lean", NOW, body.as_bytes());
    let verified = verifier.verify_at(&headers, body, NOW).unwrap();
    let event = verified.event().expect("an event");
    assert_eq!(event.title.as_deref(), Some("Over"));
    assert_eq!(
        event.data.raw_json(),
        Some(r#"{"title":"Over","budget":{"amount":100,"spent":150}}"#)
    );
    assert_eq!(event.data.budget().and_then(|b| b.spent), Some(150.0));
    assert_eq!(Some(event), Event::from_slice(body.as_bytes()).as_ref());
}

/// A repeated envelope key whose earlier copy holds what a full parse
/// refuses (a lone surrogate escape, a number beyond f64): the whole body
/// is not JSON, as a full parse says. (Before, the earlier copy was
/// skipped unchecked and the event delivered.)
#[test]
fn a_repeated_key_whose_replaced_copy_a_full_parse_refuses_is_not_json() {
    for body in [
        r#"{"eventType":"\uD800","eventType":"cost.alert","eventId":"e1"}"#,
        r#"{"eventId":1e400,"eventId":"e1","eventType":"cost.alert"}"#,
        r#"{"eventId":"e1","eventType":"cost.alert","data":{"a":1e400},"data":{}}"#,
        r#"{"eventId":"e1","title":"\uDC00","eventType":"cost.alert","title":"ok"}"#,
    ] {
        assert_eq!(oracle(body.as_bytes()), Oracle::NotJson, "{body}");
        assert_eq!(observed(body.as_bytes()), Oracle::NotJson, "{body}");
    }
    // A repeated key whose copies are all valid reads the last, as before.
    let body = br#"{"eventId":"e0","eventId":"e1","eventType":"cost.alert"}"#;
    assert_eq!(observed(body), oracle(body));
}

/// A lone surrogate escape inside `data`, like a number beyond f64 there:
/// one of the documented differences, since `data` is not parsed until
/// read. The event is delivered; its `data` reads as empty.
#[test]
fn a_lone_surrogate_inside_data_is_delivered_with_empty_data() {
    let body = br#"{"eventId":"e3","eventType":"cost.alert","data":{"title":"\uD800x"}}"#;
    assert_eq!(oracle(body), Oracle::NotJson);
    let Payload::Event(event) = Payload::parse(body) else {
        panic!("the event is delivered");
    };
    assert_eq!(event.id.as_deref(), Some("e3"));
    assert!(event.data.as_map().is_empty());
}

/// Nesting deeper than a full parse allows (128) inside `data`, likewise.
#[test]
fn nesting_past_the_full_parse_limit_inside_data_likewise() {
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let body = format!(r#"{{"eventId":"e2","eventType":"cost.alert","data":{{"deep":{deep}}}}}"#);
    assert_eq!(oracle(body.as_bytes()), Oracle::NotJson);
    let Payload::Event(event) = Payload::parse(body.as_bytes()) else {
        panic!("the event is delivered");
    };
    assert_eq!(event.id.as_deref(), Some("e2"));
    assert!(event.data.as_map().is_empty());
}
