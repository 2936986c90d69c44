//! Inbox mode: store, acknowledge, and run handlers from the stored copy.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;

use super::{catch_panic, Delivery, Inner, HANDLER_SECONDS, LEASE_OVERRUNS_TOTAL};
use crate::dedupe::Completion;
use crate::inbox::{
    self, EntryState, InboxStore, LeasedEntry, NewEntry, RetryPolicy, Settlement,
    INBOX_ATTEMPTS_TOTAL, INBOX_DEAD_LETTERS_TOTAL, INBOX_DEPTH, INBOX_OLDEST_PENDING_SECONDS,
};
use crate::scheme::names;
use crate::{ConfigError, Headers, Outcome, Payload};

/// How often idle workers look for due rows (retries, other replicas'
/// rows, leases that ended); a delivery stored here wakes them at once.
const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// How often the depth gauges are refreshed.
const STATS_INTERVAL: Duration = Duration::from_secs(5);
/// How often done rows older than the dedupe TTL are purged.
const PURGE_INTERVAL: Duration = Duration::from_secs(60);
/// The pause after the inbox failed to answer, before asking again.
const ERROR_PAUSE: Duration = Duration::from_secs(1);
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
    /// The grace period ended: give running rows back.
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
}

impl InboxMode {
    pub(crate) fn new(
        store: Arc<dyn InboxStore>,
        policy: RetryPolicy,
        workers: usize,
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
        })
    }

    /// Starts the workers on the current Tokio runtime.
    pub(crate) fn start(inner: &Arc<Inner>) -> Result<(), ConfigError> {
        let Some(mode) = inner.inbox.clone() else {
            return Ok(());
        };
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            ConfigError::new(
                "inbox mode starts its workers on a Tokio runtime: build the receiver inside one",
            )
        })?;
        runtime.spawn(take_loop(Arc::downgrade(inner), mode));
        Ok(())
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

    /// Stops taking rows, waits up to `deadline` for running handlers, then
    /// gives the rest back; returns how many were still running at the
    /// deadline.
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
        // Giving a row back is one write; allow it a moment.
        let _ = tokio::time::timeout(Duration::from_secs(5), self.slots.acquire_many(all)).await;
        running
    }
}

/// Takes due rows while there are free workers, and keeps the gauges and
/// the purge going. Ends when the receiver is dropped or shut down.
async fn take_loop(receiver: Weak<Inner>, mode: Arc<InboxMode>) {
    let mut last_stats: Option<Instant> = None;
    let mut last_purge: Option<Instant> = None;
    let mut phase = mode.phase.subscribe();
    while *phase.borrow_and_update() == Phase::Running {
        let Some(inner) = receiver.upgrade() else {
            return;
        };
        let now_ms = inner.verifier.clock().now_ms();
        let free = mode.slots.available_permits();
        let mut pause = POLL_INTERVAL;
        if free > 0 {
            match mode.store.take(now_ms, inner.lease, free).await {
                Ok(jobs) => {
                    if jobs.len() == free {
                        pause = Duration::ZERO; // more may be due
                    }
                    for job in jobs {
                        start_attempt(&inner, &mode, job).await;
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "inbox unavailable; workers wait and ask again");
                    pause = ERROR_PAUSE;
                }
            }
        }
        if last_stats.is_none_or(|at| at.elapsed() >= STATS_INTERVAL) {
            last_stats = Some(Instant::now());
            report_depth(&*mode.store, now_ms).await;
        }
        if last_purge.is_none_or(|at| at.elapsed() >= PURGE_INTERVAL) {
            last_purge = Some(Instant::now());
            purge(&*mode.store, now_ms, inner.dedupe_ttl).await;
        }
        drop(inner);
        tokio::select! {
            () = mode.wake.notified() => {}
            () = tokio::time::sleep(pause) => {}
            _ = phase.changed() => {}
        }
    }
}

/// Runs one leased row on its own task, holding a worker slot.
async fn start_attempt(inner: &Arc<Inner>, mode: &Arc<InboxMode>, job: LeasedEntry) {
    // Shut down while the rows were being leased: give them back unrun. (Only
    // this loop takes slots, so one is free; the row goes back if not.)
    let running = *mode.phase.borrow() == Phase::Running;
    let slot = running
        .then(|| Arc::clone(&mode.slots).try_acquire_owned().ok())
        .flatten();
    let Some(slot) = slot else {
        settle_until_lease_ends(inner, mode, &job, Settlement::Release).await;
        return;
    };
    let span = tracing::info_span!(
        "costkatana_webhook_attempt",
        job_id = job.id,
        attempt = job.attempt,
        event_id = tracing::field::Empty,
        event_type = tracing::field::Empty,
        result = tracing::field::Empty,
    );
    tokio::spawn(attempt(Arc::clone(inner), Arc::clone(mode), job, slot).instrument(span));
}

async fn attempt(
    inner: Arc<Inner>,
    mode: Arc<InboxMode>,
    job: LeasedEntry,
    slot: OwnedSemaphorePermit,
) {
    let settlement = run_handler(&inner, &mode, &job).await;
    let result = match &settlement {
        Settlement::Done => "done",
        Settlement::Retry { .. } => "retry",
        Settlement::Dead { .. } => "dead",
        Settlement::Release => "released",
    };
    tracing::Span::current().record("result", result);
    metrics::counter!(INBOX_ATTEMPTS_TOTAL, "result" => result).increment(1);
    match &settlement {
        Settlement::Dead { error } => {
            metrics::counter!(INBOX_DEAD_LETTERS_TOTAL).increment(1);
            tracing::error!(%error, "dead-lettered: `ckwebhook inbox retry` runs it again");
        }
        Settlement::Retry { error, at_ms } => {
            let in_ms = at_ms - inner.verifier.clock().now_ms();
            tracing::warn!(%error, retry_in_ms = in_ms, "handler failed; retrying later");
        }
        Settlement::Done | Settlement::Release => {}
    }
    settle_until_lease_ends(&inner, &mode, &job, settlement).await;
    drop(slot);
    mode.wake.notify_one();
}

