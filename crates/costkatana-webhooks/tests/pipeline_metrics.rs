//! Each request is counted once, with its outcome, and handler time is
//! recorded; background failures are counted.

mod support;

use std::sync::Arc;

use costkatana_webhooks::receiver::{
    HandlerError, BACKGROUND_FAILURES_TOTAL, HANDLER_SECONDS, REQUESTS_TOTAL,
};
use costkatana_webhooks::{ManualClock, Payload};
use metrics::{SharedString, Unit};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use metrics_util::{CompositeKey, MetricKind};
use support::{builder, payload_key, Request, NOW};

type Metrics = Vec<(CompositeKey, Option<Unit>, Option<SharedString>, DebugValue)>;

/// Runs `f` on a current-thread runtime with a recorder local to it, and
/// returns what was recorded (a snapshot drains the recorder: take one).
fn recorded(f: impl std::future::Future<Output = ()>) -> Metrics {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    });
    snapshotter.snapshot().into_vec()
}

fn counter(metrics: &Metrics, name: &str, outcome: Option<&str>) -> u64 {
    metrics
        .iter()
        .filter(|(key, _, _, _)| key.kind() == MetricKind::Counter && key.key().name() == name)
        .filter(|(key, _, _, _)| {
            outcome.is_none_or(|o| {
                key.key()
                    .labels()
                    .any(|l| l.key() == "outcome" && l.value() == o)
            })
        })
        .map(|(_, _, _, value)| match value {
            DebugValue::Counter(n) => *n,
            _ => 0,
        })
        .sum()
}

fn histogram_samples(metrics: &Metrics, name: &str) -> usize {
    metrics
        .iter()
        .filter(|(key, _, _, _)| key.key().name() == name)
        .map(|(_, _, _, value)| match value {
            DebugValue::Histogram(samples) => samples.len(),
            _ => 0,
        })
        .sum()
}

#[test]
fn every_request_is_counted_once_with_its_outcome() {
    let metrics = recorded(async {
        let clock = Arc::new(ManualClock::new(NOW));
        let receiver = builder(&clock, |payload: Payload, _| async move {
            if payload_key(&payload) == "bad" {
                return Err(HandlerError::from("no"));
            }
            Ok(())
        })
        .build()
        .unwrap();
        let ok = Request::event("ok");
        ok.send(&receiver).await;
        ok.send(&receiver).await;
        Request::event("bad").send(&receiver).await;
        receiver.receive("GET", &ok.headers, ok.body.clone()).await;
        let none: [(&str, &str); 0] = [];
        receiver.receive("POST", &none, ok.body.clone()).await;
    });
    assert_eq!(
        counter(&metrics, REQUESTS_TOTAL, None),
        5,
        "once per request"
    );
    for outcome in [
        "processed",
        "duplicate",
        "handler_failed",
        "method_not_allowed",
        "missing_signature",
    ] {
        assert_eq!(
            counter(&metrics, REQUESTS_TOTAL, Some(outcome)),
            1,
            "{outcome}"
        );
    }
    assert_eq!(
        histogram_samples(&metrics, HANDLER_SECONDS),
        2,
        "two handler runs"
    );
}

#[test]
fn background_failures_are_counted() {
    let metrics = recorded(async {
        let clock = Arc::new(ManualClock::new(NOW));
        let receiver = builder(&clock, |_, _| async {
            Err::<(), _>(HandlerError::from("no"))
        })
        .ack_first(4)
        .build()
        .unwrap();
        Request::event("e").send(&receiver).await;
        receiver.shutdown(std::time::Duration::from_secs(5)).await;
    });
    assert_eq!(counter(&metrics, REQUESTS_TOTAL, Some("processed")), 1);
    assert_eq!(counter(&metrics, BACKGROUND_FAILURES_TOTAL, None), 1);
}
