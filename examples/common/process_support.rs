// What the examples' process tests share: included with `#[path]` by an
// example's tests/support/mod.rs, beside its own helpers. Times, temporary
// directories, free ports, a child's output lines, signed deliveries sent
// once, and bounded polling.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use costkatana_webhooks::signing::{sign, SENDER_HEADERS};
use costkatana_webhooks::Scheme;

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
            "ckw-{}-{name}-{}-{}",
            env!("CARGO_PKG_NAME"),
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

/// The lines of a child's output, read on a thread of their own.
pub(crate) fn lines(stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
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

/// A signed delivery, as the sender would send it (signed once: its
/// retries re-send the same headers).
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub(crate) body: String,
    pub(crate) headers: Vec<(String, String)>,
}

impl Delivery {
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
