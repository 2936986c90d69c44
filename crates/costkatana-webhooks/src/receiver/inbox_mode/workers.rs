//! The workers: a loop that leases due entries while there are free
//! worker slots, and one task per attempt that runs the handler and
//! settles the entry.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use tokio::sync::OwnedSemaphorePermit;
use tracing::Instrument;

use super::dead_letter::{self, DeadLetter};
use super::{InboxMode, Phase};
use crate::clock::millis;
use crate::dedupe::Completion;
use crate::inbox::{
    AttemptTransaction, LeasedEntry, Settlement, INBOX_ATTEMPTS_TOTAL, INBOX_DEAD_LETTERS_TOTAL,
};
use crate::receiver::extract::InboxAttempt;
use crate::receiver::{
    catch_panic, telemetry, Delivery, Inner, HANDLER_SECONDS, LEASE_OVERRUNS_TOTAL,
};
use crate::Payload;

/// How often idle workers look for due entries (retries, other replicas'
/// entries, leases that ended); a delivery stored here wakes them at once.
const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// The pause after the inbox failed to answer, before asking again.
const ERROR_PAUSE: Duration = Duration::from_secs(1);

/// Takes due entries while there are free workers. Ends when the receiver
/// is dropped or shut down.
pub(super) async fn take_loop(receiver: Weak<Inner>, mode: Arc<InboxMode>) {
    let mut phase = mode.phase.subscribe();
    while *phase.borrow_and_update() == Phase::Running {
        let Some(inner) = receiver.upgrade() else {
            return;
        };
        let now_ms = inner.verifier.clock().now_ms();
        let free = mode.slots.available_permits();
        let mut pause = POLL_INTERVAL;
        if free > 0 {
            match mode.store().take(now_ms, inner.lease, free).await {
                Ok(entries) => {
                    if entries.len() == free {
                        pause = Duration::ZERO; // more may be due
                    }
                    for entry in entries {
                        start_attempt(&inner, &mode, entry).await;
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "inbox unavailable; workers wait and ask again");
                    pause = ERROR_PAUSE;
                }
            }
        }
        drop(inner);
        tokio::select! {
            () = mode.wake.notified() => {}
            () = tokio::time::sleep(pause) => {}
            _ = phase.changed() => {}
        }
    }
}

/// Runs one leased entry on its own task, holding a worker slot.
async fn start_attempt(inner: &Arc<Inner>, mode: &Arc<InboxMode>, entry: LeasedEntry) {
    // Shut down while the entries were being leased: give them back unrun. (Only
    // this loop takes slots, so one is free; the entry goes back if not.)
    let running = *mode.phase.borrow() == Phase::Running;
    let slot = running
        .then(|| Arc::clone(&mode.slots).try_acquire_owned().ok())
        .flatten();
    let Some(slot) = slot else {
        settle_until_lease_ends(inner, mode, &entry, Settlement::Release).await;
        return;
    };
    let span = telemetry::attempt_span(&entry);
    tokio::spawn(attempt(Arc::clone(inner), Arc::clone(mode), entry, slot).instrument(span));
}

async fn attempt(
    inner: Arc<Inner>,
    mode: Arc<InboxMode>,
    entry: LeasedEntry,
    slot: OwnedSemaphorePermit,
) {
    let started = std::time::Instant::now();
    let Attempted {
        settlement,
        transaction,
        event,
    } = run_handler(&inner, &mode, &entry).await;
    // Reported once settled: a transactional handler's success is only a
    // success once its writes commit with the done mark.
    let (settlement, settled) = match (settlement, transaction) {
        (Settlement::Done, Some(transaction)) => {
            commit_done(&inner, &mode, &entry, transaction).await
        }
        // Any other outcome drops the transaction: its writes roll back.
        (settlement, _) => {
            let settled = settle_until_lease_ends(&inner, &mode, &entry, settlement.clone()).await;
            (settlement, settled)
        }
    };
    report(&inner, &settlement, started);
    if let (Settlement::Dead { error }, Completion::Recorded) = (&settlement, settled) {
        if let Some(hook) = &mode.dead_letter_hook {
            let dead = DeadLetter {
                entry_id: entry.id,
                event_id: event.0,
                event_type: event.1,
                attempts: entry.attempt,
                error: error.clone(),
            };
            dead_letter::run(hook, dead);
        }
    }
    drop(slot);
    mode.wake.notify_one();
}

