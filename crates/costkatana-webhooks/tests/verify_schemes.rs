//! Every scheme × valid / tampered / stale / future / malformed / missing,
//! the edges of the window, pinning, and header spelling.

use std::time::Duration;

use costkatana_webhooks::signing::{sign, signature_hex};
use costkatana_webhooks::{ErrorKind, Scheme, Verifier};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NOW: i64 = 1_777_377_600_000;
const BODY: &str =
    r#"{"eventId":"cost_alert_1","eventType":"cost.alert","data":{"cost":{"amount":125.50}}}"#;

fn verifier() -> Verifier {
    Verifier::builder().secret(SECRET).build().unwrap()
}

fn kind(headers: &[(String, String)], body: &str, now: i64) -> Result<Scheme, ErrorKind> {
    verifier()
        .verify_at(&headers, body.to_owned(), now)
        .map(|v| v.scheme())
        .map_err(|e| e.kind())
}

fn set(headers: &mut [(String, String)], name: &str, value: &str) {
    headers
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .unwrap()
        .1 = value.to_owned();
}

#[test]
fn valid_tampered_stale_future_for_every_scheme() {
    for scheme in Scheme::ALL {
        let headers = sign(scheme, SECRET, NOW, BODY.as_bytes());
        assert_eq!(kind(&headers, BODY, NOW), Ok(scheme), "{scheme} valid");
        // Re-serialising 125.50 to 125.5 breaks the signature, as it must.
        assert_eq!(
            kind(&headers, &BODY.replace("125.50", "125.5"), NOW),
            Err(ErrorKind::InvalidSignature),
            "{scheme} tampered body"
        );
        assert_eq!(
            kind(&headers, &format!("{BODY}\n"), NOW),
            Err(ErrorKind::InvalidSignature),
            "{scheme} trailing newline"
        );
        let wrong = sign(scheme, "another secret", NOW, BODY.as_bytes());
        assert_eq!(
            kind(&wrong, BODY, NOW),
            Err(ErrorKind::InvalidSignature),
            "{scheme} wrong secret"
        );
        assert_eq!(
            kind(&headers, BODY, NOW + 300_001),
            Err(ErrorKind::StaleTimestamp),
            "{scheme} stale"
        );
        assert_eq!(
            kind(&headers, BODY, NOW - 300_001),
            Err(ErrorKind::FutureTimestamp),
            "{scheme} future"
        );
        assert_eq!(
            kind(&headers, BODY, NOW + 300_000),
            Ok(scheme),
            "{scheme} at the past edge"
        );
        assert_eq!(
            kind(&headers, BODY, NOW - 300_000),
            Ok(scheme),
            "{scheme} at the future edge"
        );
    }
}

#[test]
fn tampered_signature_for_every_scheme() {
    for scheme in Scheme::ALL {
        let headers = sign(scheme, SECRET, NOW, BODY.as_bytes());
        let mut flipped = headers.clone();
        let name = scheme.signature_header();
        let value = flipped.iter().find(|(n, _)| n == name).unwrap().1.clone();
        let last = value.chars().last().unwrap();
        let replacement = if last == '0' { '1' } else { '0' };
        set(
            &mut flipped,
            name,
            &format!("{}{replacement}", &value[..value.len() - 1]),
        );
        assert_eq!(
            kind(&flipped, BODY, NOW),
            Err(ErrorKind::InvalidSignature),
            "{scheme}"
        );
    }
}

#[test]
fn the_timestamp_signed_is_the_header_text() {
    // Changing the timestamp header (even to an equal instant) breaks the signature.
    let mut headers = sign(Scheme::Current, SECRET, NOW, BODY.as_bytes());
    set(&mut headers, "X-Webhook-Timestamp", &(NOW + 1).to_string());
    assert_eq!(kind(&headers, BODY, NOW), Err(ErrorKind::InvalidSignature));
    let hex = signature_hex(SECRET, "1777377600", BODY.as_bytes());
    let headers = vec![(
        "X-CostKatana-Signature".to_owned(),
        format!("t=01777377600,v1={hex}"),
    )];
    assert_eq!(
        kind(&headers, BODY, NOW),
        Err(ErrorKind::InvalidSignature),
        "leading zero is other text"
    );
}

