//! `send` against `listen` and against scripted servers, end to end on 127.0.0.1.

mod support;

use std::time::Duration;

use predicates::prelude::*;
use support::{ckwebhook, hmac_hex, Listener, ScriptedServer};

const FAST: [&str; 4] = ["--initial-delay", "50ms", "--timeout", "5s"];

#[test]
fn send_delivers_to_listen_and_duplicates_are_recognised() {
    let listener = Listener::start(&["--secret", "s3cret"], 1);
    let url = listener.url();
    for args in [
        &["budget.exceeded"][..],
        &[
            "cost.spike_detected",
            "--shape",
            "snake",
            "--scheme",
            "documented",
        ],
        &["system.error", "--scheme", "legacy"],
        &["usage.spike_detected"],
    ] {
        ckwebhook()
            .arg("send")
            .args(args)
            .args(["--url", &url, "--secret", "s3cret"])
            .args(FAST)
            .assert()
            .success()
            .stdout(predicate::str::contains("attempt 1: 200 OK"))
            .stdout(predicate::str::contains(r#""received":true"#))
            .stdout(predicate::str::contains("delivered after 1 attempt(s)"));
    }

    // The same event twice: the second is answered as a duplicate (still 2xx).
    let dir = std::env::temp_dir().join(format!("ckwebhook-net-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let body = dir.join("event.json");
    std::fs::write(
        &body,
        r#"{"eventId":"evt_dup_1","eventType":"cost.alert","data":{"title":"Daily cost","severity":"high","cost":{"amount":125.5,"currency":"USD"}}}"#,
    )
    .unwrap();
    let send_file = || {
        let mut cmd = ckwebhook();
        cmd.args(["send", "--body"])
            .arg(&body)
            .args(["--url", &url, "--secret", "s3cret"]);
        cmd
    };
    send_file()
        .assert()
        .success()
        .stdout(predicate::str::contains("cost.alert evt_dup_1"))
        .stdout(
            predicate::str::contains(r#""received":true"#)
                .and(predicate::str::contains("duplicate").not()),
        );
    send_file()
        .assert()
        .success()
        .stdout(predicate::str::contains(r#""duplicate":true"#));

    // A wrong secret is a permanent failure: 401, one attempt, exit 1.
    ckwebhook()
        .args(["send", "budget.warning", "--url", &url, "--secret", "wrong"])
        .args(FAST)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("attempt 1: 401 Unauthorized"))
        .stdout(predicate::str::contains("invalid_signature"))
        .stdout(predicate::str::contains("attempt 2").not())
        .stderr(predicate::str::contains("401 is not retried"));

    // Many events, each twice and concurrently: every event delivered.
    ckwebhook()
        .args(["send", "cost.alert", "--url", &url, "--secret", "s3cret"])
        .args(["--count", "40", "--concurrency", "4", "--duplicates", "2"])
        .args(FAST)
        .assert()
        .success()
        .stdout(predicate::str::contains("delivered: 40/40 events"))
        .stdout(predicate::str::contains("statuses: 200 x"))
        .stdout(predicate::str::contains("latency: p50"));

    let printed = listener.stop();
    assert!(
        printed.contains("budget.exceeded critical \"Budget exceeded\""),
        "{printed}"
    );
    assert!(
        printed.contains("cost 1250.50 USD (monthly), budget 1250.50 of 1000.00 USD"),
        "{printed}"
    );
    assert!(
        printed.contains("[documented]") && printed.contains("change +520.0%"),
        "{printed}"
    );
    assert!(printed.contains("[legacy]"), "{printed}");
    assert!(printed.contains("usage.spike "), "{printed}");
    assert!(
        printed.contains("200 duplicate POST /webhooks/costkatana id evt_dup_1"),
        "{printed}"
    );
    assert!(printed.contains("401 invalid_signature"), "{printed}");
    // The secret is never printed when it was given.
    assert!(!printed.contains("s3cret"), "{printed}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A body over the receiver's limit is answered 413 at once, and the
/// connection closed while the body is still being written: the answer is
/// what is reported, not the broken pipe.
#[test]
fn an_answer_before_the_whole_body_is_reported() {
    let listener = Listener::start(&["--secret", "s3cret"], 1);
    let dir = std::env::temp_dir().join(format!("ckwebhook-413-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let body = dir.join("large.json");
    let padding = "x".repeat(5 << 20);
    std::fs::write(
        &body,
        format!(
            r#"{{"eventId":"evt_large","eventType":"cost.alert","data":{{"notes":"{padding}"}}}}"#
        ),
    )
    .unwrap();
    for _ in 0..3 {
        ckwebhook()
            .args(["send", "--body"])
            .arg(&body)
            .args(["--url", &listener.url(), "--secret", "s3cret"])
            .args(FAST)
            .assert()
            .code(1)
            .stdout(predicate::str::contains("attempt 1: 413 Payload Too Large"))
            .stdout(predicate::str::contains(r#"{"error":"payload_too_large""#))
            .stdout(predicate::str::contains("attempt 2").not())
            .stderr(predicate::str::contains(
                "not delivered after 1 attempt(s): permanent failure: 413 is not retried",
            ))
            .stderr(predicate::str::contains("Broken pipe").not());
    }
    let printed = listener.stop();
    assert!(printed.contains("413 payload_too_large"), "{printed}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn listen_generates_a_secret_and_answers_the_status_table() {
    let listener = Listener::start(&[], 2);
    let secret_line = &listener.first_lines[1];
    let secret = secret_line.rsplit(' ').next().unwrap().to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() == 6 + 32,
        "{secret_line}"
    );
    assert!(secret[6..].bytes().all(|b| b.is_ascii_hexdigit()));
    ckwebhook()
        .args([
            "send",
            "model.latency_high",
            "--url",
            &listener.url(),
            "--secret",
            &secret,
        ])
        .assert()
        .success();

    // Unsigned, too large and non-POST requests, over a plain TCP socket.
    let unsigned = raw_http(&listener.addr, "POST", &[], b"{}");
    assert!(unsigned.starts_with("HTTP/1.1 400"), "{unsigned}");
    assert!(unsigned.contains(r#""error":"missing_signature""#));
    // Unsigned and too large: the signature headers are judged first.
    let big = vec![b'a'; 1024 * 1024 + 1];
    let unsigned_big = raw_http(&listener.addr, "POST", &[], &big);
    assert!(unsigned_big.starts_with("HTTP/1.1 400"), "{unsigned_big}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        .to_string();
    let zeros = "0".repeat(64);
    let signed_big = [
        ("X-Webhook-Timestamp", now.as_str()),
        ("X-Webhook-Signature", zeros.as_str()),
    ];
    let too_large = raw_http(&listener.addr, "POST", &signed_big, &big);
    assert!(too_large.starts_with("HTTP/1.1 413"), "{too_large}");
    assert!(too_large.contains("payload_too_large") && too_large.contains("1048576 bytes (1 MiB)"));
    let get = raw_http(&listener.addr, "GET", &[], b"");
    assert!(get.starts_with("HTTP/1.1 405"), "{get}");
    assert!(get
        .to_ascii_lowercase()
        .contains("content-type: application/json"));
    let stale_ts = "1705320600000";
    let stale_sig = hmac_hex(secret.as_bytes(), stale_ts, b"{}");
    let stale = raw_http(
        &listener.addr,
        "POST",
        &[
            ("X-Webhook-Timestamp", stale_ts),
            ("X-Webhook-Signature", &stale_sig),
        ],
        b"{}",
    );
    assert!(
        stale.starts_with("HTTP/1.1 401") && stale.contains("stale_timestamp"),
        "{stale}"
    );
    let printed = listener.stop();
    assert!(printed.contains("model.latency_high high"), "{printed}");
    assert!(
        printed.contains("405 method_not_allowed") && printed.contains("413 payload_too_large")
    );
}

#[test]
fn retries_5xx_with_the_original_headers_until_delivered() {
    let server = ScriptedServer::start(vec![
        (500, Duration::ZERO),
        (503, Duration::ZERO),
        (200, Duration::ZERO),
    ]);
    ckwebhook()
        .args([
            "send",
            "budget.warning",
            "--url",
            &server.url,
            "--secret",
            "s3cret",
        ])
        .args(["--header", "Authorization: Bearer t0ken"])
        .args(FAST)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "attempt 1: 500 Internal Server Error",
        ))
        .stdout(predicate::str::contains(
            "attempt 2: 503 Service Unavailable",
        ))
        .stdout(predicate::str::contains("attempt 3: 200 OK"))
        .stdout(predicate::str::contains(r#"{"answer":3}"#))
        .stdout(predicate::str::contains("delivered after 3 attempt(s)"));
    let requests = server.recorded();
    assert_eq!(requests.len(), 3);
    let first = &requests[0];
    for name in ["x-webhook-signature", "x-webhook-timestamp"] {
        assert!(first.header(name).is_some(), "{name} missing");
        for later in &requests[1..] {
            assert_eq!(
                later.header(name),
                first.header(name),
                "{name} changed on retry"
            );
        }
    }
    for later in &requests[1..] {
        assert_eq!(later.body, first.body);
    }
    // The real sender's headers, and the signature checks out independently.
    assert_eq!(first.header("user-agent"), Some("CostKatana-Webhook/1.0"));
    assert_eq!(
        first.header("x-webhook-event-type"),
        Some("webhook-delivery")
    );
    assert_eq!(first.header("content-type"), Some("application/json"));
    assert_eq!(first.header("authorization"), Some("Bearer t0ken"));
    let ts = first.header("x-webhook-timestamp").unwrap();
    assert_eq!(ts.len(), 13, "milliseconds");
    assert_eq!(
        first.header("x-webhook-signature").unwrap(),
        hmac_hex(b"s3cret", ts, &first.body)
    );
    let event: serde_json::Value = serde_json::from_slice(&first.body).unwrap();
    assert_eq!(event["eventType"], "budget.warning");
    let id = event["eventId"].as_str().unwrap();
    assert!(
        id.starts_with("budget_warning_") && id.len() == "budget_warning_".len() + 36,
        "{id}"
    );
}

#[test]
fn gives_up_after_the_last_retry() {
    let server = ScriptedServer::start(vec![(502, Duration::ZERO)]);
    ckwebhook()
        .args(["send", "cost.alert", "--url", &server.url, "--secret", "s"])
        .args(["--retries", "2"])
        .args(FAST)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("attempt 3: 502"))
        .stderr(predicate::str::contains(
            "not delivered after 3 attempt(s): retries exhausted",
        ));
    assert_eq!(server.recorded().len(), 3);
}

#[test]
fn four_xx_and_redirects_are_permanent_failures() {
    for status in [400, 409, 429, 302] {
        let server = ScriptedServer::start(vec![(status, Duration::ZERO), (200, Duration::ZERO)]);
        ckwebhook()
            .args(["send", "cost.alert", "--url", &server.url, "--secret", "s"])
            .args(FAST)
            .assert()
            .code(1)
            .stdout(predicate::str::contains(format!("attempt 1: {status}")))
            .stdout(predicate::str::contains("attempt 2").not())
            .stderr(predicate::str::contains(format!("{status} is not retried")));
        assert_eq!(
            server.recorded().len(),
            1,
            "{status} was retried or followed"
        );
    }
}

#[test]
fn timeouts_are_retried() {
    let server = ScriptedServer::start(vec![(200, Duration::from_secs(1)), (200, Duration::ZERO)]);
    ckwebhook()
        .args(["send", "cost.alert", "--url", &server.url, "--secret", "s"])
        .args(["--initial-delay", "10ms", "--timeout", "300ms"])
        .assert()
        .success()
        .stdout(predicate::str::contains("attempt 1: timed out"))
        .stdout(predicate::str::contains("attempt 2: 200 OK"));
}

#[test]
fn unreachable_url_is_a_clear_permanent_failure() {
    // Bind then drop: nothing listens on that port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    ckwebhook()
        .args(["send", "cost.alert", "--secret", "s"])
        .args(["--url", &format!("http://127.0.0.1:{port}/")])
        .args(FAST)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("cannot connect"))
        .stdout(predicate::str::contains("attempt 2").not())
        .stderr(predicate::str::contains("the receiver is unreachable"));
}

/// One HTTP/1.1 request over a fresh connection; the whole answer as text.
fn raw_http(addr: &str, method: &str, headers: &[(&str, &str)], body: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request = format!(
        "{method} /webhooks/costkatana HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    // The server may answer 413 before reading everything: ignore write errors.
    let _ = stream.write_all(body);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}
