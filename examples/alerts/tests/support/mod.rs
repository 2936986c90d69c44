//! What the inbox tests of the alerts example share: the example-alerts
//! binary as a process (killed on drop), a Slack capture server that counts
//! messages per event id and answers as each test says, signed deliveries
//! (once, or retried like the real sender), and bounded waits.
//!
//! Each test binary uses part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use costkatana_webhooks::signing::{sign, SENDER_HEADERS};
use costkatana_webhooks::testing::{sample_event, Shape};
use costkatana_webhooks::{EventType, Scheme};
use serde_json::Value;
use tokio::sync::watch;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_example-alerts");
pub(crate) const SECRET: &str = "whsec_inbox_alerts";
/// The bound on every single wait (a start, an answer, a message).
pub(crate) const WAIT: Duration = Duration::from_secs(60);

pub(crate) fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(since.as_millis()).expect("fits")
}

/// A fresh directory under the system's temp dir, removed on drop.
pub(crate) struct TempDir(pub PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("ckw-{name}-{}-{}", std::process::id(), now_ms()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temp dir");
        TempDir(dir)
    }

    pub(crate) fn sqlite_url(&self) -> String {
        format!("sqlite:{}", self.0.join("inbox.db").display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running example-alerts process; `kill -9`ed on drop.
pub(crate) struct Alerts {
    child: Child,
    pub(crate) base: String,
    /// Every stderr line so far (the log), for failure messages.
    log: Arc<Mutex<Vec<String>>>,
}

impl Alerts {
    /// Starts the binary on a free loopback port with the secret, `env`
    /// and nothing else of the interface, and waits for "listening on".
    pub(crate) fn start(env: &[(&str, &str)]) -> Alerts {
        Alerts::start_at(free_port(), env)
    }

    /// [`Alerts::start`] on `port` (one a sender already targets).
    pub(crate) fn start_at(port: u16, env: &[(&str, &str)]) -> Alerts {
        let mut command = Command::new(BIN);
        for name in [
            "REDIS_URL",
            "INBOX_URL",
            "INBOX_RETRY_DELAY_MS",
            "INBOX_LEASE_SECS",
            "COSTKATANA_WEBHOOK_TOLERANCE_SECS",
            "SLACK_WEBHOOK_URL",
            "PAGERDUTY_ROUTING_KEY",
            "PAGERDUTY_URL",
            "THROTTLE_URL",
            "NOTIFY_URL",
            "COSTKATANA_API_KEY",
            "COSTKATANA_WEBHOOK_ID",
            "COSTKATANA_API_URL",
            "COSTKATANA_CATCH_UP_SECS",
        ] {
            command.env_remove(name);
        }
        command
            .env("COSTKATANA_WEBHOOK_SECRET", SECRET)
            .env("ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("example-alerts starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        // Drained from a thread, always, so a chatty log never blocks it.
        let stderr = child.stderr.take().expect("stderr");
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().expect("lock").push(line);
            }
        });
        let stdout = lines(child.stdout.take().expect("stdout"));
        let deadline = Instant::now() + WAIT;
        let mut alerts = Alerts {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        loop {
            match stdout.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) if line.contains("listening on http://") => break,
                Ok(_) => {}
                Err(err) => {
                    let exited = alerts.child.try_wait().ok().flatten();
                    panic!(
                        "example-alerts never listened ({err}; exit: {exited:?}); its log:\n{}",
                        alerts.log_text()
                    );
                }
            }
        }
        alerts
    }

    pub(crate) fn webhook_url(&self) -> String {
        format!("{}/webhooks/costkatana", self.base)
    }

    pub(crate) fn log_text(&self) -> String {
        self.log.lock().expect("lock").join("\n")
    }

    /// `kill -9`, and waits for the process to be gone.
    pub(crate) fn kill_9(&mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("wait");
    }

    /// SIGTERM, then waits (bounded) for a clean exit: the main drains
    /// the inbox workers with `receiver.shutdown`.
    pub(crate) fn stop(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                assert!(status.success(), "exit {status}; log:\n{}", self.log_text());
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no exit after SIGTERM; log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20)); // polling the child's exit
        }
    }
}

