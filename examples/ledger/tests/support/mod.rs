//! What the ledger's tests share: the example-ledger binary as a process
//! (killed on drop; stopped, frozen and thawed by pid), signed deliveries
//! sent once or patiently, the ledger's table read straight from the
//! database (rusqlite, tokio-postgres), and bounded waits.
//!
//! Each test binary uses part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use costkatana_webhooks::signing::{sign, SENDER_HEADERS};
use costkatana_webhooks::testing::{sample_event, Shape};
use costkatana_webhooks::{EventType, Scheme};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_example-ledger");
pub(crate) const SECRET: &str = "whsec_ledger_tests";
/// The bound on every single wait (a start, an answer, a log line).
pub(crate) const WAIT: Duration = Duration::from_secs(60);

/// Heavy tests of one binary run one at a time: they share 2 cores.
pub(crate) static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub(crate) fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(since.as_millis()).expect("fits")
}

/// A fresh directory under the system's temp dir, removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "ckw-ledger-{name}-{}-{}",
            std::process::id(),
            now_ms()
        ));
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

/// A loopback port nothing listens on now (the OS's pick, released).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The variables of the fixed interface a test sets itself; removed from
/// the inherited environment so a developer's own settings do not leak in.
const INTERFACE: [&str; 13] = [
    "COSTKATANA_WEBHOOK_SECRET",
    "COSTKATANA_WEBHOOK_TOLERANCE_SECS",
    "REDIS_URL",
    "INBOX_URL",
    "INBOX_RETRY_DELAY_MS",
    "INBOX_LEASE_SECS",
    "INBOX_MAX_ATTEMPTS",
    "INBOX_CONSOLE_TOKEN",
    "HANDLER_DELAY_MS",
    "COSTKATANA_API_KEY",
    "COSTKATANA_WEBHOOK_ID",
    "COSTKATANA_API_URL",
    "COSTKATANA_CATCH_UP_SECS",
];

/// The binary as a command with `env` and nothing else of the interface
/// (but the secret).
pub(crate) fn command(env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BIN);
    for name in INTERFACE {
        command.env_remove(name);
    }
    command
        .env("COSTKATANA_WEBHOOK_SECRET", SECRET)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

/// A running example-ledger process; `kill -9`ed on drop.
pub(crate) struct Ledger {
    child: Child,
    pub(crate) port: u16,
    /// Every stderr line so far (the log), for assertions and failures.
    log: Arc<Mutex<Vec<String>>>,
    /// The event ids of the handler's "recording" lines, as they come.
    pub(crate) recording: UnboundedReceiver<String>,
}

impl Ledger {
    /// Starts the binary on a free loopback port with `env`, and waits for
    /// "listening on".
    pub(crate) fn start(env: &[(&str, &str)]) -> Ledger {
        Ledger::start_at(free_port(), env)
    }

    /// [`Ledger::start`] on `port` (one a sender already targets).
    pub(crate) fn start_at(port: u16, env: &[(&str, &str)]) -> Ledger {
        let mut child = command(env)
            .env("ADDR", format!("127.0.0.1:{port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("example-ledger starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (recorded, recording) = unbounded_channel();
        // Drained from a thread, always, so a chatty log never blocks it.
        let stderr = child.stderr.take().expect("stderr");
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                // The handler's own line: "… recording event_id=<id>".
                if let Some(at) = line.find(" recording ") {
                    if let Some(id) = field(&line[at..], "event_id") {
                        let _ = recorded.send(id);
                    }
                }
                sink.lock().expect("lock").push(line);
            }
        });
        let stdout = lines(child.stdout.take().expect("stdout"));
        let mut ledger = Ledger {
            child,
            port,
            log,
            recording,
        };
        let deadline = Instant::now() + WAIT;
        loop {
            match stdout.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) if line.contains("listening on http://") => return ledger,
                Ok(_) => {}
                Err(err) => {
                    let exited = ledger.child.try_wait().ok().flatten();
                    panic!(
                        "example-ledger never listened ({err}; exit: {exited:?}); its log:\n{}",
                        ledger.log_text()
                    );
                }
            }
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub(crate) fn webhook_url(&self) -> String {
        self.url("/webhooks/costkatana")
    }

    pub(crate) fn log_text(&self) -> String {
        self.log.lock().expect("lock").join("\n")
    }

    /// The event id of each "recording" line logged so far: one per
    /// handler run this process started.
    pub(crate) fn recordings(&self) -> Vec<String> {
        self.log
            .lock()
            .expect("lock")
            .iter()
            .filter_map(|line| field(&line[line.find(" recording ")?..], "event_id"))
            .collect()
    }

    /// Waits (bounded) for a log line containing `needle`.
    pub(crate) async fn wait_for_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let found = self
                .log
                .lock()
                .expect("lock")
                .iter()
                .find(|line| line.contains(needle))
                .cloned();
            if let Some(line) = found {
                return line;
            }
            assert!(
                Instant::now() < deadline,
                "no log line containing {needle:?} within {WAIT:?}; the log:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await; // polling the log
        }
    }

    /// Waits (bounded) for the handler's "recording" line of `event_id`.
    pub(crate) async fn wait_recording(&mut self, event_id: &str) {
        let waited = tokio::time::timeout(WAIT, async {
            while let Some(id) = self.recording.recv().await {
                if id == event_id {
                    return;
                }
            }
        })
        .await;
        assert!(
            waited.is_ok(),
            "the handler never started recording {event_id} within {WAIT:?}; the log:\n{}",
            self.log_text()
        );
    }

    /// `kill -9`, and waits for the process to be gone.
    pub(crate) fn kill_9(&mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("wait");
    }

    /// Sends `signal` (a name `kill -s` takes) to the process.
    pub(crate) fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args(["-s", signal, &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -s {signal} failed");
    }

    /// SIGTERM, then waits (bounded) for a clean exit.
    pub(crate) fn stop(mut self) {
        self.signal("TERM");
        let status = wait_exit(&mut self.child);
        assert!(status.success(), "exit {status}; log:\n{}", self.log_text());
    }

    /// Its `GET /metrics` text.
    pub(crate) async fn metrics(&self) -> String {
        let response = client()
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("/metrics answers");
        response.text().await.expect("the metrics")
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits (bounded) for `child` to exit.
pub(crate) fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        assert!(Instant::now() < deadline, "no exit within {WAIT:?}");
        std::thread::sleep(Duration::from_millis(20)); // polling the child's exit
    }
}

