//! Handlers whose writes commit with the done mark, on both backends: the
//! writes land once with a success, roll back with a failure (and land
//! with the retry that succeeds), with a refusal, and with an attempt
//! whose lease another worker took over; bad statements are refused when
//! made; a handle kept past its attempt is refused; and on SQLite a
//! handler holding writes never holds up an acknowledgement.

#[allow(dead_code, unreachable_pub)]
#[path = "schema/db.rs"]
mod db;
#[path = "suite/support.rs"]
mod support;
#[macro_use]
mod both;

use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::dedupe::{Completion, MemoryStore};
use costkatana_webhooks::inbox::{AttemptTransaction, EntryState, InboxStore, RetryPolicy};
use costkatana_webhooks::{Event, HandlerResult, Payload, Receiver, Shared};
use costkatana_webhooks_inbox::{Inbox, InboxErrorKind, InboxTransaction, SqlValue};
use db::Db;
use support::{entry, now_ms, Request, Runs, Started, SECRET};
use tokio::sync::Notify;

const TABLE: &str =
    "CREATE TABLE handled_events (event_id TEXT, event_type TEXT, handled_at BIGINT)";
const INSERT: &str =
    "INSERT INTO handled_events (event_id, event_type, handled_at) VALUES ($1, $2, $3)";

async fn rows_of(db: &Db, event_id: &str) -> usize {
    db.strings(&format!(
        "SELECT event_id FROM handled_events WHERE event_id = '{event_id}'"
    ))
    .await
    .len()
}

async fn open(db: &Db) -> Inbox {
    let inbox = Inbox::open(&db.url()).await.unwrap();
    db.execute(TABLE).await;
    inbox
}

/// Writes the event, then fails while `fail-<n>-…` ids have failures
/// left and refuses `refuse-…` ids: after its write, each time.
async fn record(event: Event, tx: InboxTransaction, Shared(runs): Shared<Runs>) -> HandlerResult {
    let id = event.id.clone().unwrap_or_default();
    let run = runs.record(&id);
    tx.execute(
        INSERT,
        &[
            id.as_str().into(),
            event.event_type.as_str().into(),
            now_ms().into(),
        ],
    )
    .await?;
    support::scripted(&id, run)
}

async fn receiver(inbox: &Inbox, runs: &Runs) -> Receiver {
    Receiver::builder()
        .secret(SECRET)
        .inbox(inbox.clone())
        .retry_policy(
            RetryPolicy::default()
                .first_delay(Duration::from_millis(20))
                .max_attempts(3),
        )
        .share(runs.clone())
        .on("cost.alert", record)
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .started()
        .await
}

async fn until_state(inbox: &Inbox, id: &str, state: EntryState) {
    for _ in 0..2000 {
        let rows = inbox
            .list(&costkatana_webhooks::inbox::EntryQuery::new())
            .await
            .unwrap();
        if rows
            .iter()
            .any(|r| r.event_id.as_deref() == Some(id) && r.state == state)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{id} never reached {state}");
}

async fn writes_commit_once_with_success_and_roll_back_with_failure(db: &Db) {
    let inbox = open(db).await;
    let runs = Runs::default();
    let receiver = receiver(&inbox, &runs).await;
    for id in ["evt_ok", "fail-2-evt", "refuse-evt"] {
        let request = Request::event(id);
        assert_eq!(request.send(&receiver).await.label(), "stored");
        assert_eq!(request.send(&receiver).await.label(), "duplicate");
    }
    until_state(&inbox, "evt_ok", EntryState::Done).await;
    until_state(&inbox, "fail-2-evt", EntryState::Done).await;
    until_state(&inbox, "refuse-evt", EntryState::Dead).await;
    receiver.shutdown(Duration::from_secs(5)).await;
    assert_eq!(rows_of(db, "evt_ok").await, 1);
    // Three runs, each wrote: only the one that succeeded committed.
    assert_eq!(runs.of("fail-2-evt"), 3);
    assert_eq!(rows_of(db, "fail-2-evt").await, 1);
    // Refused after writing: nothing committed.
    assert_eq!(runs.of("refuse-evt"), 1);
    assert_eq!(rows_of(db, "refuse-evt").await, 0);
}

async fn an_attempt_overtaken_by_another_worker_commits_nothing(db: &Db) {
    let inbox = open(db).await;
    inbox
        .enqueue(entry(Some("evt_slow"), "cost.alert", now_ms()))
        .await
        .unwrap();
    let lease = Duration::from_millis(300);
    let t0 = now_ms();
    let first = inbox.take(t0, lease, 1).await.unwrap().pop().unwrap();
    let slow = inbox.begin_transaction(&first).unwrap();
    let slow_tx = handle(slow.as_ref());
    slow_tx
        .execute(INSERT, &["evt_slow".into(), "first".into(), 1.into()])
        .await
        .unwrap();
    // The lease ends; a second worker takes the entry over and commits.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let second = inbox
        .take(t0 + 400, lease, 1)
        .await
        .unwrap()
        .pop()
        .expect("the ended lease is taken over");
    assert_eq!(second.attempt, 2);
    let fast = inbox.begin_transaction(&second).unwrap();
    handle(fast.as_ref())
        .execute(INSERT, &["evt_slow".into(), "second".into(), 2.into()])
        .await
        .unwrap();
    assert_eq!(
        fast.commit_done(&second, now_ms()).await.unwrap(),
        Completion::Recorded
    );
    // The first finishes late: its writes roll back.
    assert_eq!(
        slow.commit_done(&first, now_ms()).await.unwrap(),
        Completion::Overtaken
    );
    let kept = db
        .strings("SELECT event_type FROM handled_events WHERE event_id = 'evt_slow'")
        .await;
    assert_eq!(kept, ["second"]);
    assert_eq!(inbox.stats().await.unwrap().done, 1);
    // Its handle is dead now.
    let err = slow_tx
        .execute(INSERT, &["evt_slow".into(), "late".into(), 3.into()])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), InboxErrorKind::Conflict);
}

