//! Shared by the HTTP tests: a server on an ephemeral port, signed requests,
//! a raw TCP client.

use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use costkatana_webhooks::signing::{sign, SENDER_HEADERS};
use costkatana_webhooks::testing::{sample_event, Shape};
use costkatana_webhooks::{
    EventType, ManualClock, Receiver, ReceiverBuilder, Scheme, Verifier, VerifierBuilder,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub(crate) const SECRET: &str = "whsec_actix_test_secret";
/// The fixed "now" of every test (2026-04-28T12:00:00Z).
pub(crate) const NOW_MS: i64 = 1_777_377_600_000;
/// Every client call is bounded by this.
pub(crate) const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// A running server; `stop` it at the end of the test.
pub(crate) struct TestServer {
    pub(crate) addr: std::net::SocketAddr,
    pub(crate) handle: ServerHandle,
}

impl TestServer {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// Starts `HttpServer::new($factory)` on 127.0.0.1:0 with one worker,
/// after `$configure` (optional) adjusted the server.
macro_rules! serve {
    ($factory:expr) => {
        $crate::support::serve!($factory, |server| server)
    };
    ($factory:expr, $configure:expr) => {{
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let server = actix_web::HttpServer::new($factory)
            .workers(1)
            .disable_signals()
            .shutdown_timeout(5);
        let server = ($configure)(server).listen(listener).expect("listen").run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        $crate::support::TestServer { addr, handle }
    }};
}
pub(crate) use serve;

/// A verifier whose clock stays at `NOW_MS` until the test moves it.
pub(crate) fn verifier() -> (Verifier, Arc<ManualClock>) {
    verifier_with(|builder| builder)
}

/// [`verifier`], with more settings.
pub(crate) fn verifier_with(
    configure: impl FnOnce(VerifierBuilder) -> VerifierBuilder,
) -> (Verifier, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(NOW_MS));
    let builder = Verifier::builder().secret(SECRET).clock(clock.clone());
    (configure(builder).build().expect("valid verifier"), clock)
}

/// A receiver builder on a clock at `NOW_MS`, with no handlers yet.
pub(crate) fn receiver_builder() -> (ReceiverBuilder, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(NOW_MS));
    (
        Receiver::builder().secret(SECRET).clock(clock.clone()),
        clock,
    )
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(CLIENT_TIMEOUT)
        .build()
        .expect("client")
}

/// A sample event body with id `id`.
pub(crate) fn event_body(id: &str, shape: Shape) -> String {
    sample_event(&EventType::BudgetExceeded, shape, id, NOW_MS)
}

/// A POST of `body` signed under `scheme` at `NOW_MS`, with the sender's headers.
pub(crate) fn signed_post(
    client: &reqwest::Client,
    url: &str,
    scheme: Scheme,
    body: impl Into<Vec<u8>>,
) -> reqwest::RequestBuilder {
    let body = body.into();
    let mut request = client.post(url);
    for (name, value) in SENDER_HEADERS {
        request = request.header(name, value);
    }
    for (name, value) in sign(scheme, SECRET, NOW_MS, &body) {
        request = request.header(name, value);
    }
    request.body(body)
}

/// Status, `Retry-After` and JSON body of a response.
pub(crate) async fn answer(
    response: reqwest::Response,
) -> (u16, Option<String>, serde_json::Value) {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().expect("ascii").to_owned());
    assert_eq!(
        response.headers().get("content-type").map(|v| v.as_bytes()),
        Some(&b"application/json"[..])
    );
    let body = response.json().await.expect("a JSON body");
    (status, retry_after, body)
}

/// What the raw client does once it sent its chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterBody {
    /// Nothing: the connection stays open and the body unfinished.
    KeepOpen,
    /// Closes its writing half (the body ends early, an incomplete payload).
    CloseWrite,
}

/// What came back on a raw connection.
#[derive(Debug)]
pub(crate) struct RawAnswer {
    pub(crate) status: u16,
    pub(crate) body: String,
    /// How many body chunks the client had sent when the answer came.
    pub(crate) chunks_sent: usize,
}

/// Sends `head` on a raw connection, then each chunk of `body` after
/// `gap`, then does `then`, and returns the answer.
pub(crate) async fn raw_exchange(
    addr: std::net::SocketAddr,
    head: String,
    body: Vec<Vec<u8>>,
    gap: Duration,
    then: AfterBody,
) -> RawAnswer {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = sent.clone();
    let write = async move {
        writer.write_all(head.as_bytes()).await?;
        for chunk in body {
            tokio::time::sleep(gap).await; // the client's pace, not a wait for the server
            writer.write_all(&chunk).await?;
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        if then == AfterBody::CloseWrite {
            writer.shutdown().await?;
        }
        // Keep the connection (or its read half) open for the answer.
        std::future::pending::<std::io::Result<()>>().await
    };
    let read = async move {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(answer) = parse_response(&buf) {
                return answer;
            }
            let n = reader.read(&mut chunk).await.expect("read");
            assert!(n > 0, "connection closed before a full answer: {buf:?}");
            buf.extend_from_slice(&chunk[..n]);
        }
    };
    let (status, body) = tokio::time::timeout(CLIENT_TIMEOUT, async {
        tokio::select! {
            answer = read => answer,
            result = write => panic!("writer ended first: {result:?}"),
        }
    })
    .await
    .expect("an answer within the client timeout");
    RawAnswer {
        status,
        body,
        chunks_sent: sent.load(std::sync::atomic::Ordering::SeqCst),
    }
}

/// A complete `HTTP/1.1` response with a `Content-Length` body, if `buf` holds one.
fn parse_response(buf: &[u8]) -> Option<(u16, String)> {
    let text = std::str::from_utf8(buf).ok()?;
    let (head, rest) = text.split_once("\r\n\r\n")?;
    let status = head.get(9..12)?.parse().ok()?;
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    (rest.len() >= length).then(|| (status, rest[..length].to_owned()))
}

/// The request head of a POST to `path` signed for `body`, declaring
/// `Content-Length: content_length`.
pub(crate) fn signed_head(path: &str, body: &[u8], content_length: usize) -> String {
    let mut head =
        format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {content_length}\r\n");
    for (name, value) in SENDER_HEADERS {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    for (name, value) in sign(Scheme::Current, SECRET, NOW_MS, body) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head
}
