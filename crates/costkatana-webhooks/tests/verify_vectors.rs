//! Signed-request vectors, each at its own clock value, expecting its
//! outcome: the shared ones (copied from the protocol notes) and our own,
//! made with Python's hmac by tests/interop/make_vectors.py.

use std::time::Duration;

use costkatana_webhooks::{Payload, Scheme, Verifier};
use serde_json::Value;

mod support;

use support::vectors::{body, headers, vectors};

/// The verifier a vector asks for: its secret(s) and options.
fn verifier(vector: &Value) -> Verifier {
    let mut builder = Verifier::builder();
    match vector.get("secrets") {
        Some(list) => {
            for secret in list.as_array().unwrap() {
                builder = builder.secret(secret.as_str().unwrap());
            }
        }
        None => builder = builder.secret(vector["secret"].as_str().unwrap()),
    }
    if let Some(pinned) = vector.get("pinned") {
        builder = builder.scheme(pinned.as_str().unwrap().parse().unwrap());
    }
    if let Some(ms) = vector.get("past_tolerance_ms") {
        builder = builder.past_tolerance(Duration::from_millis(ms.as_u64().unwrap()));
    }
    if vector.get("timestamp_check") == Some(&Value::Bool(false)) {
        builder = builder.dangerously_disable_timestamp_check();
    }
    builder.build().unwrap()
}

/// Runs every vector of `file`; returns how many there were.
fn run(file: &str) -> usize {
    let vectors = vectors(file);
    for vector in &vectors {
        let name = vector["name"].as_str().unwrap();
        let headers = headers(vector);
        let body = body(vector);
        let result =
            verifier(vector).verify_at(&headers, body.clone(), vector["now_ms"].as_i64().unwrap());
        match vector["expect"].as_str().unwrap() {
            "valid" => {
                let verified = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                let scheme: Scheme = vector["scheme"].as_str().unwrap().parse().unwrap();
                assert_eq!(verified.scheme(), scheme, "{name}");
                assert_eq!(verified.body(), &body[..], "{name}");
                let index = vector
                    .get("secret_index")
                    .map_or(0, |i| i.as_u64().unwrap());
                assert_eq!(verified.secret_index() as u64, index, "{name}");
                assert_eq!(
                    verified.payload().event_id(),
                    vector.get("event_id").and_then(Value::as_str),
                    "{name}"
                );
                let want = vector
                    .get("payload")
                    .and_then(Value::as_str)
                    .or_else(|| vector.get("event_type").map(|_| "event"))
                    // The shared vectors mark a template body by the absence of a type.
                    .unwrap_or("template");
                match (want, verified.payload()) {
                    ("event", Payload::Event(event)) => assert_eq!(
                        event.event_type.as_str(),
                        vector["event_type"].as_str().unwrap(),
                        "{name}"
                    ),
                    ("template", Payload::Template(_))
                    | ("json", Payload::Json(_))
                    | ("not_json", Payload::NotJson) => {}
                    (want, got) => panic!("{name}: expected {want}, got {got:?}"),
                }
            }
            code => {
                let err = result
                    .err()
                    .unwrap_or_else(|| panic!("{name}: verified, expected {code}"));
                assert_eq!(err.code(), code, "{name}: {err}");
            }
        }
    }
    vectors.len()
}

#[test]
fn shared_vectors_have_their_expected_outcome() {
    assert_eq!(run("signatures.json"), 7);
}

#[test]
fn python_made_vectors_have_their_expected_outcome() {
    assert!(run("vectors_extra.json") >= 100);
}