impl Drop for Alerts {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nothing listens on now (the OS's pick, released).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

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

/// What the capture server does with one Slack request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reply {
    /// Answers with this status (a 200 is an accepted message).
    Status(u16),
    /// Never answers: the handler's request stays in flight.
    Hold,
}

/// One Slack request as the capture server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    /// The last segment of `/slack/<lane>`: which process sent it (each
    /// process of a test gets its own lane).
    pub(crate) lane: String,
    pub(crate) event_id: String,
    pub(crate) reply: Reply,
}

/// Decides the reply to a request: lane, event id, and how many requests
/// for that event came before it (any lane).
pub(crate) type Policy = dyn Fn(&str, &str, usize) -> Reply + Send + Sync;

struct CaptureState {
    policy: Box<Policy>,
    hits: Mutex<Vec<Hit>>,
    changed: watch::Sender<u64>,
}

/// A Slack stand-in on loopback: `POST /slack/<lane>`, the event id read
/// from the message text (tests put `[<event id>]` in the title).
#[derive(Clone)]
pub(crate) struct Slack {
    state: Arc<CaptureState>,
    pub(crate) base: String,
}

impl Slack {
    pub(crate) async fn start(
        policy: impl Fn(&str, &str, usize) -> Reply + Send + Sync + 'static,
    ) -> Slack {
        let state = Arc::new(CaptureState {
            policy: Box::new(policy),
            hits: Mutex::new(Vec::new()),
            changed: watch::Sender::new(0),
        });
        let app = axum::Router::new()
            .route("/slack/{lane}", axum::routing::post(slack))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Slack {
            state,
            base: format!("http://{addr}"),
        }
    }

    /// The `SLACK_WEBHOOK_URL` of `lane`.
    pub(crate) fn url(&self, lane: &str) -> String {
        format!("{}/slack/{lane}", self.base)
    }

    pub(crate) fn hits(&self) -> Vec<Hit> {
        self.state.hits.lock().expect("lock").clone()
    }

    /// Requests for `event_id`, any reply.
    pub(crate) fn arrived(&self, event_id: &str) -> usize {
        self.hits()
            .iter()
            .filter(|h| h.event_id == event_id)
            .count()
    }

    /// Requests for `event_id` answered 200.
    pub(crate) fn accepted(&self, event_id: &str) -> usize {
        self.hits()
            .iter()
            .filter(|h| h.event_id == event_id && h.reply == Reply::Status(200))
            .count()
    }

    /// Waits until `done(hits)` holds; panics after [`WAIT`] with `what`.
    pub(crate) async fn wait_until(&self, what: &str, done: impl Fn(&[Hit]) -> bool) {
        let mut changed = self.state.changed.subscribe();
        let waited = tokio::time::timeout(
            WAIT,
            changed.wait_for(|_| done(&self.state.hits.lock().expect("lock"))),
        )
        .await;
        assert!(
            waited.is_ok(),
            "Slack never saw {what} within {WAIT:?}; it saw {:#?}",
            self.hits()
        );
    }

    /// Waits until every id of `ids` was accepted at least once.
    pub(crate) async fn wait_all_accepted(&self, ids: &[String]) {
        self.wait_until(&format!("all {} messages accepted", ids.len()), |hits| {
            ids.iter().all(|id| {
                hits.iter()
                    .any(|h| &h.event_id == id && h.reply == Reply::Status(200))
            })
        })
        .await;
    }

    /// Per event id: (arrived, accepted).
    pub(crate) fn counts(&self) -> HashMap<String, (usize, usize)> {
        let mut counts = HashMap::new();
        for hit in self.hits() {
            let entry = counts.entry(hit.event_id).or_insert((0, 0));
            entry.0 += 1;
            if hit.reply == Reply::Status(200) {
                entry.1 += 1;
            }
        }
        counts
    }
}

