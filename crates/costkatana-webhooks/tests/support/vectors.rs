//! The signed-request vectors in `tests/data`: read by the vector tests
//! and by the fuzzers' corpus generator (`examples/fuzz_corpus.rs`).

use serde_json::Value;

/// Every vector of `file` (a name in `tests/data`).
pub(crate) fn vectors(file: &str) -> Vec<Value> {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let file: Value = serde_json::from_str(&text).expect("valid JSON");
    file["vectors"].as_array().expect("a vector list").clone()
}

/// A vector's request headers.
pub(crate) fn headers(vector: &Value) -> Vec<(String, String)> {
    vector["headers"]
        .as_object()
        .expect("headers")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("a header value").to_owned()))
        .collect()
}

/// A vector's body: `body_hex` when the bytes are not text, else `body`.
pub(crate) fn body(vector: &Value) -> Vec<u8> {
    match vector.get("body_hex") {
        Some(hex) => hex::decode(hex.as_str().expect("hex text")).expect("hex"),
        None => vector["body"].as_str().expect("a body").as_bytes().to_vec(),
    }
}
