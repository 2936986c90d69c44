//! The receiver's life: building runs nothing, `start` runs the background
//! tasks after every task agreed to start, `shutdown` stops them, the last
//! registered first.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use costkatana_webhooks::receiver::{BackgroundTask, Mode, StartError, TaskContext, TaskFuture};
use costkatana_webhooks::{ManualClock, Outcome, Payload, Receiver, ReceiverBuilder};
use support::{Request, NOW, SECRET};

/// Who did what, in order.
#[derive(Clone, Default)]
struct Journal(Arc<Mutex<Vec<String>>>);

impl Journal {
    fn note(&self, what: String) {
        self.0.lock().unwrap().push(what);
    }

    fn entries(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    fn count(&self, what: &str) -> usize {
        self.entries().iter().filter(|e| *e == what).count()
    }
}

/// Notes when it is dropped: how a cancelled tick is seen.
struct OnDrop(Journal, String);

impl Drop for OnDrop {
    fn drop(&mut self) {
        self.0.note(self.1.clone());
    }
}

/// A task that notes its preparation and ticks; `hang` ticks never end,
/// so shutdown cancels them mid-tick.
struct Task {
    name: &'static str,
    journal: Journal,
    refuse: bool,
    hang: bool,
}

impl Task {
    fn new(name: &'static str, journal: &Journal) -> Task {
        Task {
            name,
            journal: journal.clone(),
            refuse: false,
            hang: false,
        }
    }
}

impl BackgroundTask for Task {
    fn name(&self) -> &'static str {
        self.name
    }

    fn every(&self) -> Duration {
        Duration::from_millis(10)
    }

    fn prepare<'a>(&'a self, _: &'a TaskContext) -> TaskFuture<'a, Result<(), StartError>> {
        self.journal.note(format!("prepare {}", self.name));
        let refused = self
            .refuse
            .then(|| StartError::new(self.name, "its service does not know this webhook"));
        Box::pin(async move { refused.map_or(Ok(()), Err) })
    }

    fn tick<'a>(&'a self, context: &'a TaskContext) -> TaskFuture<'a, ()> {
        Box::pin(async move {
            assert_eq!(context.now_ms(), NOW, "the receiver's clock");
            self.journal.note(format!("tick {}", self.name));
            if self.hang {
                let _guard = OnDrop(self.journal.clone(), format!("stop {}", self.name));
                std::future::pending::<()>().await;
            }
        })
    }
}

fn builder() -> ReceiverBuilder {
    Receiver::builder()
        .secret(SECRET)
        .clock(Arc::new(ManualClock::new(NOW)))
        .fallback(|_: Payload| async { Ok(()) })
}

async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..2000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("never happened: {what}");
}

#[tokio::test]
async fn building_runs_nothing_and_start_runs_the_tasks() {
    let journal = Journal::default();
    let receiver = builder()
        .background(Task::new("a", &journal))
        .build()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(journal.entries().is_empty(), "{:?}", journal.entries());
    receiver.start().await.unwrap();
    until("ticks", || journal.count("tick a") >= 3).await;
    assert_eq!(journal.entries()[0], "prepare a");
    receiver.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_refusal_at_prepare_starts_nothing() {
    let journal = Journal::default();
    let refusing = Task {
        refuse: true,
        ..Task::new("catch-up", &journal)
    };
    let receiver = builder()
        .background(Task::new("first", &journal))
        .background(refusing)
        .background(Task::new("last", &journal))
        .build()
        .unwrap();
    let err = receiver.start().await.unwrap_err();
    assert_eq!(err.task(), "catch-up");
    assert_eq!(
        err.to_string(),
        "could not start catch-up: its service does not know this webhook"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(journal.entries(), ["prepare first", "prepare catch-up"]);
}

#[tokio::test]
async fn shutdown_stops_tasks_the_last_registered_first() {
    let journal = Journal::default();
    let hanging = |name| Task {
        hang: true,
        ..Task::new(name, &journal)
    };
    let receiver = builder()
        .background(hanging("first"))
        .background(hanging("second"))
        .background(hanging("third"))
        .build()
        .unwrap();
    receiver.start().await.unwrap();
    until("every task is mid-tick", || {
        ["first", "second", "third"]
            .iter()
            .all(|name| journal.count(&format!("tick {name}")) == 1)
    })
    .await;
    assert_eq!(receiver.shutdown(Duration::from_secs(1)).await, 0);
    let stops: Vec<String> = journal
        .entries()
        .into_iter()
        .filter(|e| e.starts_with("stop"))
        .collect();
    assert_eq!(stops, ["stop third", "stop second", "stop first"]);
}

#[tokio::test]
async fn start_twice_is_one_start_and_a_shut_down_receiver_stays_down() {
    let journal = Journal::default();
    let receiver = builder()
        .background(Task::new("a", &journal))
        .build()
        .unwrap();
    receiver.start().await.unwrap();
    receiver.start().await.unwrap();
    assert_eq!(journal.count("prepare a"), 1);
    receiver.shutdown(Duration::ZERO).await;
    let ticks = journal.count("tick a");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(journal.count("tick a"), ticks, "no tick after shutdown");
    let err = receiver.start().await.unwrap_err();
    assert!(err.to_string().contains("shut down"), "{err}");
}

#[tokio::test]
async fn tasks_run_in_every_mode_and_the_mode_is_what_was_built() {
    let runs = Arc::new(AtomicUsize::new(0));
    for (mode, builder) in [
        (Mode::Inline, builder()),
        (Mode::AckFirst, builder().ack_first(8)),
    ] {
        let journal = Journal::default();
        let receiver = builder
            .background(Task::new("a", &journal))
            .build()
            .unwrap();
        assert_eq!(receiver.mode(), mode);
        assert!(format!("{receiver:?}").contains(r#"tasks: ["a"]"#));
        receiver.start().await.unwrap();
        until("a tick", || journal.count("tick a") >= 1).await;
        receiver.shutdown(Duration::from_secs(1)).await;
        runs.fetch_add(1, Ordering::SeqCst);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn ack_first_answers_queued_and_inline_answers_handled() {
    let inline = builder().build().unwrap();
    let queued = builder().ack_first(8).build().unwrap();
    let handled = Request::event("evt_inline").send(&inline).await;
    let accepted = Request::event("evt_queued").send(&queued).await;
    assert!(matches!(handled, Outcome::Processed { .. }), "{handled:?}");
    assert!(matches!(accepted, Outcome::Queued { .. }), "{accepted:?}");
    // The same answer and the same counter label, as before.
    assert_eq!(handled.label(), accepted.label());
    assert_eq!(
        accepted.answer().body,
        r#"{"event_id":"evt_queued","received":true}"#
    );
    queued.shutdown(Duration::from_secs(1)).await;
}
