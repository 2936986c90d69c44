//! Dead rows can be removed: a purge of done or dead rows by age and by
//! filter, a page at a time, never of pending or running rows; and a count
//! of what a query matches.

#[allow(dead_code, unreachable_pub)]
#[path = "schema/db.rs"]
mod db;
#[path = "suite/support.rs"]
mod support;
#[macro_use]
mod both;

use std::time::Duration;

use costkatana_webhooks::inbox::{EntryQuery, EntryState, InboxStore, Settlement};
use costkatana_webhooks_inbox::{Inbox, InboxErrorKind};
use db::Db;
use support::entry;

/// "Now" for the rows here.
const NOW: i64 = 1_777_377_600_000;
const DAY: i64 = 86_400_000;

/// Stores `count` rows of `event_type` named `<prefix>_<n>` and settles
/// them as `settlement` says, `age` ago.
async fn rows(
    inbox: &Inbox,
    prefix: &str,
    event_type: &str,
    count: usize,
    settlement: Option<Settlement>,
    age: i64,
) {
    let stores: Vec<_> = (0..count)
        .map(|n| {
            let inbox = inbox.clone();
            let id = format!("{prefix}_{n}");
            let event_type = event_type.to_owned();
            tokio::spawn(async move {
                inbox
                    .enqueue(entry(Some(&id), &event_type, NOW - age))
                    .await
                    .unwrap()
            })
        })
        .collect();
    for store in stores {
        store.await.unwrap();
    }
    let Some(settlement) = settlement else {
        return;
    };
    loop {
        let jobs = inbox
            .take(NOW, Duration::from_secs(3600), 1000)
            .await
            .unwrap();
        if jobs.is_empty() {
            break;
        }
        for job in &jobs {
            inbox
                .settle(job, settlement.clone(), NOW - age)
                .await
                .unwrap();
        }
    }
}

fn dead() -> Option<Settlement> {
    Some(Settlement::Dead {
        error: "refused".to_owned(),
    })
}

async fn dead_and_done_rows_are_purged_by_age_and_filter_and_nothing_else(db: &Db) {
    let inbox = Inbox::open(&db.url()).await.unwrap();
    rows(&inbox, "old_dead_alert", "cost.alert", 3, dead(), 10 * DAY).await;
    rows(&inbox, "old_dead_spike", "usage.spike", 2, dead(), 10 * DAY).await;
    rows(&inbox, "new_dead_alert", "cost.alert", 2, dead(), DAY).await;
    rows(
        &inbox,
        "old_done_alert",
        "cost.alert",
        4,
        Some(Settlement::Done),
        10 * DAY,
    )
    .await;
    rows(&inbox, "old_pending", "cost.alert", 2, None, 10 * DAY).await;
    let week_ago = NOW - 7 * DAY;

    let old_dead = EntryQuery::new()
        .state(EntryState::Dead)
        .settled_before(week_ago);
    assert_eq!(inbox.count(&old_dead).await.unwrap(), 5);
    let old_dead_alerts = old_dead.clone().event_type("cost.alert");
    assert_eq!(inbox.count(&old_dead_alerts).await.unwrap(), 3);
    assert_eq!(inbox.purge(&old_dead_alerts).await.unwrap(), 3);
    assert_eq!(inbox.count(&old_dead_alerts).await.unwrap(), 0);
    assert_eq!(inbox.count(&old_dead).await.unwrap(), 2, "the spikes stay");
    assert_eq!(inbox.purge(&old_dead).await.unwrap(), 2);

    // What is younger, done, or not settled is still there.
    let stats = inbox.stats().await.unwrap();
    assert_eq!(
        (stats.pending, stats.running, stats.done, stats.dead),
        (2, 0, 4, 2)
    );
    // Done rows by the same means; pending ones never.
    let everything_old = EntryQuery::new().settled_before(week_ago);
    assert_eq!(inbox.purge(&everything_old).await.unwrap(), 4);
    for state in [EntryState::Pending, EntryState::Running] {
        let err = inbox
            .purge(&EntryQuery::new().state(state))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), InboxErrorKind::Invalid);
        assert!(err.to_string().contains("only done or dead"), "{err}");
    }
    let stats = inbox.stats().await.unwrap();
    assert_eq!((stats.pending, stats.done, stats.dead), (2, 0, 2));
    let rest = inbox.list(&EntryQuery::new()).await.unwrap();
    assert!(rest.iter().all(
        |row| row.event_id.as_deref().unwrap().starts_with("new_dead")
            || row.event_id.as_deref().unwrap().starts_with("old_pending")
    ));
}

async fn a_purge_of_many_pages_deletes_them_all(db: &Db) {
    let inbox = Inbox::open(&db.url()).await.unwrap();
    rows(
        &inbox,
        "done",
        "cost.alert",
        1_234,
        Some(Settlement::Done),
        2 * DAY,
    )
    .await;
    rows(&inbox, "young", "cost.alert", 3, Some(Settlement::Done), 0).await;
    assert_eq!(inbox.purge_done(NOW - DAY).await.unwrap(), 1_234);
    assert_eq!(inbox.stats().await.unwrap().done, 3);
    // Dead letters are kept until purged: the done purge leaves them.
    rows(&inbox, "dead", "cost.alert", 2, dead(), 30 * DAY).await;
    assert_eq!(inbox.purge_done(NOW + 1).await.unwrap(), 3);
    assert_eq!(inbox.stats().await.unwrap().dead, 2);
}

on_both!(
    dead_and_done_rows_are_purged_by_age_and_filter_and_nothing_else,
    a_purge_of_many_pages_deletes_them_all,
);
