//! Inbox mode's life on a SQLite file: building runs no worker, `start`
//! does, and a handler can ask which entry and attempt it runs for.

#[path = "suite/support.rs"]
mod support;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use costkatana_webhooks::inbox::{EntryState, InboxStats, InboxStore, RetryPolicy};
use costkatana_webhooks::receiver::{InboxAttempt, Mode};
use costkatana_webhooks::{HandlerError, Payload, Receiver};
use costkatana_webhooks_inbox::Inbox;
use support::{eventually, Request, SECRET};

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn sqlite(name: &str) -> (Inbox, TempDir) {
    let dir = std::env::temp_dir().join(format!("ckw-life-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let inbox = Inbox::open(&format!("sqlite:{}", dir.join("inbox.db").display()))
        .await
        .unwrap();
    (inbox, TempDir(dir))
}

async fn stats(inbox: &Inbox) -> InboxStats {
    InboxStore::stats(inbox).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unstarted_receiver_stores_and_a_started_one_runs() {
    let (inbox, _dir) = sqlite("start").await;
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let seen = attempts.clone();
    let receiver = Receiver::builder()
        .secret(SECRET)
        .inbox(inbox.clone())
        .retry_policy(
            RetryPolicy::default()
                .first_delay(Duration::from_millis(10))
                .max_attempts(3),
        )
        .fallback(move |attempt: InboxAttempt, _: Payload| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(attempt);
                match attempt.attempt {
                    1 => Err(HandlerError::from("first attempt fails")),
                    _ => Ok(()),
                }
            }
        })
        .build()
        .unwrap();
    assert_eq!(receiver.mode(), Mode::Inbox);
    assert_eq!(
        Request::event("evt_waits").send(&receiver).await.label(),
        "stored"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(stats(&inbox).await.pending, 1, "no worker before start");
    assert!(attempts.lock().unwrap().is_empty());

    receiver.start().await.unwrap();
    eventually("done after a retry", || attempts.lock().unwrap().len() == 2).await;
    for _ in 0..2000 {
        if stats(&inbox).await.count(EntryState::Done) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(stats(&inbox).await.done, 1);
    let attempts = attempts.lock().unwrap().clone();
    assert_eq!(attempts[0].entry_id, attempts[1].entry_id);
    assert_eq!(
        attempts.iter().map(|a| a.attempt).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(receiver.shutdown(Duration::from_secs(5)).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dead_letter_hook_runs_once_per_dead_entry() {
    use costkatana_webhooks::receiver::DeadLetter;
    let (inbox, _dir) = sqlite("hook").await;
    let dead = Arc::new(Mutex::new(Vec::<DeadLetter>::new()));
    let seen = dead.clone();
    let receiver = Receiver::builder()
        .secret(SECRET)
        .inbox(inbox.clone())
        .retry_policy(
            RetryPolicy::default()
                .first_delay(Duration::from_millis(10))
                .max_attempts(2),
        )
        .on_dead_letter(move |letter: DeadLetter| {
            let seen = seen.clone();
            async move { seen.lock().unwrap().push(letter) }
        })
        .fallback(|payload: Payload| async move {
            match payload.event_id() {
                Some("evt_refused") => Err(HandlerError::refuse("not ours")),
                Some("evt_failing") => Err(HandlerError::from("downstream answered 500")),
                _ => Ok(()),
            }
        })
        .build()
        .unwrap();
    receiver.start().await.unwrap();
    for id in ["evt_refused", "evt_failing", "evt_fine"] {
        assert_eq!(Request::event(id).send(&receiver).await.label(), "stored");
    }
    eventually("two dead letters", || dead.lock().unwrap().len() == 2).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut dead = dead.lock().unwrap().clone();
    dead.sort_by(|a, b| a.event_id.cmp(&b.event_id));
    assert_eq!(dead.len(), 2, "once each: {dead:?}");
    assert_eq!(dead[0].event_id.as_deref(), Some("evt_failing"));
    assert_eq!(dead[0].attempts, 2);
    assert!(
        dead[0].error.contains("downstream answered 500"),
        "{:?}",
        dead[0]
    );
    assert_eq!(dead[1].event_id.as_deref(), Some("evt_refused"));
    assert_eq!(dead[1].event_type.as_deref(), Some("cost.alert"));
    assert_eq!(
        (dead[1].attempts, dead[1].error.as_str()),
        (1, "refused: not ours")
    );
    receiver.shutdown(Duration::from_secs(1)).await;

    let outside = Receiver::builder()
        .secret(SECRET)
        .on_dead_letter(|_: DeadLetter| async {})
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .unwrap_err();
    assert!(
        outside.to_string().contains("needs inbox mode"),
        "{outside}"
    );
}
