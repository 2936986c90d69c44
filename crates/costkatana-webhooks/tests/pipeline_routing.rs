//! Routing, handler shapes, builder errors and rejections through the
//! receiver.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use costkatana_webhooks::signing::sign;
use costkatana_webhooks::{
    Category, Delivery, Event, EventType, HandlerError, HandlerResult, ManualClock, Payload,
    Receiver, ReceiverBuilder, Scheme, Shared,
};
use support::{code, receiver_on, Request, NOW, SECRET};

type Log = Arc<Mutex<Vec<String>>>;

/// Routes that log which handler took each delivery.
fn logging(builder: ReceiverBuilder, log: &Log) -> ReceiverBuilder {
    let (a, b, c) = (log.clone(), log.clone(), log.clone());
    builder
        .on(EventType::BudgetExceeded, move |event: Event| {
            a.lock()
                .unwrap()
                .push(format!("exact:{}", event.event_type));
            async { Ok(()) }
        })
        .on(Category::Budget, move |event: Event| {
            b.lock()
                .unwrap()
                .push(format!("category:{}", event.event_type));
            async { Ok(()) }
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
            async { Ok(()) }
        })
}

fn logging_receiver(clock: &Arc<ManualClock>, log: &Log) -> Receiver {
    logging(receiver_on(clock), log).build().unwrap()
}

#[tokio::test]
async fn events_reach_the_most_specific_handler() {
    let clock = Arc::new(ManualClock::new(NOW));
    let log = Log::default();
    let receiver = logging_receiver(&clock, &log);
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
    let receiver = logging_receiver(&clock, &log);
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
    let receiver = logging_receiver(&clock, &log);
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
        logging(receiver_on(&clock), &log)
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
    let receiver = logging(receiver_on(&clock), &log)
        .max_body(1024)
        .build()
        .unwrap();
    let request = Request::of(EventType::BudgetExceeded, "e1");
    let get = receiver
        .receive("GET", &request.headers, request.body.clone())
        .await;
    assert_eq!(
        (get.answer().status, code(&get)),
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
        (too_large.answer().status, code(&too_large)),
        (413, "payload_too_large")
    );
    let none: [(&str, &str); 0] = [];
    let missing = receiver.receive("POST", &none, request.body.clone()).await;
    assert_eq!(
        (missing.answer().status, code(&missing)),
        (400, "missing_signature")
    );
    let wrong = sign(Scheme::Current, "not the secret", NOW, &request.body);
    let _ = SECRET;
    let invalid = receiver.receive("POST", &wrong, request.body.clone()).await;
    assert_eq!(
        (invalid.answer().status, code(&invalid)),
        (401, "invalid_signature")
    );
    clock.advance_ms(301_000);
    let stale = request.send(&receiver).await;
    assert_eq!(
        (stale.answer().status, code(&stale)),
        (401, "stale_timestamp")
    );
    assert!(log.lock().unwrap().is_empty());
}

fn build_error(builder: ReceiverBuilder) -> String {
    builder.build().unwrap_err().to_string()
}

async fn ok_payload(_: Payload) -> HandlerResult {
    Ok(())
}

async fn ok_event(_: Event) -> HandlerResult {
    Ok(())
}

#[test]
fn builder_refuses_mistakes() {
    let clock = Arc::new(ManualClock::new(NOW));
    let base = || receiver_on(&clock);

    assert!(build_error(Receiver::builder().fallback(ok_payload)).contains("no webhook secret"));
    assert!(build_error(base().on(EventType::CostAlert, ok_event)).contains("no fallback"));
    assert_eq!(
        build_error(
            base()
                .on(EventType::CostAlert, ok_event)
                .on("cost.alert", ok_event)
                .fallback(ok_payload)
        ),
        "a handler for cost.alert is registered twice"
    );
    assert_eq!(
        build_error(
            base()
                .on("savings.milestone", ok_event)
                .on("savings.milestone_reached", ok_event)
                .fallback(ok_payload)
        ),
        "a handler for savings.milestone is registered twice",
        "an alias is the same type"
    );
    assert_eq!(
        build_error(
            base()
                .on(Category::Cost, ok_event)
                .on("cost.*", ok_event)
                .fallback(ok_payload)
        ),
        "a handler for cost.* is registered twice"
    );
    assert_eq!(
        build_error(base().fallback(ok_payload).fallback(ok_payload)),
        "the fallback handler is registered twice"
    );
    // No secret and no fallback: both are reported at once.
    let both = build_error(Receiver::builder());
    assert!(
        both.contains("secret") && both.contains("fallback"),
        "{both}"
    );
    let short_ttl = base()
        .fallback(ok_payload)
        .dedupe_ttl(Duration::from_secs(599));
    assert!(build_error(short_ttl)
        .contains("shorter than the timestamp window (300 s past + 300 s future = 600 s)"));
    assert!(base()
        .fallback(ok_payload)
        .dedupe_ttl(Duration::from_secs(600))
        .build()
        .is_ok());
    // Without a TTL of its own, a long window is covered by default.
    assert!(base()
        .past_tolerance(Duration::from_secs(30 * 86_400))
        .fallback(ok_payload)
        .build()
        .is_ok());
    let short_ttl = base()
        .past_tolerance(Duration::from_secs(7200))
        .fallback(ok_payload)
        .dedupe_ttl(Duration::from_secs(3600));
    assert!(build_error(short_ttl).contains("dedupe TTL (3600 s)"));
    let zero_lease = base().fallback(ok_payload).lease(Duration::ZERO);
    assert!(build_error(zero_lease).contains("lease"));
    // Built outside a Tokio runtime, ack-first mode runs on the one serving
    // its requests (see the hardening tests).
    assert!(base().fallback(ok_payload).ack_first(8).build().is_ok());
    assert!(base().fallback(ok_payload).build().is_ok());
}

