//! `diagnose`: each common mistake is named when, and only when, it
//! explains the mismatch; signatures are computed here with an independent
//! HMAC.

use base64::Engine;
use costkatana_webhooks::diagnose::{find_mistakes, minify, prettify, Mistake, SignatureHeaders};
use costkatana_webhooks::Scheme;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const TS: &str = "1777377600000";
const BODY: &[u8] = br#"{"eventId":"evt_1","eventType":"cost.alert","data":{"title":"Daily cost","severity":"high","cost":{"amount":125.50,"currency":"USD"}}}"#;

/// HMAC-SHA256 of `timestamp.body` (or `body` alone) keyed by `key`, lowercase hex.
fn hmac_hex(key: &[u8], timestamp: Option<&str>, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    if let Some(timestamp) = timestamp {
        mac.update(timestamp.as_bytes());
        mac.update(b".");
    }
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The mistakes found for a request signed with `key` over `signed`,
/// received as `received` and checked against `secret`.
fn mistakes(secret: &str, key: &[u8], signed: &[u8], received: &[u8]) -> Vec<Mistake> {
    find_mistakes(secret, TS, received, &[hmac_hex(key, Some(TS), signed)])
}

#[test]
fn a_matching_signature_needs_no_explanation_and_gets_none() {
    let headers = [
        ("X-Webhook-Timestamp", TS.to_owned()),
        ("X-Webhook-Signature", hmac_hex(b"s3cret", Some(TS), BODY)),
    ];
    let found = SignatureHeaders::read(&headers).unwrap();
    assert!(found.matches("s3cret", BODY));
    assert_eq!(mistakes("s3cret", b"s3cret", BODY, BODY), []);
}

#[test]
fn the_documented_vector_matches() {
    let headers = [(
        "X-CostKatana-Signature",
        "t=1705320600,v1=8e7a9a20aa184accf213305d7c9527ee23b7719acf0048d4eba31bf3e0e51008",
    )];
    let found = SignatureHeaders::read(&headers).unwrap();
    assert_eq!(found.scheme(), Scheme::Documented);
    assert!(found.matches(
        "whsec_test_secret",
        br#"{"event_type":"cost.alert","data":{"amount":100}}"#
    ));
}

#[test]
fn trailing_newlines_are_named_before_re_serialisation() {
    let with_newline = [BODY, b"\n"].concat();
    assert_eq!(
        mistakes("s3cret", b"s3cret", &with_newline, BODY),
        [Mistake::TrailingNewlineAdded]
    );
    // Removing the newline also minifies the body to the same bytes: the
    // more specific explanation is the only one given.
    assert_eq!(
        mistakes("s3cret", b"s3cret", BODY, &with_newline),
        [Mistake::TrailingNewlineRemoved]
    );
    let crlf = [BODY, b"\r\n"].concat();
    assert_eq!(
        mistakes("s3cret", b"s3cret", BODY, &crlf),
        [Mistake::TrailingNewlineRemoved]
    );
}

#[test]
fn re_serialised_bodies_are_named_by_how() {
    let hand_written = br#"{ "eventId": "evt_1",
  "data": { "amount": 125.50 } }"#;
    let compact = br#"{"eventId":"evt_1","data":{"amount":125.50}}"#;
    assert_eq!(
        mistakes("s3cret", b"s3cret", compact, hand_written),
        [Mistake::CompactJson]
    );
    let js_pretty = b"{\n  \"eventId\": \"evt_1\",\n  \"eventType\": \"cost.alert\"\n}";
    assert_eq!(
        mistakes(
            "s3cret",
            b"s3cret",
            js_pretty,
            br#"{"eventId":"evt_1", "eventType":"cost.alert"}"#
        ),
        [Mistake::PrettyJsonTwoSpaces]
    );
    let four = prettify(BODY, 4);
    assert_eq!(
        mistakes("s3cret", b"s3cret", &four, BODY),
        [Mistake::PrettyJsonFourSpaces]
    );
    // A JSON library's round trip: 125.50 becomes 125.5.
    let value: serde_json::Value = serde_json::from_slice(BODY).unwrap();
    let reparsed = serde_json::to_vec(&value).unwrap();
    assert_eq!(
        mistakes("s3cret", b"s3cret", &reparsed, BODY),
        [Mistake::ReparsedCompactJson]
    );
    let reparsed_pretty = serde_json::to_vec_pretty(&value).unwrap();
    assert_eq!(
        mistakes("s3cret", b"s3cret", &reparsed_pretty, BODY),
        [Mistake::ReparsedPrettyJson]
    );
    for mistake in [Mistake::CompactJson, Mistake::ReparsedPrettyJson] {
        assert!(mistake.advice().contains("raw bytes"), "{mistake}");
    }
}

