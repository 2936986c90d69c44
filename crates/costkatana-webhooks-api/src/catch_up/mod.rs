//! Catch-up: recover the events the sender dropped while the receiver was
//! down, from the receiver's side.
//!
//! The sender fails a refused connection at once, with no retry, and
//! deactivates a webhook after more than 50 failures in 24 h; a receiver
//! that was down has lost events no request will bring. Each pass of
//! catch-up keeps the webhook active, reads its delivery records since the
//! last good pass, decides per event whether it was lost, and asks the
//! sender to replay each lost event once.

mod pass;
mod report;

pub use report::{CatchUpReport, LostEvent};

use std::sync::Mutex;
use std::time::Duration;

use costkatana_webhooks::receiver::{
    BackgroundTask, ReplayLedger, StartError, TaskContext, TaskFuture,
};

use crate::{ApiErrorKind, Client};

/// Counter of events found lost (failed for good, unknown to the store).
pub const CATCH_UP_LOST_TOTAL: &str = "costkatana_webhook_catch_up_lost_total";
/// Counter of replays asked of the sender.
pub const CATCH_UP_REPLAYS_TOTAL: &str = "costkatana_webhook_catch_up_replays_requested_total";
/// Counter of re-activations of a webhook the sender had deactivated.
pub const CATCH_UP_REACTIVATIONS_TOTAL: &str = "costkatana_webhook_catch_up_reactivations_total";
/// Counter of API calls that failed, labelled `kind`.
pub const CATCH_UP_API_ERRORS_TOTAL: &str = "costkatana_webhook_catch_up_api_errors_total";

/// The sender keeps delivery records this long: no horizon reaches further.
const RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

/// Recovers the events the sender failed to deliver: a
/// [`BackgroundTask`] a receiver runs at start and then every minute, once
/// per fleet (see [`ReceiverBuilder::background`]).
///
/// Each pass:
/// 1. **keeps the webhook active**: if the sender deactivated it (more
///    than 50 failed attempts in 24 h), it re-activates it and logs that
///    at error level. Events emitted while it was inactive are gone: the
///    sender never queued them, and nothing can bring them back;
/// 2. **reads the delivery records** since the last good pass (else the
///    last 24 h, never more than the sender's 30-day retention), newest
///    first, a page of 100 at a time;
/// 3. **decides per event, not per attempt**: an event whose most recent
///    attempt succeeded or is pending (a retry, a replay) is not lost; an
///    event the receiver's store knows (done, pending, running or dead in
///    the inbox; done in Redis) reached the receiver; with a store that
///    forgets on restart (the memory store) only deliveries that never
///    reached the receiver (a refused connection, an unknown host) count
///    as lost, since a time-out or a 5xx may have been handled before the
///    restart;
/// 4. **asks for one replay per lost event**, of its most recent failed
///    delivery, paced, after recording the request in the store's
///    [`ReplayLedger`], so neither a later pass nor another replica on the
///    same store asks again, and the receiver lets that replay in despite
///    its old timestamp.
///
/// API failures: unreachable or 5xx, the pass stops and the next one tries
/// again from the same horizon, the receiver serving meanwhile; a refused
/// key (401) pauses catch-up with one error naming the key's prefix; a
/// webhook id that does not exist refuses the receiver's start.
///
/// [`ReceiverBuilder::background`]: costkatana_webhooks::ReceiverBuilder::background
///
/// ```no_run
/// use std::time::Duration;
/// use costkatana_webhooks_api::{CatchUp, Client};
///
/// # fn run(client: Client) {
/// let catch_up = CatchUp::new(client, "65f0c0ffee0000000000beef")
///     .every(Duration::from_secs(30))
///     .replays_per_second(10);
/// # }
/// ```
pub struct CatchUp {
    client: Client,
    webhook_id: String,
    settings: Settings,
    state: Mutex<State>,
}

/// How catch-up runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    every: Duration,
    pub(crate) reactivate: bool,
    pub(crate) first_horizon: Duration,
    pub(crate) replay_window: Duration,
    pub(crate) replays_per_second: u32,
}

/// What one pass leaves for the next.
#[derive(Debug, Default)]
struct State {
    /// When the last pass that read everything began, in ms.
    last_good_pass_ms: Option<i64>,
    /// Set when the API refused the key: no pass runs until restart.
    paused: bool,
}