#[test]
fn malformed_headers() {
    let hex = signature_hex(SECRET, &NOW.to_string(), BODY.as_bytes());
    let secs = (NOW / 1000).to_string();
    let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
        (
            "current: signature not hex",
            vec![
                ("X-Webhook-Timestamp", NOW.to_string()),
                ("X-Webhook-Signature", "zz".repeat(32)),
            ],
        ),
        (
            "current: signature too short",
            vec![
                ("X-Webhook-Timestamp", NOW.to_string()),
                ("X-Webhook-Signature", hex[..63].to_owned()),
            ],
        ),
        (
            "current: signature too long",
            vec![
                ("X-Webhook-Timestamp", NOW.to_string()),
                ("X-Webhook-Signature", format!("{hex}00")),
            ],
        ),
        (
            "current: timestamp missing",
            vec![("X-Webhook-Signature", hex.clone())],
        ),
        (
            "current: negative timestamp",
            vec![
                ("X-Webhook-Timestamp", "-1".into()),
                ("X-Webhook-Signature", hex.clone()),
            ],
        ),
        (
            "current: 40-digit timestamp",
            vec![
                ("X-Webhook-Timestamp", "9".repeat(40)),
                ("X-Webhook-Signature", hex.clone()),
            ],
        ),
        (
            "current: non-digit timestamp",
            vec![
                ("X-Webhook-Timestamp", "1777377600000.5".into()),
                ("X-Webhook-Signature", hex.clone()),
            ],
        ),
        (
            "current: empty timestamp",
            vec![
                ("X-Webhook-Timestamp", String::new()),
                ("X-Webhook-Signature", hex.clone()),
            ],
        ),
        (
            "legacy: sha1 prefix",
            vec![
                ("X-CostKatana-Timestamp", NOW.to_string()),
                ("X-CostKatana-Signature", format!("sha1={hex}")),
            ],
        ),
        (
            "legacy: timestamp missing",
            vec![("X-CostKatana-Signature", format!("sha256={hex}"))],
        ),
        (
            "legacy: 16-digit timestamp",
            vec![
                ("X-CostKatana-Timestamp", "1".repeat(16)),
                ("X-CostKatana-Signature", format!("sha256={hex}")),
            ],
        ),
        (
            "documented: two t=",
            vec![(
                "X-CostKatana-Signature",
                format!("t={secs},t={secs},v1={hex}"),
            )],
        ),
        (
            "documented: no v1=",
            vec![("X-CostKatana-Signature", format!("t={secs},v0={hex}"))],
        ),
        (
            "documented: no t=",
            vec![("X-CostKatana-Signature", format!("v1={hex}"))],
        ),
        (
            "documented: entry without =",
            vec![("X-CostKatana-Signature", format!("t={secs},{hex}"))],
        ),
        (
            "documented: v1 not hex",
            vec![("X-CostKatana-Signature", format!("t={secs},v1=xyz"))],
        ),
        (
            "documented: t not digits",
            vec![("X-CostKatana-Signature", format!("t=soon,v1={hex}"))],
        ),
        (
            "documented: 13-digit seconds",
            vec![("X-CostKatana-Signature", format!("t={NOW},v1={hex}"))],
        ),
        (
            "documented: nine v1=",
            vec![(
                "X-CostKatana-Signature",
                format!("t={secs}{}", format!(",v1={hex}").repeat(9)),
            )],
        ),
        (
            "documented: overlong header",
            vec![(
                "X-CostKatana-Signature",
                format!("t={secs},v1={hex},x={}", "a".repeat(2000)),
            )],
        ),
    ];
    for (name, headers) in cases {
        let err = verifier().verify_at(&headers, BODY, NOW).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MalformedSignature, "{name}: {err}");
        assert!(
            !err.message().contains(SECRET) && !err.message().contains(&hex),
            "{name} leaks"
        );
    }
    let bytes: [(&str, &[u8]); 2] = [
        ("X-Webhook-Timestamp", b"1777377600000"),
        ("X-Webhook-Signature", b"\xff\xfe"),
    ];
    assert_eq!(
        verifier().verify_at(&bytes, BODY, NOW).unwrap_err().kind(),
        ErrorKind::MalformedSignature
    );
}

