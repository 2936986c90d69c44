//! The testing kit runs the real pipeline: signatures, the timestamp
//! window on the receiver's clock, dedupe and its TTL, routing, handler
//! failures and refusals, and ack-first's background runs.

use std::sync::Arc;

use costkatana_webhooks::testing::{Recorder, TestDelivery};
use costkatana_webhooks::{
    samples, Clock, Event, EventType, HandlerError, ManualClock, Payload, Receiver, Scheme,
};

const SECRET: &str = "whsec_kit";
const NOW: i64 = 1_777_377_600_000;

fn receiver(
    clock: &Arc<ManualClock>,
    alerts: &Recorder<Event>,
    other: &Recorder<Payload>,
) -> Receiver {
    Receiver::builder()
        .secret(SECRET)
        .clock(clock.clone())
        .on("cost.alert", alerts.handler())
        .fallback(other.handler())
        .build()
        .unwrap()
}

#[tokio::test]
async fn time_moves_only_when_told() {
    let clock = Arc::new(ManualClock::new(NOW));
    let (alerts, other) = (Recorder::new(), Recorder::new());
    let receiver = receiver(&clock, &alerts, &other);
    let alert = TestDelivery::new(samples::cost_alert());

    let answer = receiver.test().send(alert.clone()).await;
    assert_eq!((answer.status(), answer.reason()), (200, "processed"));
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        answer.json()["event_id"],
        alerts.last().unwrap().id.unwrap().as_str()
    );

    // At the window's edges: 300 s old passes (as a duplicate), 301 s does not.
    let edge = alert.clone().signed_at(clock.now_ms() - 300_000);
    assert_eq!(receiver.test().send(edge).await.reason(), "duplicate");
    let stale = alert.clone().signed_at(clock.now_ms() - 301_000);
    let answer = receiver.test().send(stale).await;
    assert_eq!((answer.status(), answer.reason()), (401, "stale_timestamp"));
    assert_eq!(answer.retry_after(), None);
    let future = alert.clone().signed_at(clock.now_ms() + 301_000);
    let answer = receiver.test().send(future).await;
    assert_eq!(
        (answer.status(), answer.reason()),
        (503, "future_timestamp")
    );
    assert_eq!(answer.header("retry-after").as_deref(), Some("5"));
    assert_eq!(alerts.len(), 1, "no refused copy reached the handler");

    // Within the dedupe TTL (24 h) the event is a duplicate; after it, new.
    clock.advance_ms(24 * 3_600_000 - 1);
    assert_eq!(
        receiver.test().send(alert.clone()).await.reason(),
        "duplicate"
    );
    clock.advance_ms(2);
    assert_eq!(receiver.test().send(alert).await.reason(), "processed");
    assert_eq!(alerts.len(), 2);
}

#[tokio::test]
async fn every_rejection_answers_as_an_adapter_would() {
    let clock = Arc::new(ManualClock::new(NOW));
    let (alerts, other) = (Recorder::new(), Recorder::new());
    let receiver = receiver(&clock, &alerts, &other);
    let body = samples::cost_alert();
    let cases = [
        (
            TestDelivery::new(body.clone()).method("GET"),
            405,
            "method_not_allowed",
        ),
        (
            TestDelivery::new(body.clone()).unsigned(),
            400,
            "missing_signature",
        ),
        (
            TestDelivery::new(body.clone()).header("X-Webhook-Signature", "zz"),
            400,
            "malformed_signature",
        ),
        (
            TestDelivery::new(body.clone()).signed_with("whsec_other"),
            401,
            "invalid_signature",
        ),
        (
            TestDelivery::new(vec![b'x'; 1024 * 1024 + 1]),
            413,
            "payload_too_large",
        ),
    ];
    for (delivery, status, reason) in cases {
        let answer = receiver.test().send(delivery).await;
        assert_eq!((answer.status(), answer.reason()), (status, reason));
        assert_eq!(answer.json()["error"], reason);
    }
    assert_eq!(
        receiver
            .test()
            .send(TestDelivery::new("").method("GET"))
            .await
            .header("allow")
            .as_deref(),
        Some("POST")
    );
    assert!(alerts.is_empty() && other.is_empty());
    assert_eq!(receiver.rejections().len(), 6);

    // Every scheme is signed as the sender signs it.
    for scheme in [Scheme::Current, Scheme::Legacy, Scheme::Documented] {
        let answer = receiver
            .test()
            .send(TestDelivery::event(&EventType::CostAlert).scheme(scheme))
            .await;
        assert_eq!(answer.reason(), "processed", "{scheme}");
    }
    assert_eq!(alerts.len(), 3);
}

#[tokio::test]
async fn handler_failures_and_refusals() {
    let clock = Arc::new(ManualClock::new(NOW));
    let seen = Recorder::<Event>::new();
    let receiver = Receiver::builder()
        .secret(SECRET)
        .clock(clock.clone())
        .on(
            "budget.*",
            seen.handler_with(|event| match event.event_type {
                EventType::BudgetWarning => Err(HandlerError::from("downstream is down")),
                _ => Err(HandlerError::refuse("unknown tenant")),
            }),
        )
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .unwrap();
    let warning = TestDelivery::event(&EventType::BudgetWarning);
    let answer = receiver.test().send(warning.clone()).await;
    assert_eq!((answer.status(), answer.reason()), (500, "handler_failed"));
    assert!(!answer.body().contains("downstream"));
    // The claim was released: the sender's retry runs the handler again.
    assert_eq!(
        receiver.test().send(warning).await.reason(),
        "handler_failed"
    );
    let exceeded = TestDelivery::event(&EventType::BudgetExceeded);
    let answer = receiver.test().send(exceeded.clone()).await;
    assert_eq!((answer.status(), answer.reason()), (422, "refused"));
    // A refusal is remembered: its copy is a duplicate.
    assert_eq!(receiver.test().send(exceeded).await.reason(), "duplicate");
    assert_eq!(seen.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_first_runs_are_awaited() {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let seen = Recorder::<Payload>::new();
    let (opened, record) = (Arc::clone(&gate), seen.clone());
    let receiver = Receiver::builder()
        .secret(SECRET)
        .ack_first(8)
        .fallback(move |payload: Payload| {
            let (gate, record) = (Arc::clone(&opened), record.clone());
            async move {
                let _ = gate.acquire().await;
                record.handler()(payload).await
            }
        })
        .build()
        .unwrap();
    let answer = receiver.test().send(samples::cost_alert()).await;
    assert_eq!((answer.status(), answer.reason()), (200, "processed"));
    assert!(seen.is_empty(), "answered before its handler ran");
    gate.add_permits(1);
    assert_eq!(answer.settled().await, None);
    assert_eq!(seen.len(), 1);
    // Inline and rejected deliveries have nothing to wait for.
    let refused = receiver
        .test()
        .send(TestDelivery::new("{}").unsigned())
        .await;
    assert_eq!(refused.settled().await, None);
}
