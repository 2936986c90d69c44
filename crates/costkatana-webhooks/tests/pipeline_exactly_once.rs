//! Exactly once under concurrency, retries, failures, panics and dropped
//! requests, through the framework-free receiver.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use costkatana_webhooks::receiver::HandlerError;
use costkatana_webhooks::{ManualClock, Payload};
use support::{builder, code, payload_key, Request, Runs, NOW};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_events_ten_copies_each_concurrently() {
    let clock = Arc::new(ManualClock::new(NOW));
    let runs = Runs::default();
    let handler_runs = runs.clone();
    let receiver = builder(&clock, move |payload: Payload, _| {
        let runs = handler_runs.clone();
        async move {
            // Stay in flight a while, so that copies really overlap.
            for _ in 0..20 {
                tokio::task::yield_now().await;
            }
            runs.record(&payload_key(&payload));
            Ok(())
        }
    })
    .build()
    .unwrap();

    let mut copies: Vec<Request> = (0..100)
        .flat_map(|i| std::iter::repeat_n(Request::event(&format!("evt_{i}")), 10))
        .collect();
    shuffle(&mut copies, 0x5eed);
    let tasks: Vec<_> = copies
        .into_iter()
        .map(|request| {
            let receiver = receiver.clone();
            tokio::spawn(async move { request.send(&receiver).await })
        })
        .collect();
    let mut counts = std::collections::HashMap::new();
    for task in tasks {
        let outcome = task.await.unwrap();
        let status = outcome.answer().status;
        assert!(
            matches!(
                (code(&outcome), status),
                ("processed" | "duplicate", 200) | ("in_progress", 503)
            ),
            "unexpected {outcome:?}"
        );
        *counts.entry(code(&outcome)).or_insert(0) += 1;
    }
    assert_eq!(runs.keys(), 100, "every event handled");
    assert_eq!(runs.total(), 100, "none handled twice");
    assert_eq!(counts["processed"], 100);
    assert!(
        counts.get("in_progress").copied().unwrap_or(0) > 0,
        "copies overlapped: {counts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn first_attempts_fail_and_sender_retries_deliver_each_once() {
    let clock = Arc::new(ManualClock::new(NOW));
    let runs = Runs::default();
    let attempts = Runs::default();
    let (handler_runs, handler_attempts) = (runs.clone(), attempts.clone());
    let receiver = builder(&clock, move |payload: Payload, _| {
        let (runs, attempts) = (handler_runs.clone(), handler_attempts.clone());
        async move {
            let key = payload_key(&payload);
            attempts.record(&key);
            if attempts.of(&key) == 1 {
                return Err(HandlerError::from("the first attempt fails"));
            }
            runs.record(&key);
            Ok(())
        }
    })
    .build()
    .unwrap();

    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let receiver = receiver.clone();
            tokio::spawn(async move {
                let request = Request::event(&format!("evt_{i}"));
                // The sender: the original request, resent unchanged on 5xx.
                for _ in 0..20 {
                    let outcome = request.send(&receiver).await;
                    match outcome.answer().status {
                        200 => return code(&outcome),
                        500 | 503 => tokio::task::yield_now().await,
                        other => panic!("a {other} is a permanent failure: {outcome:?}"),
                    }
                }
                panic!("not delivered after 20 attempts");
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), "processed");
    }
    assert_eq!(
        (runs.keys(), runs.total()),
        (50, 50),
        "each handled successfully exactly once"
    );
    assert!((0..50).all(|i| attempts.of(&format!("evt_{i}")) == 2));
}

#[tokio::test]
async fn an_in_flight_duplicate_is_told_to_retry() {
    let clock = Arc::new(ManualClock::new(NOW));
    let gate = Arc::new(tokio::sync::Notify::new());
    let started = Arc::new(tokio::sync::Notify::new());
    let (handler_gate, handler_started) = (gate.clone(), started.clone());
    let receiver = builder(&clock, move |_, _| {
        let (gate, started) = (handler_gate.clone(), handler_started.clone());
        async move {
            started.notify_one();
            gate.notified().await;
            Ok(())
        }
    })
    .build()
    .unwrap();
    let request = Request::event("evt_slow");
    let first = tokio::spawn({
        let (receiver, request) = (receiver.clone(), request.clone());
        async move { request.send(&receiver).await }
    });
    started.notified().await;
    let busy = request.send(&receiver).await;
    assert_eq!(code(&busy), "in_progress");
    assert_eq!(busy.answer().status, 503);
    assert_eq!(busy.answer().retry_after_secs, Some(5));
    gate.notify_one();
    assert_eq!(code(&first.await.unwrap()), "processed");
    assert_eq!(code(&request.send(&receiver).await), "duplicate");
}

#[tokio::test]
async fn a_dropped_request_releases_its_claim() {
    let clock = Arc::new(ManualClock::new(NOW));
    let calls = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(tokio::sync::Notify::new());
    let (handler_calls, handler_started) = (calls.clone(), started.clone());
    let receiver = builder(&clock, move |_, _| {
        let (calls, started) = (handler_calls.clone(), handler_started.clone());
        async move {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                started.notify_one();
                std::future::pending::<()>().await; // the client goes away meanwhile
            }
            Ok(())
        }
    })
    .build()
    .unwrap();
    let request = Request::event("evt_dropped");
    let first = tokio::spawn({
        let (receiver, request) = (receiver.clone(), request.clone());
        async move { request.send(&receiver).await }
    });
    started.notified().await;
    assert_eq!(code(&request.send(&receiver).await), "in_progress");
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    // The guard releases the claim from a spawned task; then the retry is handled.
    let mut outcome = request.send(&receiver).await;
    for _ in 0..100 {
        if code(&outcome) != "in_progress" {
            break;
        }
        tokio::task::yield_now().await;
        outcome = request.send(&receiver).await;
    }
    assert_eq!(code(&outcome), "processed");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_retry_succeeds() {
    let clock = Arc::new(ManualClock::new(NOW));
    let calls = Arc::new(AtomicUsize::new(0));
    let handler_calls = calls.clone();
    let receiver = builder(&clock, move |payload: Payload, _| {
        let calls = handler_calls.clone();
        async move {
            if payload_key(&payload) == "evt_panic" && calls.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("handler bug");
            }
            Ok(())
        }
    })
    .build()
    .unwrap();
    let request = Request::event("evt_panic");
    let failed = request.send(&receiver).await;
    assert_eq!(
        (failed.answer().status, code(&failed)),
        (500, "handler_failed")
    );
    assert!(
        !failed.answer().body.contains("handler bug"),
        "the panic message is not sent"
    );
    assert_eq!(
        code(&Request::event("evt_other").send(&receiver).await),
        "processed"
    );
    assert_eq!(code(&request.send(&receiver).await), "processed");
    assert_eq!(code(&request.send(&receiver).await), "duplicate");
}

#[tokio::test]
async fn a_panic_while_building_the_handler_future_is_caught_too() {
    let clock = Arc::new(ManualClock::new(NOW));
    let receiver = builder(
        &clock,
        |_, _| -> std::future::Ready<Result<(), HandlerError>> {
            panic!("before the future exists")
        },
    )
    .build()
    .unwrap();
    assert_eq!(
        code(&Request::event("evt_1").send(&receiver).await),
        "handler_failed"
    );
}

/// A small deterministic shuffle (xorshift), so failures reproduce.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        items.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}