/// The attempt's span result, metrics and one log line.
fn report(inner: &Inner, settlement: &Settlement, started: std::time::Instant) {
    let result = match settlement {
        Settlement::Done => "done",
        Settlement::Retry { .. } => "retry",
        Settlement::Dead { .. } => "dead",
        Settlement::Release => "released",
    };
    telemetry::record_attempt(&tracing::Span::current(), result, Some(started));
    metrics::counter!(INBOX_ATTEMPTS_TOTAL, "result" => result).increment(1);
    match settlement {
        Settlement::Dead { error } => {
            metrics::counter!(INBOX_DEAD_LETTERS_TOTAL).increment(1);
            tracing::error!(%error, "dead-lettered: `ckwebhook inbox retry` runs it again");
        }
        Settlement::Retry { error, at_ms } => {
            let in_ms = at_ms - inner.verifier.clock().now_ms();
            tracing::warn!(%error, retry_in_ms = in_ms, "handler failed; retrying later");
        }
        Settlement::Done => tracing::info!("handled"),
        Settlement::Release => {}
    }
}

/// Commits a transactional handler's writes with the done mark, and says
/// how the entry was settled. If that fails, nothing was written: the
/// attempt counts as failed and is retried. If another worker took the
/// entry over, this attempt's writes roll back and it settles nothing.
async fn commit_done(
    inner: &Inner,
    mode: &InboxMode,
    entry: &LeasedEntry,
    transaction: Box<dyn AttemptTransaction>,
) -> (Settlement, Completion) {
    let now_ms = inner.verifier.clock().now_ms();
    match transaction.commit_done(entry, now_ms).await {
        Ok(Completion::Recorded) => (Settlement::Done, Completion::Recorded),
        Ok(other) => {
            metrics::counter!(LEASE_OVERRUNS_TOTAL).increment(1);
            tracing::warn!(
                "the handler finished after its lease ended and another worker took the entry \
                 over: its writes were rolled back, and the other worker's run stands"
            );
            (Settlement::Release, other)
        }
        Err(err) => {
            let settlement = failed(
                inner,
                mode,
                entry,
                &format!("the handler's writes could not be committed: {err}"),
            );
            let settled = settle_until_lease_ends(inner, mode, entry, settlement.clone()).await;
            (settlement, settled)
        }
    }
}

/// What an attempt came to: how to settle its entry, the transaction its
/// handler wrote through (if it asked for one), and the event's id and
/// type (for the dead-letter hook).
struct Attempted {
    settlement: Settlement,
    transaction: Option<Box<dyn AttemptTransaction>>,
    event: (Option<String>, Option<String>),
}

impl From<Settlement> for Attempted {
    fn from(settlement: Settlement) -> Self {
        Attempted {
            settlement,
            transaction: None,
            event: (None, None),
        }
    }
}

