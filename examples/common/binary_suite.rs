// The examples' shared binary suite: included by each example's
// tests/binary.rs, which sets `BIN` to its own executable.
//
// Starts the example binary on a free port and talks to it over HTTP:
// deliveries, duplicates, health, metrics, 404, a graceful stop on SIGTERM
// that still answers a request already in flight, slow clients cut, accept
// errors backed off, and the settings of the fixed interface.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use costkatana_webhooks::signing::{sign, SENDER_HEADERS};
use costkatana_webhooks::testing::{sample_event, Shape};
use costkatana_webhooks::{EventType, Scheme};

// Times, temporary directories and a child's output lines, as the alerts
// and ledger process tests have them; the rest of it serves those tests.
#[allow(dead_code)]
#[path = "process_support.rs"]
mod process_support;
use process_support::{lines, now_ms, TempDir};

/// Every wait on the child is bounded by this.
const WAIT: Duration = Duration::from_secs(20);
const SECRET: &str = "whsec_example";

/// The running example; killed on drop if the test did not stop it.
struct Example {
    child: Child,
    addr: String,
    /// The stdout lines up to and including "listening on".
    startup: Vec<String>,
    stderr: mpsc::Receiver<String>,
}

impl Example {
    /// Starts the binary with the secret on a free port and waits for its
    /// "listening on" line.
    fn start() -> Example {
        Example::start_with(&[("COSTKATANA_WEBHOOK_SECRET", SECRET)])
    }

    /// Starts the binary with `env` (and nothing else of the fixed
    /// interface) on a free port.
    fn start_with(env: &[(&str, &str)]) -> Example {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let addr = format!("127.0.0.1:{port}");
        let mut command = Command::new(super::BIN);
        command
            .env_remove("COSTKATANA_WEBHOOK_SECRET")
            .env_remove("REDIS_URL")
            .env_remove("COSTKATANA_WEBHOOK_TOLERANCE_SECS")
            .env_remove("INBOX_URL")
            .env_remove("INBOX_RETRY_DELAY_MS")
            .env_remove("INBOX_LEASE_SECS")
            .env_remove("INBOX_MAX_ATTEMPTS")
            .env_remove("INBOX_CONSOLE_TOKEN")
            .env("ADDR", &addr)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("the example starts");
        let stdout = lines(child.stdout.take().expect("stdout"));
        let stderr = lines(child.stderr.take().expect("stderr"));
        let mut startup = Vec::new();
        while !startup
            .last()
            .is_some_and(|line: &String| line.contains("listening on http://"))
        {
            match stdout.recv_timeout(WAIT) {
                Ok(line) => startup.push(line),
                Err(err) => panic!("no \"listening on\" line ({err}); saw {startup:#?}"),
            }
        }
        Example {
            child,
            addr,
            startup,
            stderr,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits for the exit that follows SIGTERM and asserts it was clean.
    fn assert_clean_exit(mut self) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                assert!(status.success(), "exit status {status}");
                return;
            }
            assert!(Instant::now() < deadline, "no exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(20)); // polling the child's exit
        }
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn expect_line(lines: &mpsc::Receiver<String>, needle: &str) -> String {
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) if line.contains(needle) => return line,
            Ok(line) => seen.push(line),
            Err(err) => panic!("no line containing {needle:?} ({err}); saw {seen:#?}"),
        }
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(WAIT)
        .build()
        .expect("client")
}

async fn post_signed(url: String, body: &str) -> (u16, String) {
    post_signed_with(url, SECRET, Scheme::Current, body).await
}