/// The handler's argument, as a worker hands it over.
fn handle(attempt: &dyn AttemptTransaction) -> InboxTransaction {
    costkatana_webhooks_inbox::testing::transaction_of(attempt)
}

async fn bad_statements_are_refused_when_made(db: &Db) {
    let inbox = open(db).await;
    inbox
        .enqueue(entry(Some("evt_bad"), "cost.alert", now_ms()))
        .await
        .unwrap();
    let job = inbox
        .take(now_ms(), Duration::from_secs(60), 1)
        .await
        .unwrap()
        .pop()
        .unwrap();
    let attempt = inbox.begin_transaction(&job).unwrap();
    let tx = handle(attempt.as_ref());
    let err = tx
        .execute("INSERT INTO no_such_table VALUES ($1)", &[1.into()])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), InboxErrorKind::Invalid);
    assert!(err.to_string().contains("no_such_table"), "{err}");
    if db.is_sqlite() {
        let err = tx.execute(INSERT, &["evt_bad".into()]).await.unwrap_err();
        assert!(err.to_string().contains("3 placeholders"), "{err}");
    } else {
        // On Postgres the failed statement ended the transaction: the
        // attempt cannot commit, and is retried.
        assert!(attempt.commit_done(&job, now_ms()).await.is_err());
        return;
    }
    tx.execute(INSERT, &["evt_bad".into(), SqlValue::Null, 7.into()])
        .await
        .unwrap();
    assert_eq!(
        attempt.commit_done(&job, now_ms()).await.unwrap(),
        Completion::Recorded
    );
    assert_eq!(rows_of(db, "evt_bad").await, 1);
}

async fn a_slow_handler_holding_writes_does_not_hold_up_acknowledgements(db: &Db) {
    let inbox = open(db).await;
    let release = Arc::new(Notify::new());
    let written = Arc::new(Notify::new());
    let (hold, wrote) = (Arc::clone(&release), Arc::clone(&written));
    let receiver = Receiver::builder()
        .secret(SECRET)
        .inbox(inbox.clone())
        .on("cost.alert", move |event: Event, tx: InboxTransaction| {
            let (hold, wrote) = (Arc::clone(&hold), Arc::clone(&wrote));
            async move {
                let id = event.id.clone().unwrap_or_default();
                tx.execute(INSERT, &[id.into(), "held".into(), 0.into()])
                    .await?;
                if event.id.as_deref() == Some("evt_held") {
                    wrote.notify_one();
                    hold.notified().await;
                }
                HandlerResult::Ok(())
            }
        })
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .started()
        .await;
    assert_eq!(
        Request::event("evt_held").send(&receiver).await.label(),
        "stored"
    );
    written.notified().await;
    // With the held handler's transaction open, other deliveries are
    // stored (on Postgres, other connections) and handled.
    for n in 0..5 {
        let sent = tokio::time::timeout(
            Duration::from_secs(20),
            Request::event(&format!("evt_next_{n}")).send(&receiver),
        )
        .await
        .expect("an acknowledgement while a handler holds writes");
        assert_eq!(sent.label(), "stored");
    }
    until_state(&inbox, "evt_next_4", EntryState::Done).await;
    release.notify_one();
    until_state(&inbox, "evt_held", EntryState::Done).await;
    receiver.shutdown(Duration::from_secs(5)).await;
    assert_eq!(rows_of(db, "evt_held").await, 1);
    assert_eq!(rows_of(db, "evt_next_4").await, 1);
}

on_both!(
    writes_commit_once_with_success_and_roll_back_with_failure,
    an_attempt_overtaken_by_another_worker_commits_nothing,
    bad_statements_are_refused_when_made,
    a_slow_handler_holding_writes_does_not_hold_up_acknowledgements,
);

#[test]
fn a_transactional_handler_needs_an_inbox() {
    let err = Receiver::builder()
        .secret(SECRET)
        .store(MemoryStore::default())
        .on("cost.alert", |_: Event, _: InboxTransaction| async {
            Ok(())
        })
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("InboxTransaction"), "{err}");
}
