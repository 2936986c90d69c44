//! Bodies that trickle, end early, or run past the limit without ending:
//! the adapters cut them off instead of waiting or reading on.

use std::time::Duration;

use actix_web::App;
use costkatana_webhooks::Payload;
use costkatana_webhooks_actix::WebhookEndpoint;

use crate::support::{raw_exchange, receiver_builder, serve, signed_head, AfterBody, TestServer};

const PATH: &str = "/webhooks/costkatana";
const BODY_TIMEOUT: Duration = Duration::from_millis(300);

fn start() -> TestServer {
    let (builder, _) = receiver_builder();
    let receiver = builder
        .fallback(|_: Payload| async { Ok(()) })
        .max_body(1024)
        .body_timeout(BODY_TIMEOUT)
        .build()
        .expect("valid receiver");
    serve!(move || App::new().service(WebhookEndpoint::new(PATH, receiver.clone())))
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
    let answer = raw_exchange(
        server.addr,
        signed_head(PATH, body, body.len()),
        chunks,
        Duration::from_millis(100),
        AfterBody::KeepOpen,
    )
    .await;
    assert_eq!(
        (answer.status, error_code(&answer.body).as_str()),
        (503, "body_unreadable")
    );
    assert!(
        answer.chunks_sent < body.len(),
        "answered while the body was still trickling in: {answer:?}"
    );
    server.stop().await;
}

#[actix_web::test]
async fn the_middleware_cuts_off_a_trickling_body_too() {
    let (server, calls) = crate::middleware::start(|builder| builder.body_timeout(BODY_TIMEOUT));
    let body = br#"{"eventId":"evt_trickle"}"#;
    let answer = raw_exchange(
        server.addr,
        signed_head(crate::middleware::PATH, body, body.len()),
        body.iter().map(|&b| vec![b]).collect(),
        Duration::from_millis(100),
        AfterBody::KeepOpen,
    )
    .await;
    assert_eq!(
        (answer.status, error_code(&answer.body).as_str()),
        (503, "body_unreadable")
    );
    assert!(answer.chunks_sent < body.len(), "{answer:?}");
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 0);
    server.stop().await;
}

#[actix_web::test]
async fn a_body_that_ends_early_is_unreadable_not_swallowed() {
    let server = start();
    let body = br#"{"eventId":"evt_short"}"#;
    let answer = raw_exchange(
        server.addr,
        signed_head(PATH, body, body.len() + 10),
        vec![body.to_vec()],
        Duration::ZERO,
        AfterBody::CloseWrite,
    )
    .await;
    assert_eq!(
        (answer.status, error_code(&answer.body).as_str()),
        (503, "body_unreadable")
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
    let answer = raw_exchange(
        server.addr,
        head,
        vec![chunk],
        Duration::ZERO,
        AfterBody::KeepOpen,
    )
    .await;
    assert_eq!(
        (answer.status, error_code(&answer.body).as_str()),
        (413, "payload_too_large")
    );
    server.stop().await;
}

#[actix_web::test]
async fn a_declared_length_past_the_limit_is_refused_before_any_body() {
    let server = start();
    // Not one body byte is sent: the declared length alone decides.
    let answer = raw_exchange(
        server.addr,
        signed_head(PATH, b"", 5000),
        Vec::new(),
        Duration::ZERO,
        AfterBody::KeepOpen,
    )
    .await;
    assert_eq!(
        (answer.status, error_code(&answer.body).as_str()),
        (413, "payload_too_large")
    );
    server.stop().await;
}

#[actix_web::test]
async fn an_unsigned_request_is_answered_without_waiting_for_its_body() {
    let server = start();
    // A declared body that never comes: were it awaited, the answer would be
    // 503 body_unreadable after the time-out.
    let head =
        "POST /webhooks/costkatana HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500\r\n\r\n";
    let answer = raw_exchange(
        server.addr,
        head.to_owned(),
        Vec::new(),
        Duration::ZERO,
        AfterBody::KeepOpen,
    )
    .await;
    assert_eq!(
        (answer.status, error_code(&answer.body).as_str()),
        (400, "missing_signature")
    );
    server.stop().await;
}