#[test]
fn missing_headers() {
    let none: [(&str, &str); 1] = [("Content-Type", "application/json")];
    assert_eq!(
        verifier().verify_at(&none, BODY, NOW).unwrap_err().kind(),
        ErrorKind::MissingSignature
    );
    // A timestamp alone is not a signature.
    let ts_only = [("X-Webhook-Timestamp", NOW.to_string())];
    assert_eq!(
        verifier()
            .verify_at(&ts_only, BODY, NOW)
            .unwrap_err()
            .kind(),
        ErrorKind::MissingSignature
    );
}

#[test]
fn pinned_scheme_refuses_the_others() {
    for pinned in Scheme::ALL {
        let verifier = Verifier::builder()
            .secret(SECRET)
            .scheme(pinned)
            .build()
            .unwrap();
        for scheme in Scheme::ALL {
            let headers = sign(scheme, SECRET, NOW, BODY.as_bytes());
            let result = verifier
                .verify_at(&headers, BODY, NOW)
                .map(|v| v.scheme())
                .map_err(|e| e.kind());
            match (pinned, scheme) {
                (p, s) if p == s => assert_eq!(result, Ok(s)),
                (Scheme::Current, _) => assert_eq!(
                    result,
                    Err(ErrorKind::MissingSignature),
                    "{pinned} vs {scheme}"
                ),
                (_, Scheme::Current) => assert_eq!(
                    result,
                    Err(ErrorKind::MissingSignature),
                    "{pinned} vs {scheme}"
                ),
                // legacy and documented share a header: the other's shape is malformed.
                _ => assert_eq!(
                    result,
                    Err(ErrorKind::MalformedSignature),
                    "{pinned} vs {scheme}"
                ),
            }
        }
    }
}

#[test]
fn header_names_in_any_case_and_hex_in_either_case() {
    let hex = signature_hex(SECRET, &NOW.to_string(), BODY.as_bytes()).to_uppercase();
    let headers = [
        ("x-WEBHOOK-timestamp", NOW.to_string()),
        ("X-WEBHOOK-SIGNATURE", hex.clone()),
    ];
    assert_eq!(
        kind(&headers.map(|(n, v)| (n.to_owned(), v)), BODY, NOW),
        Ok(Scheme::Current)
    );
    let legacy = [
        ("x-costkatana-timestamp", NOW.to_string()),
        ("x-costkatana-signature", hex),
    ];
    assert_eq!(
        kind(&legacy.map(|(n, v)| (n.to_owned(), v)), BODY, NOW),
        Ok(Scheme::Legacy),
        "bare hex is legacy"
    );
}

#[test]
fn documented_header_is_parsed_like_stripes() {
    let secs = (NOW / 1000).to_string();
    let hex = signature_hex(SECRET, &secs, BODY.as_bytes());
    for value in [
        format!("t={secs},v1={hex}"),
        format!("v1={hex},t={secs}"),
        format!("t={secs}, v1={hex}"),
        format!(" t = {secs} ,  v1 = {hex} "),
        format!("t={secs},v0=deadbeef,v1={hex},scheme=hmac"),
        format!("t={secs},v1={hex},"),
    ] {
        let headers = vec![("X-CostKatana-Signature".to_owned(), value.clone())];
        assert_eq!(kind(&headers, BODY, NOW), Ok(Scheme::Documented), "{value}");
    }
}

