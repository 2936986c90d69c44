//! Ack-first mode: 200 once the claim is held, handlers on a bounded
//! background queue, failures released, graceful drain with a deadline.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::receiver::{HandlerError, Receiver};
use costkatana_webhooks::{ManualClock, Payload};
use support::{builder, code, payload_key, Request, NOW};
use tokio::sync::Semaphore;

/// A receiver whose handlers each wait for a permit of `gate`; ids starting
/// with `fail` fail their first run.
fn gated(gate: &Arc<Semaphore>, runs: &Arc<AtomicUsize>, capacity: usize) -> Receiver {
    let clock = Arc::new(ManualClock::new(NOW));
    let (gate, runs) = (gate.clone(), runs.clone());
    let failures = Arc::new(AtomicUsize::new(0));
    builder(&clock, move |payload: Payload, _| {
        let (gate, runs, failures) = (gate.clone(), runs.clone(), failures.clone());
        async move {
            gate.acquire().await.unwrap().forget();
            if payload_key(&payload).starts_with("fail")
                && failures.fetch_add(1, Ordering::SeqCst) == 0
            {
                return Err(HandlerError::from("downstream unavailable"));
            }
            runs.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    })
    .ack_first(capacity)
    .build()
    .unwrap()
}

/// Resends `request` while the previous copy is still settling.
async fn resend_until_taken(request: &Request, receiver: &Receiver) -> &'static str {
    for _ in 0..1000 {
        let outcome = request.send(receiver).await;
        if !matches!(code(&outcome), "in_progress" | "overloaded") {
            return code(&outcome);
        }
        tokio::task::yield_now().await;
    }
    panic!("never taken");
}

async fn until(done: impl Fn() -> bool) {
    for _ in 0..10_000 {
        if done() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("condition not reached");
}

#[tokio::test]
async fn answers_before_the_handler_runs_and_refuses_when_full() {
    let (gate, runs) = (Arc::new(Semaphore::new(0)), Arc::new(AtomicUsize::new(0)));
    let receiver = gated(&gate, &runs, 2);
    assert_eq!(
        code(&Request::event("a").send(&receiver).await),
        "processed"
    );
    assert_eq!(
        code(&Request::event("b").send(&receiver).await),
        "processed"
    );
    assert_eq!(
        runs.load(Ordering::SeqCst),
        0,
        "answered before the handlers ran"
    );
    let refused = Request::event("c");
    let outcome = refused.send(&receiver).await;
    assert_eq!(
        (outcome.answer().status, code(&outcome)),
        (503, "overloaded")
    );
    gate.add_permits(2);
    until(|| runs.load(Ordering::SeqCst) == 2).await;
    // The refused delivery's claim was released: its retry is taken now.
    assert_eq!(resend_until_taken(&refused, &receiver).await, "processed");
    assert_eq!(
        code(&Request::event("a").send(&receiver).await),
        "duplicate"
    );
    gate.add_permits(1);
    assert_eq!(
        receiver.shutdown(Duration::from_secs(5)).await,
        0,
        "drained"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_failed_background_handler_releases_its_claim() {
    let (gate, runs) = (Arc::new(Semaphore::new(0)), Arc::new(AtomicUsize::new(0)));
    let receiver = gated(&gate, &runs, 4);
    let request = Request::event("fail_1");
    assert_eq!(
        code(&request.send(&receiver).await),
        "processed",
        "acknowledged first"
    );
    assert_eq!(code(&request.send(&receiver).await), "in_progress");
    gate.add_permits(1); // the first run fails and releases its claim
    assert_eq!(
        resend_until_taken(&request, &receiver).await,
        "processed",
        "a redelivery is taken"
    );
    gate.add_permits(1);
    until(|| runs.load(Ordering::SeqCst) == 1).await;
    assert_eq!(resend_until_taken(&request, &receiver).await, "duplicate");
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_until_its_deadline_then_refuses_new_work() {
    let (gate, runs) = (Arc::new(Semaphore::new(0)), Arc::new(AtomicUsize::new(0)));
    let receiver = gated(&gate, &runs, 4);
    assert_eq!(
        code(&Request::event("stuck").send(&receiver).await),
        "processed"
    );
    // The paused clock jumps to the deadline: nothing sleeps for real.
    assert_eq!(
        receiver.shutdown(Duration::from_secs(30)).await,
        1,
        "one handler still running"
    );
    let after = Request::event("late").send(&receiver).await;
    assert_eq!((after.answer().status, code(&after)), (503, "overloaded"));
    gate.add_permits(1);
    until(|| runs.load(Ordering::SeqCst) == 1).await;
}

#[tokio::test]
async fn shutdown_without_ack_first_returns_at_once() {
    let clock = Arc::new(ManualClock::new(NOW));
    let receiver = builder(&clock, |_, _| async { Ok(()) }).build().unwrap();
    assert_eq!(receiver.shutdown(Duration::from_secs(1)).await, 0);
}