#[test]
fn a_body_signed_without_the_timestamp_is_named() {
    let signature = hmac_hex(b"s3cret", None, BODY);
    assert_eq!(
        find_mistakes("s3cret", TS, BODY, &[signature]),
        [Mistake::BodyWithoutTimestamp]
    );
}

#[test]
fn secret_mistakes_are_named() {
    let base64_key = base64::engine::general_purpose::STANDARD
        .decode("c2VjcmV0LWtleS1ieXRlcw==")
        .unwrap();
    let cases: [(&str, Vec<u8>, Mistake); 9] = [
        // The receiver's copy has the newline; the signer's does not.
        ("s3cret\n", b"s3cret".to_vec(), Mistake::SecretWhitespace),
        // The signer's copy has it (or a CRLF, or a space); the receiver's does not.
        (
            "s3cret",
            b"s3cret\n".to_vec(),
            Mistake::SenderSecretWhitespace,
        ),
        (
            "s3cret",
            b"s3cret\r\n".to_vec(),
            Mistake::SenderSecretWhitespace,
        ),
        (
            "s3cret",
            b"s3cret ".to_vec(),
            Mistake::SenderSecretWhitespace,
        ),
        (
            "00112233445566778899aabbccddeeff",
            hex::decode("00112233445566778899aabbccddeeff").unwrap(),
            Mistake::SecretHexDecoded,
        ),
        (
            "abcd",
            hex::decode("abcd").unwrap(),
            Mistake::SecretHexDecoded,
        ),
        (
            "whsec_c2VjcmV0LWtleS1ieXRlcw==",
            base64_key,
            Mistake::SecretBase64Decoded,
        ),
        (
            "whsec_plain_text",
            b"plain_text".to_vec(),
            Mistake::SecretPrefixStripped,
        ),
        ("plain", b"whsec_plain".to_vec(), Mistake::SecretPrefixAdded),
    ];
    for (secret, key, expected) in cases {
        let found = mistakes(secret, &key, BODY, BODY);
        assert_eq!(found, [expected], "secret {secret:?}");
    }
}

#[test]
fn a_wrong_secret_is_explained_by_nothing() {
    assert_eq!(mistakes("another", b"s3cret", BODY, BODY), []);
    assert_eq!(find_mistakes("s3cret", TS, BODY, &[] as &[&str]), []);
}

#[test]
fn signatures_compare_in_any_case() {
    let upper = hmac_hex(b"s3cret", None, BODY).to_ascii_uppercase();
    assert_eq!(
        find_mistakes("s3cret", TS, BODY, &[upper]),
        [Mistake::BodyWithoutTimestamp]
    );
}

#[test]
fn every_mistake_has_a_phrase_and_advice() {
    let all = [
        Mistake::TrailingNewlineAdded,
        Mistake::TrailingNewlineRemoved,
        Mistake::CompactJson,
        Mistake::PrettyJsonTwoSpaces,
        Mistake::PrettyJsonFourSpaces,
        Mistake::ReparsedCompactJson,
        Mistake::ReparsedPrettyJson,
        Mistake::BodyWithoutTimestamp,
        Mistake::SecretWhitespace,
        Mistake::SenderSecretWhitespace,
        Mistake::SecretPrefixStripped,
        Mistake::SecretPrefixAdded,
        Mistake::SecretHexDecoded,
        Mistake::SecretBase64Decoded,
    ];
    let mut phrases: Vec<&str> = all.iter().map(|m| m.what()).collect();
    phrases.sort_unstable();
    phrases.dedup();
    assert_eq!(phrases.len(), all.len(), "phrases are distinct");
    for mistake in all {
        assert_eq!(mistake.to_string(), mistake.what());
        assert!(!mistake.advice().is_empty());
    }
}

