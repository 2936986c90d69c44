//! The holes closed by the hardening work, one test each: every one of
//! them failed before its fix.

mod support;

use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::signing::sign;
use costkatana_webhooks::{ErrorKind, ManualClock, Scheme, Verifier};
use support::{NOW, SECRET};

const BODY: &str = r#"{"eventId":"evt_1","eventType":"cost.alert"}"#;

fn verifier() -> Verifier {
    Verifier::builder()
        .secret(SECRET)
        .clock(Arc::new(ManualClock::new(NOW)))
        .build()
        .unwrap()
}

#[test]
fn a_forgery_learns_nothing_about_the_clock() {
    for offset_ms in [400_000, -400_000, 0] {
        let forged = sign(
            Scheme::Current,
            "not the secret",
            NOW + offset_ms,
            BODY.as_bytes(),
        );
        let err = verifier().verify(&forged, BODY).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::InvalidSignature,
            "{offset_ms}: {err}"
        );
        assert!(
            !err.message().contains(" s "),
            "no times in {:?}",
            err.message()
        );
    }
}

#[test]
fn an_authentic_delivery_from_the_future_is_retried_not_refused() {
    let ahead = sign(Scheme::Documented, SECRET, NOW + 400_000, BODY.as_bytes());
    let err = verifier().verify(&ahead, BODY).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FutureTimestamp);
    let answer = err.answer();
    assert_eq!(
        answer.status, 503,
        "its retry re-sends the timestamp, which ages into the window"
    );
    assert!(answer.retry_after_secs.is_some());
    assert!(
        err.message().contains("400 s in the future"),
        "{}",
        err.message()
    );
}

#[test]
fn an_authentic_delivery_that_is_too_old_stays_refused() {
    let old = sign(Scheme::Current, SECRET, NOW - 301_000, BODY.as_bytes());
    let err = verifier().verify(&old, BODY).unwrap_err();
    assert_eq!((err.kind(), err.status()), (ErrorKind::StaleTimestamp, 401));
}

/// The reproduction: past 60 s, future 300 s, TTL 60 s, the sender's clock
/// 250 s ahead. The same request 120 s later was processed twice; such a
/// TTL is now refused, and the shortest one allowed remembers the event.
#[tokio::test]
async fn the_dedupe_memory_covers_the_whole_window() {
    let clock = Arc::new(ManualClock::new(NOW));
    let build = |ttl_secs: u64| {
        support::receiver_on(&clock)
            .past_tolerance(Duration::from_secs(60))
            .future_tolerance(Duration::from_secs(300))
            .dedupe_ttl(Duration::from_secs(ttl_secs))
            .fallback(|_: costkatana_webhooks::Payload| async { Ok(()) })
            .build()
    };
    let err = build(60).unwrap_err().to_string();
    assert!(
        err.contains("dedupe TTL (60 s) is shorter than the timestamp window (60 s past + 300 s future = 360 s)"),
        "{err}"
    );
    let receiver = build(360).unwrap();
    let body = br#"{"eventId":"evt_skewed","eventType":"cost.alert"}"#.to_vec();
    let headers = sign(Scheme::Current, SECRET, NOW + 250_000, &body);
    let send = || receiver.receive("POST", &headers, body.clone());
    assert_eq!(support::code(&send().await), "processed");
    clock.advance_ms(120_000);
    assert_eq!(support::code(&send().await), "duplicate");
}

