//! The conformance harness: one receiver fixture, served on 127.0.0.1
//! through every path of every adapter (the whole endpoint, the
//! verify-only middleware, the verified-request extractor), and a client
//! that records what came back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use costkatana_webhooks::{
    Delivery, HandlerError, ManualClock, Outcome, Payload, Receiver, Verified,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
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
/// Where every path serves.
pub const PATH: &str = "/webhooks/costkatana";

/// One way a request reaches the core: an adapter and a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `costkatana_webhooks_tower::WebhookEndpoint` on `serve`.
    TowerEndpoint,
    /// `WebhookEndpoint` mounted with `Router::route_service`.
    AxumEndpoint,
    /// `costkatana_webhooks_actix::WebhookEndpoint` on actix-web.
    ActixEndpoint,
    /// `costkatana_webhooks_tower::VerifyWebhook` around a `service_fn`.
    TowerMiddleware,
    /// `VerifyWebhook` as an axum route layer, the handler taking
    /// `Extension<Verified>`.
    AxumMiddleware,
    /// `costkatana_webhooks_axum::VerifiedWebhook`, the verifier in the state.
    AxumExtractor,
    /// `costkatana_webhooks_actix::VerifyWebhook`, the handler taking
    /// `VerifiedWebhook` from the extensions.
    ActixMiddleware,
    /// `costkatana_webhooks_actix::VerifiedWebhook` with `web::Data<Verifier>`.
    ActixExtractor,
}

impl Route {
    /// The whole endpoints: verify, dedupe, route, settle.
    pub const ENDPOINTS: [Route; 3] = [
        Route::TowerEndpoint,
        Route::AxumEndpoint,
        Route::ActixEndpoint,
    ];
    /// Every route, endpoints first.
    pub const ALL: [Route; 8] = [
        Route::TowerEndpoint,
        Route::AxumEndpoint,
        Route::ActixEndpoint,
        Route::TowerMiddleware,
        Route::AxumMiddleware,
        Route::AxumExtractor,
        Route::ActixMiddleware,
        Route::ActixExtractor,
    ];
}

/// A receiver whose handlers behave by event-id prefix:
/// `fail_once_…` fails its first run, `hang_…` never finishes its first
/// run, `block_…` waits for [`Fixture::unblock`]; everything else succeeds.
/// Successful runs (of the receiver's handler, or of a verify-only route's
/// handler) are counted per event id.
pub struct Fixture {
    /// The time the verifier and store read.
    pub clock: Arc<ManualClock>,
    /// Successful handler runs per event id (`<none>` without one).
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
        let runs: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let started = Arc::new(Notify::new());
        let unblock = Arc::new(Notify::new());
        let attempts: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let handler = {
            let (runs, started, unblock) = (runs.clone(), started.clone(), unblock.clone());
            move |payload: Payload, _: Delivery| {
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
                    count(&runs, payload.event_id());
                    Ok(())
                }
            }
        };
        let receiver = Receiver::builder()
            .secret(SECRET)
            .secret(OTHER_SECRET)
            .clock(clock.clone())
            .max_body(MAX_BODY)
            .body_timeout(BODY_TIMEOUT)
            .fallback(handler)
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
        self.runs.lock().unwrap().get(id).copied().unwrap_or(0)
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Fixture::new()
    }
}

fn count(runs: &Mutex<HashMap<String, usize>>, id: Option<&str>) {
    *runs
        .lock()
        .unwrap()
        .entry(id.unwrap_or("<none>").to_owned())
        .or_default() += 1;
}

/// What a verify-only route's handler does: count the run and answer as
/// the receiver answers a processed delivery.
fn handled(
    runs: &Mutex<HashMap<String, usize>>,
    verified: &Verified,
) -> costkatana_webhooks::Answer {
    let event_id = verified.payload().event_id().map(str::to_owned);
    count(runs, event_id.as_deref());
    Outcome::Processed { event_id }.answer()
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

/// Serves the fixture through `route` on a free loopback port.
pub async fn serve(route: Route, fx: &Fixture) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let (stop, stopped) = watch::channel(false);
    let receiver = fx.receiver.clone();
    let verifier = fx.receiver.verifier().clone();
    let runs = fx.runs.clone();
    match route {
        Route::TowerEndpoint => serve_tower(
            listener,
            costkatana_webhooks_tower::WebhookEndpoint::new(receiver),
            stopped,
        ),
        Route::TowerMiddleware => {
            let inner = tower::service_fn(move |request: http::Request<axum::body::Body>| {
                let answer = request
                    .extensions()
                    .get::<Verified>()
                    .map(|verified| handled(&runs, verified))
                    .expect("the middleware passes only verified requests");
                std::future::ready(Ok::<_, std::convert::Infallible>(
                    costkatana_webhooks_tower::http_response(answer),
                ))
            });
            // hyper's `Incoming` cannot be rebuilt from bytes; axum's `Body` can.
            let service = tower::ServiceBuilder::new()
                .map_request(|request: http::Request<hyper::body::Incoming>| {
                    request.map(axum::body::Body::new)
                })
                .layer(costkatana_webhooks_tower::VerifyWebhook::new(verifier))
                .service(inner);
            serve_tower(listener, service, stopped);
        }
        Route::AxumEndpoint => serve_tower(
            listener,
            axum::Router::new().route_service(
                PATH,
                costkatana_webhooks_axum::WebhookEndpoint::new(receiver),
            ),
            stopped,
        ),
        Route::AxumMiddleware => {
            let app = axum::Router::new()
                .route(
                    PATH,
                    axum::routing::any(
                        move |axum::Extension(verified): axum::Extension<Verified>| {
                            let answer = handled(&runs, &verified);
                            async move { axum_response(answer) }
                        },
                    ),
                )
                .route_layer(costkatana_webhooks_axum::VerifyWebhook::new(verifier));
            serve_tower(listener, app, stopped);
        }
        Route::AxumExtractor => {
            let app = axum::Router::new()
                .route(
                    PATH,
                    axum::routing::any(
                        move |costkatana_webhooks_axum::VerifiedWebhook(verified)| {
                            let answer = handled(&runs, &verified);
                            async move { axum_response(answer) }
                        },
                    ),
                )
                .with_state(verifier);
            serve_tower(listener, app, stopped);
        }
        Route::ActixEndpoint | Route::ActixMiddleware | Route::ActixExtractor => serve_actix(
            route,
            listener.into_std().expect("std listener"),
            fx,
            stopped,
        ),
    }
    Server {
        url: format!("http://{addr}{PATH}"),
        addr,
        stop,
    }
}

