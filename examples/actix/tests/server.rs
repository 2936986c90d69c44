//! Starts the example binary on a free port and talks to it over HTTP.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use costkatana_webhooks::signing::{sign, SENDER_HEADERS};
use costkatana_webhooks::testing::{sample_event, Shape};
use costkatana_webhooks::{EventType, Scheme};

/// Every wait on the child is bounded by this.
const WAIT: Duration = Duration::from_secs(20);

/// The running example; killed on drop if the test did not stop it.
struct Example {
    child: Child,
    base: String,
    /// The stdout lines up to and including "listening on".
    startup: Vec<String>,
    stderr: mpsc::Receiver<String>,
}

impl Example {
    /// Starts the binary with `env` on a free port and waits for its
    /// "listening on" line.
    fn start(env: &[(&str, &str)]) -> Example {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let addr = format!("127.0.0.1:{port}");
        let mut command = Command::new(env!("CARGO_BIN_EXE_example-actix"));
        command
            .env_remove("COSTKATANA_WEBHOOK_SECRET")
            .env_remove("REDIS_URL")
            .env_remove("COSTKATANA_WEBHOOK_TOLERANCE_SECS")
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
            base: format!("http://{addr}"),
            startup,
            stderr,
        }
    }

    /// Sends SIGTERM and waits for a clean exit.
    fn terminate(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                assert!(status.success(), "exit status {status}");
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no exit after SIGTERM"
            );
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
fn lines(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
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
    let deadline = std::time::Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
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

async fn post_signed(base: &str, secret: &str, scheme: Scheme, body: &str) -> (u16, String) {
    let mut request = client().post(format!("{base}/webhooks/costkatana"));
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
    // Two secrets (rotation): the older one still verifies.
    let example = Example::start(&[("COSTKATANA_WEBHOOK_SECRET", "whsec_new, whsec_old")]);
    let base = example.base.clone();
    let body = sample_event(&EventType::CostAlert, Shape::Camel, "evt_example", now_ms());

    let (status, answer) = post_signed(&base, "whsec_old", Scheme::Current, &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, r#"{"event_id":"evt_example","received":true}"#);
    expect_line(&example.stderr, "verified event");

    let (status, answer) = post_signed(&base, "whsec_new", Scheme::Legacy, &body).await;
    assert_eq!(
        (status, answer.contains(r#""duplicate":true"#)),
        (200, true),
        "{answer}"
    );

    let (status, answer) = post_signed(&base, "whsec_wrong", Scheme::Current, &body).await;
    assert_eq!(status, 401, "{answer}");
    assert!(answer.contains("invalid_signature"));

    assert_eq!(get(format!("{base}/health")).await, (200, "ok".to_owned()));
    let (status, metrics) = get(format!("{base}/metrics")).await;
    assert_eq!(status, 200);
    for line in [
        r#"costkatana_webhook_requests_total{outcome="processed"} 1"#,
        r#"costkatana_webhook_requests_total{outcome="duplicate"} 1"#,
        r#"costkatana_webhook_requests_total{outcome="invalid_signature"} 1"#,
        "costkatana_webhook_handler_seconds",
    ] {
        assert!(metrics.contains(line), "{line:?} missing from:\n{metrics}");
    }

    example.terminate();
}

#[tokio::test]
async fn generates_and_prints_a_secret_when_none_is_set() {
    let example = Example::start(&[]);
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
    let (status, answer) = post_signed(&example.base, secret, Scheme::Documented, &body).await;
    assert_eq!(status, 200, "{answer}");
    example.terminate();
}

#[test]
fn refuses_to_start_when_redis_is_unreachable() {
    let output = Command::new(env!("CARGO_BIN_EXE_example-actix"))
        .env("COSTKATANA_WEBHOOK_SECRET", "whsec_x")
        .env("REDIS_URL", "redis://127.0.0.1:1/0")
        .env("ADDR", "127.0.0.1:0")
        .output()
        .expect("the example runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("REDIS_URL"), "{stderr}");
}

#[test]
fn refuses_a_malformed_tolerance() {
    let output = Command::new(env!("CARGO_BIN_EXE_example-actix"))
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
