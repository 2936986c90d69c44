//! `verify` explains what is wrong with a captured request; the mistaken
//! requests are built here with an independent HMAC.

mod support;

use std::path::PathBuf;

use base64::Engine;
use predicates::prelude::*;
use support::{ckwebhook, hmac_hex};

const TS_MS: &str = "1777377600000";
const AT: &str = "1777377610000";
const BODY: &str = r#"{"eventId":"evt_1","eventType":"cost.alert","data":{"title":"Daily cost","severity":"high","cost":{"amount":125.50,"currency":"USD"}}}"#;

/// A raw request file signed `current` with `key` over `signed`, carrying `sent`.
fn request_file(name: &str, key: &[u8], signed: &[u8], sent: &[u8]) -> PathBuf {
    let signature = hmac_hex(key, TS_MS, signed);
    let mut raw = format!(
        "POST /webhooks/costkatana HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/json\r\n\
         X-Webhook-Timestamp: {TS_MS}\r\nX-Webhook-Signature: {signature}\r\n\r\n"
    )
    .into_bytes();
    raw.extend_from_slice(sent);
    let path = dir().join(name);
    std::fs::write(&path, raw).unwrap();
    path
}

fn dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ckwebhook-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn verify(secret: &str, request: &PathBuf) -> assert_cmd::assert::Assert {
    ckwebhook()
        .args(["verify", "--secret", secret, "--at", AT, "--request"])
        .arg(request)
        .assert()
}

#[test]
fn a_valid_request_exits_zero() {
    let path = request_file("valid.http", b"s3cret", BODY.as_bytes(), BODY.as_bytes());
    verify("s3cret", &path)
        .success()
        .stdout(predicate::str::contains("scheme: looks like current"))
        .stdout(predicate::str::contains(
            "10 s old: within the 300 s default tolerance",
        ))
        .stdout(predicate::str::contains("signature: matches"))
        .stdout(predicate::str::contains("result: valid (current scheme)"));
}

#[test]
fn explains_a_re_serialised_body() {
    let pretty =
        serde_json::to_vec_pretty(&serde_json::from_str::<serde_json::Value>(BODY).unwrap())
            .unwrap();
    // Sent as written by hand, signed over JSON.stringify(JSON.parse(body)).
    let hand_written = "{ \"eventId\": \"evt_1\",\n  \"data\": { \"amount\": 125.50 } }";
    let compact = r#"{"eventId":"evt_1","data":{"amount":125.50}}"#;
    let path = request_file(
        "compact.http",
        b"s3cret",
        compact.as_bytes(),
        hand_written.as_bytes(),
    );
    verify("s3cret", &path)
        .code(1)
        .stdout(predicate::str::contains("signature: does not match"))
        .stdout(predicate::str::contains(
            "would match with the body re-serialised as compact JSON",
        ))
        .stdout(predicate::str::contains(
            "result: INVALID, invalid_signature",
        ));
    // Signed as parsed-and-pretty-printed, received compact as sent.
    let path = request_file("pretty.http", b"s3cret", &pretty, BODY.as_bytes());
    verify("s3cret", &path)
        .code(1)
        .stdout(predicate::str::contains(
            "re-serialised as pretty JSON (keys sorted, numbers normalised)",
        ));
    // JSON.stringify(JSON.parse(body), null, 2): order kept.
    let js_pretty = "{\n  \"eventId\": \"evt_1\",\n  \"eventType\": \"cost.alert\"\n}";
    let path = request_file(
        "js.http",
        b"s3cret",
        js_pretty.as_bytes(),
        br#"{"eventId":"evt_1", "eventType":"cost.alert"}"#,
    );
    verify("s3cret", &path)
        .code(1)
        .stdout(predicate::str::contains(
            "re-serialised as pretty JSON (2-space indent)",
        ));
}

#[test]
fn explains_a_trailing_newline() {
    let with_newline = format!("{BODY}\n");
    let path = request_file(
        "added.http",
        b"s3cret",
        with_newline.as_bytes(),
        BODY.as_bytes(),
    );
    verify("s3cret", &path)
        .code(1)
        .stdout(predicate::str::contains(
            "would match with a trailing newline added to the body",
        ));
    let path = request_file(
        "removed.http",
        b"s3cret",
        BODY.as_bytes(),
        with_newline.as_bytes(),
    );
    verify("s3cret", &path)
        .code(1)
        .stdout(predicate::str::contains(
            "would match with the trailing newline removed from the body",
        ))
        // The more specific explanation replaces "re-serialised" for the same bytes.
        .stdout(predicate::str::contains("compact JSON").not());
}