async fn post_signed_with(url: String, secret: &str, scheme: Scheme, body: &str) -> (u16, String) {
    let mut request = client().post(url);
    for (name, value) in SENDER_HEADERS {
        request = request.header(name, value);
    }
    for (name, value) in sign(scheme, secret, now_ms(), body.as_bytes()) {
        request = request.header(name, value);
    }
    let response = request
        .body(body.to_owned())
        .send()
        .await
        .expect("response");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

async fn get(url: String) -> (u16, String) {
    let response = client().get(url).send().await.expect("response");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

#[tokio::test]
async fn serves_webhooks_health_and_metrics_then_stops_on_sigterm() {
    let example = Example::start();
    let body = sample_event(&EventType::CostAlert, Shape::Camel, "evt_example", now_ms());

    let (status, answer) = post_signed(example.url("/webhooks/costkatana"), &body).await;
    assert_eq!(
        (status, answer.as_str()),
        (200, r#"{"event_id":"evt_example","received":true}"#)
    );
    expect_line(&example.stderr, "verified event");

    let (status, answer) = post_signed(example.url("/webhooks/costkatana"), &body).await;
    assert_eq!(
        (status, answer.as_str()),
        (
            200,
            r#"{"duplicate":true,"event_id":"evt_example","received":true}"#
        )
    );

    // The endpoint's other rejections come from the receiver, as JSON.
    let (status, answer) = get(example.url("/webhooks/costkatana")).await;
    assert_eq!(status, 405, "{answer}");
    assert!(answer.contains("method_not_allowed"), "{answer}");
    let response = client()
        .post(example.url("/webhooks/costkatana"))
        .body(body.clone())
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), 400);
    assert!(response
        .text()
        .await
        .expect("body")
        .contains("missing_signature"));

    assert_eq!(get(example.url("/health")).await, (200, "ok".to_owned()));
    assert_eq!(get(example.url("/nowhere")).await.0, 404);
    assert_eq!(get(example.url("/health/")).await.0, 404);
    let (status, metrics) = get(example.url("/metrics")).await;
    assert_eq!(status, 200);
    for line in [
        r#"costkatana_webhook_requests_total{outcome="processed"} 1"#,
        r#"costkatana_webhook_requests_total{outcome="duplicate"} 1"#,
        r#"costkatana_webhook_requests_total{outcome="method_not_allowed"} 1"#,
        r#"costkatana_webhook_requests_total{outcome="missing_signature"} 1"#,
        // A histogram, as the guide says: buckets, a sum and a count.
        r#"costkatana_webhook_handler_seconds_bucket{le="0.005"}"#,
        "costkatana_webhook_handler_seconds_count 1",
    ] {
        assert!(metrics.contains(line), "{line:?} missing from:\n{metrics}");
    }

    example.sigterm();
    expect_line(&example.stderr, "shutting down");
    example.assert_clean_exit();
}

/// A delivery whose body is still arriving when SIGTERM lands is answered
/// before the process exits; new connections are refused meanwhile.
#[test]
fn finishes_a_request_in_flight_when_terminated() {
    let example = Example::start();
    let body = sample_event(
        &EventType::BudgetExceeded,
        Shape::Camel,
        "evt_in_flight",
        now_ms(),
    );
    // `Expect: 100-continue` makes the server say when the receiver starts
    // reading the body, so the request is known to be in flight before the
    // signal is sent.
    let mut head = format!(
        "POST /webhooks/costkatana HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nExpect: 100-continue\r\n",
        example.addr,
        body.len()
    );
    for (name, value) in SENDER_HEADERS {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    for (name, value) in sign(Scheme::Current, SECRET, now_ms(), body.as_bytes()) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");

    let mut stream = std::net::TcpStream::connect(&example.addr).expect("connects");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    stream.write_all(head.as_bytes()).expect("head");
    let continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
    let mut interim = vec![0; continue_line.len()];
    stream.read_exact(&mut interim).expect("100 Continue");
    assert_eq!(String::from_utf8_lossy(&interim), continue_line);

    example.sigterm();
    expect_line(&example.stderr, "shutting down");
    // The listener is gone: nobody new gets in...
    let refused = Instant::now() + WAIT;
    while std::net::TcpStream::connect(&example.addr).is_ok() {
        assert!(Instant::now() < refused, "still accepting after SIGTERM");
        std::thread::sleep(Duration::from_millis(20)); // polling the listener's close
    }
    // ...but the request already in flight completes.
    stream.write_all(body.as_bytes()).expect("the body");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(
        answer.ends_with(r#"{"event_id":"evt_in_flight","received":true}"#),
        "{answer}"
    );
    example.assert_clean_exit();
}

#[tokio::test]
async fn generates_and_prints_a_secret_when_none_is_set() {
    let example = Example::start_with(&[]);
    let line = example
        .startup
        .iter()
        .find(|line| line.contains("generated secret"))
        .expect("the generated secret is printed");
    let secret = line.rsplit(' ').next().expect("the secret ends the line");
    assert!(secret.starts_with("whsec_"), "{line}");

    let body = sample_event(
        &EventType::BudgetWarning,
        Shape::Snake,
        "evt_generated",
        now_ms(),
    );
    let url = example.url("/webhooks/costkatana");
    let (status, answer) = post_signed_with(url, secret, Scheme::Documented, &body).await;
    assert_eq!(status, 200, "{answer}");
}

#[test]
fn refuses_to_start_when_redis_is_unreachable() {
    let output = Command::new(super::BIN)
        .env("COSTKATANA_WEBHOOK_SECRET", "whsec_x")
        .env("REDIS_URL", "redis://127.0.0.1:1/0")
        .env("ADDR", "127.0.0.1:0")
        .output()
        .expect("the example runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("REDIS_URL"), "{stderr}");
}

/// With `INBOX_URL` a delivery is stored before its 200, handled by a
/// worker from the stored copy, and its copy is a duplicate; SIGTERM still
/// ends the process cleanly (the main calls `receiver.shutdown`).
#[tokio::test]
async fn stores_deliveries_in_an_inbox_when_inbox_url_is_set() {
    let dir = TempDir::new("binary-inbox");
    let url = dir.sqlite_url();
    let example = Example::start_with(&[
        ("COSTKATANA_WEBHOOK_SECRET", SECRET),
        ("INBOX_URL", &url),
        ("REDIS_URL", "redis://127.0.0.1:1/0"),
    ]);
    expect_line(&example.stderr, "REDIS_URL is set but not used");
    let body = sample_event(&EventType::CostAlert, Shape::Camel, "evt_inbox", now_ms());
    let (status, answer) = post_signed(example.url("/webhooks/costkatana"), &body).await;
    assert_eq!(
        (status, answer.as_str()),
        (
            200,
            r#"{"event_id":"evt_inbox","received":true,"stored":true}"#
        )
    );
    // Logged by the handler, which a worker runs from the stored copy.
    expect_line(&example.stderr, "evt_inbox");
    let (status, answer) = post_signed(example.url("/webhooks/costkatana"), &body).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains(r#""duplicate":true"#), "{answer}");
    example.sigterm();
    example.assert_clean_exit();
}

#[test]
fn refuses_a_bad_inbox_url_or_retry_delay() {
    for (name, value, bad) in [
        ("INBOX_URL", "mysql://127.0.0.1/inbox", "INBOX_URL: "),
        (
            "INBOX_URL",
            "sqlite:/nonexistent-dir/inbox.db",
            "INBOX_URL: ",
        ),
        ("INBOX_RETRY_DELAY_MS", "fast", "INBOX_RETRY_DELAY_MS"),
        ("INBOX_LEASE_SECS", "0", "INBOX_LEASE_SECS"),
        ("INBOX_MAX_ATTEMPTS", "0", "INBOX_MAX_ATTEMPTS"),
        ("INBOX_MAX_ATTEMPTS", "many", "INBOX_MAX_ATTEMPTS"),
    ] {
        let output = Command::new(super::BIN)
            .env("COSTKATANA_WEBHOOK_SECRET", "whsec_x")
            .env_remove("REDIS_URL")
            .env("INBOX_URL", "sqlite:/nonexistent-dir/inbox.db")
            .env(name, value)
            .env("ADDR", "127.0.0.1:0")
            .output()
            .expect("the example runs");
        assert!(!output.status.success(), "{name}={value} accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(bad), "{name}={value}: {stderr}");
    }
}

/// With `INBOX_CONSOLE_TOKEN` (and `INBOX_URL`) the console is served at
/// `/console/`: every page sends to its sign-in form, under its CSP.
#[tokio::test]
async fn serves_the_inbox_console_when_its_token_is_set() {
    let dir = TempDir::new("binary-console");
    let url = dir.sqlite_url();
    let example = Example::start_with(&[
        ("COSTKATANA_WEBHOOK_SECRET", SECRET),
        ("INBOX_URL", &url),
        ("INBOX_MAX_ATTEMPTS", "2"),
        ("INBOX_CONSOLE_TOKEN", "example-console-token-0123456789"),
    ]);
    let response = client()
        .get(example.url("/console/deliveries"))
        .send()
        .await
        .expect("response");
    assert_eq!(response.url().path(), "/console/sign-in", "sent to sign in");
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .expect("text")
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let page = response.text().await.expect("body");
    assert!(page.contains("type=\"password\" name=\"token\""), "{page}");
    let (status, css) = get(example.url("/console/assets/console.css")).await;
    assert_eq!(status, 200);
    assert!(css.contains("--accent"));
    example.sigterm();
    example.assert_clean_exit();
}

/// Without inbox mode there is no console; one asked for is refused at
/// start, as is a token too short to guard it.
#[test]
fn refuses_a_console_without_an_inbox_or_with_a_short_token() {
    let output = Command::new(super::BIN)
        .env("COSTKATANA_WEBHOOK_SECRET", "whsec_x")
        .env_remove("REDIS_URL")
        .env_remove("INBOX_URL")
        .env("INBOX_CONSOLE_TOKEN", "example-console-token-0123456789")
        .env("ADDR", "127.0.0.1:0")
        .output()
        .expect("the example runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("INBOX_CONSOLE_TOKEN is set but INBOX_URL is not"),
        "{stderr}"
    );
    let dir = TempDir::new("binary-console-short");
    let output = Command::new(super::BIN)
        .env("COSTKATANA_WEBHOOK_SECRET", "whsec_x")
        .env_remove("REDIS_URL")
        .env("INBOX_URL", dir.sqlite_url())
        .env("INBOX_CONSOLE_TOKEN", "short")
        .env("ADDR", "127.0.0.1:0")
        .output()
        .expect("the example runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("INBOX_CONSOLE_TOKEN: "), "{stderr}");
    assert!(stderr.contains("at least 16"), "{stderr}");
}

#[test]
fn refuses_a_malformed_tolerance() {
    let output = Command::new(super::BIN)
        .env("COSTKATANA_WEBHOOK_SECRET", "whsec_x")
        .env("COSTKATANA_WEBHOOK_TOLERANCE_SECS", "five minutes")
        .env("ADDR", "127.0.0.1:0")
        .output()
        .expect("the example runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("COSTKATANA_WEBHOOK_TOLERANCE_SECS"),
        "{stderr}"
    );
}

/// Twenty clients that never finish their headers are disconnected within
/// 30 s (the examples allow 10 s), and the server keeps serving meanwhile.
#[test]
fn cuts_connections_with_unfinished_headers_and_keeps_serving() {
    let example = Example::start();
    let slow: Vec<std::net::TcpStream> = (0..20)
        .map(|_| {
            let mut stream = std::net::TcpStream::connect(&example.addr).expect("connects");
            stream
                .write_all(b"POST /webhooks/costkatana HTTP/1.1\r\nHost: x\r\nX-Webhook-")
                .expect("part of the headers");
            stream
        })
        .collect();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    assert_eq!(
        runtime.block_on(get(example.url("/health"))),
        (200, "ok".to_owned()),
        "served while slow clients hold connections"
    );
    for mut stream in slow {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let mut rest = Vec::new();
        let closed = stream.read_to_end(&mut rest);
        assert!(
            closed.is_ok(),
            "still open after 30 s ({closed:?}); got {rest:?}"
        );
        assert!(!rest.starts_with(b"HTTP/1.1 2"), "{rest:?}");
    }
    assert_eq!(
        runtime.block_on(get(example.url("/health"))),
        (200, "ok".to_owned())
    );
}

/// The server's open descriptors once its count holds still for 300 ms
/// (within 10 s): a server still starting (actix opens its workers' after
/// it prints its address) would fail to start them under the lowered
/// limit and exit, instead of showing its accept back-off.
fn settled_descriptor_count(pid: &str) -> usize {
    let count = || {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .expect("the child's descriptors")
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let (mut last, mut steady) = (count(), 0);
    while steady < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100)); // polling the child's descriptors
        let now = count();
        steady = if now == last { steady + 1 } else { 0 };
        last = now;
    }
    last
}

/// Out of file descriptors (the limit lowered under the running server,
/// with `prlimit`), the server pauses accepting instead of spinning, and
/// serves again once descriptors are back.
#[test]
fn backs_off_when_out_of_file_descriptors() {
    let example = Example::start();
    let pid = example.child.id().to_string();
    let in_use = settled_descriptor_count(&pid);
    let prlimit = |args: &[&str]| {
        let output = Command::new("prlimit")
            .args(["--pid", &pid])
            .args(args)
            .output()
            .expect("prlimit runs (util-linux)");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).expect("text")
    };
    let original = prlimit(&["--nofile", "--output", "SOFT", "--noheadings"]);
    prlimit(&[&format!("--nofile={in_use}:")]);
    let held: Vec<std::net::TcpStream> = (0..32)
        .map(|_| std::net::TcpStream::connect(&example.addr).expect("queued by the kernel"))
        .collect();
    let window = Instant::now() + Duration::from_secs(2);
    let mut accept_errors = 0;
    while let Some(left) = window.checked_duration_since(Instant::now()) {
        match example.stderr.recv_timeout(left) {
            Ok(line) if line.to_ascii_lowercase().contains("accept") => accept_errors += 1,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    prlimit(&[&format!("--nofile={}:", original.trim())]);
    // A busy loop writes hundreds of thousands of lines in two seconds.
    assert!(
        (1..=30).contains(&accept_errors),
        "{accept_errors} accept errors logged in two seconds"
    );
    drop(held);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    assert_eq!(
        runtime.block_on(get(example.url("/health"))),
        (200, "ok".to_owned())
    );
}
