//! An inbox attempt has a time limit: a handler that never returns is
//! stopped, its attempt counted as failed, and after the last attempt its
//! entry is dead-lettered instead of holding a worker for ever.

#[path = "suite/support.rs"]
mod support;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::inbox::{EntryQuery, EntryState, RetryPolicy};
use costkatana_webhooks::{Payload, Receiver};
use costkatana_webhooks_inbox::Inbox;
use support::{Request, Started, SECRET};

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn sqlite(name: &str) -> (Inbox, TempDir) {
    let dir = std::env::temp_dir().join(format!("ckw-limits-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let inbox = Inbox::open(&format!("sqlite:{}", dir.join("inbox.db").display()))
        .await
        .unwrap();
    (inbox, TempDir(dir))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_never_returns_is_stopped_and_dead_lettered() {
    let (inbox, _dir) = sqlite("never").await;
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let receiver = Receiver::builder()
        .secret(SECRET)
        .inbox(inbox.clone())
        .retry_policy(
            RetryPolicy::default()
                .first_delay(Duration::from_millis(10))
                .max_attempts(2),
        )
        .attempt_timeout(Duration::from_secs(3600))
        .attempt_timeout_for("cost.alert", Duration::from_millis(100))
        .fallback(move |_: Payload| {
            counted.fetch_add(1, Ordering::SeqCst);
            std::future::pending()
        })
        .build()
        .started()
        .await;
    assert_eq!(
        Request::event("evt_hangs").send(&receiver).await.label(),
        "stored"
    );
    let mut dead = None;
    for _ in 0..2000 {
        let query = EntryQuery::new().state(EntryState::Dead).limit(1);
        if let Some(summary) = inbox.list(&query).await.unwrap().into_iter().next() {
            dead = Some(summary);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let dead = dead.expect("the entry reached the dead letter");
    assert_eq!(dead.attempts, 2);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    let error = dead.last_error.unwrap_or_default();
    assert!(error.contains("time limit of 100 ms"), "{error}");
    // No worker is still held by the stopped attempts.
    assert_eq!(receiver.shutdown(Duration::from_millis(100)).await, 0);
}

#[test]
fn a_zero_time_limit_or_a_lease_too_short_to_renew_is_refused() {
    let build = |builder: costkatana_webhooks::ReceiverBuilder| {
        builder
            .secret(SECRET)
            .fallback(|_: Payload| async { Ok(()) })
            .build()
            .unwrap_err()
            .to_string()
    };
    let zero = build(Receiver::builder().attempt_timeout_for("budget.*", Duration::ZERO));
    assert_eq!(
        zero,
        "the attempt time limit for budget.* must be longer than zero"
    );
    let short = build(Receiver::builder().lease(Duration::from_millis(2)));
    assert_eq!(
        short,
        "the lease (2000 µs) must be at least 3 ms: it is renewed every third of it"
    );
}
