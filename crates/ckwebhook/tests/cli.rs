//! `events`, `sign`, help texts and bad input, driven as a user would.

mod support;

use predicates::prelude::*;
use support::{ckwebhook, hmac_hex};

const BODY: &str = r#"{"event_type":"cost.alert","data":{"amount":100}}"#;

#[test]
fn events_lists_57_types_with_aliases() {
    let output = ckwebhook()
        .arg("events")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(output).unwrap();
    let types: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("  "))
        .map(|line| line.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(types.len(), 57, "{text}");
    assert!(types.contains(&"subscription.payment_failed"));
    assert!(text.contains("savings.milestone  (also spelled savings.milestone_reached)"));
    assert!(text.contains("usage.spike  (also spelled usage.spike_detected)"));
    // Grouped: every category heading appears once, before its types.
    assert_eq!(
        text.lines().filter(|line| *line == "subscription").count(),
        1
    );
}

#[test]
fn sign_documented_matches_the_published_vector() {
    ckwebhook()
        .args(["sign", "--secret", "whsec_test_secret", "--scheme", "documented"])
        .args(["--timestamp", "1705320600000", "-"])
        .write_stdin(BODY)
        .assert()
        .success()
        .stdout(
            "X-CostKatana-Signature: t=1705320600,v1=8e7a9a20aa184accf213305d7c9527ee23b7719acf0048d4eba31bf3e0e51008\n",
        );
}

#[test]
fn sign_current_and_legacy_match_an_independent_hmac() {
    let expected = hmac_hex(b"s3cret", "1777377600123", BODY.as_bytes());
    ckwebhook()
        .args(["sign", "--secret", "s3cret", "--timestamp", "1777377600123"])
        .write_stdin(BODY)
        .assert()
        .success()
        .stdout(format!(
            "X-Webhook-Timestamp: 1777377600123\nX-Webhook-Signature: {expected}\n"
        ));
    ckwebhook()
        .args([
            "sign",
            "--secret",
            "s3cret",
            "--scheme",
            "legacy",
            "--timestamp",
            "1777377600123",
        ])
        .write_stdin(BODY)
        .assert()
        .success()
        .stdout(format!(
            "X-CostKatana-Timestamp: 1777377600123\nX-CostKatana-Signature: sha256={expected}\n"
        ));
}

#[test]
fn sign_reads_a_file_byte_for_byte() {
    let dir = tempdir();
    let path = dir.join("body.json");
    // A trailing newline and odd spacing must be signed as they are.
    let raw = "{ \"a\": 1.50 }\n";
    std::fs::write(&path, raw).unwrap();
    let expected = hmac_hex(b"s3cret", "1000", raw.as_bytes());
    ckwebhook()
        .args(["sign", "--secret", "s3cret", "--timestamp", "1000ms"])
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains(expected));
    ckwebhook()
        .args(["sign", "--secret", "s3cret"])
        .arg(dir.join("missing.json"))
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("cannot read").and(predicate::str::contains("missing.json")),
        );
}

#[test]
fn sign_reads_the_secret_from_the_environment() {
    let expected = hmac_hex(b"from-env", "5", b"{}");
    ckwebhook()
        .env("COSTKATANA_WEBHOOK_SECRET", "from-env")
        .args(["sign", "--timestamp", "5ms"])
        .write_stdin("{}")
        .assert()
        .success()
        .stdout(predicate::str::contains(expected));
}

#[test]
fn sign_timestamps_in_seconds_or_milliseconds_mean_the_same_time() {
    for given in [
        "1796110963",
        "1796110963000",
        "1796110963s",
        "1796110963000ms",
    ] {
        ckwebhook()
            .args([
                "sign",
                "--secret",
                "s3cret",
                "--scheme",
                "documented",
                "--timestamp",
                given,
            ])
            .write_stdin("{}")
            .assert()
            .success()
            .stdout(predicate::str::contains(
                "X-CostKatana-Signature: t=1796110963,v1=",
            ));
        ckwebhook()
            .args(["sign", "--secret", "s3cret", "--timestamp", given])
            .write_stdin("{}")
            .assert()
            .success()
            .stdout(predicate::str::contains(
                "X-Webhook-Timestamp: 1796110963000\n",
            ));
    }
    ckwebhook()
        .args(["sign", "--secret", "s3cret", "--timestamp", "2026-12-01"])
        .write_stdin("{}")
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("seconds (10 digits")
                .and(predicate::str::contains("milliseconds (13 digits")),
        );
}

#[test]
fn events_stops_quietly_when_the_reader_goes_away() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    // `| head -c 0`: the reader is gone before the first line is written,
    // so every write meets a closed pipe.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = Command::new(env!("CARGO_BIN_EXE_ckwebhook"))
        .arg("events")
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{status}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn missing_secret_is_a_clear_error() {
    for args in [
        &["sign"][..],
        &["send", "budget.exceeded", "--url", "http://127.0.0.1:9/"],
        &["verify", "--request", "x"],
    ] {
        ckwebhook()
            .args(args)
            .write_stdin("{}")
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--secret"));
    }
    ckwebhook()
        .args(["sign", "--secret", ""])
        .write_stdin("{}")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("secret is empty"));
}

#[test]
fn unknown_event_type_suggests_the_closest_names() {
    ckwebhook()
        .args([
            "send",
            "budget.exceded",
            "--url",
            "http://127.0.0.1:9/",
            "--secret",
            "s",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown event type \"budget.exceded\"",
        ))
        .stderr(predicate::str::contains("did you mean budget.exceeded"));
    ckwebhook()
        .args([
            "send",
            "usage.spiked",
            "--url",
            "http://127.0.0.1:9/",
            "--secret",
            "s",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("usage.spike"));
}

#[test]
fn invalid_send_arguments_are_clear_errors() {
    let cases: [(&[&str], &str); 5] = [
        (&["--header", "no colon here"], "expected NAME:VALUE"),
        (&["--header", "Bad Name: v"], "is not a header name"),
        (&["--url", "ftp://example.com/"], "must be http or https"),
        (&["--initial-delay", "5 parsecs"], "unknown duration unit"),
        (&["--multiplier", "0.5"], "--multiplier must be at least 1"),
    ];
    for (extra, message) in cases {
        let mut cmd = ckwebhook();
        cmd.args(["send", "cost.alert", "--secret", "s"]);
        if !extra.contains(&"--url") {
            cmd.args(["--url", "http://127.0.0.1:9/"]);
        }
        cmd.args(extra)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
}

#[test]
fn help_texts_show_defaults_and_value_names() {
    ckwebhook()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("events").and(predicate::str::contains("verify")))
        .stdout(predicate::str::contains("ckwebhook listen --secret s3cret"));
    ckwebhook()
        .args(["send", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("[default: 5s]"))
        .stdout(predicate::str::contains("[default: 30s]"))
        .stdout(predicate::str::contains("[default: current]"))
        .stdout(predicate::str::contains("[default: camel]"))
        .stdout(predicate::str::contains("[EVENT_TYPE]"))
        .stdout(predicate::str::contains("ORIGINAL headers"));
    ckwebhook()
        .args(["listen", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("[default: 127.0.0.1:3000]"));
    ckwebhook()
        .args(["verify", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("whsec_"));
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ckwebhook-cli-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