/// A 61 s handler with a 60 s lease that nobody took over: its success is
/// recorded, so the next copy is a duplicate (it used to run again).
#[tokio::test]
async fn a_handler_that_outlives_its_lease_unchallenged_still_completes() {
    let clock = Arc::new(ManualClock::new(NOW));
    let slow_clock = clock.clone();
    let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = runs.clone();
    let receiver = support::receiver_on(&clock)
        .lease(Duration::from_secs(60))
        .fallback(move |_: costkatana_webhooks::Payload| {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            slow_clock.advance_ms(61_000); // the handler takes 61 s
            async { Ok(()) }
        })
        .build()
        .unwrap();
    let request = support::Request::event("evt_slow");
    assert_eq!(support::code(&request.send(&receiver).await), "processed");
    assert_eq!(support::code(&request.send(&receiver).await), "duplicate");
    assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// When another copy took the expired claim over, the overrun is counted
/// and the newer holder's claim is left alone.
#[tokio::test]
async fn a_taken_over_lease_is_counted_as_an_overrun() {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _guard = metrics::set_default_local_recorder(&recorder);

    let clock = Arc::new(ManualClock::new(NOW));
    let (gate, started) = (
        Arc::new(tokio::sync::Notify::new()),
        Arc::new(tokio::sync::Notify::new()),
    );
    let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (handler_gate, handler_started, counted) = (gate.clone(), started.clone(), runs.clone());
    let receiver = support::receiver_on(&clock)
        .lease(Duration::from_secs(60))
        .fallback(move |_: costkatana_webhooks::Payload| {
            let first = counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0;
            let (gate, started) = (handler_gate.clone(), handler_started.clone());
            async move {
                if first {
                    started.notify_one();
                    gate.notified().await;
                }
                Ok(())
            }
        })
        .build()
        .unwrap();
    let request = support::Request::event("evt_overrun");
    let slow = {
        let (receiver, request) = (receiver.clone(), request.clone());
        async move { request.send(&receiver).await }
    };
    let check = async {
        started.notified().await;
        clock.advance_ms(61_000);
        // The lease ended: a retry takes the claim over and completes.
        assert_eq!(support::code(&request.send(&receiver).await), "processed");
        gate.notify_one();
    };
    let (slow, ()) = tokio::join!(slow, check);
    assert_eq!(support::code(&slow), "processed");
    assert_eq!(support::code(&request.send(&receiver).await), "duplicate");
    let overruns: Vec<_> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| key.key().name() == costkatana_webhooks::receiver::LEASE_OVERRUNS_TOTAL)
        .map(|(.., value)| value)
        .collect();
    assert_eq!(overruns, [DebugValue::Counter(1)]);
}

/// Ack-first mode built in a runtime that is gone runs its handlers on the
/// runtime serving the request; it used to answer 200 and lose them.
#[test]
fn ack_first_outlives_the_runtime_it_was_built_in() {
    let clock = Arc::new(ManualClock::new(NOW));
    let (ran, done) = std::sync::mpsc::channel();
    let build_runtime = tokio::runtime::Runtime::new().unwrap();
    let receiver = build_runtime.block_on(async {
        support::receiver_on(&clock)
            .ack_first(4)
            .fallback(move |payload: costkatana_webhooks::Payload| {
                let ran = ran.clone();
                async move {
                    ran.send(payload.event_id().map(str::to_owned)).unwrap();
                    Ok(())
                }
            })
            .build()
            .unwrap()
    });
    drop(build_runtime);

    let serving = tokio::runtime::Runtime::new().unwrap();
    let outcome = serving.block_on(support::Request::event("evt_ack").send(&receiver));
    assert_eq!(support::code(&outcome), "processed");
    let handled = done.recv_timeout(Duration::from_secs(10));
    assert_eq!(handled, Ok(Some("evt_ack".to_owned())), "the handler ran");
}

/// Outside any runtime there is nowhere to run an ack-first handler: the
/// delivery is refused with a 503, never answered 200 and dropped.
#[test]
fn ack_first_outside_a_runtime_refuses_rather_than_drops() {
    let clock = Arc::new(ManualClock::new(NOW));
    let receiver = support::receiver_on(&clock)
        .ack_first(4)
        .fallback(|_: costkatana_webhooks::Payload| async { Ok(()) })
        .build()
        .unwrap();
    let request = support::Request::event("evt_nowhere");
    let outcome = poll_once(request.send(&receiver));
    let answer = outcome.answer();
    assert_eq!(
        (answer.status, support::code(&outcome)),
        (503, "overloaded")
    );
    assert!(
        answer.body.contains("none is running here"),
        "{}",
        answer.body
    );
    // Its claim was released: the sender's retry is processed.
    let outcome = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(request.send(&receiver));
    assert_eq!(support::code(&outcome), "processed");
}

