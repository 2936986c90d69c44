//! Property tests: no input panics the verifier, and sign → verify
//! round-trips for any bytes, secret, scheme and time in the window.

use costkatana_webhooks::testing::sign;
use costkatana_webhooks::{ErrorKind, Payload, Scheme, Verifier};
use proptest::prelude::*;

const NOW: i64 = 1_777_377_600_000;

fn scheme() -> impl Strategy<Value = Scheme> {
    prop::sample::select(Scheme::ALL.to_vec())
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("X-Webhook-Signature".to_owned()),
        Just("X-Webhook-Timestamp".to_owned()),
        Just("X-CostKatana-Signature".to_owned()),
        Just("X-CostKatana-Timestamp".to_owned()),
        "[A-Za-z-]{1,20}",
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
        secret in "[^\\s]([^\\x00]{0,40}[^\\s])?",
        scheme in scheme(),
        signed_at in (NOW - 299_000)..(NOW + 299_000),
    ) {
        let headers = sign(scheme, &secret, signed_at, &body);
        let verifier = Verifier::builder().secret(secret.as_str()).build().unwrap();
        let verified = verifier.verify_at(&headers, body.clone(), NOW).unwrap();
        prop_assert_eq!(verified.scheme(), scheme);
        prop_assert_eq!(verified.body(), &body[..]);
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