#[test]
fn tolerances_are_separate_and_zero_means_zero() {
    let headers = sign(Scheme::Current, SECRET, NOW, BODY.as_bytes());
    let strict = Verifier::builder()
        .secret(SECRET)
        .past_tolerance(Duration::ZERO)
        .future_tolerance(Duration::from_secs(1))
        .build()
        .unwrap();
    assert!(strict.verify_at(&headers, BODY, NOW).is_ok());
    assert_eq!(
        strict
            .verify_at(&headers, BODY, NOW + 1)
            .unwrap_err()
            .kind(),
        ErrorKind::StaleTimestamp
    );
    assert!(strict.verify_at(&headers, BODY, NOW - 1000).is_ok());
    assert_eq!(
        strict
            .verify_at(&headers, BODY, NOW - 1001)
            .unwrap_err()
            .kind(),
        ErrorKind::FutureTimestamp
    );

    let late_retries = Verifier::builder()
        .secret(SECRET)
        .past_tolerance(Duration::from_secs(3 * 3600))
        .build()
        .unwrap();
    assert!(late_retries
        .verify_at(&headers, BODY, NOW + 2 * 3600 * 1000)
        .is_ok());

    let replay = Verifier::builder()
        .secret(SECRET)
        .dangerously_disable_timestamp_check()
        .build()
        .unwrap();
    assert!(
        replay
            .verify_at(&headers, BODY, NOW + 30 * 86_400_000)
            .is_ok(),
        "a 30-day-old replay"
    );
    assert_eq!(replay.past_tolerance_ms(), None);

    let err = Verifier::builder()
        .secret(SECRET)
        .past_tolerance(Duration::MAX)
        .build()
        .unwrap_err();
    assert!(err
        .to_string()
        .contains("dangerously_disable_timestamp_check"));
}

#[test]
fn stale_message_explains_late_retries() {
    let headers = sign(Scheme::Current, SECRET, NOW, BODY.as_bytes());
    let err = verifier()
        .verify_at(&headers, BODY, NOW + 600_000)
        .unwrap_err();
    assert!(err.message().contains("600 s old"), "{err}");
    assert!(err.message().contains("retries"), "{err}");
}

#[test]
fn absurd_clock_values_do_not_overflow() {
    let headers = sign(Scheme::Current, SECRET, NOW, BODY.as_bytes());
    assert_eq!(
        kind(&headers, BODY, i64::MAX),
        Err(ErrorKind::StaleTimestamp)
    );
    assert_eq!(
        kind(&headers, BODY, i64::MIN),
        Err(ErrorKind::FutureTimestamp)
    );
    // The largest timestamp accepted, signed: only the clock is absurd.
    let max = [
        ("X-Webhook-Timestamp", "9".repeat(15)),
        (
            "X-Webhook-Signature",
            signature_hex(SECRET, &"9".repeat(15), BODY.as_bytes()),
        ),
    ];
    assert_eq!(
        verifier()
            .verify_at(&max, BODY, i64::MIN)
            .unwrap_err()
            .kind(),
        ErrorKind::FutureTimestamp
    );
    // Unsigned, the same absurd values are just an invalid signature.
    let forged = [
        ("X-Webhook-Timestamp", "9".repeat(15)),
        ("X-Webhook-Signature", "0".repeat(64)),
    ];
    assert_eq!(
        verifier()
            .verify_at(&forged, BODY, i64::MIN)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidSignature
    );
}

#[test]
fn overlong_headers_of_every_scheme() {
    let long_hex = "ab".repeat(600);
    let cases = [
        vec![
            ("X-Webhook-Timestamp", NOW.to_string()),
            ("X-Webhook-Signature", long_hex.clone()),
        ],
        vec![
            ("X-CostKatana-Timestamp", NOW.to_string()),
            ("X-CostKatana-Signature", format!("sha256={long_hex}")),
        ],
        vec![(
            "X-CostKatana-Signature",
            format!("t={},v1={long_hex}", NOW / 1000),
        )],
    ];
    for headers in cases {
        let err = verifier().verify_at(&headers, BODY, NOW).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MalformedSignature, "{err}");
        assert!(err.message().contains("longer than 1024 bytes"), "{err}");
    }
}

/// Header values as raw bytes.
type RawHeaders<'a> = Vec<(&'a str, &'a [u8])>;

