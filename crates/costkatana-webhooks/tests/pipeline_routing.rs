//! Routing, builder errors and rejections through the receiver.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use costkatana_webhooks::receiver::{Delivery, HandlerError, Receiver, Router};
use costkatana_webhooks::testing::sign;
use costkatana_webhooks::{Category, Event, EventType, ManualClock, Payload, Scheme, Verifier};
use support::{code, verifier, Request, NOW, SECRET};

type Log = Arc<Mutex<Vec<String>>>;

fn logging_router(log: &Log) -> Router {
    let (a, b, c) = (log.clone(), log.clone(), log.clone());
    Router::new()
        .on(
            EventType::BudgetExceeded,
            move |event: Event, _: Delivery| {
                a.lock()
                    .unwrap()
                    .push(format!("exact:{}", event.event_type));
                async { Ok::<_, HandlerError>(()) }
            },
        )
        .on_category(Category::Budget, move |event: Event, _: Delivery| {
            b.lock()
                .unwrap()
                .push(format!("category:{}", event.event_type));
            async { Ok::<_, HandlerError>(()) }
        })
        .fallback(move |payload: Payload, delivery: Delivery| {
            let what = match &payload {
                Payload::Event(event) => format!("fallback:{}", event.event_type),
                Payload::Template(text) => format!("fallback:template:{text}"),
                Payload::Json(_) => "fallback:json".to_owned(),
                _ => "fallback:bytes".to_owned(),
            };
            c.lock().unwrap().push(format!(
                "{what}|{}",
                delivery.header("authorization").unwrap_or("-")
            ));
            async { Ok::<_, HandlerError>(()) }
        })
}

