//! One request of each outcome increments `costkatana_webhook_requests_total`
//! exactly once, with that outcome's label, and handler time is recorded
//! only when a handler ran.

mod support;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use costkatana_webhooks::dedupe::{
    Claim, ClaimToken, Completion, DedupeStore, StoreError, StoreFuture,
};
use costkatana_webhooks::receiver::{HandlerError, Receiver, HANDLER_SECONDS, REQUESTS_TOTAL};
use costkatana_webhooks::signing::sign;
use costkatana_webhooks::{Error, ManualClock, Outcome, Payload, RequestBody, Scheme};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use metrics_util::MetricKind;
use support::{builder, code, payload_key, Request, NOW, SECRET};
use tokio::sync::Notify;

/// Every outcome of the status table that `receive` can produce.
const OUTCOMES: [&str; 15] = [
    "processed",
    "duplicate",
    "in_progress",
    "handler_failed",
    "refused",
    "store_unavailable",
    "overloaded",
    "missing_signature",
    "malformed_signature",
    "invalid_signature",
    "stale_timestamp",
    "future_timestamp",
    "payload_too_large",
    "method_not_allowed",
    "body_unreadable",
];

/// A body that fails after its first chunk, like a connection reset.
struct Breaks(bool);

impl RequestBody for Breaks {
    fn poll_chunk(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Error>>> {
        let first = std::mem::replace(&mut self.0, false);
        Poll::Ready(Some(if first {
            Ok(Bytes::from_static(b"{\"eventId\""))
        } else {
            Err(Error::body_failed("connection reset by peer"))
        }))
    }
}

/// A store that is never reachable.
struct DownStore;

impl DedupeStore for DownStore {
    fn claim<'a>(&'a self, _: &'a str, _: Duration) -> StoreFuture<'a, Claim> {
        Box::pin(async { Err(StoreError::new("connection refused")) })
    }

    fn complete<'a>(
        &'a self,
        _: &'a str,
        _: ClaimToken,
        _: Duration,
    ) -> StoreFuture<'a, Completion> {
        Box::pin(async { Err(StoreError::new("connection refused")) })
    }

    fn release<'a>(&'a self, _: &'a str, _: ClaimToken) -> StoreFuture<'a, ()> {
        Box::pin(async { Err(StoreError::new("connection refused")) })
    }
}

/// A receiver whose handler fails for `fail*` ids, hangs for `slow*` ids
/// (after notifying `started`), and succeeds otherwise.
fn receiver_for(outcome: &str, started: &Arc<Notify>) -> Receiver {
    let clock = Arc::new(ManualClock::new(NOW));
    let started = started.clone();
    let receiver = builder(&clock, move |payload: Payload, _| {
        let (key, started) = (payload_key(&payload), started.clone());
        async move {
            if key.starts_with("slow") {
                started.notify_one();
                std::future::pending::<()>().await;
            }
            if key.starts_with("fail") {
                return Err(HandlerError::from("downstream unavailable"));
            }
            if key.starts_with("refuse") {
                return Err(HandlerError::refuse("unknown tenant"));
            }
            Ok(())
        }
    })
    .max_body(4096);
    match outcome {
        "store_unavailable" => receiver.store(DownStore),
        "overloaded" => receiver.ack_first(1),
        _ => receiver,
    }
    .build()
    .unwrap()
}

/// Sets the scene for `outcome` (its requests are not counted), then sends
/// the one request that should end with it.
async fn one_request(outcome: &str, snapshotter: &Snapshotter) -> Outcome {
    let started = Arc::new(Notify::new());
    let receiver = receiver_for(outcome, &started);
    let event = Request::event("evt_1");
    let none: [(&str, &str); 0] = [];
    match outcome {
        "duplicate" => {
            event.send(&receiver).await;
        }
        "in_progress" | "overloaded" => {
            let (receiver, slow) = (receiver.clone(), Request::event("slow_1"));
            tokio::spawn(async move { slow.send(&receiver).await });
            started.notified().await;
        }
        _ => {}
    }
    snapshotter.snapshot(); // drains what the scene recorded
    let signed_at = |ms: i64| sign(Scheme::Current, SECRET, ms, &event.body);
    match outcome {
        "in_progress" => Request::event("slow_1").send(&receiver).await,
        "handler_failed" => Request::event("fail_1").send(&receiver).await,
        "refused" => Request::event("refuse_1").send(&receiver).await,
        "body_unreadable" => receiver.receive("POST", &event.headers, Breaks(true)).await,
        "missing_signature" => receiver.receive("POST", &none, event.body.clone()).await,
        "malformed_signature" => {
            let headers = [
                ("X-Webhook-Timestamp", NOW.to_string()),
                ("X-Webhook-Signature", "not hex".to_owned()),
            ];
            receiver.receive("POST", &headers, event.body.clone()).await
        }
        "invalid_signature" => {
            let headers = sign(Scheme::Current, "another secret", NOW, &event.body);
            receiver.receive("POST", &headers, event.body.clone()).await
        }
        "stale_timestamp" => {
            let headers = signed_at(NOW - 301_000);
            receiver.receive("POST", &headers, event.body.clone()).await
        }
        "future_timestamp" => {
            let headers = signed_at(NOW + 301_000);
            receiver.receive("POST", &headers, event.body.clone()).await
        }
        "payload_too_large" => Request::raw(vec![b' '; 4097]).send(&receiver).await,
        "method_not_allowed" => {
            receiver
                .receive("GET", &event.headers, event.body.clone())
                .await
        }
        _ => event.send(&receiver).await,
    }
}

/// (request counts by label, handler time samples) recorded by the request.
fn recorded(outcome: &'static str) -> (&'static str, Vec<(String, u64)>, usize) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let label = metrics::with_local_recorder(&recorder, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async { code(&one_request(outcome, &snapshotter).await) })
    });
    let (mut requests, mut handler_samples) = (Vec::new(), 0);
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        match (key.kind(), key.key().name(), value) {
            (MetricKind::Counter, REQUESTS_TOTAL, DebugValue::Counter(n)) => {
                let labels: Vec<_> = key
                    .key()
                    .labels()
                    .map(|l| format!("{}={}", l.key(), l.value()))
                    .collect();
                requests.push((labels.join(","), n));
            }
            (MetricKind::Histogram, HANDLER_SECONDS, DebugValue::Histogram(samples)) => {
                handler_samples += samples.len();
            }
            _ => {}
        }
    }
    requests.retain(|(_, n)| *n > 0);
    (label, requests, handler_samples)
}

#[test]
fn each_outcome_is_counted_once_with_its_label() {
    for outcome in OUTCOMES {
        let (label, requests, handler_samples) = recorded(outcome);
        assert_eq!(label, outcome, "the scene produced the wrong outcome");
        assert_eq!(
            requests,
            [(format!("outcome={outcome}"), 1)],
            "{outcome}: counted once, with its label"
        );
        let handler_ran = matches!(outcome, "processed" | "handler_failed" | "refused");
        assert_eq!(
            handler_samples,
            usize::from(handler_ran),
            "{outcome}: handler time recorded only when a handler ran"
        );
    }
}
