// Shared by the targets: the input format and the verifiers.
//
// A request input is `<now ms>\n<Name>: <value>\n…\n\n<body>`; a missing
// or unparsable first line means the corpus's fixed time.

#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use costkatana_webhooks::{ManualClock, Scheme, Verifier};

pub const SECRET: &str = "whsec_fuzz";
pub const NOW: i64 = 1_777_377_600_000;

/// Header lines up to the first empty one, and what follows.
pub fn split_request(data: &[u8]) -> (i64, Vec<(String, Vec<u8>)>, &[u8]) {
    let (now, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(end) => match std::str::from_utf8(&data[..end]).ok().and_then(|t| t.parse().ok()) {
            Some(now) => (now, &data[end + 1..]),
            None => (NOW, data),
        },
        None => (NOW, data),
    };
    let (head, body) = match rest.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&rest[..at], &rest[at + 2..]),
        None => (rest, &[][..]),
    };
    (now, headers(head), body)
}

/// `Name: value` lines; a line without a colon is a name with an empty value.
pub fn headers(head: &[u8]) -> Vec<(String, Vec<u8>)> {
    head.split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| match line.iter().position(|&b| b == b':') {
            Some(colon) => (
                String::from_utf8_lossy(&line[..colon]).into_owned(),
                line[colon + 1..].strip_prefix(b" ").unwrap_or(&line[colon + 1..]).to_vec(),
            ),
            None => (String::from_utf8_lossy(line).into_owned(), Vec::new()),
        })
        .collect()
}

/// A verifier per pinning (detected, then each scheme), with a second
/// secret for rotation and a small body limit for the intake target.
pub fn verifiers() -> &'static [Verifier; 4] {
    static VERIFIERS: OnceLock<[Verifier; 4]> = OnceLock::new();
    VERIFIERS.get_or_init(|| {
        let make = |scheme: Option<Scheme>| {
            let builder = Verifier::builder()
                .secret(SECRET)
                .secret("whsec_fuzz_old")
                .max_body(4096)
                .clock(Arc::new(ManualClock::new(NOW)));
            match scheme {
                Some(scheme) => builder.scheme(scheme),
                None => builder,
            }
            .build()
            .expect("a valid verifier")
        };
        [
            make(None),
            make(Some(Scheme::Current)),
            make(Some(Scheme::Legacy)),
            make(Some(Scheme::Documented)),
        ]
    })
}
