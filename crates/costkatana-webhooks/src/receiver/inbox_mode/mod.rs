//! Inbox mode: store, acknowledge, and run handlers from the stored copy.

mod dead_letter;
mod maintenance;
mod workers;

pub use dead_letter::DeadLetter;
pub(crate) use dead_letter::DeadLetterHook;
pub(crate) use maintenance::{Gauges, Purge};

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify, Semaphore};

use super::{telemetry, Delivery, Inner};
use crate::inbox::{self, InboxStore, NewEntry, RetryPolicy};
use crate::scheme::names;
use crate::{ConfigError, Headers, Outcome, Payload};

/// The headers stored beside the body so a worker can verify it again.
const SIGNATURE_HEADERS: [&str; 4] = [
    names::WEBHOOK_SIGNATURE,
    names::WEBHOOK_TIMESTAMP,
    names::COSTKATANA_SIGNATURE,
    names::COSTKATANA_TIMESTAMP,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    /// Shutting down: take nothing new, let running handlers finish.
    Draining,
    /// The grace period ended: give running entries back.
    Abort,
}

/// The inbox, its workers' settings, and their controls.
pub(crate) struct InboxMode {
    store: Arc<dyn InboxStore>,
    policy: RetryPolicy,
    workers: usize,
    slots: Arc<Semaphore>,
    wake: Notify,
    phase: watch::Sender<Phase>,
    dead_letter_hook: Option<DeadLetterHook>,
}

impl InboxMode {
    pub(crate) fn new(
        store: Arc<dyn InboxStore>,
        policy: RetryPolicy,
        workers: usize,
        dead_letter_hook: Option<DeadLetterHook>,
    ) -> Result<Self, ConfigError> {
        if workers == 0 || workers > Semaphore::MAX_PERMITS {
            return Err(ConfigError::new(format!(
                "inbox_workers must be between 1 and {}, not {workers}",
                Semaphore::MAX_PERMITS
            )));
        }
        Ok(InboxMode {
            store,
            policy,
            workers,
            slots: Arc::new(Semaphore::new(workers)),
            wake: Notify::new(),
            phase: watch::Sender::new(Phase::Running),
            dead_letter_hook,
        })
    }

    pub(crate) fn store(&self) -> &Arc<dyn InboxStore> {
        &self.store
    }

    /// Starts the workers' take loop on `runtime`.
    pub(crate) fn spawn(self: &Arc<Self>, inner: &Arc<Inner>, runtime: &tokio::runtime::Handle) {
        runtime.spawn(workers::take_loop(Arc::downgrade(inner), Arc::clone(self)));
    }

    /// Stores a verified delivery; the answer the sender gets.
    pub(crate) async fn accept(
        &self,
        payload: &Payload,
        delivery: &Delivery,
        request: &impl Headers,
        captured: &[&'static str],
        now_ms: i64,
    ) -> Outcome {
        let event_id = payload.event_id().map(str::to_owned);
        let headers = SIGNATURE_HEADERS
            .iter()
            .chain(captured)
            .filter_map(|&name| {
                let value = std::str::from_utf8(request.header(name)?).ok()?;
                Some((name.to_owned(), value.to_owned()))
            })
            // The request's trace, for the attempt's span to link to.
            .chain(
                telemetry::current_traceparent()
                    .map(|trace| (telemetry::TRACEPARENT.to_owned(), trace)),
            )
            .collect();
        let entry = NewEntry {
            dedupe_key: delivery.dedupe_key().to_owned(),
            event_id: event_id.clone(),
            event_type: match payload {
                Payload::Event(event) => Some(event.event_type.to_string()),
                _ => None,
            },
            headers,
            body: delivery.verified().body_bytes(),
            received_at_ms: now_ms,
        };
        match self.store.enqueue(entry).await {
            Ok(inbox::Enqueued::Stored) => {
                self.wake.notify_one();
                Outcome::Stored { event_id }
            }
            Ok(inbox::Enqueued::Duplicate(_)) => Outcome::Duplicate { event_id },
            Err(err) => {
                tracing::warn!(error = %err, "inbox unavailable; the sender will retry");
                Outcome::Failed(inbox::unavailable(err))
            }
        }
    }

    /// Stops taking entries, waits up to `deadline` for running handlers,
    /// then gives the rest back; returns how many were still running at
    /// the deadline.
    pub(crate) async fn shutdown(&self, deadline: Duration) -> usize {
        self.phase.send_replace(Phase::Draining);
        self.wake.notify_one();
        let all = u32::try_from(self.workers).unwrap_or(u32::MAX);
        if tokio::time::timeout(deadline, self.slots.acquire_many(all))
            .await
            .is_ok()
        {
            return 0;
        }
        let running = self.workers - self.slots.available_permits();
        self.phase.send_replace(Phase::Abort);
        // Giving an entry back is one write; allow it a moment.
        let _ = tokio::time::timeout(Duration::from_secs(5), self.slots.acquire_many(all)).await;
        running
    }
}
