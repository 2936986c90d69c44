//! Inbox mode's own rules, on SQLite files: what the builder refuses, rows
//! that must not run, and the metrics.

#[path = "suite/support.rs"]
mod support;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::dedupe::MemoryStore;
use costkatana_webhooks::inbox::{
    EntryQuery, EntryState, EntrySummary, InboxStore, RetryPolicy, INBOX_ATTEMPTS_TOTAL,
    INBOX_DEAD_LETTERS_TOTAL, INBOX_DEPTH,
};
use costkatana_webhooks::{Payload, Receiver, ReceiverBuilder};
use costkatana_webhooks_inbox::Inbox;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use metrics_util::MetricKind;
use support::{now_ms, Request, Started, SECRET};

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn sqlite(name: &str) -> (Inbox, TempDir) {
    let dir = std::env::temp_dir().join(format!("ckw-inbox-rx-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let inbox = Inbox::open(&format!("sqlite:{}", dir.join("inbox.db").display()))
        .await
        .unwrap();
    (inbox, TempDir(dir))
}

fn builder(inbox: &Inbox) -> ReceiverBuilder {
    Receiver::builder()
        .secret(SECRET)
        .inbox(inbox.clone())
        .retry_policy(
            RetryPolicy::default()
                .first_delay(Duration::from_millis(10))
                .max_attempts(3),
        )
}

fn counting(
    runs: &Arc<AtomicUsize>,
) -> impl Fn(Payload) -> std::future::Ready<costkatana_webhooks::HandlerResult>
       + Clone
       + Send
       + Sync
       + 'static {
    let runs = runs.clone();
    move |_: Payload| {
        runs.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok(()))
    }
}

