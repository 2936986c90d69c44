//! The inbox's behaviour, the same on every backend: each test takes a
//! freshly opened, empty inbox.

#![allow(dead_code, unreachable_pub)]

pub mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::dedupe::Completion;
use costkatana_webhooks::inbox::{
    EntryQuery, EntryState, EntrySummary, InboxStore, RetryPolicy, Settlement,
};
use costkatana_webhooks::{Event, Outcome, Receiver, ReceiverBuilder};
use costkatana_webhooks_inbox::{Inbox, InboxErrorKind};
use support::{entry, eventually, now_ms, scripted, Request, Runs, Started, SECRET};
use tokio::sync::Semaphore;

/// Fast retries, so the suite does not wait out the default backoff.
pub fn policy() -> RetryPolicy {
    RetryPolicy::default()
        .first_delay(Duration::from_millis(20))
        .max_attempts(3)
}

pub fn builder(inbox: &Inbox) -> ReceiverBuilder {
    Receiver::builder()
        .secret(SECRET)
        .inbox(inbox.clone())
        .retry_policy(policy())
}

/// Handlers that count their runs; `fail-<n>-…` ids fail their first n
/// runs, `refuse-…` ids are refused.
pub async fn counting(inbox: &Inbox, runs: &Runs) -> Receiver {
    counting_builder(inbox, runs).build().started().await
}

fn counting_builder(inbox: &Inbox, runs: &Runs) -> ReceiverBuilder {
    let runs = runs.clone();
    builder(inbox).fallback(move |payload: costkatana_webhooks::Payload| {
        let runs = runs.clone();
        async move {
            let id = payload.event_id().unwrap_or_default().to_owned();
            let run = runs.record(&id);
            scripted(&id, run)
        }
    })
}

/// A receiver that stores deliveries but is never started, so no worker
/// runs and the test drives the store by hand.
pub async fn stopped(inbox: &Inbox) -> Receiver {
    counting_builder(inbox, &Runs::default()).build().unwrap()
}

async fn state_of(inbox: &Inbox, event_id: &str) -> Option<EntryState> {
    let rows = inbox.list(&EntryQuery::new().limit(1000)).await.unwrap();
    rows.into_iter()
        .find(|r| r.event_id.as_deref() == Some(event_id))
        .map(|r| r.state)
}

