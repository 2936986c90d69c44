//! The signature and timestamp header parsers of all three schemes, through
//! every pinning: any header block is answered with a verdict, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let headers = common::headers(data);
    for verifier in common::verifiers() {
        if let Err(err) = verifier.verify_at(&headers, &b"{}"[..], common::NOW) {
            // Every rejection is a row of the status table with a message.
            assert!(err.status() >= 400 && !err.message().is_empty());
        }
    }
});
