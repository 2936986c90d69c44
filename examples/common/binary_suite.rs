// The examples' shared binary suite: included by each example's
// tests/binary.rs, which sets `BIN` to its own executable.
//
// Starts the example binary on a free port and talks to it over HTTP:
// deliveries, duplicates, health, metrics, 404, and a graceful stop on
// SIGTERM that still answers a request already in flight.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use costkatana_webhooks::signing::{sign, SENDER_HEADERS};
use costkatana_webhooks::testing::{sample_event, Shape};
use costkatana_webhooks::{EventType, Scheme};

/// Every wait on the child is bounded by this.
const WAIT: Duration = Duration::from_secs(20);
const SECRET: &str = "whsec_example";

/// The running example; killed on drop if the test did not stop it.
struct Example {
    child: Child,
    addr: String,
    stderr: mpsc::Receiver<String>,
}

impl Example {
    /// Starts the binary on a free port and waits for its "listening on" line.
    fn start() -> Example {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let addr = format!("127.0.0.1:{port}");
        let mut child = Command::new(super::BIN)
            .env("COSTKATANA_WEBHOOK_SECRET", SECRET)
            .env_remove("REDIS_URL")
            .env_remove("COSTKATANA_WEBHOOK_TOLERANCE_SECS")
            .env("ADDR", &addr)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the example starts");
        let stdout = lines(child.stdout.take().expect("stdout"));
        let stderr = lines(child.stderr.take().expect("stderr"));
        let example = Example {
            child,
            addr,
            stderr,
        };
        expect_line(&stdout, "listening on http://");
        example
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

/// Forwards each line of `stream` to a channel, from a thread.
fn lines(stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
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

fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(since.as_millis()).expect("fits")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(WAIT)
        .build()
        .expect("client")
}

async fn post_signed(url: String, body: &str) -> (u16, String) {
    let mut request = client().post(url);
    for (name, value) in SENDER_HEADERS {
        request = request.header(name, value);
    }
    for (name, value) in sign(Scheme::Current, SECRET, now_ms(), body.as_bytes()) {
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
        "costkatana_webhook_handler_seconds",
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