/// A request future dropped outside any runtime (a process shutting down)
/// releases its claim at once on the memory store: the next copy is
/// processed, not answered 503 until the lease ends.
#[test]
fn a_claim_abandoned_outside_a_runtime_is_released() {
    let clock = Arc::new(ManualClock::new(NOW));
    let first = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let receiver = support::receiver_on(&clock)
        .fallback(move |_: costkatana_webhooks::Payload| {
            let wait = first.swap(false, std::sync::atomic::Ordering::SeqCst);
            async move {
                if wait {
                    std::future::pending::<()>().await;
                }
                Ok(())
            }
        })
        .build()
        .unwrap();
    let request = support::Request::event("evt_abandoned");
    let mut abandoned = Box::pin(request.send(&receiver));
    assert!(
        poll(abandoned.as_mut()).is_pending(),
        "the first handler waits"
    );
    assert_eq!(
        support::code(&poll_once(request.send(&receiver))),
        "in_progress"
    );
    drop(abandoned); // outside any runtime
    assert_eq!(
        support::code(&poll_once(request.send(&receiver))),
        "processed"
    );
}

fn poll<F: std::future::Future>(future: std::pin::Pin<&mut F>) -> std::task::Poll<F::Output> {
    future.poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
}

/// Polls a future that must finish at once.
fn poll_once<F: std::future::Future>(future: F) -> F::Output {
    match poll(std::pin::pin!(future)) {
        std::task::Poll::Ready(value) => value,
        std::task::Poll::Pending => panic!("expected an answer at once"),
    }
}

/// Two endpoints (different secrets) on one shared store never see each
/// other's keys: endpoint B's own `evt_1` used to be a "duplicate" of A's.
/// Replicas of one endpoint (the same secret) still share theirs, with no
/// setting, and an explicit namespace shares on purpose.
#[tokio::test]
async fn keys_are_scoped_per_endpoint_by_default() {
    let clock = Arc::new(ManualClock::new(NOW));
    let store = costkatana_webhooks::dedupe::MemoryStore::builder()
        .clock(clock.clone())
        .build();
    let endpoint = |secret: &str, namespace: Option<&str>| {
        let builder = costkatana_webhooks::Receiver::builder()
            .secret(secret)
            .clock(clock.clone())
            .store(store.clone())
            .fallback(|_: costkatana_webhooks::Payload| async { Ok(()) });
        match namespace {
            Some(namespace) => builder.namespace(namespace),
            None => builder,
        }
        .build()
        .unwrap()
    };
    let send = |receiver: &costkatana_webhooks::Receiver, secret: &str, id: &str| {
        let body = format!(r#"{{"eventId":"{id}","eventType":"cost.alert"}}"#).into_bytes();
        let headers = sign(Scheme::Current, secret, NOW, &body);
        let receiver = receiver.clone();
        async move { support::code(&receiver.receive("POST", &headers, body).await) }
    };
    let (a, b) = (endpoint("secret-a", None), endpoint("secret-b", None));
    assert_eq!(send(&a, "secret-a", "evt_1").await, "processed");
    assert_eq!(
        send(&b, "secret-b", "evt_1").await,
        "processed",
        "B's own event"
    );
    let replica = endpoint("secret-a", None);
    assert_eq!(
        send(&replica, "secret-a", "evt_1").await,
        "duplicate",
        "A's replica"
    );
    let (c, d) = (
        endpoint("secret-c", Some("shared")),
        endpoint("secret-d", Some("shared")),
    );
    assert_eq!(send(&c, "secret-c", "evt_2").await, "processed");
    assert_eq!(
        send(&d, "secret-d", "evt_2").await,
        "duplicate",
        "shared on purpose"
    );
}

/// No namespace and id pair encodes to another pair's key: namespace `a`
/// with id `b:event:c` used to equal namespace `a:event:b` with id `c`.
#[tokio::test]
async fn the_key_encoding_is_injective() {
    let clock = Arc::new(ManualClock::new(NOW));
    let store = costkatana_webhooks::dedupe::MemoryStore::builder()
        .clock(clock.clone())
        .build();
    for (namespace, id) in [
        ("a", "b:event:c"),
        ("a:event:b", "c"),
        ("a:", "event:x"),
        ("a", ":event:x"),
    ] {
        let receiver = support::receiver_on(&clock)
            .store(store.clone())
            .namespace(namespace)
            .fallback(|_: costkatana_webhooks::Payload| async { Ok(()) })
            .build()
            .unwrap();
        let body = format!(r#"{{"eventId":"{id}","eventType":"cost.alert"}}"#).into_bytes();
        let request = support::Request::raw(body);
        assert_eq!(
            support::code(&request.send(&receiver).await),
            "processed",
            "{namespace} / {id}"
        );
    }
}