/// Waits up to 20 s for `event_id`'s row to reach `state`.
async fn until_state(inbox: &Inbox, event_id: &str, state: EntryState) {
    for _ in 0..2000 {
        if state_of(inbox, event_id).await == Some(state) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{event_id} never became {state}");
}

pub async fn acknowledged_only_once_stored_then_handled(inbox: Inbox) {
    let runs = Runs::default();
    let receiver = counting(&inbox, &runs).await;
    let outcome = Request::event("evt_one").send(&receiver).await;
    assert_eq!(outcome.label(), "stored");
    assert_eq!(outcome.answer().status, 200);
    assert!(outcome.answer().body.contains(r#""stored":true"#));
    eventually("the handler ran", || runs.of("evt_one") == 1).await;
    until_state(&inbox, "evt_one", EntryState::Done).await;
}

pub async fn the_stored_row_keeps_body_headers_key_and_arrival(inbox: Inbox) {
    let receiver = stopped(&inbox).await;
    let request = Request::event("evt_kept");
    let before = now_ms();
    assert_eq!(request.send(&receiver).await.label(), "stored");
    let listed = inbox
        .list(&EntryQuery::new().limit(10))
        .await
        .unwrap()
        .remove(0);
    let record = inbox.get(listed.id).await.unwrap();
    assert_eq!(record.event_id.as_deref(), Some("evt_kept"));
    assert_eq!(record.event_type.as_deref(), Some("cost.alert"));
    assert_eq!(record.body, request.body);
    assert!(
        record.dedupe_key.ends_with(":event:evt_kept"),
        "{}",
        record.dedupe_key
    );
    assert!(record.received_at_ms >= before && record.received_at_ms <= now_ms());
    let names: Vec<&str> = record.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"x-webhook-signature") && names.contains(&"x-webhook-timestamp"));
    assert!(names.contains(&"authorization"));
    let shown = record.redacted_headers();
    let auth = shown.iter().find(|(n, _)| n == "authorization").unwrap();
    assert_eq!(auth.1, "[redacted]");
    let again = inbox.get(record.id).await.unwrap();
    assert_eq!(
        (again.body, again.headers),
        (record.body.clone(), record.headers.clone())
    );
    assert!(!format!("{record:?}").contains("inbox-suite-token"));
}

pub async fn duplicates_are_200_while_pending_running_and_done(inbox: Inbox) {
    let gate = Arc::new(Semaphore::new(0));
    let runs = Runs::default();
    let (held, counted) = (gate.clone(), runs.clone());
    let receiver = builder(&inbox)
        .on("cost.alert", move |event: Event| {
            let (held, counted) = (held.clone(), counted.clone());
            async move {
                counted.record(event.id.as_deref().unwrap_or_default());
                held.acquire().await.unwrap().forget();
                Ok(())
            }
        })
        .fallback(|_: costkatana_webhooks::Payload| async { Ok(()) })
        .build()
        .started()
        .await;
    let request = Request::event("evt_dup");
    assert_eq!(request.send(&receiver).await.label(), "stored");
    eventually("the handler started", || runs.of("evt_dup") == 1).await;
    assert_eq!(state_of(&inbox, "evt_dup").await, Some(EntryState::Running));
    let running_copy = request.send(&receiver).await;
    assert_eq!(running_copy.label(), "duplicate");
    assert_eq!(running_copy.answer().status, 200);
    gate.add_permits(1);
    until_state(&inbox, "evt_dup", EntryState::Done).await;
    assert_eq!(state_of(&inbox, "evt_dup").await, Some(EntryState::Done));
    assert_eq!(request.send(&receiver).await.label(), "duplicate");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(runs.of("evt_dup"), 1);
}

pub async fn failures_retry_with_backoff_until_done(inbox: Inbox) {
    let runs = Runs::default();
    let receiver = counting(&inbox, &runs).await;
    assert_eq!(
        Request::event("fail-2-evt").send(&receiver).await.label(),
        "stored"
    );
    eventually("three runs", || runs.of("fail-2-evt") == 3).await;
    until_state(&inbox, "fail-2-evt", EntryState::Done).await;
    let record = inbox
        .list(&EntryQuery::new().limit(10))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(record.state, EntryState::Done);
    assert_eq!(record.attempts, 3);
    assert_eq!(runs.of("fail-2-evt"), 3);
}

pub async fn the_last_failure_dead_letters_and_retry_dead_brings_it_back(inbox: Inbox) {
    let runs = Runs::default();
    let receiver = counting(&inbox, &runs).await;
    // Fails 4 times; the policy allows 3 attempts.
    assert_eq!(
        Request::event("fail-4-evt").send(&receiver).await.label(),
        "stored"
    );
    eventually("three runs", || runs.of("fail-4-evt") == 3).await;
    until_state(&inbox, "fail-4-evt", EntryState::Dead).await;
    let dead = inbox
        .list(&EntryQuery::new().state(EntryState::Dead).limit(10))
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("attempt 3 of 3"),
        "{:?}",
        dead[0].last_error
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(runs.of("fail-4-evt"), 3, "no attempt after the dead letter");
    // A duplicate of a dead letter is stored already: 200, not run.
    assert_eq!(
        Request::event("fail-4-evt").send(&receiver).await.label(),
        "duplicate"
    );
    assert_eq!(inbox.retry_dead().await.unwrap(), 1);
    eventually("run again after retry_dead", || runs.of("fail-4-evt") == 4).await;
    until_state(&inbox, "fail-4-evt", EntryState::Done).await;
    assert_eq!(state_of(&inbox, "fail-4-evt").await, Some(EntryState::Done));
}

pub async fn a_refusal_dead_letters_at_once(inbox: Inbox) {
    let runs = Runs::default();
    let receiver = counting(&inbox, &runs).await;
    assert_eq!(
        Request::event("refuse-evt").send(&receiver).await.label(),
        "stored"
    );
    until_state(&inbox, "refuse-evt", EntryState::Dead).await;
    let record = inbox
        .list(&EntryQuery::new().limit(10))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(record.state, EntryState::Dead);
    assert_eq!(record.attempts, 1);
    assert!(record.last_error.unwrap().contains("refused"));
    assert_eq!(runs.of("refuse-evt"), 1);
    // retry() of one row works too.
    assert_eq!(inbox.retry(record.id).await.unwrap(), EntryState::Dead);
    eventually("run again after retry", || runs.of("refuse-evt") == 2).await;
}

pub async fn shutdown_gives_running_rows_back_for_the_next_process(inbox: Inbox) {
    let started = Arc::new(AtomicUsize::new(0));
    let counter = started.clone();
    let stuck = builder(&inbox)
        .fallback(move |_: costkatana_webhooks::Payload| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                std::future::pending::<()>().await;
                Ok(())
            }
        })
        .build()
        .started()
        .await;
    assert_eq!(
        Request::event("evt_stuck").send(&stuck).await.label(),
        "stored"
    );
    eventually("the handler started", || {
        started.load(Ordering::SeqCst) == 1
    })
    .await;
    assert_eq!(stuck.shutdown(Duration::from_millis(100)).await, 1);
    let record = inbox
        .list(&EntryQuery::new().limit(10))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(record.state, EntryState::Pending);
    // A cut attempt counts, so a handler that never returns reaches the
    // dead letter instead of coming back at every restart.
    assert_eq!(record.attempts, 1, "the cut attempt is counted");
    assert!(
        record
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("cut by the receiver's shutdown")),
        "{:?}",
        record.last_error
    );
    drop(stuck);
    let runs = Runs::default();
    let _next = counting(&inbox, &runs).await;
    eventually("the next receiver ran it", || runs.of("evt_stuck") == 1).await;
}

