//! Event parsing of arbitrary verified bytes: every body is classified,
//! every typed view reads leniently, never panicking, and the lean reader
//! (envelope typed, `data` left raw) agrees with a full `serde_json::Value`
//! parse: the same kind of payload and the same `data`. The one difference
//! by design: JSON whose syntax is valid but which a full parse refuses (a
//! number beyond f64, a lone surrogate escape, nesting past 128) inside the
//! `data` that is kept still yields the event, with `data` read as empty;
//! the copies of a repeated key that the last one replaces are checked as
//! a full parse checks them.

#![no_main]

use costkatana_webhooks::{Event, Payload};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let payload = Payload::parse(data);
    let _ = payload.event_id();
    if let Some(event) = Event::from_slice(data) {
        let _ = (event.event_type.category(), event.event_type.to_string());
        let data = &event.data;
        let _ = (data.cost(), data.metrics(), data.budget(), data.resource(), data.links(), data.tags());
        assert!(matches!(payload, Payload::Event(_)));
    }
    let full = serde_json::from_slice::<Value>(data);
    match (&payload, full) {
        (Payload::Event(event), Ok(Value::Object(mut map))) => {
            let expected = match map.remove("data") {
                Some(Value::Object(object)) => object,
                Some(other) => serde_json::Map::from_iter([("value".to_owned(), other)]),
                None => serde_json::Map::new(),
            };
            assert_eq!(event.data.as_map(), &expected);
        }
        (Payload::Event(event), Err(_)) => assert!(event.data.as_map().is_empty()),
        (Payload::Event(_), Ok(other)) => panic!("an event from a non-object: {other}"),
        (Payload::Template(text), Ok(Value::String(full))) => assert_eq!(text, &full),
        (Payload::Json(value), Ok(full)) => assert_eq!(value, &full),
        (Payload::NotJson, Err(_)) => {}
        (payload, full) => panic!("{payload:?} where a full parse gives {full:?}"),
    }
});
