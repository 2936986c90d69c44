//! Exactly once across a lease overrun, with real processes.
//!
//! A running handler renews its entry's lease every third of it, so a
//! handler slower than its lease keeps its entry while its process runs;
//! the lease runs out when the process stalls (a VM paused, a long GC, a
//! process swapped out): here, SIGSTOP. Its handler is frozen mid-wait
//! with a 1 s lease; a second worker takes the entry over once the lease
//! has ended and records the event; then the first process is thawed, its
//! handler finishes and writes, and its commit finds the lease taken: its
//! write rolls back. One row, the second worker's.
//!
//! - Postgres: the second worker is a second example-ledger process on the
//!   same inbox.
//! - SQLite: one process writes the file at a time (a second receiver on
//!   one file is not supported), so the second worker is this test
//!   process, through the inbox's own API (as a tool such as
//!   `ckwebhook inbox` opens the file), while the receiver is frozen.

mod support;

use std::time::Duration;

use costkatana_webhooks::dedupe::Completion;
use costkatana_webhooks::inbox::InboxStore;
use costkatana_webhooks::EventType;
use costkatana_webhooks_inbox::testing::{transaction_of, PostgresServer};
use costkatana_webhooks_inbox::Inbox;
use support::{client, event, now_ms, poll, Db, Delivery, Ledger, TempDir, SERIAL};

const ID: &str = "evt_overrun";
/// The handler waits longer than its lease; renewals keep it unless the
/// process stalls.
const ENV: [(&str, &str); 2] = [("INBOX_LEASE_SECS", "1"), ("HANDLER_DELAY_MS", "1500")];
const ROLLED_BACK: &str = "its writes were rolled back, and the other worker's run stands";

fn env(url: &str) -> Vec<(&str, &str)> {
    let mut env = ENV.to_vec();
    env.push(("INBOX_URL", url));
    env
}

/// Starts the first process, stores the event there and freezes the
/// process while its handler waits.
async fn first_worker_frozen_mid_handler(url: &str) -> Ledger {
    let mut first = Ledger::start(&env(url));
    let (status, answer) = Delivery::new(event(&EventType::CostAlert, ID))
        .send(&client(), &first.webhook_url())
        .await;
    assert_eq!(status, 200, "{answer}");
    first.wait_recording(ID).await;
    first.signal("STOP");
    first
}

/// Thaws the first process and waits for its commit to be refused.
async fn thaw_and_see_its_writes_roll_back(first: Ledger) {
    first.signal("CONT");
    first.wait_for_log(ROLLED_BACK).await;
    let metrics = first.metrics().await;
    assert!(
        metrics.contains("costkatana_webhook_lease_overruns_total 1"),
        "{metrics}"
    );
    first.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_second_process_takes_over_a_stalled_handler_and_one_write_stands() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let _serial = SERIAL.lock().await;
    let url = server.create_database("ledger_overrun");
    let db = Db::of(&url);
    let first = first_worker_frozen_mid_handler(&url).await;
    let frozen_at = now_ms();

    let mut second = Ledger::start(&env(&url));
    second.wait_recording(ID).await;
    poll("the second process's row", Duration::from_secs(30), || {
        let db = db.clone();
        async move { db.counts().await.contains_key(ID).then_some(()) }
    })
    .await;
    let thawed_at = now_ms();
    thaw_and_see_its_writes_roll_back(first).await;
    second.stop();

    let rows: Vec<_> = Db::of(&url)
        .handled()
        .await
        .into_iter()
        .filter(|row| row.0 == ID)
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    // Written while the first process was frozen: the second's.
    assert!((frozen_at..thawed_at).contains(&rows[0].2), "{rows:?}");
    let inbox = Inbox::open(&url).await.expect("the inbox");
    let stats = inbox.stats().await.expect("stats");
    assert_eq!((stats.done, stats.running, stats.pending), (1, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_second_worker_takes_over_a_stalled_handler_and_one_write_stands() {
    let _serial = SERIAL.lock().await;
    let dir = TempDir::new("overrun");
    let url = dir.sqlite_url();
    let first = first_worker_frozen_mid_handler(&url).await;
    // Frozen while holding no write lock (it takes one for a few ms at a
    // time): a second worker must be able to write.
    for tries in 0.. {
        if write_lock_is_free(&dir.0.join("inbox.db")) {
            break;
        }
        assert!(tries < 100, "the frozen process always held the write lock");
        first.signal("CONT");
        tokio::time::sleep(Duration::from_millis(5)).await; // let it finish its write
        first.signal("STOP");
    }

    // The second worker: takes the entry once its lease has ended, records
    // the event (handled_at = 42, to tell its row) and commits.
    let inbox = Inbox::open(&url).await.expect("the inbox opens");
    let entry = poll("the frozen lease to end", Duration::from_secs(30), || {
        let inbox = inbox.clone();
        async move {
            let taken = inbox.take(now_ms(), Duration::from_secs(60), 1).await;
            taken.expect("take").pop()
        }
    })
    .await;
    assert_eq!(entry.attempt, 2);
    assert!(String::from_utf8_lossy(&entry.body).contains(ID));
    let attempt = inbox.begin_transaction(&entry).expect("a transaction");
    transaction_of(attempt.as_ref())
        .execute(
            example_ledger::INSERT,
            &[ID.into(), "cost.alert".into(), 42.into()],
        )
        .await
        .expect("the write is queued");
    assert_eq!(
        attempt.commit_done(&entry, now_ms()).await.expect("commit"),
        Completion::Recorded
    );
    drop(inbox);

    thaw_and_see_its_writes_roll_back(first).await;
    let rows: Vec<_> = Db::of(&url)
        .handled()
        .await
        .into_iter()
        .filter(|row| row.0 == ID)
        .collect();
    assert_eq!(
        rows,
        [(ID.to_owned(), Some("cost.alert".to_owned()), 42)],
        "only the second worker's row"
    );
}

/// Whether another connection can take SQLite's write lock now.
fn write_lock_is_free(path: &std::path::Path) -> bool {
    let conn = rusqlite::Connection::open(path).expect("the file opens");
    conn.busy_timeout(Duration::ZERO).expect("timeout");
    let free = conn.execute_batch("BEGIN IMMEDIATE").is_ok();
    if free {
        conn.execute_batch("ROLLBACK").expect("rollback");
    }
    free
}