#[test]
fn non_utf8_header_bytes_are_malformed() {
    let hex = signature_hex(SECRET, &NOW.to_string(), BODY.as_bytes());
    let now = NOW.to_string();
    let cases: [(&str, RawHeaders); 4] = [
        (
            "x-webhook-timestamp",
            vec![
                ("X-Webhook-Timestamp", b"17773776\xff00000"),
                ("X-Webhook-Signature", hex.as_bytes()),
            ],
        ),
        (
            "x-costkatana-timestamp",
            vec![
                ("X-CostKatana-Timestamp", b"\xc3\x28"),
                ("X-CostKatana-Signature", hex.as_bytes()),
            ],
        ),
        (
            "x-costkatana-signature",
            vec![("X-CostKatana-Signature", b"t=1777377600,v1=\x80")],
        ),
        (
            "x-webhook-signature",
            vec![
                ("X-Webhook-Timestamp", now.as_bytes()),
                ("X-Webhook-Signature", b"\xff\xfe"),
            ],
        ),
    ];
    for (name, headers) in cases {
        let err = verifier().verify_at(&headers, BODY, NOW).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MalformedSignature, "{name}");
        assert_eq!(
            err.message(),
            format!("the {name} header is not valid text")
        );
    }
}

#[test]
fn empty_and_degenerate_signature_values() {
    let now = NOW.to_string();
    let cases: [Vec<(&str, &str)>; 6] = [
        vec![("X-Webhook-Timestamp", &now), ("X-Webhook-Signature", "")],
        vec![("X-CostKatana-Signature", "")],
        vec![("X-CostKatana-Signature", ",,,")],
        vec![("X-CostKatana-Signature", "=")],
        vec![("X-CostKatana-Signature", "t=,v1=")],
        vec![
            ("X-CostKatana-Timestamp", &now),
            ("X-CostKatana-Signature", "sha256="),
        ],
    ];
    for headers in cases {
        let err = verifier().verify_at(&headers, BODY, NOW).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::MalformedSignature,
            "{headers:?}: {err}"
        );
    }
}

#[test]
fn malformed_details_name_the_problem() {
    let hex = signature_hex(SECRET, &NOW.to_string(), BODY.as_bytes());
    let secs = NOW / 1000;
    let detail = |headers: &[(&str, String)]| {
        verifier()
            .verify_at(&headers, BODY, NOW)
            .unwrap_err()
            .message()
            .to_owned()
    };
    assert_eq!(
        detail(&[("X-Webhook-Signature", hex.clone())]),
        "the X-Webhook-Signature header is present but X-Webhook-Timestamp is missing"
    );
    assert_eq!(
        detail(&[("X-CostKatana-Signature", format!("sha256={hex}"))]),
        "the X-CostKatana-Signature header is present but X-CostKatana-Timestamp is missing"
    );
    assert_eq!(
        detail(&[(
            "X-CostKatana-Signature",
            format!("t={secs},t={secs},v1={hex}")
        )]),
        "the X-CostKatana-Signature header has more than one t="
    );
    assert_eq!(
        detail(&[("X-CostKatana-Signature", format!("t={secs}"))]),
        "the X-CostKatana-Signature header has no v1= signature"
    );
    assert_eq!(
        detail(&[("X-CostKatana-Signature", format!("v1={hex}"))]),
        "the X-CostKatana-Signature header has no t=<seconds> entry"
    );
    assert!(detail(&[
        ("X-Webhook-Timestamp", "-1".into()),
        ("X-Webhook-Signature", hex.clone())
    ])
    .contains("1 to 15 decimal digits (milliseconds since the epoch)"));
    // Milliseconds where seconds belong are named as such.
    assert_eq!(
        detail(&[("X-CostKatana-Signature", format!("t={NOW},v1={hex}"))]),
        format!(
            "the t= timestamp {NOW} has 13 digits: it looks like milliseconds, but the \
             documented scheme's timestamp is in seconds since the epoch"
        )
    );
    assert!(
        detail(&[("X-CostKatana-Signature", format!("t={NOW}0,v1={hex}"))])
            .contains("1 to 12 decimal digits (seconds since the epoch)")
    );
}

