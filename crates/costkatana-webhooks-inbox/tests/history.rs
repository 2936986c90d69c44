//! What the inbox remembers besides its rows, on both backends: each
//! entry's attempts, attempts per minute, the replays catch-up asked for;
//! and the operations on them: delete one entry, retry by filter.

#[allow(dead_code, unreachable_pub)]
#[path = "schema/db.rs"]
mod db;
#[path = "suite/support.rs"]
mod support;
#[macro_use]
mod both;

use std::time::Duration;

use costkatana_webhooks::inbox::{EntryQuery, EntryState, InboxStore, LeasedEntry, Settlement};
use costkatana_webhooks_inbox::{AttemptOutcome, Inbox, InboxErrorKind};
use db::Db;
use support::entry;

/// "Now" for the rows here: the start of a minute.
const NOW: i64 = 1_777_377_600_000;
const LEASE: Duration = Duration::from_secs(3600);

/// Leases the one due row at `at`.
async fn take_one(inbox: &Inbox, at: i64) -> LeasedEntry {
    let mut jobs = inbox.take(at, LEASE, 10).await.unwrap();
    assert_eq!(jobs.len(), 1, "one row due at {at}");
    jobs.pop().unwrap()
}

fn retry(at_ms: i64, error: &str) -> Settlement {
    Settlement::Retry {
        at_ms,
        error: error.to_owned(),
    }
}

async fn every_attempt_is_kept_with_its_start_duration_error_and_worker(db: &Db) {
    let inbox = Inbox::builder(&db.url())
        .keep_done_bodies(true)
        .open()
        .await
        .unwrap();
    inbox
        .enqueue(entry(Some("evt_flaky"), "cost.alert", NOW))
        .await
        .unwrap();
    let first = take_one(&inbox, NOW).await;
    let long = format!("slack answered 503: {}", "x".repeat(5_000));
    inbox
        .settle(&first, retry(NOW + 1_000, &long), NOW + 40)
        .await
        .unwrap();
    let second = take_one(&inbox, NOW + 1_000).await;
    inbox
        .settle(
            &second,
            Settlement::Dead {
                error: "attempt 2 of 2 failed: timeout".into(),
            },
            NOW + 1_250,
        )
        .await
        .unwrap();
    let id = first.id;
    inbox.retry(id).await.unwrap();
    let third = take_one(&inbox, i64::MAX / 2).await;
    inbox
        .settle(&third, Settlement::Done, third.leased_at_ms + 7)
        .await
        .unwrap();

    let attempts = inbox.attempts(id).await.unwrap();
    let summary: Vec<_> = attempts
        .iter()
        .map(|a| (a.number, a.outcome, a.started_at_ms, a.duration_ms))
        .collect();
    assert_eq!(
        summary,
        [
            (1, AttemptOutcome::Retried, NOW, 40),
            (2, AttemptOutcome::Dead, NOW + 1_000, 250),
            (1, AttemptOutcome::Done, third.leased_at_ms, 7),
        ]
    );
    let kept = attempts[0].error.as_deref().unwrap();
    assert!(kept.starts_with("slack answered 503: xxx"), "{kept}");
    assert!(kept.len() < 2_100, "bounded: {} bytes", kept.len());
    assert_eq!(
        attempts[1].error.as_deref(),
        Some("attempt 2 of 2 failed: timeout")
    );
    let worker = attempts[0].worker.as_deref().unwrap();
    assert!(
        worker.ends_with(&format!(":{}", std::process::id())),
        "{worker}"
    );
    assert_eq!(attempts[2].error, None);

    // Deleted with the entry.
    assert_eq!(inbox.delete(id).await.unwrap(), EntryState::Done);
    let err = inbox.attempts(id).await.unwrap_err();
    assert_eq!(err.kind(), InboxErrorKind::NotFound);
    let left = db
        .strings("SELECT CAST(COUNT(*) AS TEXT) FROM costkatana_webhook_inbox_attempts")
        .await;
    assert_eq!(left, ["0"]);
}