#[test]
fn inbox_only_settings_are_refused_without_an_inbox() {
    use costkatana_webhooks::inbox::RetryPolicy;
    let clock = Arc::new(ManualClock::new(NOW));
    let base = || receiver_on(&clock).fallback(ok_payload);
    // A retry policy would be ignored: the sender retries in the other modes.
    for builder in [
        base().retry_policy(RetryPolicy::default()),
        base()
            .ack_first(8)
            .retry_policy(RetryPolicy::default().max_attempts(3)),
    ] {
        assert_eq!(
            build_error(builder),
            "retry_policy applies only in inbox mode, where the receiver retries handlers \
             itself (the other modes answer 500 and the sender retries): add .inbox(..) or \
             remove .retry_policy(..)"
        );
    }
    assert!(build_error(base().on_dead_letter(|_| async {}))
        .contains("on_dead_letter(..) needs inbox mode"));
}

#[test]
fn unknown_names_are_reported_with_the_known_ones() {
    let clock = Arc::new(ManualClock::new(NOW));
    let typo = build_error(
        receiver_on(&clock)
            .on("budget.exceded", ok_event)
            .fallback(ok_payload),
    );
    assert!(
        typo.contains(r#""budget.exceded" is no event type this version knows"#)
            && typo.contains("budget types: budget.warning, budget.exceeded")
            && typo.contains(r#"EventType::from("budget.exceded")"#),
        "{typo}"
    );
    let category = build_error(
        receiver_on(&clock)
            .on("billing.*", ok_event)
            .fallback(ok_payload),
    );
    assert!(
        category.contains(r#""billing.*" names no category"#),
        "{category}"
    );
    let bare = build_error(
        receiver_on(&clock)
            .on("budget", ok_event)
            .fallback(ok_payload),
    );
    assert!(bare.contains(r#"write "budget.*""#), "{bare}");
    // A type newer than this crate is routed on purpose through EventType.
    assert!(receiver_on(&clock)
        .on(EventType::from("budget.forecast_ready"), ok_event)
        .fallback(ok_payload)
        .build()
        .is_ok());
}

#[tokio::test]
async fn dotted_names_and_aliases_route_like_types() {
    let clock = Arc::new(ManualClock::new(NOW));
    let log = Log::default();
    let note = |label: &'static str| {
        let log = log.clone();
        move |event: Event| {
            log.lock()
                .unwrap()
                .push(format!("{label}:{}", event.event_type));
            async { Ok(()) }
        }
    };
    let receiver = receiver_on(&clock)
        .on("budget.exceeded", note("dotted"))
        .on("savings.milestone_reached", note("alias"))
        .on("security.*", note("category"))
        .on(EventType::from("cost.forecast_ready"), note("newer"))
        .fallback(ok_payload)
        .build()
        .unwrap();
    for (ty, id) in [
        (EventType::BudgetExceeded, "e1"),
        (EventType::SavingsMilestone, "e2"),
        (EventType::SecurityAlert, "e3"),
        (EventType::from("cost.forecast_ready"), "e4"),
    ] {
        assert_eq!(
            code(&Request::of(ty, id).send(&receiver).await),
            "processed"
        );
    }
    // The docs' spelling on the wire reaches the alias's handler too.
    let docs_spelling =
        Request::raw(br#"{"eventId":"e5","eventType":"usage.spike_detected"}"#.to_vec());
    let receiver_usage = receiver_on(&clock)
        .on("usage.spike", note("usage"))
        .fallback(ok_payload)
        .build()
        .unwrap();
    assert_eq!(
        code(&docs_spelling.send(&receiver_usage).await),
        "processed"
    );
    assert_eq!(
        *log.lock().unwrap(),
        [
            "dotted:budget.exceeded",
            "alias:savings.milestone",
            "category:security.alert",
            "newer:cost.forecast_ready",
            "usage:usage.spike",
        ]
    );
}

#[derive(Clone)]
struct App {
    log: Log,
    tenant: &'static str,
}

async fn event_alone(event: Event) -> HandlerResult {
    assert_eq!(event.event_type, EventType::CostAlert);
    Ok(())
}

async fn event_and_delivery(event: Event, delivery: Delivery) -> HandlerResult {
    assert_eq!(delivery.scheme(), Scheme::Current);
    assert_eq!(event.event_type, EventType::BudgetWarning);
    Ok(())
}

async fn with_state(Shared(app): Shared<App>, event: Event) -> HandlerResult {
    app.log
        .lock()
        .unwrap()
        .push(format!("{}:{}", app.tenant, event.event_type));
    Ok(())
}

async fn with_everything(
    Shared(app): Shared<App>,
    event: Event,
    delivery: Delivery,
) -> HandlerResult {
    app.log.lock().unwrap().push(format!(
        "{}:{}:{}",
        app.tenant,
        event.event_type,
        delivery.header("authorization").unwrap_or("-")
    ));
    Ok(())
}

async fn fallback_with_state(Shared(app): Shared<App>, payload: Payload) -> HandlerResult {
    app.log.lock().unwrap().push(format!(
        "{}:fallback:{}",
        app.tenant,
        payload.event_id().unwrap_or("-")
    ));
    Ok(())
}

#[tokio::test]
async fn handlers_take_the_event_the_delivery_and_shared_state() {
    let clock = Arc::new(ManualClock::new(NOW));
    let log = Log::default();
    let receiver = receiver_on(&clock)
        .share(App {
            log: log.clone(),
            tenant: "acme",
        })
        .on(EventType::CostAlert, event_alone)
        .on(EventType::BudgetWarning, event_and_delivery)
        .on(EventType::BudgetExceeded, with_state)
        .on(EventType::SecurityAlert, with_everything)
        .fallback(fallback_with_state)
        .build()
        .unwrap();
    for (ty, id) in [
        (EventType::CostAlert, "e1"),
        (EventType::BudgetWarning, "e2"),
        (EventType::BudgetExceeded, "e3"),
        (EventType::SecurityAlert, "e4"),
        (EventType::SystemError, "e5"),
    ] {
        assert_eq!(
            code(&Request::of(ty, id).send(&receiver).await),
            "processed",
            "{id}"
        );
    }
    assert_eq!(
        *log.lock().unwrap(),
        [
            "acme:budget.exceeded",
            "acme:security.alert:-",
            "acme:fallback:e5"
        ]
    );
}

#[test]
fn a_state_no_one_gave_is_reported_by_type() {
    let clock = Arc::new(ManualClock::new(NOW));
    let err = build_error(
        receiver_on(&clock)
            .on(EventType::BudgetExceeded, with_state)
            .fallback(ok_payload)
            .share("not an App"),
    );
    assert!(
        err.contains("the handler for budget.exceeded takes Shared<")
            && err.contains("App>, but no such state was given"),
        "{err}"
    );
}

#[tokio::test]
async fn question_mark_works_on_any_error_and_on_strings() {
    let clock = Arc::new(ManualClock::new(NOW));
    let receiver = receiver_on(&clock)
        .on(EventType::CostAlert, |event: Event| async move {
            let amount: u32 = event.title.as_deref().unwrap_or("x").parse()?;
            let _ = amount;
            Ok(())
        })
        .on(EventType::BudgetExceeded, |event: Event| async move {
            event.project_id.ok_or("no project")?;
            Err(format!("{} is not wanted", event.event_type))?;
            Ok(())
        })
        .fallback(ok_payload)
        .build()
        .unwrap();
    for ty in [EventType::CostAlert, EventType::BudgetExceeded] {
        let outcome = Request::of(ty, "e1").send(&receiver).await;
        assert_eq!(
            (outcome.answer().status, code(&outcome)),
            (500, "handler_failed")
        );
    }
}

#[tokio::test]
async fn a_refusal_is_permanent_and_remembered() {
    let clock = Arc::new(ManualClock::new(NOW));
    let runs = Arc::new(Mutex::new(0));
    let counted = runs.clone();
    let receiver = receiver_on(&clock)
        .on(EventType::BudgetExceeded, move |event: Event| {
            *counted.lock().unwrap() += 1;
            async move {
                Err(HandlerError::refuse(format!(
                    "no tenant for project {:?}",
                    event.project_id
                )))
            }
        })
        .fallback(ok_payload)
        .build()
        .unwrap();
    let request = Request::of(EventType::BudgetExceeded, "e1");
    let refused = request.send(&receiver).await;
    let answer = refused.answer();
    assert_eq!((answer.status, code(&refused)), (422, "refused"));
    assert!(
        !answer.body.contains("tenant"),
        "the reason is not sent: {}",
        answer.body
    );
    // The sender will not retry a 4xx; a replay is a duplicate, not a rerun.
    assert_eq!(code(&request.send(&receiver).await), "duplicate");
    assert_eq!(*runs.lock().unwrap(), 1);
}

#[tokio::test]
async fn blank_event_ids_fall_back_to_the_signature() {
    let clock = Arc::new(ManualClock::new(NOW));
    let log = Log::default();
    let receiver = logging_receiver(&clock, &log);
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
    let receiver = logging_receiver(&clock, &log);
    let request = Request::of(EventType::CostAlert, "e1");
    let lower = receiver
        .receive("post", &request.headers, request.body.clone())
        .await;
    assert_eq!(code(&lower), "method_not_allowed");
}