#[test]
fn seconds_in_a_millisecond_header_are_named_as_such() {
    let secs = (NOW / 1000).to_string();
    let headers = [
        ("X-Webhook-Timestamp", secs.clone()),
        (
            "X-Webhook-Signature",
            signature_hex(SECRET, &secs, BODY.as_bytes()),
        ),
    ];
    let err = verifier().verify_at(&headers, BODY, NOW).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::StaleTimestamp);
    assert_eq!(
        err.message(),
        format!(
            "the X-Webhook-Timestamp value {secs} looks like seconds since the epoch, but the \
             current scheme sends milliseconds ({secs}000 for the same time): the sender's \
             timestamp unit is wrong, not the tolerance"
        )
    );
    assert!(!err.message().contains("raise the past tolerance"));
}

#[test]
fn zero_future_tolerance_means_zero() {
    for scheme in Scheme::ALL {
        let headers = sign(scheme, SECRET, NOW, BODY.as_bytes());
        let strict = Verifier::builder()
            .secret(SECRET)
            .future_tolerance(Duration::ZERO)
            .build()
            .unwrap();
        assert_eq!(
            strict.verify_at(&headers, BODY, NOW).map(|v| v.scheme()),
            Ok(scheme)
        );
        assert_eq!(
            strict
                .verify_at(&headers, BODY, NOW - 1)
                .unwrap_err()
                .kind(),
            ErrorKind::FutureTimestamp,
            "{scheme}"
        );
        // The past side keeps its default.
        assert!(strict.verify_at(&headers, BODY, NOW + 300_000).is_ok());
        assert_eq!(
            strict
                .verify_at(&headers, BODY, NOW + 300_001)
                .unwrap_err()
                .kind(),
            ErrorKind::StaleTimestamp
        );
    }
}

#[test]
fn upper_case_hex_in_every_scheme() {
    let ms = NOW.to_string();
    let secs = (NOW / 1000).to_string();
    let upper_ms = signature_hex(SECRET, &ms, BODY.as_bytes()).to_uppercase();
    let upper_s = signature_hex(SECRET, &secs, BODY.as_bytes()).to_uppercase();
    let cases = [
        (
            Scheme::Current,
            vec![
                ("X-Webhook-Timestamp".to_owned(), ms.clone()),
                ("X-Webhook-Signature".to_owned(), upper_ms.clone()),
            ],
        ),
        (
            Scheme::Legacy,
            vec![
                ("X-CostKatana-Timestamp".to_owned(), ms.clone()),
                (
                    "X-CostKatana-Signature".to_owned(),
                    format!("sha256={upper_ms}"),
                ),
            ],
        ),
        (
            Scheme::Documented,
            vec![(
                "X-CostKatana-Signature".to_owned(),
                format!("t={secs},v1={upper_s}"),
            )],
        ),
    ];
    for (scheme, headers) in cases {
        let verified = verifier().verify_at(&headers, BODY, NOW).unwrap();
        assert_eq!(verified.scheme(), scheme);
        // The matched signature is reported in lowercase whatever was sent.
        assert_eq!(
            verified.signature_hex(),
            verified.signature_hex().to_lowercase()
        );
    }
}

#[test]
fn the_current_headers_win_when_both_families_are_present() {
    let mut headers = sign(Scheme::Current, SECRET, NOW, BODY.as_bytes());
    headers.push(("X-CostKatana-Signature".into(), "garbage".into()));
    assert_eq!(kind(&headers, BODY, NOW), Ok(Scheme::Current));
    // Pinned to documented, the same request is judged by its documented header.
    let pinned = Verifier::builder()
        .secret(SECRET)
        .scheme(Scheme::Documented)
        .build()
        .unwrap();
    assert_eq!(
        pinned.verify_at(&headers, BODY, NOW).unwrap_err().kind(),
        ErrorKind::MalformedSignature
    );
}

#[test]
fn documented_timestamp_is_whole_seconds() {
    // The documented t= is in seconds: the window edges fall on whole seconds.
    let headers = sign(Scheme::Documented, SECRET, NOW + 999, BODY.as_bytes());
    let verified = verifier().verify_at(&headers, BODY, NOW).unwrap();
    assert_eq!(verified.timestamp_ms(), NOW);
    assert!(verifier().verify_at(&headers, BODY, NOW + 300_000).is_ok());
    assert_eq!(
        kind(&headers, BODY, NOW + 300_001),
        Err(ErrorKind::StaleTimestamp)
    );
}