async fn slack(
    State(state): State<Arc<CaptureState>>,
    UrlPath(lane): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    let text = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["text"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let event_id = text
        .split_once('[')
        .and_then(|(_, rest)| rest.split_once(']'))
        .map_or_else(|| format!("<no id in {text:?}>"), |(id, _)| id.to_owned());
    let reply = {
        let mut hits = state.hits.lock().expect("lock");
        let before = hits.iter().filter(|h| h.event_id == event_id).count();
        let reply = (state.policy)(&lane, &event_id, before);
        hits.push(Hit {
            lane,
            event_id,
            reply,
        });
        reply
    };
    state.changed.send_modify(|n| *n += 1);
    match reply {
        Reply::Status(code) => StatusCode::from_u16(code).expect("a status"),
        Reply::Hold => std::future::pending().await,
    }
}

/// A `budget.exceeded` body whose Slack text carries `[<id>]`, optionally
/// padded with `pad` bytes of text unique to `id`.
pub(crate) fn budget_event(id: &str, pad: usize) -> String {
    let body = sample_event(&EventType::BudgetExceeded, Shape::Camel, id, now_ms());
    let mut value: Value = serde_json::from_str(&body).expect("JSON");
    value["data"]["title"] = Value::from(format!("Budget exceeded [{id}]"));
    if pad > 0 {
        let unit = format!("{id}:");
        value["data"]["padding"] = Value::from(unit.repeat(pad / unit.len() + 1));
    }
    value.to_string()
}

/// A signed delivery, as the sender would send it (signed once: its
/// retries re-send the same headers).
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub(crate) body: String,
    headers: Vec<(String, String)>,
}

impl Delivery {
    pub(crate) fn new(body: String) -> Delivery {
        let mut headers: Vec<(String, String)> = SENDER_HEADERS
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        headers.extend(sign(Scheme::Current, SECRET, now_ms(), body.as_bytes()));
        Delivery { body, headers }
    }

    /// One attempt: the status and answer, or the connection error.
    pub(crate) async fn send_once(
        &self,
        client: &reqwest::Client,
        url: &str,
    ) -> Result<(u16, String), String> {
        let mut request = client.post(url).body(self.body.clone());
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| e.to_string())?;
        Ok((status, text))
    }

    /// One attempt that must be answered.
    pub(crate) async fn send(&self, client: &reqwest::Client, url: &str) -> (u16, String) {
        self.send_once(client, url)
            .await
            .unwrap_or_else(|err| panic!("no answer from {url}: {err}"))
    }

    /// Like the real sender: sent again on a 5xx or a connection error,
    /// with a growing pause (shortened), never after a 2xx or a 4xx.
    /// Returns the final answer and the answers before it.
    pub(crate) async fn send_like_sender(
        &self,
        client: &reqwest::Client,
        url: &str,
    ) -> ((u16, String), Vec<Result<u16, String>>) {
        let deadline = Instant::now() + WAIT;
        let mut pause = Duration::from_millis(20);
        let mut before = Vec::new();
        loop {
            match self.send_once(client, url).await {
                Ok((status, text)) if status < 500 => return ((status, text), before),
                Ok((status, _)) => before.push(Ok(status)),
                Err(err) => before.push(Err(err)),
            }
            assert!(
                Instant::now() < deadline,
                "{url} never answered below 500 within {WAIT:?}: {before:?}"
            );
            tokio::time::sleep(pause).await; // the sender's retry delay, shortened
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(WAIT)
        .build()
        .expect("client")
}

/// Copies the SQLite inbox at `dir/inbox.db` (and its WAL) into a fresh
/// directory, for reading once the receiver is gone.
pub(crate) fn copy_inbox(dir: &Path, name: &str) -> TempDir {
    let copy = TempDir::new(name);
    for file in ["inbox.db", "inbox.db-wal"] {
        let from = dir.join(file);
        if from.exists() {
            std::fs::copy(&from, copy.0.join(file)).expect("copy the inbox");
        }
    }
    copy
}

/// Polls `check` every 50 ms until it returns `Some`; panics with `what`
/// after [`WAIT`].
pub(crate) async fn poll<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(50)).await; // polling a state
    }
}
