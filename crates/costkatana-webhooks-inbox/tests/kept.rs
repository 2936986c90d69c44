//! What a row keeps at rest: a done row only what dedupe needs (its key,
//! id, type and times), unless the inbox keeps done bodies for inspection.

#[allow(dead_code, unreachable_pub)]
#[path = "schema/db.rs"]
mod db;
#[path = "suite/support.rs"]
mod support;
#[macro_use]
mod both;

use std::time::Duration;

use costkatana_webhooks::inbox::{EntryState, InboxStore, Settlement};
use costkatana_webhooks_inbox::{Inbox, InboxErrorKind};
use db::Db;
use support::{now_ms, Request};

/// Stores a signed delivery of `id` and settles it as `settlement` says.
async fn settled(inbox: &Inbox, id: &str, settlement: Settlement) -> i64 {
    let receiver = costkatana_webhooks::Receiver::builder()
        .secret(support::SECRET)
        .inbox(inbox.clone())
        .fallback(|_: costkatana_webhooks::Payload| async { Ok(()) })
        .build()
        .unwrap();
    assert_eq!(Request::event(id).send(&receiver).await.label(), "stored");
    let job = inbox
        .take(now_ms(), Duration::from_secs(60), 1)
        .await
        .unwrap()
        .remove(0);
    inbox.settle(&job, settlement, now_ms()).await.unwrap();
    job.id
}

async fn a_done_row_keeps_its_key_not_its_body_or_headers(db: &Db) {
    let inbox = Inbox::open(&db.url()).await.unwrap();
    let done = settled(&inbox, "evt_done", Settlement::Done).await;
    let row = inbox.get(done).await.unwrap();
    assert_eq!(row.state, EntryState::Done);
    assert!(row.body.is_empty(), "{} bytes kept", row.body.len());
    assert!(row.headers.is_empty(), "{:?}", row.redacted_headers());
    assert!(row.dedupe_key.ends_with(":event:evt_done"));
    assert_eq!(
        (row.event_id.as_deref(), row.event_type.as_deref()),
        (Some("evt_done"), Some("cost.alert"))
    );
    assert!(row.settled_at_ms.is_some());
    // Not in the file or table either.
    let stored = db
        .strings("SELECT length(body) FROM costkatana_webhook_inbox WHERE event_id = 'evt_done'")
        .await;
    assert_eq!(stored, ["0"]);

    // Still a duplicate.
    let receiver = costkatana_webhooks::Receiver::builder()
        .secret(support::SECRET)
        .inbox(inbox.clone())
        .fallback(|_: costkatana_webhooks::Payload| async { Ok(()) })
        .build()
        .unwrap();
    assert_eq!(
        Request::event("evt_done").send(&receiver).await.label(),
        "duplicate"
    );

    // It cannot run again: there is nothing to run.
    let err = inbox.retry(done).await.unwrap_err();
    assert_eq!(err.kind(), InboxErrorKind::Conflict, "{err}");
    assert!(err.to_string().contains("body was not kept"), "{err}");
    assert_eq!(inbox.get(done).await.unwrap().state, EntryState::Done);

    // A dead letter keeps what it needs to run again.
    let error = "refused".to_owned();
    let dead = settled(&inbox, "evt_dead", Settlement::Dead { error }).await;
    let row = inbox.get(dead).await.unwrap();
    assert!(!row.body.is_empty() && !row.headers.is_empty());
}

async fn an_inbox_told_to_keep_done_bodies_keeps_them_and_can_replay(db: &Db) {
    let inbox = Inbox::builder(&db.url())
        .keep_done_bodies(true)
        .open()
        .await
        .unwrap();
    let done = settled(&inbox, "evt_kept", Settlement::Done).await;
    let row = inbox.get(done).await.unwrap();
    assert_eq!(row.state, EntryState::Done);
    assert!(!row.body.is_empty());
    assert!(row
        .headers
        .iter()
        .any(|(name, _)| name == "x-webhook-signature"));
    assert_eq!(inbox.retry(done).await.unwrap(), EntryState::Done);
    assert_eq!(inbox.get(done).await.unwrap().state, EntryState::Pending);
}

on_both!(
    a_done_row_keeps_its_key_not_its_body_or_headers,
    an_inbox_told_to_keep_done_bodies_keeps_them_and_can_replay,
);