async fn until_state(inbox: &Inbox, state: EntryState) -> EntrySummary {
    for _ in 0..2000 {
        let query = EntryQuery::new().state(state).limit(1);
        if let Some(record) = inbox.list(&query).await.unwrap().pop() {
            return record;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no row reached {state}");
}

#[tokio::test]
async fn an_inbox_beside_a_dedupe_store_or_ack_first_is_refused() {
    let (inbox, _dir) = sqlite("conflicts").await;
    let with_store = builder(&inbox)
        .store(MemoryStore::new())
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .unwrap_err();
    assert!(
        with_store
            .to_string()
            .contains("without store(..) and ack_first(..)"),
        "{with_store}"
    );
    let with_ack_first = builder(&inbox)
        .ack_first(16)
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .unwrap_err();
    assert_eq!(with_ack_first, with_store);
}

#[tokio::test]
async fn zero_workers_are_refused() {
    let (inbox, _dir) = sqlite("zero").await;
    let err = builder(&inbox)
        .inbox_workers(0)
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("inbox_workers must be between 1 and"),
        "{err}"
    );
}

#[test]
fn starting_outside_a_runtime_is_refused_with_why() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (inbox, dir) = runtime.block_on(sqlite("no-runtime"));
    let receiver = builder(&inbox)
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .expect("building has no side effects, so needs no runtime");
    // Polled by something other than Tokio, `start` answers at once.
    let mut start = std::pin::pin!(receiver.start());
    let waker = std::task::Waker::noop();
    let std::task::Poll::Ready(Err(err)) =
        std::future::Future::poll(start.as_mut(), &mut std::task::Context::from_waker(waker))
    else {
        panic!("start outside a runtime must be refused at once");
    };
    assert!(
        err.to_string().contains("start the receiver inside one"),
        "{err}"
    );
    drop((inbox, dir));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_that_no_longer_verifies_is_dead_lettered_unrun() {
    let (inbox, _dir) = sqlite("reverify").await;
    let runs = Arc::new(AtomicUsize::new(0));
    let old = builder(&inbox).fallback(counting(&runs)).build().unwrap(); // never started
    assert_eq!(
        Request::event("evt_rotated").send(&old).await.label(),
        "stored"
    );
    // The secret that signed it is gone from the new receiver.
    let _new = Receiver::builder()
        .secret("whsec_another")
        .inbox(inbox.clone())
        .fallback(counting(&runs))
        .build()
        .started()
        .await;
    let dead = until_state(&inbox, EntryState::Dead).await;
    assert!(
        dead.last_error
            .as_deref()
            .unwrap()
            .contains("no longer verifies"),
        "{:?}",
        dead.last_error
    );
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_whose_last_attempt_never_finished_is_dead_lettered_unrun() {
    let (inbox, _dir) = sqlite("crash-loop").await;
    let runs = Arc::new(AtomicUsize::new(0));
    let stopped = builder(&inbox).fallback(counting(&runs)).build().unwrap(); // never started
    assert_eq!(
        Request::event("evt_crashes").send(&stopped).await.label(),
        "stored"
    );
    // Three workers took it and died mid-handler (their leases ran out).
    let mut now = now_ms();
    for attempt in 1..=3 {
        let jobs = inbox.take(now, Duration::from_millis(1), 1).await.unwrap();
        assert_eq!(jobs[0].attempt, attempt);
        now += 10;
    }
    let _next = builder(&inbox)
        .fallback(counting(&runs))
        .build()
        .started()
        .await;
    let dead = until_state(&inbox, EntryState::Dead).await;
    assert!(
        dead.last_error
            .as_deref()
            .unwrap()
            .contains("never finished"),
        "{:?}",
        dead.last_error
    );
    assert_eq!(
        runs.load(Ordering::SeqCst),
        0,
        "a handler that crashes its process is not run a 4th time"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_is_retried_like_a_failure() {
    let (inbox, _dir) = sqlite("panic").await;
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let _receiver = builder(&inbox)
        .fallback(move |_: Payload| {
            let counted = counted.clone();
            async move {
                if counted.fetch_add(1, Ordering::SeqCst) == 0 {
                    panic!("first run panics");
                }
                Ok(())
            }
        })
        .build()
        .started()
        .await;
    assert_eq!(
        Request::event("evt_panics").send(&_receiver).await.label(),
        "stored"
    );
    let done = until_state(&inbox, EntryState::Done).await;
    assert_eq!(done.attempts, 2);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[test]
fn metrics_count_attempts_dead_letters_and_depth() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let (inbox, _dir) = sqlite("metrics").await;
                let receiver = builder(&inbox)
                    .fallback(|payload: Payload| async move {
                        match payload.event_id() {
                            Some("evt_refused") => {
                                Err(costkatana_webhooks::HandlerError::refuse("no"))
                            }
                            _ => Ok(()),
                        }
                    })
                    .build()
                    .started()
                    .await;
                for id in ["evt_ok", "evt_refused"] {
                    assert_eq!(Request::event(id).send(&receiver).await.label(), "stored");
                }
                until_state(&inbox, EntryState::Done).await;
                until_state(&inbox, EntryState::Dead).await;
                receiver.shutdown(Duration::from_secs(5)).await;
            });
    });
    let metrics = snapshotter.snapshot().into_vec();
    let counter = |name: &str, label: Option<(&str, &str)>| -> Option<u64> {
        metrics
            .iter()
            .filter(|(key, ..)| key.key().name() == name)
            .find(|(key, ..)| {
                label
                    .is_none_or(|(k, v)| key.key().labels().any(|l| l.key() == k && l.value() == v))
            })
            .and_then(|(.., value)| match value {
                DebugValue::Counter(n) => Some(*n),
                _ => None,
            })
    };
    assert_eq!(
        counter(INBOX_ATTEMPTS_TOTAL, Some(("result", "done"))),
        Some(1)
    );
    assert_eq!(
        counter(INBOX_ATTEMPTS_TOTAL, Some(("result", "dead"))),
        Some(1)
    );
    assert_eq!(counter(INBOX_DEAD_LETTERS_TOTAL, None), Some(1));
    let depth = metrics
        .iter()
        .filter(|(key, ..)| key.kind() == MetricKind::Gauge && key.key().name() == INBOX_DEPTH)
        .count();
    assert_eq!(depth, 4, "one depth gauge per state");
}

#[tokio::test]
async fn urls_that_name_no_usable_inbox_are_refused_with_why() {
    let unknown = Inbox::open("mysql://db/inbox")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        unknown.contains("sqlite:<path> or postgres://"),
        "{unknown}"
    );
    let option = Inbox::open("sqlite:inbox.db?journal=off")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        option.contains("unknown SQLite inbox option \"journal=off\""),
        "{option}"
    );
    let missing_dir = Inbox::open("sqlite:/no/such/dir/inbox.db")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        missing_dir.contains("/no/such/dir/inbox.db: could not open the file"),
        "{missing_dir}"
    );
    let bad_pg = Inbox::open("postgres://db:notaport/inbox")
        .await
        .unwrap_err()
        .to_string();
    assert!(bad_pg.contains("the Postgres URL is not valid"), "{bad_pg}");
}

