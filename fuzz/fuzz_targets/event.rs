//! Event parsing of arbitrary verified bytes: every body is classified,
//! and every typed view reads leniently, never panicking.

#![no_main]

use costkatana_webhooks::{Event, Payload};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let payload = Payload::parse(data);
    let _ = payload.event_id();
    if let Some(event) = Event::from_slice(data) {
        let _ = (event.event_type.category(), event.event_type.to_string());
        let data = &event.data;
        let _ = (data.cost(), data.metrics(), data.budget(), data.resource(), data.links(), data.tags());
        assert!(matches!(payload, Payload::Event(_)));
    }
});