/// Verifies the stored copy again, runs its handler, and says how to
/// settle the row.
async fn run_handler(inner: &Inner, mode: &InboxMode, job: &LeasedEntry) -> Settlement {
    if job.attempt > mode.policy.attempts() {
        return Settlement::Dead {
            error: "the last attempt never finished: its worker stopped or crashed mid-handler"
                .to_owned(),
        };
    }
    let verified = inner.verifier.reverify(&job.headers, job.body.clone());
    let mut verified = match verified {
        Ok(verified) => verified,
        Err(err) => {
            return Settlement::Dead {
                error: format!(
                    "the stored delivery no longer verifies ({}); was its secret removed?",
                    err.message()
                ),
            }
        }
    };
    let payload = verified.take_payload();
    let span = tracing::Span::current();
    if let Payload::Event(event) = &payload {
        span.record("event_type", event.event_type.as_str());
        if let Some(id) = &event.id {
            span.record("event_id", id.as_str());
        }
    }
    let delivery = Delivery::new(
        verified,
        job.dedupe_key.clone(),
        &inner.captured_headers,
        &job.headers,
    );
    let handler = catch_panic::call(|| inner.routes.dispatch(payload, delivery, &inner.states));
    let mut phase = mode.phase.subscribe();
    let aborted = phase.wait_for(|phase| *phase == Phase::Abort);
    let started = Instant::now();
    let result = tokio::select! {
        result = handler => result,
        _ = aborted => return Settlement::Release,
        never = keep_leased(inner, mode, job) => match never {},
    };
    metrics::histogram!(HANDLER_SECONDS).record(started.elapsed().as_secs_f64());
    match result {
        Ok(()) => Settlement::Done,
        Err(err) if err.is_refusal() => Settlement::Dead {
            error: format!("refused: {err}"),
        },
        Err(err) => match mode.policy.delay_after(job.attempt) {
            Some(delay) => Settlement::Retry {
                at_ms: inner.verifier.clock().now_ms()
                    + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2),
                error: err.to_string(),
            },
            None => Settlement::Dead {
                error: format!(
                    "attempt {} of {} failed: {err}",
                    job.attempt,
                    mode.policy.attempts()
                ),
            },
        },
    }
}

/// Renews the row's lease every third of it while its handler runs, so a
/// slow handler keeps its row and only a stopped or crashed worker's row
/// is taken over when its lease ends.
async fn keep_leased(
    inner: &Inner,
    mode: &InboxMode,
    job: &LeasedEntry,
) -> std::convert::Infallible {
    let every = inner.lease / 3;
    loop {
        tokio::time::sleep(every).await;
        let until_ms = inner
            .verifier
            .clock()
            .now_ms()
            .saturating_add(i64::try_from(inner.lease.as_millis()).unwrap_or(i64::MAX / 2));
        match mode.store.renew(job, until_ms).await {
            Ok(Completion::Recorded) => {}
            Ok(_) => tracing::warn!(
                "the row's lease ended before it could be renewed and another worker took it: \
                 the event may run twice"
            ),
            Err(err) => tracing::warn!(error = %err, "could not renew the row's lease"),
        }
    }
}

/// Writes the settlement, retrying while the inbox is unreachable (a
/// restarting database) until the lease would end: after that another
/// worker may take the row, and the write would be refused anyway.
async fn settle_until_lease_ends(
    inner: &Inner,
    mode: &InboxMode,
    job: &LeasedEntry,
    settlement: Settlement,
) {
    let give_up = Instant::now() + inner.lease;
    let mut pause = Duration::from_millis(100);
    loop {
        let now_ms = inner.verifier.clock().now_ms();
        match mode.store.settle(job, settlement.clone(), now_ms).await {
            Ok(Completion::Recorded) => return,
            Ok(_) => {
                metrics::counter!(LEASE_OVERRUNS_TOTAL).increment(1);
                tracing::warn!(
                    "the handler finished after its lease ended and another worker took the row \
                     over, so the event ran twice: raise the lease above the slowest handler"
                );
                return;
            }
            Err(err) if Instant::now() + pause < give_up => {
                tracing::warn!(error = %err, "could not settle the row; trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            Err(err) => {
                tracing::error!(error = %err, "could not settle the row before its lease ended; it will run again");
                return;
            }
        }
    }
}

async fn report_depth(store: &dyn InboxStore, now_ms: i64) {
    match store.stats().await {
        Ok(stats) => {
            for state in EntryState::ALL {
                metrics::gauge!(INBOX_DEPTH, "state" => state.as_str())
                    .set(stats.count(state) as f64);
            }
            let oldest_ms = stats.oldest_pending_ms.map_or(0, |at| (now_ms - at).max(0));
            metrics::gauge!(INBOX_OLDEST_PENDING_SECONDS).set(oldest_ms as f64 / 1000.0);
        }
        Err(err) => tracing::warn!(error = %err, "could not read the inbox depth"),
    }
}

async fn purge(store: &dyn InboxStore, now_ms: i64, ttl: Duration) {
    let before_ms = now_ms - i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2);
    match store.purge_done(before_ms).await {
        Ok(0) => {}
        Ok(purged) => tracing::debug!(purged, "purged done rows past the dedupe TTL"),
        Err(err) => tracing::warn!(error = %err, "could not purge done rows"),
    }
}
