//! The testing kit in inbox mode, on a real SQLite inbox: the answer is
//! the 200 of a stored delivery, and `settled` waits for the workers.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::inbox::{EntryState, RetryPolicy};
use costkatana_webhooks::testing::{Recorder, TestDelivery};
use costkatana_webhooks::{
    samples, Clock, Event, EventType, HandlerError, ManualClock, Payload, Receiver,
};
use costkatana_webhooks_inbox::Inbox;

const NOW: i64 = 1_777_377_600_000;

fn temp_inbox_url(name: &str) -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("ck-kit-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite:{}", dir.join("inbox.db").display());
    (dir, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_deliveries_settle_on_the_workers() {
    let (dir, url) = temp_inbox_url("settle");
    let clock = Arc::new(ManualClock::new(NOW));
    let alerts = Recorder::<Event>::new();
    // budget.warning fails its first attempt, then succeeds.
    let tries = Arc::new(AtomicU32::new(0));
    let counted = Arc::clone(&tries);
    let warnings = Recorder::<Event>::new();
    let receiver = Receiver::builder()
        .secret("whsec_kit")
        .clock(clock.clone())
        .inbox(Inbox::open(&url).await.unwrap())
        .retry_policy(
            RetryPolicy::default()
                .first_delay(Duration::from_secs(10))
                .max_attempts(3),
        )
        .on("cost.alert", alerts.handler())
        .on(
            "budget.warning",
            warnings.handler_with(move |_| match counted.fetch_add(1, Ordering::SeqCst) {
                0 => Err(HandlerError::from("downstream is down")),
                _ => Ok(()),
            }),
        )
        .on("budget.exceeded", |_: Event| async {
            Err(HandlerError::refuse("unknown tenant"))
        })
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .unwrap();

    // Stored, not yet handled: the receiver is not started.
    let alert = TestDelivery::new(samples::cost_alert());
    let answer = receiver.test().send(alert.clone()).await;
    assert_eq!((answer.status(), answer.reason()), (200, "stored"));
    assert_eq!(answer.json()["stored"], true);
    assert!(alerts.is_empty());
    // `settled` starts the workers and waits for the attempt.
    assert_eq!(answer.settled().await, Some(EntryState::Done));
    assert_eq!(alerts.len(), 1);
    // A copy is a duplicate of the stored entry; nothing runs again.
    let copy = receiver.test().send(alert).await;
    assert_eq!((copy.status(), copy.reason()), (200, "duplicate"));
    assert_eq!(copy.settled().await, Some(EntryState::Done));
    assert_eq!(alerts.len(), 1);

    // A failed attempt is retried after the policy's delay, on the clock.
    let answer = receiver
        .test()
        .send(TestDelivery::event(&EventType::BudgetWarning))
        .await;
    assert_eq!(answer.settled().await, Some(EntryState::Pending));
    assert_eq!(warnings.len(), 1);
    clock.advance_ms(10_000);
    assert_eq!(answer.settled().await, Some(EntryState::Done));
    assert_eq!(warnings.len(), 2);

    // A refusal is dead at once.
    let answer = receiver
        .test()
        .send(TestDelivery::event(&EventType::BudgetExceeded))
        .await;
    assert_eq!(answer.settled().await, Some(EntryState::Dead));

    // Rejections are never stored.
    let stale = TestDelivery::new(samples::cost_alert()).signed_at(clock.now_ms() - 301_000);
    let answer = receiver.test().send(stale).await;
    assert_eq!((answer.status(), answer.reason()), (401, "stale_timestamp"));
    assert_eq!(answer.settled().await, None);

    assert_eq!(receiver.shutdown(Duration::from_secs(5)).await, 0);
    std::fs::remove_dir_all(dir).unwrap();
}