async fn attempts_per_minute_count_outcomes_and_durations(db: &Db) {
    let inbox = Inbox::open(&db.url()).await.unwrap();
    for n in 0..12 {
        inbox
            .enqueue(entry(Some(&format!("evt_{n}")), "cost.alert", NOW))
            .await
            .unwrap();
    }
    let jobs = inbox.take(NOW, LEASE, 100).await.unwrap();
    assert_eq!(jobs.len(), 12);
    // Ten done in the first minute (10 ms each, one 900 ms), one retried
    // and one dead in the next.
    for (n, job) in jobs.iter().enumerate() {
        let (settlement, ended) = match n {
            0..=8 => (Settlement::Done, NOW + 10),
            9 => (Settlement::Done, NOW + 900),
            10 => (retry(NOW + 999_999, "boom"), NOW + 60_000 + 30),
            _ => (
                Settlement::Dead {
                    error: "refused".into(),
                },
                NOW + 60_000 + 30,
            ),
        };
        inbox.settle(job, settlement, ended).await.unwrap();
    }
    let minutes = inbox.activity(NOW - 60_000, NOW + 120_000).await.unwrap();
    let counts: Vec<_> = minutes
        .iter()
        .map(|m| (m.minute_ms, m.handled, m.failed, m.dead))
        .collect();
    assert_eq!(counts, [(NOW, 10, 0, 0), (NOW + 60_000, 0, 1, 1)]);
    let first = &minutes[0];
    let near = |got: Option<f64>, want: f64| (got.unwrap() - want).abs() / want < 0.08;
    assert!(near(first.p50_ms, 10.0), "{first:?}");
    assert!(near(first.p90_ms, 10.0), "{first:?}");
    assert!(near(first.p99_ms, 900.0), "{first:?}");
    assert!(near(minutes[1].p50_ms, 60_030.0), "{:?}", minutes[1]);
    // A window that holds neither minute.
    assert!(inbox
        .activity(NOW + 120_000, NOW + 180_000)
        .await
        .unwrap()
        .is_empty());
    // Another handle on the same inbox (another process) reads them too.
    let other = Inbox::connect(&db.url()).await.unwrap();
    assert_eq!(other.activity(NOW, NOW + 120_000).await.unwrap(), minutes);
}

async fn only_done_or_dead_entries_are_deleted_one_by_one(db: &Db) {
    let inbox = Inbox::open(&db.url()).await.unwrap();
    inbox
        .enqueue(entry(Some("evt_pending"), "cost.alert", NOW))
        .await
        .unwrap();
    let pending = inbox.list(&EntryQuery::new()).await.unwrap()[0].id;
    let err = inbox.delete(pending).await.unwrap_err();
    assert_eq!(err.kind(), InboxErrorKind::Conflict);
    assert!(err.to_string().contains("is pending"), "{err}");
    let job = take_one(&inbox, NOW).await;
    let err = inbox.delete(job.id).await.unwrap_err();
    assert!(err.to_string().contains("is running"), "{err}");
    inbox
        .settle(
            &job,
            Settlement::Dead {
                error: "refused".into(),
            },
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(inbox.delete(job.id).await.unwrap(), EntryState::Dead);
    let err = inbox.delete(job.id).await.unwrap_err();
    assert_eq!(err.kind(), InboxErrorKind::NotFound);
    assert_eq!(inbox.stats().await.unwrap().dead, 0);
}

async fn a_bulk_retry_queues_what_its_filter_matches_at_its_pace(db: &Db) {
    let inbox = Inbox::builder(&db.url())
        .keep_done_bodies(true)
        .open()
        .await
        .unwrap();
    for (prefix, event_type, count) in [("alert", "cost.alert", 6), ("spike", "usage.spike", 3)] {
        for n in 0..count {
            inbox
                .enqueue(entry(Some(&format!("{prefix}_{n}")), event_type, NOW))
                .await
                .unwrap();
        }
    }
    let jobs = inbox.take(NOW, LEASE, 100).await.unwrap();
    for job in &jobs {
        let dead = Settlement::Dead {
            error: "refused".into(),
        };
        inbox.settle(job, dead, NOW).await.unwrap();
    }
    let alerts = EntryQuery::new()
        .state(EntryState::Dead)
        .event_type("cost.alert");
    assert_eq!(inbox.count(&alerts).await.unwrap(), 6);
    let started = std::time::Instant::now();
    assert_eq!(inbox.retry_matching(&alerts, 20).await.unwrap(), 6);
    // Six at 20 a second: at least five gaps of 50 ms.
    assert!(started.elapsed() >= Duration::from_millis(250));
    let stats = inbox.stats().await.unwrap();
    assert_eq!((stats.pending, stats.dead), (6, 3), "the spikes stay dead");
    assert_eq!(
        inbox.retry_matching(&alerts, 20).await.unwrap(),
        0,
        "nothing dead matches now"
    );
    let err = inbox
        .retry_matching(&EntryQuery::new(), 0)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), InboxErrorKind::Invalid);
}