#[tokio::test]
async fn events_reach_the_most_specific_handler() {
    let clock = Arc::new(ManualClock::new(NOW));
    let log = Log::default();
    let receiver = Receiver::builder(verifier(&clock))
        .router(logging_router(&log))
        .build()
        .unwrap();
    for request in [
        Request::of(EventType::BudgetExceeded, "e1"),
        Request::of(EventType::BudgetWarning, "e2"),
        Request::of(EventType::SecurityAlert, "e3"),
        Request::of(EventType::Other("billing.paid".into()), "e4"),
        Request::raw(br#""{\"text\": \"hi\"}""#.to_vec()),
        Request::raw(br#"{"hello":"world"}"#.to_vec()),
        Request::raw(b"\xffnot json".to_vec()),
    ] {
        assert_eq!(code(&request.send(&receiver).await), "processed");
    }
    assert_eq!(
        *log.lock().unwrap(),
        [
            "exact:budget.exceeded",
            "category:budget.warning",
            "fallback:security.alert|-",
            "fallback:billing.paid|-",
            r#"fallback:template:{"text": "hi"}|-"#,
            "fallback:json|-",
            "fallback:bytes|-",
        ]
    );
}

#[tokio::test]
async fn templates_are_deduplicated_on_the_signature() {
    let clock = Arc::new(ManualClock::new(NOW));
    let log = Log::default();
    let receiver = Receiver::builder(verifier(&clock))
        .router(logging_router(&log))
        .build()
        .unwrap();
    let template = Request::raw(br#""{\"text\": \"cost.alert: over\"}""#.to_vec());
    assert_eq!(code(&template.send(&receiver).await), "processed");
    assert_eq!(
        code(&template.send(&receiver).await),
        "duplicate",
        "the sender's retry"
    );
    let other_delivery = Request::raw(br#""{\"text\": \"cost.alert: over again\"}""#.to_vec());
    assert_eq!(code(&other_delivery.send(&receiver).await), "processed");
    assert_eq!(log.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn captured_headers_reach_handlers() {
    let clock = Arc::new(ManualClock::new(NOW));
    let log = Log::default();
    let receiver = Receiver::builder(verifier(&clock))
        .router(logging_router(&log))
        .build()
        .unwrap();
    let mut request = Request::of(EventType::SystemError, "e1");
    request
        .headers
        .push(("Authorization".into(), "Bearer configured-token".into()));
    request.send(&receiver).await;
    assert_eq!(
        *log.lock().unwrap(),
        ["fallback:system.error|Bearer configured-token"]
    );
}

#[tokio::test]
async fn namespaces_keep_endpoints_apart() {
    let clock = Arc::new(ManualClock::new(NOW));
    let store = costkatana_webhooks::dedupe::MemoryStore::builder()
        .clock(clock.clone())
        .build();
    let log = Log::default();
    let build = |ns: &str| {
        Receiver::builder(verifier(&clock))
            .router(logging_router(&log))
            .store(store.clone())
            .namespace(ns)
            .build()
            .unwrap()
    };
    let (a, b) = (build("tenant-a"), build("tenant-b"));
    let request = Request::of(EventType::SystemError, "same-id");
    assert_eq!(code(&request.send(&a).await), "processed");
    assert_eq!(code(&request.send(&b).await), "processed");
    assert_eq!(code(&request.send(&a).await), "duplicate");
}

#[tokio::test]
async fn rejections_run_no_handler() {
    let clock = Arc::new(ManualClock::new(NOW));
    let log = Log::default();
    let receiver = Receiver::builder(verifier(&clock))
        .router(logging_router(&log))
        .max_body(1024)
        .build()
        .unwrap();
    let request = Request::of(EventType::BudgetExceeded, "e1");
    let get = receiver
        .receive("GET", &request.headers, request.body.clone())
        .await;
    assert_eq!(
        (get.response().status, code(&get)),
        (405, "method_not_allowed")
    );
    let big = Request::raw(
        format!(
            r#"{{"eventType":"cost.alert","pad":"{}"}}"#,
            "x".repeat(1024)
        )
        .into_bytes(),
    );
    let too_large = big.send(&receiver).await;
    assert_eq!(
        (too_large.response().status, code(&too_large)),
        (413, "payload_too_large")
    );
    let none: [(&str, &str); 0] = [];
    let missing = receiver.receive("POST", &none, request.body.clone()).await;
    assert_eq!(
        (missing.response().status, code(&missing)),
        (400, "missing_signature")
    );
    let wrong = sign(Scheme::Current, "not the secret", NOW, &request.body);
    let invalid = receiver.receive("POST", &wrong, request.body.clone()).await;
    assert_eq!(
        (invalid.response().status, code(&invalid)),
        (401, "invalid_signature")
    );
    clock.advance_ms(301_000);
    let stale = request.send(&receiver).await;
    assert_eq!(
        (stale.response().status, code(&stale)),
        (401, "stale_timestamp")
    );
    assert!(log.lock().unwrap().is_empty());
}

#[test]
fn builder_refuses_mistakes() {
    let clock = Arc::new(ManualClock::new(NOW));
    let ok = |_: Payload, _: Delivery| async { Ok::<_, HandlerError>(()) };
    let on = |_: Event, _: Delivery| async { Ok::<_, HandlerError>(()) };
    let err =
        |b: costkatana_webhooks::receiver::ReceiverBuilder| b.build().unwrap_err().to_string();

    assert!(err(Receiver::builder(verifier(&clock))).contains("no router"));
    assert!(err(
        Receiver::builder(verifier(&clock)).router(Router::new().on(EventType::CostAlert, on))
    )
    .contains("no fallback"));
    let twice = Router::new()
        .on(EventType::CostAlert, on)
        .on(EventType::CostAlert, on)
        .fallback(ok);
    assert!(
        err(Receiver::builder(verifier(&clock)).router(twice)).contains("event type cost.alert")
    );
    let twice = Router::new()
        .on_category(Category::Cost, on)
        .on_category(Category::Cost, on)
        .fallback(ok);
    assert!(err(Receiver::builder(verifier(&clock)).router(twice)).contains("category cost"));
    let twice = Router::new().fallback(ok).fallback(ok);
    assert!(err(Receiver::builder(verifier(&clock)).router(twice)).contains("fallback"));
    let short_ttl = Receiver::builder(verifier(&clock))
        .router(Router::new().fallback(ok))
        .dedupe_ttl(Duration::from_secs(299));
    assert!(err(short_ttl).contains("shorter than the past timestamp tolerance"));
    let long_tolerance = Verifier::builder()
        .secret(SECRET)
        .past_tolerance(Duration::from_secs(7200))
        .build()
        .unwrap();
    let short_ttl = Receiver::builder(long_tolerance)
        .router(Router::new().fallback(ok))
        .dedupe_ttl(Duration::from_secs(3600));
    assert!(err(short_ttl).contains("dedupe TTL (3600 s)"));
    let zero_lease = Receiver::builder(verifier(&clock))
        .router(Router::new().fallback(ok))
        .lease(Duration::ZERO);
    assert!(err(zero_lease).contains("lease"));
    // Outside a Tokio runtime, ack-first mode cannot start its queue.
    let outside = Receiver::builder(verifier(&clock))
        .router(Router::new().fallback(ok))
        .ack_first(8);
    assert!(err(outside).contains("Tokio runtime"));
    assert!(Receiver::builder(verifier(&clock))
        .router(Router::new().fallback(ok))
        .build()
        .is_ok());
}

#[tokio::test]
async fn ack_first_capacity_must_be_positive() {
    let clock = Arc::new(ManualClock::new(NOW));
    let ok = |_: Payload, _: Delivery| async { Ok::<_, HandlerError>(()) };
    let zero = Receiver::builder(verifier(&clock))
        .router(Router::new().fallback(ok))
        .ack_first(0);
    assert!(zero.build().unwrap_err().to_string().contains("capacity"));
}

#[tokio::test]
async fn blank_event_ids_fall_back_to_the_signature() {
    let clock = Arc::new(ManualClock::new(NOW));
    let log = Log::default();
    let receiver = Receiver::builder(verifier(&clock))
        .router(logging_router(&log))
        .build()
        .unwrap();
    let first = Request::raw(br#"{"eventId":"","eventType":"cost.alert"}"#.to_vec());
    let second = Request::raw(br#"{"eventId":" ","eventType":"budget.exceeded"}"#.to_vec());
    assert_eq!(code(&first.send(&receiver).await), "processed");
    assert_eq!(
        code(&second.send(&receiver).await),
        "processed",
        "a different event, not a duplicate"
    );
    assert_eq!(
        code(&first.send(&receiver).await),
        "duplicate",
        "its own retry still is"
    );
    assert_eq!(log.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn method_names_are_case_sensitive() {
    let clock = Arc::new(ManualClock::new(NOW));
    let log = Log::default();
    let receiver = Receiver::builder(verifier(&clock))
        .router(logging_router(&log))
        .build()
        .unwrap();
    let request = Request::of(EventType::CostAlert, "e1");
    let lower = receiver
        .receive("post", &request.headers, request.body.clone())
        .await;
    assert_eq!(code(&lower), "method_not_allowed");
}
