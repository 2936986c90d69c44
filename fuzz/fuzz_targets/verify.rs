//! The whole verify call on arbitrary headers, body and time; and signing
//! then verifying the same arbitrary body always round-trips, while a
//! changed byte never verifies.

#![no_main]

use costkatana_webhooks::signing::sign;
use costkatana_webhooks::Scheme;
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let (now, headers, body) = common::split_request(data);
    let verifier = &common::verifiers()[0];
    if let Ok(verified) = verifier.verify_at(&headers, body.to_vec(), now) {
        assert_eq!(verified.body(), body);
        let _ = verified.payload();
    }
    for scheme in Scheme::ALL {
        let signed = sign(scheme, common::SECRET, common::NOW, body);
        let verified = verifier
            .verify_at(&signed, body.to_vec(), common::NOW)
            .expect("a body signed now verifies");
        assert_eq!(verified.scheme(), scheme);
        if let Some((&first, rest)) = body.split_first() {
            let mut tampered = vec![first ^ 1];
            tampered.extend_from_slice(rest);
            assert!(verifier.verify_at(&signed, tampered, common::NOW).is_err());
        }
    }
});
