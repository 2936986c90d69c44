//! Leases are judged by one clock: on Postgres the database's, so a
//! replica whose clock runs ahead does not take over a row whose lease is
//! being renewed.

#[path = "suite/support.rs"]
mod support;

use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::clock::{Clock, SystemClock};
use costkatana_webhooks::inbox::{EntryQuery, EntryState};
use costkatana_webhooks::{Payload, Receiver};
use costkatana_webhooks_inbox::testing::PostgresServer;
use costkatana_webhooks_inbox::Inbox;
use support::{eventually, Request, Runs, SECRET};

/// The system clock, `0` ms ahead.
struct Ahead(i64);

impl Clock for Ahead {
    fn now_ms(&self) -> i64 {
        SystemClock.now_ms() + self.0
    }
}

/// A receiver with a 0.9 s lease (renewed every 0.3 s) whose handler runs
/// for 2.5 s, reading time from `clock`.
fn slow(inbox: &Inbox, runs: &Runs, clock: Arc<dyn Clock>) -> Receiver {
    let runs = runs.clone();
    Receiver::builder()
        .secret(SECRET)
        .clock(clock)
        .inbox(inbox.clone())
        .lease(Duration::from_millis(900))
        .fallback(move |payload: Payload| {
            let runs = runs.clone();
            async move {
                runs.record(payload.event_id().unwrap_or_default());
                tokio::time::sleep(Duration::from_millis(2500)).await;
                Ok(())
            }
        })
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_whose_clock_runs_2_s_ahead_does_not_take_over_a_renewed_lease() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let url = server.create_database("clocks");
    let runs = Runs::default();
    let on_time = slow(
        &Inbox::open(&url).await.unwrap(),
        &runs,
        Arc::new(SystemClock),
    );
    on_time.start().await.unwrap();
    assert_eq!(
        Request::event("evt_slow").send(&on_time).await.label(),
        "stored"
    );
    eventually("the handler started", || runs.of("evt_slow") == 1).await;

    let inbox = Inbox::open(&url).await.unwrap();
    let ahead = slow(&inbox, &runs, Arc::new(Ahead(2_000)));
    ahead.start().await.unwrap();
    let mut done = None;
    for _ in 0..2000 {
        let rows = inbox.list(&EntryQuery::new()).await.unwrap();
        if rows[0].state == EntryState::Done {
            done = Some(rows[0].clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let done = done.expect("the row is done");
    assert_eq!(
        runs.of("evt_slow"),
        1,
        "the replica ahead took the row over"
    );
    assert_eq!(done.attempts, 1);
    ahead.shutdown(Duration::from_secs(5)).await;
    on_time.shutdown(Duration::from_secs(5)).await;
}
