//! The one exception to the timestamp window: an authentic delivery that
//! the receiver asked the sender to replay (its original timestamp is old)
//! is let in until the ledger's deadline, and dedupe handles it once.
//! Every other stale delivery is still 401 `stale_timestamp`.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::receiver::{DeliveryKey, Known};
use costkatana_webhooks::signing::sign;
use costkatana_webhooks::{HandlerError, ManualClock, Payload, Receiver, Scheme};
use support::{Request, NOW, SECRET};

/// Two hours after the requests were signed: far outside the 300 s window.
const LATER: i64 = NOW + 2 * 3600 * 1000;
const ASKED_FOR: Duration = Duration::from_secs(3600);

/// A receiver at `LATER`, whose handler fails the first `fail` runs.
fn receiver(clock: &Arc<ManualClock>, runs: &Arc<AtomicUsize>, fail: usize) -> Receiver {
    let runs = runs.clone();
    Receiver::builder()
        .secret(SECRET)
        .secret("whsec_rotated_in")
        .clock(clock.clone())
        .fallback(move |_: Payload| {
            let run = runs.fetch_add(1, Ordering::SeqCst);
            async move {
                if run < fail {
                    return Err(HandlerError::from("downstream answered 500"));
                }
                Ok(())
            }
        })
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_stale_delivery_nobody_asked_for_is_refused() {
    let clock = Arc::new(ManualClock::new(LATER));
    let runs = Arc::new(AtomicUsize::new(0));
    let receiver = receiver(&clock, &runs, 0);
    let outcome = Request::event("evt_unasked").send(&receiver).await;
    assert_eq!(outcome.label(), "stale_timestamp");
    assert_eq!(outcome.answer().status, 401);
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_expected_replay_is_handled_once_and_survives_a_failed_attempt() {
    let clock = Arc::new(ManualClock::new(LATER));
    let runs = Arc::new(AtomicUsize::new(0));
    let receiver = receiver(&clock, &runs, 1);
    let ledger = receiver.replay_ledger();
    let key = DeliveryKey::EventId("evt_lost");
    assert!(ledger.expect_replay(key, ASKED_FOR).await.unwrap());
    assert!(
        !ledger.expect_replay(key, ASKED_FOR).await.unwrap(),
        "asked once"
    );

    let replay = Request::event("evt_lost");
    // The handler fails: 500, and the sender retries the same request.
    assert_eq!(replay.send(&receiver).await.label(), "handler_failed");
    assert_eq!(replay.send(&receiver).await.label(), "processed");
    assert_eq!(ledger.known(key).await.unwrap(), Known::Handled);
    // A later copy is a duplicate, not a second run.
    assert_eq!(replay.send(&receiver).await.label(), "duplicate");
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    // Past the ledger's deadline, a copy is stale like any other.
    clock.advance_ms(3_600_001);
    assert_eq!(replay.send(&receiver).await.label(), "stale_timestamp");
}

#[tokio::test]
async fn a_forgery_or_a_future_timestamp_gets_its_own_answer_whatever_the_ledger() {
    let clock = Arc::new(ManualClock::new(LATER));
    let runs = Arc::new(AtomicUsize::new(0));
    let receiver = receiver(&clock, &runs, 0);
    let ledger = receiver.replay_ledger();
    ledger
        .expect_replay(DeliveryKey::EventId("evt_forged"), ASKED_FOR)
        .await
        .unwrap();
    let mut forged = Request::event("evt_forged");
    forged.headers = sign(Scheme::Current, "whsec_not_ours", NOW, &forged.body);
    assert_eq!(forged.send(&receiver).await.label(), "invalid_signature");

    ledger
        .expect_replay(DeliveryKey::EventId("evt_future"), ASKED_FOR)
        .await
        .unwrap();
    let body = costkatana_webhooks::samples::sample_event(
        &costkatana_webhooks::EventType::CostAlert,
        costkatana_webhooks::samples::Shape::Camel,
        "evt_future",
        LATER,
    );
    let ahead = sign(Scheme::Current, SECRET, LATER + 3_600_000, body.as_bytes());
    let outcome = receiver.receive("POST", &ahead, body).await;
    assert_eq!(outcome.label(), "future_timestamp");
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_replay_verified_by_another_secret_or_keyed_by_its_signature_is_let_in() {
    let clock = Arc::new(ManualClock::new(LATER));
    let runs = Arc::new(AtomicUsize::new(0));
    let receiver = receiver(&clock, &runs, 0);
    let ledger = receiver.replay_ledger();

    // Signed with the second secret: its key is in that secret's namespace.
    ledger
        .expect_replay(DeliveryKey::EventId("evt_rotated"), ASKED_FOR)
        .await
        .unwrap();
    let mut rotated = Request::event("evt_rotated");
    rotated.headers = sign(Scheme::Current, "whsec_rotated_in", NOW, &rotated.body);
    assert_eq!(rotated.send(&receiver).await.label(), "processed");

    // A template body carries no event id: it is keyed by its signature.
    let template = br#""{\"text\": \"budget exceeded\"}""#.to_vec();
    let headers = sign(Scheme::Current, SECRET, NOW, &template);
    let signature = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("x-webhook-signature"))
        .map(|(_, value)| value.clone())
        .unwrap();
    let outcome = receiver.receive("POST", &headers, template.clone()).await;
    assert_eq!(outcome.label(), "stale_timestamp", "not asked for yet");
    ledger
        .expect_replay(DeliveryKey::Signature(&signature), ASKED_FOR)
        .await
        .unwrap();
    let outcome = receiver.receive("POST", &headers, template).await;
    assert_eq!(outcome.label(), "processed");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn the_ledger_tells_what_the_store_knows() {
    let clock = Arc::new(ManualClock::new(NOW));
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let held = gate.clone();
    let receiver = Receiver::builder()
        .secret(SECRET)
        .clock(clock.clone())
        .fallback(move |_: Payload| {
            let held = held.clone();
            async move {
                held.acquire().await.unwrap().forget();
                Ok(())
            }
        })
        .build()
        .unwrap();
    let ledger = receiver.replay_ledger();
    let key = DeliveryKey::EventId("evt_known");
    assert_eq!(ledger.known(key).await.unwrap(), Known::Unknown);
    let request = Request::event("evt_known");
    let running = {
        let receiver = receiver.clone();
        tokio::spawn(async move { request.send(&receiver).await })
    };
    for _ in 0..1000 {
        if ledger.known(key).await.unwrap() == Known::InProgress {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(ledger.known(key).await.unwrap(), Known::InProgress);
    gate.add_permits(1);
    assert_eq!(running.await.unwrap().label(), "processed");
    assert_eq!(ledger.known(key).await.unwrap(), Known::Handled);
    assert!(
        !ledger.remembers_after_restart(),
        "the memory store forgets"
    );
}