pub async fn an_ended_lease_is_taken_over_and_the_old_worker_cannot_settle(inbox: Inbox) {
    let receiver = stopped(&inbox).await;
    assert_eq!(
        Request::event("evt_lease").send(&receiver).await.label(),
        "stored"
    );
    let now = now_ms();
    let first = inbox
        .take(now, Duration::from_millis(500), 10)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].attempt, 1);
    assert!(
        inbox
            .take(now + 10, Duration::from_secs(60), 10)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    // Postgres judges leases by its own clock, not the caller's: the
    // lease must really end.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let second = inbox
        .take(now + 510, Duration::from_secs(60), 10)
        .await
        .unwrap();
    assert_eq!(second.len(), 1, "taken over after the lease");
    assert_eq!(second[0].attempt, 2);
    let late = inbox
        .settle(&first[0], Settlement::Done, now + 70)
        .await
        .unwrap();
    assert_eq!(late, Completion::Overtaken);
    let owner = inbox
        .settle(&second[0], Settlement::Done, now + 80)
        .await
        .unwrap();
    assert_eq!(owner, Completion::Recorded);
}

pub async fn a_settlement_written_twice_is_recorded_twice_and_changes_nothing(inbox: Inbox) {
    let receiver = stopped(&inbox).await;
    assert_eq!(
        Request::event("evt_twice").send(&receiver).await.label(),
        "stored"
    );
    let job = inbox
        .take(now_ms(), Duration::from_secs(60), 1)
        .await
        .unwrap()
        .remove(0);
    // A lost reply: the worker writes the same settlement again.
    for _ in 0..2 {
        let written = inbox
            .settle(&job, Settlement::Release, now_ms())
            .await
            .unwrap();
        assert_eq!(written, Completion::Recorded);
    }
    let record = inbox.get(job.id).await.unwrap();
    assert_eq!((record.state, record.attempts), (EntryState::Pending, 0));
    let job = inbox
        .take(now_ms(), Duration::from_secs(60), 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(job.attempt, 1);
    for _ in 0..2 {
        let written = inbox
            .settle(&job, Settlement::Done, now_ms())
            .await
            .unwrap();
        assert_eq!(written, Completion::Recorded);
    }
    let record = inbox.get(job.id).await.unwrap();
    assert_eq!((record.state, record.attempts), (EntryState::Done, 1));
}

pub async fn a_handler_slower_than_its_lease_keeps_its_row(inbox: Inbox) {
    let runs = Runs::default();
    let slow = |runs: Runs| {
        builder(&inbox)
            .lease(Duration::from_millis(300))
            .fallback(move |payload: costkatana_webhooks::Payload| {
                let runs = runs.clone();
                async move {
                    runs.record(payload.event_id().unwrap_or_default());
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                    Ok(())
                }
            })
            .build()
    };
    // Two receivers on one inbox: the idle one would take the row over
    // if the lease were not renewed while the handler runs.
    let first = slow(runs.clone()).started().await;
    let _second = slow(runs.clone()).started().await;
    assert_eq!(
        Request::event("evt_slow").send(&first).await.label(),
        "stored"
    );
    until_state(&inbox, "evt_slow", EntryState::Done).await;
    assert_eq!(runs.of("evt_slow"), 1);
    let record = inbox
        .list(&EntryQuery::new().limit(1))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(record.attempts, 1);
}

pub async fn done_rows_are_purged_after_their_age_and_the_key_is_new_again(inbox: Inbox) {
    let runs = Runs::default();
    let receiver = counting(&inbox, &runs).await;
    let request = Request::event("evt_purged");
    request.send(&receiver).await;
    eventually("handled", || runs.of("evt_purged") == 1).await;
    until_state(&inbox, "evt_purged", EntryState::Done).await;
    assert_eq!(
        inbox.purge_done(now_ms() - 3_600_000).await.unwrap(),
        0,
        "too young"
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(inbox.purge_done(now_ms() - 1).await.unwrap(), 1);
    assert_eq!(inbox.stats().await.unwrap().done, 0);
    assert_eq!(request.send(&receiver).await.label(), "stored");
    eventually("handled again", || runs.of("evt_purged") == 2).await;
}

pub async fn stats_count_rows_per_state(inbox: Inbox) {
    let receiver = stopped(&inbox).await;
    let before = now_ms();
    for id in ["a", "b", "c"] {
        assert_eq!(Request::event(id).send(&receiver).await.label(), "stored");
    }
    let stats = inbox.stats().await.unwrap();
    assert_eq!(
        (stats.pending, stats.running, stats.done, stats.dead),
        (3, 0, 0, 0)
    );
    assert!(stats.oldest_pending_ms.unwrap() >= before);
    let jobs = inbox
        .take(now_ms(), Duration::from_secs(60), 2)
        .await
        .unwrap();
    inbox
        .settle(&jobs[0], Settlement::Done, now_ms())
        .await
        .unwrap();
    inbox
        .settle(&jobs[1], Settlement::Dead { error: "x".into() }, now_ms())
        .await
        .unwrap();
    let stats = inbox.stats().await.unwrap();
    assert_eq!(
        (stats.pending, stats.running, stats.done, stats.dead),
        (1, 0, 1, 1)
    );
}

pub async fn many_deliveries_at_once_are_each_stored_and_handled_once(inbox: Inbox) {
    let runs = Runs::default();
    let receiver = counting(&inbox, &runs).await;
    let requests: Vec<Request> = (0..200)
        .map(|i| Request::event(&format!("evt_{i}")))
        .collect();
    let mut sends = Vec::new();
    for request in requests.iter().chain(requests.iter()) {
        let (request, receiver) = (request.clone(), receiver.clone());
        sends.push(tokio::spawn(async move { request.send(&receiver).await }));
    }
    let mut labels = std::collections::HashMap::<&str, usize>::new();
    for send in sends {
        let outcome: Outcome = send.await.unwrap();
        *labels.entry(outcome.label()).or_default() += 1;
    }
    assert_eq!(labels.get("stored"), Some(&200), "{labels:?}");
    assert_eq!(labels.get("duplicate"), Some(&200), "{labels:?}");
    eventually("all handled", || runs.total() == 200).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(runs.total(), 200);
}

/// The event ids of `rows`, in their order (`-` for none).
fn ids(rows: &[EntrySummary]) -> Vec<&str> {
    rows.iter()
        .map(|r| r.event_id.as_deref().unwrap_or("-"))
        .collect()
}

pub async fn listings_apply_every_filter_and_page_through_the_cursor(inbox: Inbox) {
    let t = now_ms() - 100_000;
    let stored = [
        (Some("evt_a1"), "cost.alert", t),
        (Some("evt_a2"), "budget.exceeded", t + 10),
        (Some("other_1"), "cost.alert", t + 20),
        (Some("evt_b1"), "cost.alert", t + 30),
        (Some("evt_"), "usage.spike", t + 40),
        (Some("evta_1"), "cost.alert", t + 50),
        (None, "cost.alert", t + 60),
        (Some("évt_1"), "cost.alert", t + 70),
    ];
    for (id, event_type, at) in stored {
        inbox.enqueue(entry(id, event_type, at)).await.unwrap();
    }
    // The oldest becomes a dead letter.
    for job in inbox
        .take(t + 5, Duration::from_secs(60), 10)
        .await
        .unwrap()
    {
        let error = "refused".to_owned();
        inbox
            .settle(&job, Settlement::Dead { error }, t + 5)
            .await
            .unwrap();
    }
    let list = |query: EntryQuery| {
        let inbox = inbox.clone();
        async move { inbox.list(&query).await.unwrap() }
    };
    let all = list(EntryQuery::new()).await;
    assert_eq!(
        ids(&all),
        ["évt_1", "-", "evta_1", "evt_", "evt_b1", "other_1", "evt_a2", "evt_a1"]
    );
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");

    let dead = list(EntryQuery::new().state(EntryState::Dead)).await;
    assert_eq!(ids(&dead), ["evt_a1"]);
    let pending = list(EntryQuery::new().state(EntryState::Pending)).await;
    assert_eq!(pending.len(), 7);
    let budget = list(EntryQuery::new().event_type("budget.exceeded")).await;
    assert_eq!(ids(&budget), ["evt_a2"]);
    let since = list(EntryQuery::new().received_since(t + 50)).await;
    assert_eq!(ids(&since), ["évt_1", "-", "evta_1"]);
    let before = list(EntryQuery::new().received_before(t + 20)).await;
    assert_eq!(ids(&before), ["evt_a2", "evt_a1"]);
    let window = list(
        EntryQuery::new()
            .received_since(t + 10)
            .received_before(t + 40),
    )
    .await;
    assert_eq!(ids(&window), ["evt_b1", "other_1", "evt_a2"]);
    let prefixed = list(EntryQuery::new().event_id_prefix("evt_")).await;
    assert_eq!(ids(&prefixed), ["evt_", "evt_b1", "evt_a2", "evt_a1"]);
    let accented = list(EntryQuery::new().event_id_prefix("év")).await;
    assert_eq!(ids(&accented), ["évt_1"]);
    let one_id = list(EntryQuery::new().event_id_prefix("evt_b1")).await;
    assert_eq!(ids(&one_id), ["evt_b1"]);
    let combined = EntryQuery::new()
        .event_id_prefix("evt_")
        .event_type("cost.alert")
        .state(EntryState::Pending);
    assert_eq!(ids(&list(combined).await), ["evt_b1"]);
    let below = list(EntryQuery::new().before_id(all[3].id)).await;
    assert_eq!(ids(&below), ids(&all[4..]));
    assert_eq!(list(EntryQuery::new().limit(3)).await, all[..3]);

    // Page by page through the cursor: every entry once, in order.
    let mut query = EntryQuery::new().limit(3);
    let mut paged = Vec::new();
    loop {
        let page = list(query.clone()).await;
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        query = query.before_id(last.id);
        paged.extend(page);
    }
    assert_eq!(paged, all);
    // The same with a filter.
    let mut query = EntryQuery::new().event_type("cost.alert").limit(2);
    let mut paged = Vec::new();
    loop {
        let page = list(query.clone()).await;
        let Some(last) = page.last() else { break };
        query = query.before_id(last.id);
        paged.extend(page);
    }
    assert_eq!(
        ids(&paged),
        ["évt_1", "-", "evta_1", "evt_b1", "other_1", "evt_a1"]
    );
}

pub async fn get_and_retry_say_what_is_wrong_by_kind(inbox: Inbox) {
    let missing = inbox.get(999_999).await.unwrap_err();
    assert_eq!(missing.kind(), InboxErrorKind::NotFound);
    assert!(
        missing.to_string().contains("no inbox row with id 999999"),
        "{missing}"
    );
    let missing = inbox.retry(999_999).await.unwrap_err();
    assert_eq!(missing.kind(), InboxErrorKind::NotFound);

    inbox
        .enqueue(entry(Some("evt_retry"), "cost.alert", now_ms()))
        .await
        .unwrap();
    let job = inbox
        .take(now_ms(), Duration::from_secs(60), 1)
        .await
        .unwrap()
        .remove(0);
    let running = inbox.retry(job.id).await.unwrap_err();
    assert_eq!(running.kind(), InboxErrorKind::Conflict);
    assert!(running.to_string().contains("is running"), "{running}");
    assert_eq!(inbox.get(job.id).await.unwrap().state, EntryState::Running);

    inbox
        .settle(&job, Settlement::Done, now_ms())
        .await
        .unwrap();
    assert_eq!(inbox.retry(job.id).await.unwrap(), EntryState::Done);
    let again = inbox.get(job.id).await.unwrap();
    assert_eq!((again.state, again.attempts), (EntryState::Pending, 0));
    assert_eq!(inbox.retry(job.id).await.unwrap(), EntryState::Pending);
}

pub async fn settle_and_renew_only_touch_a_running_row(inbox: Inbox) {
    inbox
        .enqueue(entry(Some("evt_late"), "cost.alert", now_ms()))
        .await
        .unwrap();
    let job = inbox
        .take(now_ms(), Duration::from_secs(60), 1)
        .await
        .unwrap()
        .remove(0);
    let renewed = inbox.renew(&job, now_ms() + 120_000).await.unwrap();
    assert_eq!(renewed, Completion::Recorded);
    let done = inbox
        .settle(&job, Settlement::Done, now_ms())
        .await
        .unwrap();
    assert_eq!(done, Completion::Recorded);
    let renewed = inbox.renew(&job, now_ms() + 120_000).await.unwrap();
    assert_eq!(renewed, Completion::Overtaken, "not running any more");
    // Another settlement under the same lease is not the one written.
    let error = "late".to_owned();
    let other = inbox
        .settle(&job, Settlement::Dead { error }, now_ms())
        .await
        .unwrap();
    assert_eq!(other, Completion::Overtaken);
    // An operator replays it: the old lease's token is still on the row,
    // but the row is pending now, so the old worker cannot settle it.
    inbox.retry(job.id).await.unwrap();
    let late = inbox
        .settle(&job, Settlement::Done, now_ms())
        .await
        .unwrap();
    assert_eq!(late, Completion::Overtaken);
    let row = inbox.get(job.id).await.unwrap();
    assert_eq!((row.state, row.attempts), (EntryState::Pending, 0));
}

/// Whether the test called `name` needs an inbox that keeps done rows'
/// bodies (it replays a done row); the others run with the default.
pub fn keeps_done_bodies(name: &str) -> bool {
    matches!(
        name,
        "get_and_retry_say_what_is_wrong_by_kind" | "settle_and_renew_only_touch_a_running_row"
    )
}

/// Every test of the suite, as `#[tokio::test]`s opening inboxes with `$open`.
#[macro_export]
macro_rules! inbox_suite {
    ($open:expr) => {
        inbox_suite!(@tests $open;
            acknowledged_only_once_stored_then_handled,
            the_stored_row_keeps_body_headers_key_and_arrival,
            duplicates_are_200_while_pending_running_and_done,
            failures_retry_with_backoff_until_done,
            the_last_failure_dead_letters_and_retry_dead_brings_it_back,
            a_refusal_dead_letters_at_once,
            shutdown_gives_running_rows_back_for_the_next_process,
            an_ended_lease_is_taken_over_and_the_old_worker_cannot_settle,
            a_settlement_written_twice_is_recorded_twice_and_changes_nothing,
            a_handler_slower_than_its_lease_keeps_its_row,
            done_rows_are_purged_after_their_age_and_the_key_is_new_again,
            stats_count_rows_per_state,
            many_deliveries_at_once_are_each_stored_and_handled_once,
            listings_apply_every_filter_and_page_through_the_cursor,
            get_and_retry_say_what_is_wrong_by_kind,
            settle_and_renew_only_touch_a_running_row,
        );
    };
    (@tests $open:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some((inbox, _guard)) = $open(stringify!($name)).await else { return };
                suite::$name(inbox).await;
            }
        )*
    };
}