/// `name=value` (or `name="value"`) in a log line, as tracing's fmt
/// layer writes fields.
fn field(line: &str, name: &str) -> Option<String> {
    let start = line.find(&format!("{name}="))? + name.len() + 1;
    let rest = &line[start..];
    let value = match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next()?,
        None => rest.split_whitespace().next()?,
    };
    Some(value.to_owned())
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

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// A sample event of `event_type` with id `id`.
pub(crate) fn event(event_type: &EventType, id: &str) -> String {
    sample_event(event_type, Shape::Camel, id, now_ms())
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
        Delivery::signed_with(body, SECRET)
    }

    pub(crate) fn signed_with(body: String, secret: &str) -> Delivery {
        let mut headers: Vec<(String, String)> = SENDER_HEADERS
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        headers.extend(sign(Scheme::Current, secret, now_ms(), body.as_bytes()));
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

    /// A patient sender: sent again after a 5xx, a time-out or a refused
    /// connection (the real sender drops the last; a patient one keeps
    /// it), with a growing pause, until a 2xx; any other answer panics.
    /// Returns the final answer and how many attempts came before it.
    pub(crate) async fn send_until_200(
        &self,
        client: &reqwest::Client,
        url: &str,
        deadline: Instant,
    ) -> (String, usize) {
        let mut pause = Duration::from_millis(20);
        let mut failures = Vec::new();
        loop {
            match self.send_once(client, url).await {
                Ok((200, text)) => return (text, failures.len()),
                Ok((status, text)) if status >= 500 => failures.push(format!("{status} {text}")),
                Ok((status, text)) => panic!("{url} answered {status}: {text}"),
                Err(err) => failures.push(err),
            }
            assert!(
                Instant::now() < deadline,
                "{url} never answered 200 in time; the failures: {failures:#?}"
            );
            tokio::time::sleep(pause).await; // the sender's retry delay, shortened
            pause = (pause * 2).min(Duration::from_millis(400));
        }
    }
}

/// The inbox's database, read straight (not through the inbox crate).
#[derive(Debug, Clone)]
pub(crate) enum Db {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Db {
    /// The database of the inbox at `url`.
    pub(crate) fn of(url: &str) -> Db {
        match url.strip_prefix("sqlite:") {
            Some(path) => Db::Sqlite(PathBuf::from(path)),
            None => Db::Postgres(url.to_owned()),
        }
    }

    /// Every row of `handled_events`: (event_id, event_type, handled_at).
    pub(crate) async fn handled(&self) -> Vec<(String, Option<String>, i64)> {
        const SELECT: &str = "SELECT event_id, event_type, handled_at FROM handled_events";
        match self {
            Db::Sqlite(path) => {
                let conn = rusqlite::Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )
                .expect("the inbox file opens");
                conn.busy_timeout(Duration::from_secs(5)).expect("timeout");
                let mut statement = conn.prepare(SELECT).expect("handled_events exists");
                statement
                    .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                    .expect("the rows")
                    .map(|row| row.expect("a row"))
                    .collect()
            }
            Db::Postgres(url) => {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .expect("Postgres answers");
                tokio::spawn(connection);
                client
                    .query(SELECT, &[])
                    .await
                    .expect("handled_events exists")
                    .iter()
                    .map(|row| (row.get(0), row.get(1), row.get(2)))
                    .collect()
            }
        }
    }

    /// How many rows of `handled_events` each event id has.
    pub(crate) async fn counts(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for (id, _, _) in self.handled().await {
            *counts.entry(id).or_insert(0) += 1;
        }
        counts
    }

    /// Runs `sql` (a test's own change to the table).
    pub(crate) async fn execute(&self, sql: &str) {
        match self {
            Db::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).expect("the inbox file opens");
                conn.busy_timeout(Duration::from_secs(5)).expect("timeout");
                conn.execute_batch(sql).expect("the statement runs");
            }
            Db::Postgres(url) => {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .expect("Postgres answers");
                tokio::spawn(connection);
                client.batch_execute(sql).await.expect("the statement runs");
            }
        }
    }
}

/// Polls `check` every 50 ms until it returns `Some`; panics with `what`
/// after `within`.
pub(crate) async fn poll<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    within: Duration,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await; // polling a state
    }
}