fn axum_response(answer: costkatana_webhooks::Answer) -> axum::response::Response {
    axum::response::IntoResponse::into_response(costkatana_webhooks_tower::http_response(answer))
}

/// Serves a tower service with the crate's own server until `stopped`.
fn serve_tower<S, B>(listener: TcpListener, service: S, mut stopped: watch::Receiver<bool>)
where
    S: tower::Service<
            http::Request<hyper::body::Incoming>,
            Response = http::Response<B>,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let server = costkatana_webhooks_tower::serve(listener, service)
        .shutdown_grace(Duration::from_secs(1))
        .with_graceful_shutdown(async move {
            let _ = stopped.wait_for(|s| *s).await;
        });
    tokio::spawn(async move {
        let _ = server.await;
    });
}

/// actix-web runs its own system on a thread of its own.
fn serve_actix(
    route: Route,
    listener: std::net::TcpListener,
    fx: &Fixture,
    mut stopped: watch::Receiver<bool>,
) {
    use costkatana_webhooks_actix::{VerifiedWebhook, VerifyWebhook, WebhookEndpoint};
    let receiver = fx.receiver.clone();
    let runs = fx.runs.clone();
    let server = actix_web::HttpServer::new(move || {
        let handler = {
            let runs = runs.clone();
            move |VerifiedWebhook(verified): VerifiedWebhook| {
                let answer = handled(&runs, &verified);
                async move { costkatana_webhooks_actix::http_response(answer) }
            }
        };
        let app = actix_web::App::new();
        match route {
            Route::ActixMiddleware => app.service(
                actix_web::web::resource(PATH)
                    .wrap(VerifyWebhook::new(receiver.verifier().clone()))
                    .to(handler),
            ),
            Route::ActixExtractor => app
                .app_data(actix_web::web::Data::new(receiver.verifier().clone()))
                .route(PATH, actix_web::web::to(handler)),
            _ => app.service(WebhookEndpoint::new(PATH, receiver.clone())),
        }
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
    /// The `Allow` header, if any.
    pub allow: Option<String>,
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

    /// The body's `message`.
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
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
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap_or_default().to_owned())
    };
    let (retry_after, allow) = (header("retry-after"), header("allow"));
    let text = response.text().await.expect("a body");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("a JSON body, got {text:?}"));
    Answer {
        status,
        retry_after,
        allow,
        body,
    }
}

/// Writes a POST by hand (request line, `headers`, a declared
/// `Content-Length` and the first `sent` bytes of `body`), so a body can
/// trickle, never arrive, or the connection drop. Returns the open stream.
pub async fn raw_post(
    addr: std::net::SocketAddr,
    headers: &[(String, String)],
    body: &[u8],
    sent: usize,
) -> tokio::net::TcpStream {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut head = format!(
        "POST {PATH} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(&body[..sent]).await.expect("write body");
    stream
}

/// Reads the server's answer from a hand-written request's stream, without
/// sending anything more: it comes when the server decides by itself.
pub async fn read_answer(mut stream: tokio::net::TcpStream) -> Answer {
    let mut raw = Vec::new();
    let mut chunk = [0u8; 4096];
    // Until the headers and the declared body are in (or the server closes).
    loop {
        let n = stream.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&chunk[..n]);
        if let Some(answer) = parse_answer(&raw) {
            return answer;
        }
    }
    parse_answer(&raw)
        .unwrap_or_else(|| panic!("an HTTP answer, got {:?}", String::from_utf8_lossy(&raw)))
}

/// A complete HTTP/1.1 response with a `Content-Length` body, if `raw`
/// holds one.
fn parse_answer(raw: &[u8]) -> Option<Answer> {
    let text = std::str::from_utf8(raw).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: HashMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers.get("content-length")?.parse().ok()?;
    let body = body.get(..length)?;
    Some(Answer {
        status,
        retry_after: headers.get("retry-after").cloned(),
        allow: headers.get("allow").cloned(),
        body: serde_json::from_str(body).ok()?,
    })
}

/// The README's Rust snippets, compiled (and run where they can) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

/// The guide's chapters (`docs/guide/`), each compiled and run the same way.
#[cfg(doctest)]
mod guide {
    macro_rules! chapters {
        ($($name:ident => $file:literal),* $(,)?) => {
            $(
                #[doc = include_str!(concat!("../../docs/guide/", $file))]
                struct $name;
            )*
        };
    }
    chapters! {
        Handlers => "handlers.md",
        State => "state.md",
        Answers => "answers.md",
        Inbox => "inbox.md",
        ExactlyOnce => "exactly-once.md",
        CatchUp => "catch-up.md",
        Console => "console.md",
        Replicas => "replicas.md",
        Observability => "observability.md",
        Testing => "testing.md",
        Cli => "cli.md",
        Security => "security.md",
        Performance => "performance.md",
        Comparison => "comparison.md",
    }
}
