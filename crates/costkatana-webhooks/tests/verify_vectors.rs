//! The shared signed-request vectors (copied from the protocol notes into
//! tests/data), each at its own clock value, expecting its outcome.

use costkatana_webhooks::{Payload, Scheme, Verifier};
use serde_json::Value;

fn vectors() -> Vec<Value> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/signatures.json"
    ))
    .expect("tests/data/signatures.json");
    let file: Value = serde_json::from_str(&text).expect("valid JSON");
    file["vectors"].as_array().expect("a vector list").clone()
}

#[test]
fn every_vector_has_its_expected_outcome() {
    let vectors = vectors();
    assert!(vectors.len() >= 7);
    for vector in vectors {
        let name = vector["name"].as_str().unwrap();
        let verifier = Verifier::builder()
            .secret(vector["secret"].as_str().unwrap())
            .build()
            .unwrap();
        let headers: Vec<(String, String)> = vector["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        let body = vector["body"].as_str().unwrap().to_owned();
        let result = verifier.verify_at(&headers, body, vector["now_ms"].as_i64().unwrap());
        match vector["expect"].as_str().unwrap() {
            "valid" => {
                let verified = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                let scheme: Scheme = vector["scheme"].as_str().unwrap().parse().unwrap();
                assert_eq!(verified.scheme(), scheme, "{name}");
                if let Some(id) = vector["event_id"].as_str() {
                    assert_eq!(verified.payload().event_id(), Some(id), "{name}");
                }
                match (vector["event_type"].as_str(), verified.payload()) {
                    (Some(ty), Payload::Event(event)) => {
                        assert_eq!(event.event_type.as_str(), ty, "{name}")
                    }
                    (None, Payload::Template(_)) => {}
                    (want, got) => panic!("{name}: expected {want:?}, got {got:?}"),
                }
            }
            code => {
                let err = result
                    .err()
                    .unwrap_or_else(|| panic!("{name}: verified, expected {code}"));
                assert_eq!(err.code(), code, "{name}");
            }
        }
    }
}
