//! `serve` over real TCP on 127.0.0.1: slow clients are cut, the server
//! keeps serving, and shutdown lets in-flight requests finish.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use costkatana_webhooks_tower::serve;
use http_body_util::Full;
use std::future::IntoFuture;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Notify};

/// Every wait for the server is bounded by this; the time-outs under test
/// are far shorter.
const BOUND: Duration = Duration::from_secs(5);

type Response = http::Response<Full<Bytes>>;

/// A service answering `ok`, or, on `/slow`, once `release` is notified
/// (after notifying `started`).
fn service(
    started: std::sync::Arc<Notify>,
    release: std::sync::Arc<Notify>,
) -> impl tower::Service<
    http::Request<hyper::body::Incoming>,
    Response = Response,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    tower::service_fn(move |request: http::Request<hyper::body::Incoming>| {
        let (started, release) = (started.clone(), release.clone());
        async move {
            if request.uri().path() == "/slow" {
                started.notify_one();
                release.notified().await;
            }
            Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(b"ok"))))
        }
    })
}

async fn listener() -> (TcpListener, std::net::SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Reads until the server closes the connection; the bytes it sent.
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    tokio::time::timeout(BOUND, stream.read_to_end(&mut received))
        .await
        .expect("the server closes the connection by itself")
        .ok();
    received
}

async fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    String::from_utf8(until_closed(&mut stream).await).unwrap()
}

#[tokio::test]
async fn unfinished_headers_are_cut_and_the_server_keeps_serving() {
    let (listener, addr) = listener().await;
    let server = serve(listener, service(Default::default(), Default::default()))
        .header_read_timeout(Duration::from_millis(300))
        .idle_timeout(Duration::from_secs(60));
    tokio::spawn(server.into_future());

    let mut slow = Vec::new();
    for _ in 0..20 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"POST /hook HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        slow.push(stream);
    }
    for stream in &mut slow {
        // Cut with at most an error response, never an answer to a request.
        let received = until_closed(stream).await;
        assert!(!received.starts_with(b"HTTP/1.1 200"), "{received:?}");
    }
    assert!(get(addr, "/").await.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn a_connection_that_goes_quiet_is_closed() {
    let (listener, addr) = listener().await;
    // Header reads alone would take 30 s to cut it: the idle time-out is
    // what closes it within the bound.
    let server = serve(listener, service(Default::default(), Default::default()))
        .header_read_timeout(Duration::from_secs(30))
        .idle_timeout(Duration::from_millis(300));
    tokio::spawn(server.into_future());

    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // Keep-alive: the answer comes, then the connection idles.
    let received = until_closed(&mut stream).await;
    assert!(received.starts_with(b"HTTP/1.1 200"), "{received:?}");
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish_and_refuses_new_ones() {
    let (listener, addr) = listener().await;
    let (started, release) = (
        std::sync::Arc::new(Notify::new()),
        std::sync::Arc::new(Notify::new()),
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let server =
        serve(listener, service(started.clone(), release.clone())).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
    let running = tokio::spawn(server.into_future());

    let in_flight = tokio::spawn(get(addr, "/slow"));
    started.notified().await;
    stop.send(()).unwrap();
    tokio::task::yield_now().await;
    release.notify_one();
    let answer = tokio::time::timeout(BOUND, in_flight)
        .await
        .unwrap()
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    tokio::time::timeout(BOUND, running)
        .await
        .expect("the server stops once in-flight requests are done")
        .unwrap()
        .unwrap();
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn connections_still_open_after_the_grace_period_are_closed() {
    let (listener, addr) = listener().await;
    let started = std::sync::Arc::new(Notify::new());
    let (stop, stopped) = oneshot::channel::<()>();
    // `/slow` is never released: its request outlives any grace period.
    let server = serve(listener, service(started.clone(), Default::default()))
        .shutdown_grace(Duration::from_millis(200))
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        });
    let running = tokio::spawn(server.into_future());
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    started.notified().await;
    stop.send(()).unwrap();
    tokio::time::timeout(BOUND, running)
        .await
        .expect("the server stops at the end of the grace period")
        .unwrap()
        .unwrap();
    // Closed by the server, not answered.
    let received = until_closed(&mut stream).await;
    assert!(received.is_empty(), "{received:?}");
}

#[tokio::test]
async fn the_receiver_learns_the_peers_address() {
    use costkatana_webhooks::{Payload, Receiver};
    let receiver = Receiver::builder()
        .secret("whsec_peer")
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .unwrap();
    let (listener, addr) = listener().await;
    let endpoint = costkatana_webhooks_tower::WebhookEndpoint::new(receiver.clone());
    tokio::spawn(serve(listener, endpoint).into_future());
    let answer = get(addr, "/webhooks/costkatana").await;
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
    let rejection = &receiver.rejections()[0];
    assert_eq!(rejection.reason, "method_not_allowed");
    assert_eq!(rejection.remote, Some("127.0.0.1".parse().unwrap()));
}
