//! The conformance harness: one receiver fixture, served through each
//! adapter on 127.0.0.1, and a client that records what came back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use costkatana_webhooks::receiver::{Delivery, HandlerError, Receiver, Router};
use costkatana_webhooks::{ManualClock, Payload, Verifier};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};

/// The fixture's clock starts here (2026-04-28T12:00:00Z).
pub const NOW_MS: i64 = 1_777_377_600_000;
/// The fixture's primary secret.
pub const SECRET: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
/// The fixture's second secret (the documented vectors use it).
pub const OTHER_SECRET: &str = "whsec_test_secret";
/// The fixture's body limit.
pub const MAX_BODY: usize = 64 * 1024;
/// The fixture's body read time-out.
pub const BODY_TIMEOUT: Duration = Duration::from_millis(400);

/// The adapters under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adapter {
    /// `costkatana_webhooks_tower::ReceiverService` on hyper.
    Tower,
    /// `costkatana_webhooks_axum::receiver_route` on axum.
    Axum,
    /// `costkatana_webhooks_actix::receiver_service` on actix-web.
    Actix,
}

impl Adapter {
    /// Every adapter.
    pub const ALL: [Adapter; 3] = [Adapter::Tower, Adapter::Axum, Adapter::Actix];
}

/// A receiver whose handlers behave by event-id prefix:
/// `fail_once_…` fails its first run, `hang_…` never finishes its first
/// run, `block_…` waits for [`Fixture::unblock`]; everything else succeeds.
/// Successful runs are counted per dedupe key.
pub struct Fixture {
    /// The time the verifier and store read.
    pub clock: Arc<ManualClock>,
    /// Successful handler runs per dedupe key.
    pub runs: Arc<Mutex<HashMap<String, usize>>>,
    /// Signalled when a `hang_` or `block_` handler has started.
    pub started: Arc<Notify>,
    /// Lets `block_` handlers finish.
    pub unblock: Arc<Notify>,
    /// The receiver.
    pub receiver: Receiver,
}

impl Fixture {
    /// A fresh fixture at [`NOW_MS`].
    pub fn new() -> Fixture {
        let clock = Arc::new(ManualClock::new(NOW_MS));
        let runs = Arc::new(Mutex::new(HashMap::new()));
        let started = Arc::new(Notify::new());
        let unblock = Arc::new(Notify::new());
        let attempts: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let handler = {
            let (runs, started, unblock) = (runs.clone(), started.clone(), unblock.clone());
            move |payload: Payload, delivery: Delivery| {
                let (runs, started, unblock, attempts) = (
                    runs.clone(),
                    started.clone(),
                    unblock.clone(),
                    attempts.clone(),
                );
                async move {
                    let id = payload.event_id().unwrap_or_default().to_owned();
                    let attempt = {
                        let mut attempts = attempts.lock().unwrap();
                        let n = attempts.entry(id.clone()).or_default();
                        *n += 1;
                        *n
                    };
                    if id.starts_with("fail_once_") && attempt == 1 {
                        return Err(HandlerError::from("the first attempt fails"));
                    }
                    if id.starts_with("hang_") && attempt == 1 {
                        started.notify_one();
                        std::future::pending::<()>().await;
                    }
                    if id.starts_with("block_") {
                        started.notify_one();
                        unblock.notified().await;
                    }
                    *runs
                        .lock()
                        .unwrap()
                        .entry(delivery.dedupe_key().to_owned())
                        .or_default() += 1;
                    Ok(())
                }
            }
        };
        let verifier = Verifier::builder()
            .secret(SECRET)
            .secret(OTHER_SECRET)
            .clock(clock.clone())
            .build()
            .expect("valid verifier");
        let receiver = Receiver::builder(verifier)
            .router(Router::new().fallback(handler))
            .max_body(MAX_BODY)
            .body_timeout(BODY_TIMEOUT)
            .build()
            .expect("valid receiver");
        Fixture {
            clock,
            runs,
            started,
            unblock,
            receiver,
        }
    }

    /// Successful runs for the event `id`.
    pub fn runs_of(&self, id: &str) -> usize {
        self.runs
            .lock()
            .unwrap()
            .get(&format!("default:event:{id}"))
            .copied()
            .unwrap_or(0)
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Fixture::new()
    }
}

/// A running server; stops when dropped.
pub struct Server {
    /// `http://127.0.0.1:PORT/webhooks/costkatana`.
    pub url: String,
    /// `127.0.0.1:PORT`.
    pub addr: std::net::SocketAddr,
    stop: watch::Sender<bool>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Serves `receiver` through `adapter` on a free loopback port.
pub async fn serve(adapter: Adapter, receiver: Receiver) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let (stop, mut stopped) = watch::channel(false);
    match adapter {
        Adapter::Axum => {
            let app = axum::Router::new().route(
                "/webhooks/costkatana",
                costkatana_webhooks_axum::receiver_route(receiver),
            );
            tokio::spawn(async move {
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.wait_for(|s| *s).await;
                    })
                    .await;
            });
        }
        Adapter::Actix => serve_actix(
            listener.into_std().expect("std listener"),
            receiver,
            stopped,
        ),
        Adapter::Tower => {
            let service = costkatana_webhooks_tower::ReceiverService::new(receiver);
            tokio::spawn(async move {
                loop {
                    let (stream, _) = tokio::select! {
                        accepted = listener.accept() => match accepted { Ok(a) => a, Err(_) => continue },
                        _ = stopped.wait_for(|s| *s) => return,
                    };
                    let service = hyper_util::service::TowerToHyperService::new(service.clone());
                    tokio::spawn(async move {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                            .await;
                    });
                }
            });
        }
    }
    Server {
        url: format!("http://{addr}/webhooks/costkatana"),
        addr,
        stop,
    }
}

/// actix-web runs its own system on a thread of its own.
fn serve_actix(
    listener: std::net::TcpListener,
    receiver: Receiver,
    mut stopped: watch::Receiver<bool>,
) {
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new().service(costkatana_webhooks_actix::receiver_service(
            "/webhooks/costkatana",
            receiver.clone(),
        ))
    })
    .workers(1)
    .disable_signals()
    // Drop the handler when the client goes away, so its claim is released.
    .h1_allow_half_closed(false)
    .listen(listener)
    .expect("actix listens")
    .run();
    let handle = server.handle();
    std::thread::spawn(move || actix_web::rt::System::new().block_on(server));
    tokio::spawn(async move {
        let _ = stopped.wait_for(|s| *s).await;
        handle.stop(false).await;
    });
}

/// What the server answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
    /// The JSON body.
    pub body: serde_json::Value,
}

impl Answer {
    /// The body's `error` code, or `processed` / `duplicate` for a 200.
    pub fn code(&self) -> String {
        if let Some(code) = self.body["error"].as_str() {
            return code.to_owned();
        }
        if self.body["duplicate"] == true {
            "duplicate".to_owned()
        } else {
            "processed".to_owned()
        }
    }
}

/// Sends a request with `method`, `headers` and `body`.
pub async fn send(
    url: &str,
    method: &str,
    headers: &[(String, String)],
    body: impl Into<Bytes>,
) -> Answer {
    let client = reqwest::Client::new();
    let mut request = client
        .request(method.parse().expect("method"), url)
        .body(body.into());
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let text = response.text().await.expect("a body");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("a JSON body, got {text:?}"));
    Answer {
        status,
        retry_after,
        body,
    }
}

/// The README's Rust snippets, compiled (and run where they can) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