/// Verifies the stored copy again, runs its handler, and says how to
/// settle the entry.
async fn run_handler(inner: &Inner, mode: &InboxMode, entry: &LeasedEntry) -> Attempted {
    if entry.attempt > mode.policy.attempts() {
        return Settlement::Dead {
            error: "the last attempt never finished: its worker stopped or crashed mid-handler"
                .to_owned(),
        }
        .into();
    }
    let verified = inner.verifier.reverify(&entry.headers, entry.body.clone());
    let mut verified = match verified {
        Ok(verified) => verified,
        Err(err) => {
            return Settlement::Dead {
                error: format!(
                    "the stored delivery no longer verifies ({}); was its secret removed?",
                    err.message()
                ),
            }
            .into()
        }
    };
    let payload = verified.take_payload();
    let event = match &payload {
        Payload::Event(event) => (event.id.clone(), Some(event.event_type.to_string())),
        _ => (None, None),
    };
    if let Payload::Event(event) = &payload {
        let span = tracing::Span::current();
        telemetry::record_event(&span, event.id.as_deref(), event.event_type.as_str());
    }
    let delivery = Delivery::new(
        verified,
        entry.dedupe_key.clone(),
        &inner.captured_headers,
        &entry.headers,
    );
    let attempt = Some(InboxAttempt::new(entry.id, entry.attempt));
    let limit = inner.routes.time_limit(&payload);
    let transaction = inner
        .routes
        .is_transactional(&payload)
        .then(|| mode.store().begin_transaction(entry))
        .flatten();
    let handle = transaction.as_ref().map(|transaction| transaction.handle());
    let handler = catch_panic::call(|| {
        inner
            .routes
            .dispatch(payload, delivery, &inner.states, attempt, handle)
    });
    let mut phase = mode.phase.subscribe();
    let aborted = phase.wait_for(|phase| *phase == Phase::Abort);
    let started = Instant::now();
    // A cut attempt counts: a handler cut after its side effect runs again
    // (like one whose process crashed), and one that never returns reaches
    // the dead letter instead of coming back at every restart.
    let result = tokio::select! {
        result = handler => result,
        () = tokio::time::sleep(limit) => Err(format!(
            "the attempt ran longer than its time limit of {} ms and was stopped",
            limit.as_millis()
        ).into()),
        _ = aborted => Err(
            "the attempt was cut by the receiver's shutdown, at the end of its grace period".into()
        ),
        never = keep_leased(inner, mode, entry) => match never {},
    };
    metrics::histogram!(HANDLER_SECONDS).record(started.elapsed().as_secs_f64());
    let settlement = match result {
        Ok(()) => Settlement::Done,
        Err(err) if err.is_refusal() => Settlement::Dead {
            error: format!("refused: {err}"),
        },
        Err(err) => failed(inner, mode, entry, &err),
    };
    Attempted {
        settlement,
        transaction,
        event,
    }
}

/// A failed attempt: retried after its backoff, or dead after the last.
fn failed(
    inner: &Inner,
    mode: &InboxMode,
    entry: &LeasedEntry,
    err: &dyn std::fmt::Display,
) -> Settlement {
    match mode.policy.delay_after(entry.attempt) {
        Some(delay) => Settlement::Retry {
            at_ms: inner
                .verifier
                .clock()
                .now_ms()
                .saturating_add(millis(delay)),
            error: err.to_string(),
        },
        None => Settlement::Dead {
            error: format!(
                "attempt {} of {} failed: {err}",
                entry.attempt,
                mode.policy.attempts()
            ),
        },
    }
}

/// Renews the entry's lease every third of it while its handler runs, so a
/// slow handler keeps its entry and only a stopped or crashed worker's entry
/// is taken over when its lease ends.
async fn keep_leased(
    inner: &Inner,
    mode: &InboxMode,
    entry: &LeasedEntry,
) -> std::convert::Infallible {
    let every = inner.lease / 3;
    loop {
        tokio::time::sleep(every).await;
        let until_ms = inner
            .verifier
            .clock()
            .now_ms()
            .saturating_add(millis(inner.lease));
        match mode.store().renew(entry, until_ms).await {
            Ok(Completion::Recorded) => {}
            Ok(_) => tracing::warn!(
                "the entry's lease ended before it could be renewed and another worker took it: \
                 the event may run twice"
            ),
            Err(err) => tracing::warn!(error = %err, "could not renew the entry's lease"),
        }
    }
}

/// Writes the settlement, retrying while the inbox is unreachable (a
/// restarting database) until the lease would end: after that another
/// worker may take the entry, and the write would be refused anyway.
async fn settle_until_lease_ends(
    inner: &Inner,
    mode: &InboxMode,
    entry: &LeasedEntry,
    settlement: Settlement,
) -> Completion {
    let give_up = Instant::now() + inner.lease;
    let mut pause = Duration::from_millis(100);
    loop {
        let now_ms = inner.verifier.clock().now_ms();
        match mode.store().settle(entry, settlement.clone(), now_ms).await {
            Ok(Completion::Recorded) => return Completion::Recorded,
            Ok(_) => {
                metrics::counter!(LEASE_OVERRUNS_TOTAL).increment(1);
                tracing::warn!(
                    "the handler finished after its lease ended and another worker took the entry \
                     over, so the event ran twice: raise the lease above the slowest handler"
                );
                return Completion::Overtaken;
            }
            Err(err) if Instant::now() + pause < give_up => {
                tracing::warn!(error = %err, "could not settle the entry; trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            Err(err) => {
                tracing::error!(error = %err, "could not settle the entry before its lease ended; it will run again");
                return Completion::Overtaken;
            }
        }
    }
}
