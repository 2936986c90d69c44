//! A row that cannot be turned into a job strands only itself: `take`
//! dead-letters it, saying why, and hands out the others.

#[allow(dead_code, unreachable_pub)]
#[path = "schema/db.rs"]
mod db;
#[path = "suite/support.rs"]
mod support;
#[macro_use]
mod both;

use std::time::Duration;

use costkatana_webhooks::inbox::{EntryQuery, EntryState, InboxStore};
use costkatana_webhooks_inbox::Inbox;
use db::Db;
use support::{entry, now_ms};

async fn a_row_whose_headers_do_not_parse_is_dead_lettered_and_the_others_handed_out(db: &Db) {
    let inbox = Inbox::open(&db.url()).await.unwrap();
    for i in 0..5 {
        inbox
            .enqueue(entry(Some(&format!("evt_{i}")), "cost.alert", now_ms()))
            .await
            .unwrap();
    }
    db.execute("UPDATE costkatana_webhook_inbox SET headers = '[[\"x-webhook-sig' WHERE event_id = 'evt_2'")
        .await;

    let jobs = inbox
        .take(now_ms(), Duration::from_secs(60), 5)
        .await
        .expect("the others are handed out");
    let mut handed: Vec<u32> = jobs.iter().map(|job| job.attempt).collect();
    handed.dedup();
    assert_eq!((jobs.len(), handed), (4, vec![1]));

    let listed = inbox.list(&EntryQuery::new()).await.unwrap();
    let bad = listed
        .iter()
        .find(|row| row.event_id.as_deref() == Some("evt_2"))
        .unwrap();
    assert_eq!((bad.state, bad.attempts), (EntryState::Dead, 1));
    let why = bad.last_error.as_deref().unwrap_or_default();
    assert!(why.contains("stored headers"), "{why}");
    let running = listed
        .iter()
        .filter(|row| row.state == EntryState::Running)
        .count();
    assert_eq!(running, 4, "{listed:?}");

    // Nothing is left to take: the bad row does not come back.
    assert!(inbox
        .take(now_ms() + 120_000, Duration::from_secs(60), 5)
        .await
        .unwrap()
        .iter()
        .all(|job| job.attempt == 2));
    let again = inbox
        .list(&EntryQuery::new().state(EntryState::Dead))
        .await
        .unwrap();
    assert_eq!((again.len(), again[0].attempts), (1, 1));
}

on_both!(a_row_whose_headers_do_not_parse_is_dead_lettered_and_the_others_handed_out);
