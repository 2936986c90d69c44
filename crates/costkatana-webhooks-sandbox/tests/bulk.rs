//! Many events against a real HTTP receiver on 127.0.0.1: every event and
//! copy sent, counted, and a failing event factory stopping the run.

mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::{Backoff, Scheme};
use costkatana_webhooks_sandbox::bulk::{send_many, Plan};
use costkatana_webhooks_sandbox::sender::{Endpoint, Reply, Sender, SignedRequest};
use support::{bounded, Receiver, Script};

fn sender() -> Sender {
    Sender::builder()
        .timeout(Duration::from_secs(5))
        .backoff(Backoff::sender().first_delay(Duration::from_millis(1)))
        .build()
        .unwrap()
}

/// Makes event `evt_<n>` for n = 0, 1, 2…; `Err` from `fail_at` on.
fn events(
    url: &str,
    fail_at: u64,
) -> impl Fn() -> Result<SignedRequest, String> + Send + Sync + 'static {
    let endpoint = Endpoint::parse(url).unwrap();
    let made = AtomicU64::new(0);
    move || {
        let n = made.fetch_add(1, Ordering::Relaxed);
        if n >= fail_at {
            return Err(format!("no event {n}"));
        }
        let body = format!(r#"{{"eventId":"evt_{n}","eventType":"cost.alert"}}"#);
        Ok(SignedRequest::new(
            endpoint.clone(),
            Scheme::Current,
            "s3cret",
            1_777_377_600_000,
            body,
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_and_copy_is_sent_and_counted() {
    bounded(async {
        let receiver = Receiver::start(vec![Script::Status(200)]).await;
        let settled = Arc::new(AtomicU64::new(0));
        let progress = Arc::clone(&settled);
        let plan = Plan::new(20).concurrency(4).duplicates(2);
        let summary = send_many(
            &sender(),
            plan,
            events(&receiver.url, u64::MAX),
            move || {
                progress.fetch_add(1, Ordering::Relaxed);
            },
        )
        .await
        .unwrap();

        assert!(summary.all_delivered());
        assert_eq!(summary.plan(), plan);
        assert_eq!(summary.events_delivered(), 20);
        assert_eq!(summary.copies_delivered(), 40);
        assert_eq!(summary.requests(), 40);
        assert_eq!(summary.statuses().get("200"), Some(&40));
        assert_eq!(summary.first_failure(), None);
        assert!(summary.latency_percentile(50) <= summary.latency_percentile(99));
        assert_eq!(summary.latency_percentile(100), summary.max_latency());
        assert_eq!(settled.load(Ordering::Relaxed), 20);

        // Two identical copies of each of 20 distinct events.
        let bodies: Vec<_> = receiver.recorded().into_iter().map(|r| r.body).collect();
        assert_eq!(bodies.len(), 40);
        assert_eq!(bodies.iter().collect::<HashSet<_>>().len(), 20);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_and_failures_are_counted() {
    bounded(async {
        // Every request fails once with 503, then 400s: nothing is delivered.
        let receiver = Receiver::start(vec![Script::Status(503), Script::Status(400)]).await;
        let plan = Plan::new(3).concurrency(1);
        let summary = send_many(&sender(), plan, events(&receiver.url, u64::MAX), || {})
            .await
            .unwrap();
        assert!(!summary.all_delivered());
        assert_eq!(summary.events_delivered(), 0);
        // The first event: 503 then 400; the others: 400 at once.
        assert_eq!(summary.statuses().get("503"), Some(&1));
        assert_eq!(summary.statuses().get("400"), Some(&3));
        assert_eq!(
            summary.first_failure(),
            Some(&Reply::Status(503, r#"{"answer":1}"#.into()))
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_that_cannot_be_made_stops_the_run() {
    bounded(async {
        let receiver = Receiver::start(vec![Script::Status(200)]).await;
        let plan = Plan::new(10).concurrency(1);
        let err = send_many(&sender(), plan, events(&receiver.url, 3), || {})
            .await
            .unwrap_err();
        assert_eq!(err, "no event 3");
        assert_eq!(receiver.recorded().len(), 3);
    })
    .await;
}

#[tokio::test]
async fn nothing_to_send_is_an_empty_summary() {
    let summary = send_many(
        &sender(),
        Plan::new(0),
        events("http://127.0.0.1:9/", 0),
        || {},
    )
    .await
    .unwrap();
    assert!(summary.all_delivered());
    assert_eq!(summary.requests(), 0);
    assert_eq!(summary.latency_percentile(50), None);
}
