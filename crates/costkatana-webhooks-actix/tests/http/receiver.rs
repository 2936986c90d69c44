//! `WebhookEndpoint`: the full pipeline over real HTTP.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::App;
use costkatana_webhooks::dedupe::{
    Claim, ClaimToken, Completion, DedupeStore, MemoryStore, StoreFuture,
};
use costkatana_webhooks::testing::{sample_event, Shape};
use costkatana_webhooks::{
    Event, EventType, HandlerError, HandlerResult, ManualClock, Payload, ReceiverBuilder, Scheme,
    Shared,
};
use costkatana_webhooks_actix::WebhookEndpoint;
use serde_json::json;
use tokio::sync::Notify;

use crate::support::{
    answer, client, event_body, receiver_builder, serve, signed_post, TestServer, NOW_MS,
};

const PATH: &str = "/webhooks/costkatana";

/// What the handlers saw, and the knobs that make them fail or wait.
#[derive(Default)]
struct Hooks {
    handled: AtomicUsize,
    /// `cost.alert` fails while this is set.
    fail: AtomicBool,
    /// `security.alert` signals `started`, then waits for `release`.
    started: Notify,
    release: Notify,
}

async fn cost_alert(Shared(hooks): Shared<Arc<Hooks>>, _: Event) -> HandlerResult {
    if hooks.fail.load(Ordering::SeqCst) {
        return Err(HandlerError::from("the database is down"));
    }
    hooks.handled.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

async fn security_alert(Shared(hooks): Shared<Arc<Hooks>>, _: Event) -> HandlerResult {
    hooks.started.notify_one();
    hooks.release.notified().await;
    hooks.handled.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

async fn anything_else(Shared(hooks): Shared<Arc<Hooks>>, _: Payload) -> HandlerResult {
    hooks.handled.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

fn routes(builder: ReceiverBuilder, hooks: &Arc<Hooks>) -> ReceiverBuilder {
    builder
        .share(Arc::clone(hooks))
        .on(EventType::CostAlert, cost_alert)
        .on(EventType::SecurityAlert, security_alert)
        .fallback(anything_else)
}

fn start(max_body: usize) -> (TestServer, Arc<ManualClock>, Arc<Hooks>) {
    let hooks = Arc::new(Hooks::default());
    let (builder, clock) = receiver_builder();
    let receiver = routes(builder, &hooks)
        .max_body(max_body)
        .build()
        .expect("valid receiver");
    let server = serve!(move || App::new().service(WebhookEndpoint::new(PATH, receiver.clone())));
    (server, clock, hooks)
}

#[actix_web::test]
async fn every_scheme_and_shape_is_processed() {
    let (server, _, hooks) = start(1 << 20);
    let client = client();
    let cases = [
        (Scheme::Current, Shape::Camel, "evt_current"),
        (Scheme::Legacy, Shape::Camel, "evt_legacy"),
        (Scheme::Documented, Shape::Snake, "evt_documented"),
    ];
    for (scheme, shape, id) in cases {
        let response = signed_post(&client, &server.url(PATH), scheme, event_body(id, shape))
            .send()
            .await
            .expect("response");
        let (status, retry_after, body) = answer(response).await;
        assert_eq!((status, retry_after), (200, None), "{scheme}");
        assert_eq!(body, json!({ "received": true, "event_id": id }));
    }
    assert_eq!(hooks.handled.load(Ordering::SeqCst), 3);
    server.stop().await;
}

#[actix_web::test]
async fn a_template_body_reaches_the_fallback() {
    let (server, _, hooks) = start(1 << 20);
    let body = r#""{\"text\": \"Budget at 90% &amp; rising\"}""#;
    let response = signed_post(&client(), &server.url(PATH), Scheme::Current, body)
        .send()
        .await
        .expect("response");
    let (status, _, body) = answer(response).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({ "received": true, "event_id": null }));
    assert_eq!(hooks.handled.load(Ordering::SeqCst), 1);
    server.stop().await;
}

#[actix_web::test]
async fn rejections_follow_the_status_table() {
    let (server, clock, hooks) = start(1024);
    let client = client();
    let url = server.url(PATH);
    let body = event_body("evt_rejected", Shape::Camel);

    // Tampered: the body no longer matches the signature.
    let tampered = signed_post(&client, &url, Scheme::Current, body.clone())
        .body(body.replace("Budget", "Budgie"));
    // Missing: no signature headers at all.
    let missing = client.post(&url).body(body.clone());
    // Malformed: a timestamp that is not a number.
    let malformed = client
        .post(&url)
        .header("X-Webhook-Timestamp", "yesterday")
        .header("X-Webhook-Signature", "0".repeat(64))
        .body(body.clone());
    // Too large, declared up front.
    let big = format!(r#"{{"eventId":"evt_big","pad":"{}"}}"#, "x".repeat(4096));
    let too_large = signed_post(&client, &url, Scheme::Current, big);
    let cases = [
        (tampered, 401, "invalid_signature"),
        (missing, 400, "missing_signature"),
        (malformed, 400, "malformed_signature"),
        (too_large, 413, "payload_too_large"),
        (client.get(&url), 405, "method_not_allowed"),
        (
            client.put(&url).body(body.clone()),
            405,
            "method_not_allowed",
        ),
    ];
    for (request, status, code) in cases {
        let (got, retry_after, json) = answer(request.send().await.expect("response")).await;
        assert_eq!(
            (got, json["error"].as_str(), retry_after),
            (status, Some(code), None)
        );
        let message = json["message"].as_str().expect("a message");
        assert!(!message.contains(super::support::SECRET) && !message.contains("Budget"));
    }

    // Ten minutes later the same signed request is stale.
    clock.advance_ms(600_000);
    let stale = signed_post(&client, &url, Scheme::Current, body.clone());
    let (status, _, json) = answer(stale.send().await.expect("response")).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (401, Some("stale_timestamp"))
    );
    // And ten minutes earlier than signed it is from the future: retried.
    clock.set_ms(NOW_MS - 600_000);
    let future = signed_post(&client, &url, Scheme::Current, body);
    let (status, retry_after, json) = answer(future.send().await.expect("response")).await;
    assert_eq!(
        (status, retry_after.as_deref(), json["error"].as_str()),
        (503, Some("5"), Some("future_timestamp"))
    );

    assert_eq!(hooks.handled.load(Ordering::SeqCst), 0);
    server.stop().await;
}

#[actix_web::test]
async fn a_duplicate_is_acknowledged_once_handled() {
    let (server, _, hooks) = start(1 << 20);
    let client = client();
    let body = event_body("evt_twice", Shape::Camel);
    let first = signed_post(&client, &server.url(PATH), Scheme::Current, body.clone());
    let (status, _, json) = answer(first.send().await.expect("response")).await;
    assert_eq!((status, json["duplicate"].as_bool()), (200, None));

    // The retry re-sends the identical request; a documented copy has the same id.
    for (scheme, shape) in [
        (Scheme::Current, Shape::Camel),
        (Scheme::Documented, Shape::Snake),
    ] {
        let again = signed_post(
            &client,
            &server.url(PATH),
            scheme,
            event_body("evt_twice", shape),
        );
        let (status, _, json) = answer(again.send().await.expect("response")).await;
        assert_eq!(status, 200);
        assert_eq!(
            json,
            json!({ "received": true, "duplicate": true, "event_id": "evt_twice" })
        );
    }
    assert_eq!(hooks.handled.load(Ordering::SeqCst), 1);
    server.stop().await;
}

#[actix_web::test]
async fn a_failed_handler_answers_500_and_its_retry_is_processed() {
    let (server, _, hooks) = start(1 << 20);
    let client = client();
    let body = sample_event(&EventType::CostAlert, Shape::Camel, "evt_flaky", NOW_MS);

    hooks.fail.store(true, Ordering::SeqCst);
    let first = signed_post(&client, &server.url(PATH), Scheme::Current, body.clone());
    let (status, retry_after, json) = answer(first.send().await.expect("response")).await;
    assert_eq!((status, retry_after), (500, None));
    assert_eq!(json["error"], "handler_failed");
    assert!(
        !json["message"].as_str().unwrap().contains("database"),
        "handler errors stay in the logs"
    );

    hooks.fail.store(false, Ordering::SeqCst);
    let retry = signed_post(&client, &server.url(PATH), Scheme::Current, body);
    let (status, _, json) = answer(retry.send().await.expect("response")).await;
    assert_eq!(status, 200);
    assert_eq!(json, json!({ "received": true, "event_id": "evt_flaky" }));
    assert_eq!(hooks.handled.load(Ordering::SeqCst), 1);
    server.stop().await;
}

#[actix_web::test]
async fn a_duplicate_in_flight_answers_503_with_retry_after() {
    let (server, _, hooks) = start(1 << 20);
    let client = client();
    let body = sample_event(&EventType::SecurityAlert, Shape::Camel, "evt_slow", NOW_MS);

    let first = signed_post(&client, &server.url(PATH), Scheme::Current, body.clone()).send();
    let first = actix_web::rt::spawn(first);
    // Bounded: the handler signals as soon as it runs.
    tokio::time::timeout(Duration::from_secs(10), hooks.started.notified())
        .await
        .expect("the first delivery reaches its handler");

    let second = signed_post(&client, &server.url(PATH), Scheme::Current, body);
    let (status, retry_after, json) = answer(second.send().await.expect("response")).await;
    assert_eq!((status, retry_after.as_deref()), (503, Some("5")));
    assert_eq!(json["error"], "in_progress");

    hooks.release.notify_one();
    let first = first.await.expect("task").expect("response");
    let (status, _, json) = answer(first).await;
    assert_eq!(status, 200);
    assert_eq!(json, json!({ "received": true, "event_id": "evt_slow" }));
    assert_eq!(hooks.handled.load(Ordering::SeqCst), 1);
    server.stop().await;
}

#[actix_web::test]
async fn a_graceful_stop_lets_the_in_flight_handler_finish() {
    let (server, _, hooks) = start(1 << 20);
    let body = sample_event(
        &EventType::SecurityAlert,
        Shape::Camel,
        "evt_draining",
        NOW_MS,
    );
    let request = signed_post(&client(), &server.url(PATH), Scheme::Current, body).send();
    let in_flight = actix_web::rt::spawn(request);
    tokio::time::timeout(Duration::from_secs(10), hooks.started.notified())
        .await
        .expect("the delivery reaches its handler");

    // The stop command is sent now; the server must wait for the handler.
    let mut stopping = Box::pin(server.handle.stop(true));
    let early = tokio::time::timeout(Duration::from_millis(300), &mut stopping).await;
    assert!(
        early.is_err(),
        "the server stopped with a handler in flight"
    );

    hooks.release.notify_one();
    let (status, _, json) = answer(in_flight.await.expect("task").expect("response")).await;
    assert_eq!(status, 200);
    assert_eq!(
        json,
        json!({ "received": true, "event_id": "evt_draining" })
    );
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("the server stops once drained");
    assert_eq!(hooks.handled.load(Ordering::SeqCst), 1);
}

/// Sends a signed `security.alert` on a raw connection and waits until its
/// handler runs; the caller decides how the client goes away.
async fn hold_in_flight(
    server: &TestServer,
    hooks: &Hooks,
    id: &str,
) -> (tokio::net::TcpStream, String) {
    use tokio::io::AsyncWriteExt;

    let body = sample_event(&EventType::SecurityAlert, Shape::Camel, id, NOW_MS);
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let head = crate::support::signed_head(PATH, body.as_bytes(), body.len());
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(body.as_bytes()).await.expect("write body");
    tokio::time::timeout(Duration::from_secs(10), hooks.started.notified())
        .await
        .expect("the delivery reaches its handler");
    (stream, body)
}

/// actix-web's default: a client EOF (the sender timing out and closing
/// looks the same) does not cancel the handler. It runs to completion and
/// marks the event done; retries meanwhile get 503 and later a duplicate.
#[actix_web::test]
async fn by_default_a_departed_client_does_not_cancel_the_handler() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (server, _, hooks) = start(1 << 20);
    let (mut stream, body) = hold_in_flight(&server, &hooks, "evt_eof").await;
    // Half-close: the server sees the same EOF as from a departed client,
    // and the test can still read what the first request was answered.
    stream.shutdown().await.expect("shutdown write");

    let url = server.url(PATH);
    let retry = signed_post(&client(), &url, Scheme::Current, body.clone());
    let (status, _, json) = answer(retry.send().await.expect("response")).await;
    assert_eq!((status, json["error"].as_str()), (503, Some("in_progress")));

    hooks.release.notify_one();
    let mut first = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut first))
        .await
        .expect("the first answer in time")
        .expect("read");
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    assert!(
        first.ends_with(r#"{"event_id":"evt_eof","received":true}"#),
        "{first}"
    );

    let later = signed_post(&client(), &url, Scheme::Current, body);
    let (status, _, json) = answer(later.send().await.expect("response")).await;
    assert_eq!((status, json["duplicate"].as_bool()), (200, Some(true)));
    assert_eq!(hooks.handled.load(Ordering::SeqCst), 1);
    server.stop().await;
}

