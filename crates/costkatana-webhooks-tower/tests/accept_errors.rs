//! Out of file descriptors, `serve` pauses accepting instead of spinning,
//! and serves again once descriptors are back.
//!
//! Alone in its binary: it lowers this process's descriptor limit (through
//! Python's `resource.prlimit`, from a helper process that also holds the
//! connections the server cannot accept).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use costkatana_webhooks_tower::serve;
use http_body_util::Full;

/// Counts the log lines that mention a failed accept.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn accept_failures(&self) -> usize {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .filter(|line| line.contains("accept failed"))
            .count()
    }
}

const HELPER: &str = r#"
import os, resource, socket, sys, time
pid, port = int(sys.argv[1]), int(sys.argv[2])
original = resource.prlimit(pid, resource.RLIMIT_NOFILE)
in_use = len(os.listdir(f"/proc/{pid}/fd"))
resource.prlimit(pid, resource.RLIMIT_NOFILE, (in_use, original[1]))
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
print("limited", flush=True)
time.sleep(2)
resource.prlimit(pid, resource.RLIMIT_NOFILE, original)
print("restored", flush=True)
sys.stdin.read()
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_errors_back_off_instead_of_spinning() {
    let log = Log::default();
    let writer = log.clone();
    tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = tower::service_fn(|_: http::Request<hyper::body::Incoming>| async {
        Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::from_static(b"ok"))))
    });
    tokio::spawn(std::future::IntoFuture::into_future(serve(
        listener, service,
    )));

    let mut helper = Command::new("python3")
        .args([
            "-c",
            HELPER,
            &std::process::id().to_string(),
            &addr.port().to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs (the interoperability tests need it too)");
    let mut lines = BufReader::new(helper.stdout.take().unwrap()).lines();
    let line = tokio::task::spawn_blocking(move || {
        let first = lines.next().unwrap().unwrap();
        let second = lines.next().unwrap().unwrap();
        (first, second)
    })
    .await
    .unwrap();
    assert_eq!(line, ("limited".to_owned(), "restored".to_owned()));

    // Two seconds without descriptors: a busy loop would have logged
    // millions of lines; pausing 10 ms, doubling to 1 s, logs about ten.
    let failures = log.accept_failures();
    assert!(
        (1..=30).contains(&failures),
        "{failures} accept failures logged in two seconds"
    );
    // Descriptors are back: the held connections are served, and new ones.
    let response = reqwest::get(format!("http://{addr}/")).await.unwrap();
    assert_eq!(response.status(), 200);
    drop(helper.stdin.take());
    helper.wait().unwrap();
}