#[tokio::test]
async fn a_durability_option_is_accepted_and_the_file_is_in_wal_mode() {
    let dir = std::env::temp_dir().join(format!("ckw-inbox-rx-{}-power", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let _guard = TempDir(dir.clone());
    let path = dir.join("inbox.db");
    let inbox = Inbox::open(&format!("sqlite:{}?durability=power-loss", path.display()))
        .await
        .unwrap();
    assert_eq!(inbox.stats().await.unwrap().pending, 0);
    // The file is in WAL mode (a property of the file, readable from outside).
    let header = std::fs::read(&path).unwrap();
    assert_eq!(
        (header[18], header[19]),
        (2, 2),
        "WAL mode in the database header"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_row_is_checked_by_signature_only_not_by_its_age_again() {
    let (inbox, _dir) = sqlite("age").await;
    // Checked at the last millisecond of the 300 s window and stored a
    // millisecond later, an hour ago: its timestamp was judged on arrival,
    // so neither its arrival time nor the hour it waited count against it.
    let body = bytes::Bytes::from(costkatana_webhooks::testing::sample_event(
        &costkatana_webhooks::EventType::CostAlert,
        costkatana_webhooks::testing::Shape::Camel,
        "evt_old_signature",
        now_ms(),
    ));
    let signed_at = now_ms() - 3_600_000;
    let headers = costkatana_webhooks::signing::sign(
        costkatana_webhooks::Scheme::Current,
        SECRET,
        signed_at,
        &body,
    );
    let entry = costkatana_webhooks::inbox::NewEntry {
        dedupe_key: "7:testing:event:evt_old_signature".into(),
        event_id: Some("evt_old_signature".into()),
        event_type: Some("cost.alert".into()),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
            .collect(),
        body,
        received_at_ms: signed_at + 300_001,
    };
    inbox.enqueue(entry).await.unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let _receiver = builder(&inbox)
        .fallback(counting(&runs))
        .build()
        .started()
        .await;
    until_state(&inbox, EntryState::Done).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

/// A span's name and the `result` recorded on it, if any.
type SeenSpan = (String, Option<String>);

/// The spans a subscriber saw, in order.
#[derive(Clone, Default)]
struct Spans(Arc<std::sync::Mutex<Vec<SeenSpan>>>);

impl<S> tracing_subscriber::Layer<S> for Spans
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) {
        self.0
            .lock()
            .unwrap()
            .push((attrs.metadata().name().to_owned(), None));
    }

    fn on_record(
        &self,
        _: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) {
        struct Result(Option<String>);
        impl tracing::field::Visit for Result {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "result" {
                    self.0 = Some(format!("{value:?}").trim_matches('"').to_owned());
                }
            }
        }
        let mut result = Result(None);
        values.record(&mut result);
        if let Some(result) = result.0 {
            let mut spans = self.0.lock().unwrap();
            if let Some(last) = spans
                .iter_mut()
                .rev()
                .find(|(name, r)| name == "costkatana_webhook_attempt" && r.is_none())
            {
                last.1 = Some(result);
            }
        }
    }
}

#[test]
fn every_attempt_has_its_span_with_its_result() {
    use tracing_subscriber::layer::SubscriberExt;
    let spans = Spans::default();
    let subscriber = tracing_subscriber::registry().with(spans.clone());
    // With a single subscriber alive, tracing asks the default of whichever
    // thread meets a span's callsite first whether it is wanted, and caches
    // the answer for every thread: another test's thread, which has none,
    // would say no for this one. With two alive, it asks them both.
    let _second = tracing::Dispatch::new(tracing_subscriber::registry());
    tracing::subscriber::with_default(subscriber, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let (inbox, _dir) = sqlite("spans").await;
                let runs = Arc::new(AtomicUsize::new(0));
                let counted = runs.clone();
                let receiver = builder(&inbox)
                    .fallback(move |_: Payload| {
                        let counted = counted.clone();
                        async move {
                            match counted.fetch_add(1, Ordering::SeqCst) {
                                0 => Err(costkatana_webhooks::HandlerError::from("first fails")),
                                _ => Ok(()),
                            }
                        }
                    })
                    .build()
                    .started()
                    .await;
                assert_eq!(
                    Request::event("evt_spans").send(&receiver).await.label(),
                    "stored"
                );
                until_state(&inbox, EntryState::Done).await;
                receiver.shutdown(Duration::from_secs(5)).await;
            });
    });
    let attempts: Vec<Option<String>> = spans
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|(name, _)| name == "costkatana_webhook_attempt")
        .map(|(_, result)| result.clone())
        .collect();
    assert_eq!(
        attempts,
        [Some("retry".to_owned()), Some("done".to_owned())]
    );
}
