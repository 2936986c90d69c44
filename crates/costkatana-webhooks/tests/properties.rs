//! Property tests: no input panics the verifier, and sign → verify
//! round-trips for any bytes, secret, scheme and time in the window.

use costkatana_webhooks::signing::{sign, signature_hex};
use costkatana_webhooks::{ErrorKind, Payload, Scheme, Verifier};
use proptest::prelude::*;

const NOW: i64 = 1_777_377_600_000;

fn scheme() -> impl Strategy<Value = Scheme> {
    prop::sample::select(Scheme::ALL.to_vec())
}

/// Any secret `Secret::new` accepts: non-empty, no surrounding whitespace,
/// any other characters (NUL and non-ASCII included).
fn secret() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 1..40)
        .prop_map(String::from_iter)
        .prop_filter("no surrounding whitespace", |s| {
            s.trim() == s && !s.is_empty()
        })
}

/// `name` with each letter's case chosen by `mask`.
fn recase(name: &str, mask: u64) -> String {
    name.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("X-Webhook-Signature".to_owned()),
        Just("X-Webhook-Timestamp".to_owned()),
        Just("X-CostKatana-Signature".to_owned()),
        Just("X-CostKatana-Timestamp".to_owned()),
        "[A-Za-z-]{1,20}",
        any::<String>(),
    ]
}

fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        "(t=[0-9-]{0,14}|v1=[0-9a-fA-F]{0,70}|sha256=[0-9a-f]{0,66}|[ ,=]){0,8}"
            .prop_map(String::into_bytes),
        "[0-9]{0,45}".prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_headers_and_bodies_never_panic(
        headers in prop::collection::vec((header_name(), header_value()), 0..6),
        body in prop::collection::vec(any::<u8>(), 0..512),
        now in any::<i64>(),
    ) {
        let verifier = Verifier::builder().secret("s3cret").build().unwrap();
        if let Ok(verified) = verifier.verify_at(&headers, body, now) {
            let _ = verified.payload();
        }
    }

    #[test]
    fn arbitrary_bodies_never_panic_the_parser(body in prop::collection::vec(any::<u8>(), 0..1024)) {
        let _ = Payload::parse(&body);
    }

    #[test]
    fn sign_then_verify_round_trips(
        body in prop::collection::vec(any::<u8>(), 0..2048),
        secret in secret(),
        scheme in scheme(),
        signed_at in (NOW - 300_000)..=(NOW + 300_000),
        case_mask in any::<u64>(),
    ) {
        let headers: Vec<(String, String)> = sign(scheme, &secret, signed_at, &body)
            .into_iter()
            .map(|(name, value)| (recase(&name, case_mask), value))
            .collect();
        let verifier = Verifier::builder().secret(secret.as_str()).build().unwrap();
        let verified = verifier.verify_at(&headers, body.clone(), NOW).unwrap();
        prop_assert_eq!(verified.scheme(), scheme);
        prop_assert_eq!(verified.body(), &body[..]);
        prop_assert_eq!(verified.secret_index(), 0);
    }

    #[test]
    fn documented_header_in_any_arrangement(
        body in prop::collection::vec(any::<u8>(), 0..256),
        others in prop::collection::vec("[a-z0-9]{1,8}", 0..5),
        unknown in prop::collection::vec(("[a-s][a-z0-9]{0,3}", "[A-Za-z0-9]{0,12}"), 0..3),
        order in any::<prop::sample::Index>(),
        spaces in prop::collection::vec(" {0,2}", 16),
    ) {
        let secs = (NOW / 1000).to_string();
        let mut entries = vec![format!("t={secs}"), format!("v1={}", signature_hex("s3cret", &secs, &body))];
        entries.extend(others.iter().take(6).map(|s| format!("v1={}", signature_hex(s, &secs, &body))));
        entries.extend(unknown.iter().map(|(k, v)| format!("{k}={v}")));
        let rotate = order.index(entries.len());
        entries.rotate_left(rotate);
        let value = entries
            .iter()
            .zip(&spaces)
            .map(|(entry, pad)| format!("{pad}{entry}{pad}"))
            .collect::<Vec<_>>()
            .join(",");
        let verifier = Verifier::builder().secret("s3cret").build().unwrap();
        let verified = verifier.verify_at(&[("X-CostKatana-Signature", value.as_str())], body, NOW);
        prop_assert_eq!(verified.map(|v| v.scheme()).map_err(|e| e.to_string()), Ok(Scheme::Documented), "{}", value);
    }

    #[test]
    fn a_flipped_signature_bit_fails(
        body in prop::collection::vec(any::<u8>(), 0..256),
        scheme in scheme(),
        byte in 0usize..32,
        bit in 0u8..8,
    ) {
        let secs_or_ms = if scheme == Scheme::Documented { (NOW / 1000).to_string() } else { NOW.to_string() };
        let mut tag = hex::decode(signature_hex("s3cret", &secs_or_ms, &body)).unwrap();
        tag[byte] ^= 1 << bit;
        let hex = hex::encode(tag);
        let headers: Vec<(&str, String)> = match scheme {
            Scheme::Current => vec![("X-Webhook-Timestamp", secs_or_ms), ("X-Webhook-Signature", hex)],
            Scheme::Legacy => vec![("X-CostKatana-Timestamp", secs_or_ms), ("X-CostKatana-Signature", format!("sha256={hex}"))],
            _ => vec![("X-CostKatana-Signature", format!("t={secs_or_ms},v1={hex}"))],
        };
        let verifier = Verifier::builder().secret("s3cret").build().unwrap();
        let err = verifier.verify_at(&headers, body, NOW).unwrap_err();
        prop_assert_eq!(err.kind(), ErrorKind::InvalidSignature);
    }

    #[test]
    fn a_flipped_bit_fails(
        body in prop::collection::vec(any::<u8>(), 1..512),
        scheme in scheme(),
        index in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let headers = sign(scheme, "s3cret", NOW, &body);
        let mut tampered = body.clone();
        tampered[index.index(body.len())] ^= 1 << bit;
        let verifier = Verifier::builder().secret("s3cret").build().unwrap();
        let err = verifier.verify_at(&headers, tampered, NOW).unwrap_err();
        prop_assert_eq!(err.kind(), ErrorKind::InvalidSignature);
    }
}