/// The real memory store, telling the test when a claim was released
/// (abandoned claims are released from a spawned task, on the server's
/// worker thread).
struct ObservedStore {
    inner: MemoryStore,
    released: Arc<Notify>,
}

impl DedupeStore for ObservedStore {
    fn claim<'a>(&'a self, key: &'a str, lease: Duration) -> StoreFuture<'a, Claim> {
        self.inner.claim(key, lease)
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        token: ClaimToken,
        ttl: Duration,
    ) -> StoreFuture<'a, Completion> {
        self.inner.complete(key, token, ttl)
    }

    fn release<'a>(&'a self, key: &'a str, token: ClaimToken) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let result = self.inner.release(key, token).await;
            self.released.notify_one();
            result
        })
    }
}

/// With `h1_allow_half_closed(false)` actix drops the request's future when
/// the client goes away: the receiver releases the claim and the retry runs
/// the handler.
#[actix_web::test]
async fn without_half_closed_connections_a_departed_client_releases_its_claim() {
    let hooks = Arc::new(Hooks::default());
    let released = Arc::new(Notify::new());
    let (builder, _) = receiver_builder();
    let receiver = routes(builder, &hooks)
        .store(ObservedStore {
            inner: MemoryStore::new(),
            released: released.clone(),
        })
        .build()
        .expect("valid receiver");
    let server = serve!(
        move || App::new().service(WebhookEndpoint::new(PATH, receiver.clone())),
        |server: actix_web::HttpServer<_, _, _, _>| server.h1_allow_half_closed(false)
    );
    let (stream, body) = hold_in_flight(&server, &hooks, "evt_gone").await;
    drop(stream);
    tokio::time::timeout(Duration::from_secs(10), released.notified())
        .await
        .expect("the abandoned claim is released");

    let retry = signed_post(&client(), &server.url(PATH), Scheme::Current, body).send();
    let retry = actix_web::rt::spawn(retry);
    tokio::time::timeout(Duration::from_secs(10), hooks.started.notified())
        .await
        .expect("the retry reaches the handler");
    hooks.release.notify_one();
    let (status, _, json) = answer(retry.await.expect("task").expect("response")).await;
    assert_eq!(status, 200);
    assert_eq!(json, json!({ "received": true, "event_id": "evt_gone" }));
    assert_eq!(hooks.handled.load(Ordering::SeqCst), 1);
    server.stop().await;
}
