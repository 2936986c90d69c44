//! Bodies that trickle, end early, or run past the limit without ending:
//! the adapters cut them off instead of waiting or reading on.

use std::time::{Duration, Instant};

use actix_web::App;
use costkatana_webhooks::receiver::{Delivery, HandlerError, Receiver, Router};
use costkatana_webhooks::Payload;
use costkatana_webhooks_actix::receiver_service;

use crate::support::{raw_exchange, serve, signed_head, verifier, AfterBody, TestServer};

const PATH: &str = "/webhooks/costkatana";
const BODY_TIMEOUT: Duration = Duration::from_millis(300);

fn start() -> TestServer {
    let (verifier, _) = verifier();
    let router =
        Router::new().fallback(|_: Payload, _: Delivery| async { Ok(()) });
    let receiver = Receiver::builder(verifier)
        .router(router)
        .max_body(1024)
        .build()
        .expect("valid receiver");
    serve!(move || App::new()
        .service(receiver_service(PATH, receiver.clone()).body_timeout(BODY_TIMEOUT)))
}

fn error_code(body: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(body).expect("a JSON body");
    json["error"].as_str().expect("an error code").to_owned()
}

#[actix_web::test]
async fn a_trickling_body_is_cut_off_by_the_time_bound() {
    let server = start();
    let body = br#"{"eventId":"evt_trickle","eventType":"cost.alert"}"#;
    // One byte every 100 ms: the whole body would take 5 s.
    let chunks = body.iter().map(|&b| vec![b]).collect();
    let started = Instant::now();
    let (status, answer) = raw_exchange(
        server.addr,
        signed_head(PATH, body, body.len()),
        chunks,
        Duration::from_millis(100),
        AfterBody::KeepOpen,
    )
    .await;
    assert_eq!(
        (status, error_code(&answer).as_str()),
        (400, "body_unreadable")
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "cut off after {:?}",
        started.elapsed()
    );
    server.stop().await;
}

#[actix_web::test]
async fn the_middleware_cuts_off_a_trickling_body_too() {
    let (server, calls) = crate::middleware::start(|m| m.body_timeout(BODY_TIMEOUT));
    let body = br#"{"eventId":"evt_trickle"}"#;
    let (status, answer) = raw_exchange(
        server.addr,
        signed_head(crate::middleware::PATH, body, body.len()),
        body.iter().map(|&b| vec![b]).collect(),
        Duration::from_millis(100),
        AfterBody::KeepOpen,
    )
    .await;
    assert_eq!(
        (status, error_code(&answer).as_str()),
        (400, "body_unreadable")
    );
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 0);
    server.stop().await;
}

#[actix_web::test]
async fn a_body_that_ends_early_is_unreadable_not_swallowed() {
    let server = start();
    let body = br#"{"eventId":"evt_short"}"#;
    let (status, answer) = raw_exchange(
        server.addr,
        signed_head(PATH, body, body.len() + 10),
        vec![body.to_vec()],
        Duration::ZERO,
        AfterBody::CloseWrite,
    )
    .await;
    assert_eq!(
        (status, error_code(&answer).as_str()),
        (400, "body_unreadable")
    );
    server.stop().await;
}

#[actix_web::test]
async fn a_chunked_body_past_the_limit_is_refused_without_reading_the_rest() {
    let server = start();
    // No Content-Length: the limit is found while reading. The body never
    // ends, so an answer proves the rest was not awaited.
    let head = signed_head(PATH, b"", 0)
        .replace("Content-Length: 0\r\n", "Transfer-Encoding: chunked\r\n");
    let chunk = format!("{:x}\r\n{}\r\n", 1500, "x".repeat(1500)).into_bytes();
    let (status, answer) = raw_exchange(
        server.addr,
        head,
        vec![chunk],
        Duration::ZERO,
        AfterBody::KeepOpen,
    )
    .await;
    assert_eq!(
        (status, error_code(&answer).as_str()),
        (413, "payload_too_large")
    );
    server.stop().await;
}

#[actix_web::test]
async fn a_declared_length_past_the_limit_is_refused_before_any_body() {
    let server = start();
    // Not one body byte is sent: the declared length alone decides.
    let (status, answer) = raw_exchange(
        server.addr,
        signed_head(PATH, b"", 5000),
        Vec::new(),
        Duration::ZERO,
        AfterBody::KeepOpen,
    )
    .await;
    assert_eq!(
        (status, error_code(&answer).as_str()),
        (413, "payload_too_large")
    );
    server.stop().await;
}