#[test]
fn headers_are_read_leniently_for_each_scheme() {
    let current = SignatureHeaders::read(&[("x-webhook-signature", " ABCD ")]).unwrap();
    assert_eq!(current.scheme(), Scheme::Current);
    assert_eq!(current.signatures(), ["abcd"]);
    assert_eq!(current.timestamp(), None);
    assert!(!current.matches("s3cret", BODY));
    assert_eq!(current.mistakes("s3cret", BODY), []);

    let hex64 = "a".repeat(64);
    let bare = SignatureHeaders::read(&[
        ("X-CostKatana-Timestamp", TS),
        ("X-CostKatana-Signature", hex64.as_str()),
    ])
    .unwrap();
    assert_eq!(bare.scheme(), Scheme::Legacy);
    assert_eq!(bare.timestamp_ms(), Some(1_777_377_600_000));

    let documented = SignatureHeaders::read(&[(
        "X-CostKatana-Signature",
        "v1=AA, t = 1705320600 ,v0=zz, v1=bb",
    )])
    .unwrap();
    assert_eq!(documented.scheme(), Scheme::Documented);
    assert_eq!(documented.signatures(), ["aa", "bb"]);
    assert_eq!(documented.timestamp(), None, "`t ` is not the key `t`");

    let not_a_number = SignatureHeaders::read(&[
        ("X-Webhook-Timestamp", "1.5"),
        ("X-Webhook-Signature", "00"),
    ])
    .unwrap();
    assert_eq!(not_a_number.timestamp(), Some("1.5"));
    assert_eq!(not_a_number.timestamp_ms(), None);
    assert!(!not_a_number.timestamp_in_seconds(0));

    let non_utf8: [(&str, &[u8]); 1] = [("X-Webhook-Signature", b"\xffab")];
    let lossy = SignatureHeaders::read(&non_utf8).unwrap();
    assert_eq!(lossy.signatures(), ["\u{fffd}ab"]);
}

#[test]
fn seconds_in_a_millisecond_header_are_recognised() {
    let at_ms = 1_777_377_610_000;
    let read = |name: &str, value: &str| {
        SignatureHeaders::read(&[(name, value), ("X-Webhook-Signature", "00")]).unwrap()
    };
    assert!(read("X-Webhook-Timestamp", "1777377600").timestamp_in_seconds(at_ms));
    assert!(!read("X-Webhook-Timestamp", TS).timestamp_in_seconds(at_ms));
    // Days away as seconds: a wrong clock, not a wrong unit.
    assert!(!read("X-Webhook-Timestamp", "1777000000").timestamp_in_seconds(at_ms));
    // The documented scheme counts seconds: nothing to point out.
    let documented =
        SignatureHeaders::read(&[("X-CostKatana-Signature", "t=1777377600,v1=00")]).unwrap();
    assert!(!documented.timestamp_in_seconds(at_ms));
    // Extreme values saturate instead of overflowing.
    assert!(!read("X-Webhook-Timestamp", &i64::MAX.to_string()).timestamp_in_seconds(i64::MIN));
}

#[test]
fn minifies_and_prettifies_keeping_order() {
    let body = br#"{ "b": 1.50, "a": [ ], "c": {"s": "x, y: {z}\" "}, "d": [1, {}] }"#;
    assert_eq!(
        minify(body),
        br#"{"b":1.50,"a":[],"c":{"s":"x, y: {z}\" "},"d":[1,{}]}"#
    );
    let pretty = String::from_utf8(prettify(&minify(body), 2)).unwrap();
    assert_eq!(
        pretty,
        "{\n  \"b\": 1.50,\n  \"a\": [],\n  \"c\": {\n    \"s\": \"x, y: {z}\\\" \"\n  },\n  \"d\": [\n    1,\n    {}\n  ]\n}"
    );
    assert_eq!(minify(pretty.as_bytes()), minify(body));
}