impl std::fmt::Debug for CatchUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatchUp")
            .field("client", &self.client)
            .field("webhook_id", &self.webhook_id)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl CatchUp {
    /// Catch-up for webhook `webhook_id`, with the defaults: a pass every
    /// 60 s, re-activation on, a first horizon of 24 h, replays expected
    /// for 1 h after they are asked for, at most 20 replays asked a second.
    pub fn new(client: Client, webhook_id: impl Into<String>) -> Self {
        CatchUp {
            client,
            webhook_id: webhook_id.into().trim().to_owned(),
            settings: Settings {
                every: Duration::from_secs(60),
                reactivate: true,
                first_horizon: Duration::from_secs(24 * 3600),
                replay_window: Duration::from_secs(3600),
                replays_per_second: 20,
            },
            state: Mutex::new(State::default()),
        }
    }

    /// The time between two passes (default 60 s).
    #[must_use]
    pub fn every(mut self, every: Duration) -> Self {
        self.settings.every = every;
        self
    }

    /// Whether to re-activate a webhook the sender deactivated (default
    /// yes).
    #[must_use]
    pub fn reactivate(mut self, reactivate: bool) -> Self {
        self.settings.reactivate = reactivate;
        self
    }

    /// How far back the first pass reads (default 24 h; at most 30 days,
    /// the sender's retention). Later passes read from the last good one.
    #[must_use]
    pub fn since(mut self, horizon: Duration) -> Self {
        self.settings.first_horizon = horizon.min(RETENTION);
        self
    }

    /// How long the receiver expects a replay once it is asked for
    /// (default 1 h): long enough for the sender's own retries of it.
    #[must_use]
    pub fn replay_window(mut self, window: Duration) -> Self {
        self.settings.replay_window = window;
        self
    }

    /// The most replays asked of the sender in a second (default 20, at
    /// least 1), so recovering a long outage does not flood it.
    #[must_use]
    pub fn replays_per_second(mut self, rate: u32) -> Self {
        self.settings.replays_per_second = rate.max(1);
        self
    }

    /// The webhook it watches.
    pub fn webhook_id(&self) -> &str {
        &self.webhook_id
    }

    /// One pass, now: what `ckwebhook webhooks catch-up` runs. With
    /// `dry_run`, nothing is changed (no re-activation, no replay, no
    /// ledger record): the report says what a pass would do.
    ///
    /// `ledger` is the receiver's store ([`Receiver::replay_ledger`]);
    /// without one, nothing is known to be handled, and only deliveries
    /// that never reached the receiver are reported lost (and nothing is
    /// replayed, since the receiver could not be told to expect it).
    ///
    /// # Errors
    ///
    /// The API failed in a way the pass cannot go past (the webhook could
    /// not be read, the key was refused, the listing failed).
    ///
    /// [`Receiver::replay_ledger`]: costkatana_webhooks::Receiver::replay_ledger
    pub async fn run_once(
        &self,
        ledger: Option<&ReplayLedger>,
        now_ms: i64,
        dry_run: bool,
    ) -> Result<CatchUpReport, crate::ApiError> {
        let since_ms = self.horizon_ms(now_ms);
        let report = pass::Pass {
            client: &self.client,
            webhook_id: &self.webhook_id,
            settings: &self.settings,
            ledger,
            dry_run,
        }
        .run(since_ms)
        .await?;
        if report.complete && !dry_run {
            self.state().last_good_pass_ms = Some(now_ms);
        }
        Ok(report)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The oldest record a pass at `now_ms` reads.
    fn horizon_ms(&self, now_ms: i64) -> i64 {
        let millis = costkatana_webhooks::clock::millis;
        let oldest = now_ms.saturating_sub(millis(RETENTION));
        let from = self
            .state()
            .last_good_pass_ms
            .unwrap_or_else(|| now_ms.saturating_sub(millis(self.settings.first_horizon)));
        from.max(oldest)
    }

    /// Stops passes for good after the API refused the key.
    fn pause(&self, err: &crate::ApiError) {
        let mut state = self.state();
        if !state.paused {
            state.paused = true;
            tracing::error!(error = %err, "catch-up paused: the receiver keeps serving, but missed events are not recovered until the key is fixed and the receiver restarted");
        }
    }
}

impl BackgroundTask for CatchUp {
    fn name(&self) -> &'static str {
        "catch-up"
    }

    fn every(&self) -> Duration {
        self.settings.every
    }

    /// Once per fleet: replicas would ask for the same replays (the ledger
    /// would stop the second ask, at the cost of its calls).
    fn leader_only(&self) -> bool {
        true
    }

    /// The webhook must exist; a refused key pauses catch-up; an API that
    /// cannot be reached now is tried again at the first pass.
    fn prepare<'a>(&'a self, _: &'a TaskContext) -> TaskFuture<'a, Result<(), StartError>> {
        Box::pin(async move {
            match self.client.webhook(&self.webhook_id).await {
                Ok(_) => Ok(()),
                Err(err)
                    if matches!(
                        err.kind(),
                        ApiErrorKind::NotFound | ApiErrorKind::Validation
                    ) =>
                {
                    Err(StartError::new(
                        "catch-up",
                        format!(
                            "webhook {} does not exist at {} ({err})",
                            self.webhook_id,
                            self.client.base_url()
                        ),
                    ))
                }
                Err(err) if err.kind() == ApiErrorKind::Unauthorized => {
                    self.pause(&err);
                    Ok(())
                }
                Err(err) => {
                    tracing::warn!(error = %err, "catch-up could not reach the API at start; its first pass will try again");
                    Ok(())
                }
            }
        })
    }

    fn tick<'a>(&'a self, context: &'a TaskContext) -> TaskFuture<'a, ()> {
        Box::pin(async move {
            if self.state().paused {
                return;
            }
            let Some(ledger) = context.replay_ledger() else {
                return;
            };
            match self.run_once(Some(&ledger), context.now_ms(), false).await {
                Ok(report) => report.log(),
                Err(err) if err.kind() == ApiErrorKind::Unauthorized => self.pause(&err),
                Err(err) => {
                    tracing::warn!(error = %err, "catch-up pass failed; the next one tries again from the same horizon");
                }
            }
        })
    }
}