#[test]
fn explains_secret_mistakes() {
    let body = BODY.as_bytes();
    let cases: [(&str, Vec<u8>, &str); 6] = [
        // Yours has the newline: trim yours.
        (
            "s3cret\n",
            b"s3cret".to_vec(),
            "would match with the secret trimmed of surrounding whitespace:\n    \
             the secret you passed has leading/trailing whitespace",
        ),
        // The sender's has it: trim the sender's.
        (
            "s3cret",
            b"s3cret\n".to_vec(),
            "would match with a trailing newline or space added to the secret (by the signer):\n    \
             the signer's copy of the secret ends with whitespace",
        ),
        (
            "s3cret",
            b"s3cret ".to_vec(),
            "trim the secret where the sender's is configured",
        ),
        (
            "00112233445566778899aabbccddeeff",
            hex::decode("00112233445566778899aabbccddeeff").unwrap(),
            "would match with the secret hex-decoded",
        ),
        (
            "whsec_c2VjcmV0LWtleS1ieXRlcw==",
            base64::engine::general_purpose::STANDARD
                .decode("c2VjcmV0LWtleS1ieXRlcw==")
                .unwrap(),
            "would match with the secret base64-decoded",
        ),
        (
            "whsec_plain_text",
            b"plain_text".to_vec(),
            "would match with the whsec_ prefix stripped from the secret",
        ),
    ];
    for (index, (secret, key, explanation)) in cases.into_iter().enumerate() {
        let path = request_file(&format!("secret{index}.http"), &key, body, body);
        verify(secret, &path)
            .code(1)
            .stdout(predicate::str::contains(explanation))
            .stdout(predicate::str::contains(
                "result: INVALID, invalid_signature",
            ));
    }
}

#[test]
fn explains_a_stale_timestamp_and_a_wrong_secret() {
    let path = request_file("stale.http", b"s3cret", BODY.as_bytes(), BODY.as_bytes());
    ckwebhook()
        .args([
            "verify",
            "--secret",
            "s3cret",
            "--at",
            "1777381200",
            "--request",
        ])
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("3600 s old: STALE"))
        .stdout(predicate::str::contains("signature: matches"))
        .stdout(predicate::str::contains("result: INVALID, stale_timestamp"));
    verify("another", &path)
        .code(1)
        .stdout(predicate::str::contains("no common mistake explains it"));
}

#[test]
fn reads_documented_requests_from_headers_and_body_files() {
    let dir = dir();
    let body = br#"{"event_type":"cost.alert","data":{"amount":100}}"#;
    std::fs::write(dir.join("doc.body"), body).unwrap();
    std::fs::write(
        dir.join("doc.headers"),
        "Content-Type: application/json\nX-CostKatana-Signature: t=1705320600,v1=8e7a9a20aa184accf213305d7c9527ee23b7719acf0048d4eba31bf3e0e51008\n",
    )
    .unwrap();
    ckwebhook()
        .args([
            "verify",
            "--secret",
            "whsec_test_secret",
            "--at",
            "1705320610",
        ])
        .arg("--headers")
        .arg(dir.join("doc.headers"))
        .arg("--body")
        .arg(dir.join("doc.body"))
        .assert()
        .success()
        .stdout(predicate::str::contains("scheme: looks like documented"))
        .stdout(predicate::str::contains(
            "result: valid (documented scheme)",
        ));
}

#[test]
fn bad_input_files_are_clear_errors() {
    let dir = dir();
    std::fs::write(dir.join("bin.headers"), b"X-Webhook-Signature: \xff\xfe\n").unwrap();
    std::fs::write(
        dir.join("bad.headers"),
        "X-Webhook-Timestamp: 1\nnot a header line\n",
    )
    .unwrap();
    std::fs::write(dir.join("any.body"), "{}").unwrap();
    for (headers, message) in [
        ("bin.headers", "not UTF-8"),
        ("bad.headers", "line 2: expected `Name: value`"),
    ] {
        ckwebhook()
            .args(["verify", "--secret", "s"])
            .arg("--headers")
            .arg(dir.join(headers))
            .arg("--body")
            .arg(dir.join("any.body"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
    std::fs::write(dir.join("nohead.http"), "POST / HTTP/1.1\r\nX-A: 1\r\n").unwrap();
    ckwebhook()
        .args(["verify", "--secret", "s", "--request"])
        .arg(dir.join("nohead.http"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no blank line"));
    ckwebhook()
        .args(["verify", "--secret", "s", "--at", "yesterday", "--request"])
        .arg(dir.join("nohead.http"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--at: \"yesterday\" is not a time",
        ));
    std::fs::write(
        dir.join("unsigned.http"),
        "POST / HTTP/1.1\r\nX-A: 1\r\n\r\n{}",
    )
    .unwrap();
    ckwebhook()
        .args(["verify", "--secret", "s", "--request"])
        .arg(dir.join("unsigned.http"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("scheme: none"))
        .stdout(predicate::str::contains("missing_signature"));
}

#[test]
fn seconds_in_a_millisecond_header_are_named_not_blamed_on_the_tolerance() {
    let secs = &TS_MS[..10];
    let signature = hmac_hex(b"s3cret", secs, BODY.as_bytes());
    let raw = format!(
        "POST /webhooks/costkatana HTTP/1.1\r\nHost: example.com\r\n\
         X-Webhook-Timestamp: {secs}\r\nX-Webhook-Signature: {signature}\r\n\r\n{BODY}"
    );
    let path = dir().join("seconds.http");
    std::fs::write(&path, raw).unwrap();
    verify("s3cret", &path)
        .code(1)
        .stdout(predicate::str::contains(format!(
            "timestamp: {secs} looks like SECONDS since the epoch"
        )))
        .stdout(predicate::str::contains(format!(
            "the current scheme sends milliseconds ({secs}000)"
        )))
        .stdout(predicate::str::contains(
            "looks like seconds since the epoch",
        ))
        .stdout(predicate::str::contains("raise the past tolerance").not());
}