async fn the_replays_asked_for_are_kept_until_their_deadline(db: &Db) {
    let inbox = Inbox::open(&db.url()).await.unwrap();
    let key = "evt_lost_while_down";
    assert!(!inbox.replay_expected(key, NOW).await.unwrap());
    assert!(inbox
        .expect_replay(key, NOW, NOW + 3_600_000)
        .await
        .unwrap());
    assert!(
        !inbox
            .expect_replay(key, NOW + 1, NOW + 7_200_000)
            .await
            .unwrap(),
        "another pass asked already"
    );
    assert!(inbox.replay_expected(key, NOW + 3_599_999).await.unwrap());
    assert!(!inbox.replay_expected(key, NOW + 3_600_000).await.unwrap());
    assert!(!inbox.replay_expected("evt_other", NOW).await.unwrap());
    // Once ended, it may be asked again.
    assert!(inbox
        .expect_replay(key, NOW + 3_600_000, NOW + 7_200_000)
        .await
        .unwrap());
    // A long key (an id of any length is stored).
    let long = "k".repeat(10_000);
    assert!(inbox.expect_replay(&long, NOW, NOW + 10).await.unwrap());
    assert!(inbox.replay_expected(&long, NOW).await.unwrap());

    // What the inbox holds, by key.
    assert_eq!(inbox.state_of(key).await.unwrap(), None);
    let mut stored = entry(Some("evt_here"), "cost.alert", NOW);
    stored.dedupe_key = key.to_owned();
    inbox.enqueue(stored).await.unwrap();
    assert_eq!(
        inbox.state_of(key).await.unwrap(),
        Some(EntryState::Pending)
    );
}

async fn a_text_search_finds_ids_types_errors_and_bodies(db: &Db) {
    let inbox = Inbox::open(&db.url()).await.unwrap();
    let mut with_body = entry(Some("evt_plain"), "cost.alert", NOW);
    with_body.body = bytes::Bytes::from_static(br#"{"project":"proj_needle_42"}"#);
    inbox.enqueue(with_body).await.unwrap();
    inbox
        .enqueue(entry(Some("evt_needle_id"), "cost.alert", NOW))
        .await
        .unwrap();
    inbox
        .enqueue(entry(Some("evt_typed"), "usage.needle", NOW))
        .await
        .unwrap();
    inbox
        .enqueue(entry(Some("evt_failing"), "cost.alert", NOW))
        .await
        .unwrap();
    inbox
        .enqueue(entry(Some("evt_other"), "cost.alert", NOW))
        .await
        .unwrap();
    for job in inbox.take(NOW, LEASE, 10).await.unwrap() {
        if job.dedupe_key.ends_with("evt_failing") {
            let dead = Settlement::Dead {
                error: "slack said needle_in_error".into(),
            };
            inbox.settle(&job, dead, NOW).await.unwrap();
        } else {
            inbox
                .settle(&job, retry(NOW, "transient"), NOW)
                .await
                .unwrap();
        }
    }
    let found = |text: &str| {
        let inbox = inbox.clone();
        let query = EntryQuery::new().text(text);
        async move {
            let mut ids: Vec<String> = inbox
                .list(&query)
                .await
                .unwrap()
                .into_iter()
                .filter_map(|e| e.event_id)
                .collect();
            ids.sort();
            (ids, inbox.count(&query).await.unwrap())
        }
    };
    let (ids, count) = found("needle").await;
    assert_eq!(
        ids,
        ["evt_failing", "evt_needle_id", "evt_plain", "evt_typed"]
    );
    assert_eq!(count, 4);
    assert_eq!(found("proj_needle_42").await.0, ["evt_plain"]);
    assert_eq!(found("NEEDLE").await.1, 0, "case-sensitive");
    // With the other filters.
    let dead = EntryQuery::new().text("needle").state(EntryState::Dead);
    assert_eq!(inbox.count(&dead).await.unwrap(), 1);
}

on_both!(
    a_text_search_finds_ids_types_errors_and_bodies,
    every_attempt_is_kept_with_its_start_duration_error_and_worker,
    attempts_per_minute_count_outcomes_and_durations,
    only_done_or_dead_entries_are_deleted_one_by_one,
    a_bulk_retry_queues_what_its_filter_matches_at_its_pace,
    the_replays_asked_for_are_kept_until_their_deadline,
);
