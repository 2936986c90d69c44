//! A holder whose lease ended and was taken over cannot settle the new
//! holder's claim through the receiver: not by succeeding, not by failing,
//! not by being dropped.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::receiver::{HandlerError, Receiver};
use costkatana_webhooks::{ManualClock, Outcome};
use support::{builder, code, Request, NOW};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

const LEASE_MS: i64 = 60_000;

/// How the first, overtaken holder ends.
#[derive(Clone, Copy)]
enum OldHolder {
    Succeeds,
    Fails,
    IsDropped,
}

/// A receiver whose `n`-th handler run (from 0) adds a permit to `started`,
/// then waits for a permit of `gates[n]`; run 0 fails if `fail_first`.
fn gated(
    clock: &Arc<ManualClock>,
    gates: &[Arc<Semaphore>; 2],
    started: &Arc<Semaphore>,
    fail_first: bool,
) -> Receiver {
    let (gates, started, runs) = (gates.clone(), started.clone(), AtomicUsize::new(0));
    builder(clock, move |_, _| {
        let run = runs.fetch_add(1, Ordering::SeqCst);
        started.add_permits(1);
        let gate = gates[run.min(1)].clone();
        async move {
            gate.acquire().await.unwrap().forget();
            if fail_first && run == 0 {
                return Err(HandlerError::from("the overtaken holder fails"));
            }
            Ok(())
        }
    })
    .lease(Duration::from_millis(LEASE_MS as u64))
    .build()
    .unwrap()
}

fn spawn_send(receiver: &Receiver, request: &Request) -> JoinHandle<Outcome> {
    let (receiver, request) = (receiver.clone(), request.clone());
    tokio::spawn(async move { request.send(&receiver).await })
}

/// Waits until one more handler run has started.
async fn next_start(started: &Semaphore) {
    started.acquire().await.unwrap().forget();
}

async fn overtaken(old: OldHolder) {
    let clock = Arc::new(ManualClock::new(NOW));
    let gates = [Arc::new(Semaphore::new(0)), Arc::new(Semaphore::new(0))];
    let started = Arc::new(Semaphore::new(0));
    let receiver = gated(&clock, &gates, &started, matches!(old, OldHolder::Fails));
    let request = Request::event("evt_overtaken");

    let first = spawn_send(&receiver, &request);
    next_start(&started).await;
    clock.advance_ms(LEASE_MS - 1);
    assert_eq!(code(&request.send(&receiver).await), "in_progress");
    clock.advance_ms(1);
    let second = spawn_send(&receiver, &request);
    next_start(&started).await;
    assert_eq!(
        code(&request.send(&receiver).await),
        "in_progress",
        "the second holder's claim is live"
    );

    match old {
        OldHolder::Succeeds => {
            gates[0].add_permits(1);
            // Its handler ran, so the sender sees 200; but the claim is no longer its own.
            assert_eq!(code(&first.await.unwrap()), "processed");
        }
        OldHolder::Fails => {
            gates[0].add_permits(1);
            assert_eq!(code(&first.await.unwrap()), "handler_failed");
        }
        OldHolder::IsDropped => {
            first.abort();
            assert!(first.await.unwrap_err().is_cancelled());
            // Give the guard's spawned release every chance to run.
            for _ in 0..100 {
                tokio::task::yield_now().await;
            }
        }
    }
    assert_eq!(
        code(&request.send(&receiver).await),
        "in_progress",
        "the overtaken holder did not settle the new claim"
    );
    assert_eq!(started.available_permits(), 0, "no third run");
    gates[1].add_permits(1);
    assert_eq!(code(&second.await.unwrap()), "processed");
    assert_eq!(code(&request.send(&receiver).await), "duplicate");
}

#[tokio::test]
async fn an_overtaken_holder_that_succeeds_does_not_complete_the_new_claim() {
    overtaken(OldHolder::Succeeds).await;
}

#[tokio::test]
async fn an_overtaken_holder_that_fails_does_not_release_the_new_claim() {
    overtaken(OldHolder::Fails).await;
}

// One thread: the dropped guard's spawned release runs within the yields.
#[tokio::test]
async fn an_overtaken_holder_that_is_dropped_does_not_release_the_new_claim() {
    overtaken(OldHolder::IsDropped).await;
}
