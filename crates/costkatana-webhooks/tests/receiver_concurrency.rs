//! Exactly once when copies, failures and retries all overlap: many
//! senders per event retrying concurrently, and the same flood in
//! ack-first mode.

mod support;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::receiver::{HandlerError, Receiver};
use costkatana_webhooks::{ManualClock, Outcome, Payload};
use support::{builder, code, payload_key, Request, Runs, NOW};

const EVENTS: usize = 100;
const COPIES: usize = 10;

/// A receiver whose handler yields a few times (so copies overlap), fails
/// the first attempt of every event when `fail_first`, and records each
/// success in `runs`.
fn receiver(runs: &Runs, fail_first: bool, ack_first: Option<usize>) -> Receiver {
    let clock = Arc::new(ManualClock::new(NOW));
    let (runs, attempts) = (runs.clone(), Runs::default());
    let builder = builder(&clock, move |payload: Payload, _| {
        let (runs, attempts) = (runs.clone(), attempts.clone());
        async move {
            let key = payload_key(&payload);
            attempts.record(&key);
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
            if fail_first && attempts.of(&key) == 1 {
                return Err(HandlerError::from("the first attempt fails"));
            }
            runs.record(&key);
            Ok(())
        }
    });
    match ack_first {
        Some(capacity) => builder.ack_first(capacity),
        None => builder,
    }
    .build()
    .unwrap()
}

/// The sender: resends the identical request on 5xx, a bounded number of
/// times (a bound against livelock, generous so that a worker thread the
/// OS deschedules mid-handler cannot fail the test); returns every outcome.
async fn deliver(receiver: Receiver, request: Request) -> Vec<Outcome> {
    let mut seen = Vec::new();
    for _ in 0..100_000 {
        let outcome = request.send(&receiver).await;
        let status = outcome.answer().status;
        seen.push(outcome);
        match status {
            200 => return seen,
            500 | 503 => tokio::task::yield_now().await,
            other => panic!("a {other} is a permanent failure: {seen:?}"),
        }
    }
    panic!("not delivered after 100000 attempts: {:?}", seen.last());
}

/// Every copy of every event, each from its own task, interleaved.
async fn flood(receiver: &Receiver) -> HashMap<&'static str, usize> {
    let tasks: Vec<_> = (0..COPIES)
        .flat_map(|_| 0..EVENTS)
        .map(|i| {
            let request = Request::event(&format!("evt_{i}"));
            tokio::spawn(deliver(receiver.clone(), request))
        })
        .collect();
    let mut counts = HashMap::new();
    for task in tasks {
        for outcome in task.await.unwrap() {
            *counts.entry(code(&outcome)).or_insert(0) += 1;
        }
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_copies_of_failing_events_are_each_handled_once_after_retries() {
    let runs = Runs::default();
    let receiver = receiver(&runs, true, None);
    let counts = flood(&receiver).await;
    assert_eq!(runs.keys(), EVENTS, "nothing lost");
    assert_eq!(runs.total(), EVENTS, "nothing handled successfully twice");
    assert_eq!(counts["processed"], EVENTS, "{counts:?}");
    assert_eq!(counts["handler_failed"], EVENTS, "{counts:?}");
    assert_eq!(
        counts["processed"] + counts.get("duplicate").copied().unwrap_or(0),
        EVENTS * COPIES,
        "every copy ends with a 200: {counts:?}"
    );
    let allowed = ["processed", "duplicate", "in_progress", "handler_failed"];
    assert!(counts.keys().all(|c| allowed.contains(c)), "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ack_first_runs_each_handler_once_under_a_flood_of_copies() {
    let runs = Runs::default();
    let receiver = receiver(&runs, false, Some(EVENTS * COPIES));
    let counts = flood(&receiver).await;
    assert_eq!(
        receiver.shutdown(Duration::from_secs(30)).await,
        0,
        "all handlers finished"
    );
    assert_eq!((runs.keys(), runs.total()), (EVENTS, EVENTS), "{counts:?}");
    assert_eq!(counts["processed"], EVENTS, "{counts:?}");
    let allowed = ["processed", "duplicate", "in_progress"];
    assert!(counts.keys().all(|c| allowed.contains(c)), "{counts:?}");
}

#[tokio::test]
async fn a_request_future_dropped_mid_handler_releases_its_claim() {
    let clock = Arc::new(ManualClock::new(NOW));
    let gate = Arc::new(tokio::sync::Notify::new());
    let runs = Runs::default();
    let (handler_gate, handler_runs) = (gate.clone(), runs.clone());
    let receiver = builder(&clock, move |payload: Payload, _| {
        let (gate, runs) = (handler_gate.clone(), handler_runs.clone());
        async move {
            runs.record(&payload_key(&payload));
            if runs.of(&payload_key(&payload)) == 1 {
                gate.notified().await; // never notified: the client goes away
            }
            Ok(())
        }
    })
    .build()
    .unwrap();
    let request = Request::event("evt_abandoned");

    // Poll the request once, as a server would before the client hangs up.
    let mut abandoned = Box::pin(receiver.receive("POST", &request.headers, request.body.clone()));
    let waker = std::task::Waker::noop();
    let polled = abandoned
        .as_mut()
        .poll(&mut std::task::Context::from_waker(waker));
    assert!(polled.is_pending(), "the handler is waiting");
    assert_eq!(code(&request.send(&receiver).await), "in_progress");
    drop(abandoned);

    // The release is spawned by the dropped guard: retry while it lands.
    let mut outcome = request.send(&receiver).await;
    for _ in 0..1_000 {
        if code(&outcome) != "in_progress" {
            break;
        }
        tokio::task::yield_now().await;
        outcome = request.send(&receiver).await;
    }
    assert_eq!(code(&outcome), "processed");
    assert_eq!(code(&request.send(&receiver).await), "duplicate");
    assert_eq!(runs.of("evt_abandoned"), 2);
}
