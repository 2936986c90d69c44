//! The framework-free receiver: verify, parse, claim, handle, settle.
//!
//! ```
//! use bytes::Bytes;
//! use costkatana_webhooks::{Event, EventType, HandlerResult, Payload, Receiver};
//!
//! async fn on_cost_alert(event: Event) -> HandlerResult {
//!     println!("cost alert: {:?}", event.title);
//!     Ok(())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let receiver = Receiver::builder()
//!     .secret("whsec_test_secret")
//!     .on(EventType::CostAlert, on_cost_alert)
//!     .fallback(|_: Payload| async { Ok(()) })
//!     .build()?;
//! receiver.start().await?; // its background work, if any
//!
//! // An adapter passes the method, the headers and the body:
//! let headers = [("Content-Type", "application/json")];
//! let outcome = receiver.receive("POST", &headers, Bytes::from_static(b"{}")).await;
//! assert_eq!(outcome.answer().status, 400); // missing_signature
//! # Ok(()) }
//! ```

mod background;
mod builder;
mod catch_panic;
mod claim_guard;
mod delivery;
mod extract;
mod handler;
#[cfg(feature = "testing")]
mod handler_runs;
mod health;
mod inbox_mode;
mod lifecycle;
mod mode;
mod rejections;
mod replays;
mod request_info;
mod routes;
#[cfg(feature = "testing")]
mod settlements;
mod telemetry;

pub use builder::ReceiverBuilder;
pub use delivery::Delivery;
pub use extract::{DeliveryParts, FromDelivery, InboxAttempt, Requirements, Shared};
pub use handler::{HandlerError, HandlerResult, WebhookHandler};
pub use health::Health;
pub use inbox_mode::DeadLetter;
pub use lifecycle::{BackgroundTask, StartError, TaskContext, TaskFuture};
pub use mode::Mode;
pub use rejections::{Diagnosis, Rejection, DEFAULT_REJECTION_LOG};
pub use replays::{DeliveryKey, Known, ReplayLedger, REPLAYS_RECEIVED_TOTAL};
pub use request_info::RequestInfo;
pub use routes::EventSelector;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tracing::Instrument;

use crate::dedupe::{Claim, DedupeKey, DedupeStore};
use crate::{Error, ErrorKind, Headers, Outcome, Payload, RequestBody, Verifier};

use background::Background;
use claim_guard::ClaimGuard;
use extract::States;
use lifecycle::{Elector, TaskContext as Context, Tasks};
use mode::Engine;
use rejections::{Refused, Rejections};
use routes::Routes;

/// The default time a completed delivery is remembered: 24 h.
pub const DEFAULT_DEDUPE_TTL: Duration = Duration::from_secs(24 * 3600);
/// The default lease of an in-flight claim: 60 s.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// How many handlers inbox mode runs at once unless told otherwise.
pub const DEFAULT_INBOX_WORKERS: usize = 32;
/// How long an inbox attempt may run unless told otherwise: 5 min.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(300);

/// Request counter, labelled by `outcome`.
pub const REQUESTS_TOTAL: &str = "costkatana_webhook_requests_total";
/// Histogram of handler run time, in seconds.
pub const HANDLER_SECONDS: &str = "costkatana_webhook_handler_seconds";
/// Counter of handlers that failed in the background (ack-first mode).
pub const BACKGROUND_FAILURES_TOTAL: &str = "costkatana_webhook_background_failures_total";
/// Counter of handlers that finished after their lease ended and another
/// copy of the event had taken the claim over: the event ran twice.
pub const LEASE_OVERRUNS_TOTAL: &str = "costkatana_webhook_lease_overruns_total";

/// Receives Cost Katana deliveries, exactly once, without a web framework.
///
/// For each request it checks the method and the signature headers,
/// reads the body within its bounds, verifies the signature, parses the
/// payload, claims the dedupe key (the event id, else the signature), runs
/// the routed handler, and settles the claim: completed when the handler
/// succeeds or refuses, released when it fails, panics, or its request is
/// dropped, so the sender's retry is processed. The [`Outcome`] maps to
/// the HTTP answer through [`Outcome::answer`].
///
/// Build one with [`Receiver::builder`], [`start`](Receiver::start) its
/// background work, serve it with an adapter (`costkatana-webhooks-axum`,
/// `-actix`, `-tower`), and [`shutdown`](Receiver::shutdown) on exit.
/// Cheap to clone; share one per endpoint.
#[derive(Clone)]
pub struct Receiver {
    inner: Arc<Inner>,
}

struct Inner {
    verifier: Verifier,
    routes: Routes,
    states: States,
    namespace: Arc<Namespace>,
    dedupe_ttl: Duration,
    lease: Duration,
    captured_headers: Vec<&'static str>,
    engine: Engine,
    elector: Elector,
    tasks: Tasks,
    life: Life,
    rejections: Rejections,
    /// What the inbox's workers settled (the testing kit waits on it).
    #[cfg(feature = "testing")]
    settlements: Arc<settlements::Settlements>,
}

/// Where a receiver is in its life; `start` and `shutdown` hold the lock
/// while they change it, so two calls never interleave.
#[derive(Default)]
struct Life {
    phase: tokio::sync::Mutex<Phase>,
    /// Whether a delivery was stored before `start` (said once in the log).
    warned_unstarted: AtomicBool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Phase {
    #[default]
    Built,
    Started,
    Stopped,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("verifier", &self.inner.verifier)
            .field("routes", &self.inner.routes)
            .field("namespace", &self.inner.namespace)
            .field("dedupe_ttl", &self.inner.dedupe_ttl)
            .field("lease", &self.inner.lease)
            .field("mode", &self.inner.engine.mode())
            .field("tasks", &self.inner.tasks.names())
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// A builder: secrets, handlers, store, tolerances and limits, in one
    /// place. See [`ReceiverBuilder`] for the defaults.
    ///
    /// ```
    /// use costkatana_webhooks::{Payload, Receiver};
    ///
    /// let receiver = Receiver::builder()
    ///     .secret("whsec_test_secret")
    ///     .fallback(|payload: Payload| async move { println!("{payload:?}"); Ok(()) })
    ///     .build()?;
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn builder() -> ReceiverBuilder {
        ReceiverBuilder::new()
    }

    /// The verifier, with the receiver's secrets, tolerances and body
    /// limits, for verify-only routes beside the receiver.
    ///
    /// ```
    /// # use costkatana_webhooks::{Payload, Receiver};
    /// let receiver = Receiver::builder()
    ///     .secret("s3cret")
    ///     .max_body(64 * 1024)
    ///     .fallback(|_: Payload| async { Ok(()) })
    ///     .build()?;
    /// assert_eq!(receiver.verifier().max_body(), 64 * 1024);
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn verifier(&self) -> &Verifier {
        &self.inner.verifier
    }

    /// Runs the whole pipeline for one request: the method and signature
    /// headers first (answered at once when wrong, without waiting for the
    /// body), the body within its bounds, verification, dedupe, the
    /// handler, and the settling of the claim.
    ///
    /// `body` is the framework's streaming body (through an adapter's
    /// [`RequestBody`]) or a complete body (`Bytes`, `Vec<u8>`, `String`).
    /// Metrics and the request's log line are recorded once, when it
    /// completes; dropping the future releases a held claim.
    ///
    /// ```
    /// # use costkatana_webhooks::{Payload, Receiver, ErrorKind, Outcome};
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// let receiver = Receiver::builder()
    ///     .secret("s3cret")
    ///     .fallback(|_: Payload| async { Ok(()) })
    ///     .build()?;
    /// let outcome = receiver.receive("GET", &[("Host", "example.com")], "").await;
    /// assert_eq!(outcome.label(), "method_not_allowed");
    /// # Ok::<(), costkatana_webhooks::ConfigError>(()) }).unwrap();
    /// ```
    pub async fn receive(
        &self,
        method: &str,
        headers: &impl Headers,
        body: impl RequestBody,
    ) -> Outcome {
        self.receive_with(RequestInfo::new(), method, headers, body)
            .await
    }

    /// [`Receiver::receive`] with what the server knows of the request:
    /// the peer's address, which the [rejection log](Receiver::rejections)
    /// keeps beside a refused request, and the path, which names the
    /// request's span. The adapters pass what their server knows.
    ///
    /// ```
    /// # use costkatana_webhooks::{Payload, Receiver, receiver::RequestInfo};
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// let receiver = Receiver::builder()
    ///     .secret("s3cret")
    ///     .fallback(|_: Payload| async { Ok(()) })
    ///     .build()?;
    /// let info = RequestInfo::new().remote("203.0.113.7".parse().unwrap());
    /// let outcome = receiver.receive_with(info, "POST", &[("Content-Type", "application/json")], "{}").await;
    /// assert_eq!(outcome.label(), "missing_signature");
    /// assert_eq!(receiver.rejections()[0].remote, info.remote);
    /// # Ok::<(), costkatana_webhooks::ConfigError>(()) }).unwrap();
    /// ```
    pub async fn receive_with(
        &self,
        info: RequestInfo<'_>,
        method: &str,
        headers: &impl Headers,
        body: impl RequestBody,
    ) -> Outcome {
        self.receive_keyed(info, method, headers, body, false)
            .await
            .0
    }

    /// [`Receiver::receive_with`], and, when `want_key`, the dedupe key of
    /// a verified delivery with how far its handling had got before this
    /// request (handler runs ended, or inbox settlements, under the
    /// `testing` feature; else 0): the testing kit waits on both.
    pub(crate) async fn receive_keyed(
        &self,
        info: RequestInfo<'_>,
        method: &str,
        headers: &impl Headers,
        body: impl RequestBody,
        want_key: bool,
    ) -> (Outcome, Option<(String, usize)>) {
        let started = Instant::now();
        let span = telemetry::request_span(method, info.path);
        let record_span = span.clone();
        async move {
            let inner = &self.inner;
            let intake = self.intake(method, headers, body).await;
            let key = match &intake {
                Ok((_, delivery)) if want_key => {
                    let key = delivery.dedupe_key().to_owned();
                    let before = self.progress(&key);
                    Some((key, before))
                }
                _ => None,
            };
            let outcome = match (intake, &inner.engine) {
                (Ok((payload, delivery)), Engine::Inbox(inbox)) => {
                    self.warn_if_unstarted();
                    let now_ms = inner.verifier.clock().now_ms();
                    let captured = &inner.captured_headers;
                    inbox
                        .accept(&payload, &delivery, headers, captured, now_ms)
                        .await
                }
                (Ok((payload, delivery)), Engine::Inline(store)) => {
                    inner.process(store, None, payload, delivery).await
                }
                (Ok((payload, delivery)), Engine::AckFirst(store, queue)) => {
                    inner.process(store, Some(queue), payload, delivery).await
                }
                (Err((err, body)), _) => {
                    inner.rejections.note(Refused {
                        error: &err,
                        verifier: &inner.verifier,
                        headers,
                        body: body.as_ref(),
                        remote: info.remote,
                    });
                    Outcome::Failed(err)
                }
            };
            inner.record(&record_span, &outcome, started);
            (outcome, key)
        }
        .instrument(span)
        .await
    }

    /// How far the handling of `key` has got: settlements in inbox mode,
    /// handler runs ended otherwise (0 without the `testing` feature).
    fn progress(&self, key: &str) -> usize {
        #[cfg(feature = "testing")]
        return match &self.inner.engine {
            Engine::Inbox(_) => self.settlements().of(key).len(),
            _ => self.handler_runs().ended(key) as usize,
        };
        #[cfg(not(feature = "testing"))]
        {
            let _ = key;
            0
        }
    }

    /// The handler runs that have ended, per dedupe key (testing kit).
    #[cfg(feature = "testing")]
    pub(crate) fn handler_runs(&self) -> &Arc<handler_runs::HandlerRuns> {
        &self.inner.routes.runs
    }

    /// The inbox, in inbox mode (testing kit).
    #[cfg(feature = "testing")]
    pub(crate) fn inbox_store(&self) -> Option<&Arc<dyn crate::inbox::InboxStore>> {
        match &self.inner.engine {
            Engine::Inbox(inbox) => Some(inbox.store()),
            _ => None,
        }
    }

    /// What the inbox's workers settled, per dedupe key (testing kit).
    #[cfg(feature = "testing")]
    pub(crate) fn settlements(&self) -> &Arc<settlements::Settlements> {
        &self.inner.settlements
    }

    /// Whether [`Receiver::start`] has run (and `shutdown` has not).
    #[cfg(feature = "testing")]
    pub(crate) async fn is_started(&self) -> bool {
        *self.inner.life.phase.lock().await == Phase::Started
    }

    /// The requests refused lately, newest first: when, why (the reason
    /// code and, where it can be told, a [`Diagnosis`]), from where, the
    /// scheme and the body's size; never the body, a signature or a
    /// credential. The receiver keeps the last 1000
    /// ([`ReceiverBuilder::rejection_log`]).
    ///
    /// ```
    /// # use costkatana_webhooks::{Payload, Receiver};
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// let receiver = Receiver::builder()
    ///     .secret("s3cret")
    ///     .fallback(|_: Payload| async { Ok(()) })
    ///     .build()?;
    /// receiver.receive("GET", &[("Host", "example.com")], "").await;
    /// assert_eq!(receiver.rejections()[0].reason, "method_not_allowed");
    /// # Ok::<(), costkatana_webhooks::ConfigError>(()) }).unwrap();
    /// ```
    pub fn rejections(&self) -> Vec<Rejection> {
        self.inner.rejections.recent()
    }

    /// What the receiver does with a verified delivery: inline, ack-first
    /// or inbox, as built.
    ///
    /// ```
    /// # use costkatana_webhooks::{Payload, Receiver, receiver::Mode};
    /// let receiver = Receiver::builder()
    ///     .secret("s3cret")
    ///     .fallback(|_: Payload| async { Ok(()) })
    ///     .build()?;
    /// assert_eq!(receiver.mode(), Mode::Inline);
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn mode(&self) -> Mode {
        self.inner.engine.mode()
    }

    /// Starts the background work on the current Tokio runtime: in inbox
    /// mode the workers, the depth gauges and the purge, then every task
    /// given to [`ReceiverBuilder::background`], in that order.
    ///
    /// First, in inbox mode, the inbox must show it can write (a write
    /// rolled back); then every task's [`prepare`](BackgroundTask::prepare)
    /// runs; if one refuses, nothing is started and its error is returned. Starting a
    /// started receiver does nothing. An inline receiver without tasks has
    /// nothing to start, and serves the same either way; an inbox receiver
    /// stores deliveries before it is started, and runs their handlers only
    /// once it is.
    ///
    /// # Errors
    ///
    /// Not inside a Tokio runtime, already shut down, an inbox that cannot
    /// write, or a task refused to start.
    ///
    /// ```
    /// # use costkatana_webhooks::{Payload, Receiver};
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// let receiver = Receiver::builder()
    ///     .secret("s3cret")
    ///     .fallback(|_: Payload| async { Ok(()) })
    ///     .build()?;
    /// receiver.start().await?;
    /// receiver.start().await?; // a second start does nothing
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub async fn start(&self) -> Result<(), StartError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            StartError::new(
                "the receiver",
                "its background work runs on a Tokio runtime: start the receiver inside one",
            )
        })?;
        let inner = &self.inner;
        let mut phase = inner.life.phase.lock().await;
        match *phase {
            Phase::Started => return Ok(()),
            Phase::Stopped => {
                return Err(StartError::new(
                    "the receiver",
                    "it was shut down; build a new one",
                ))
            }
            Phase::Built => {}
        }
        if let Engine::Inbox(inbox) = &inner.engine {
            // A store that cannot write would answer every delivery 503
            // until the sender gives up: refuse to start instead.
            inbox.store().probe().await.map_err(|err| {
                StartError::new("the inbox", format!("it cannot store deliveries: {err}"))
                    .caused_by(err)
            })?;
        }
        let context = Context::new(inner.verifier.shared_clock(), Arc::downgrade(inner));
        inner.tasks.prepare(&context).await?;
        if let Engine::Inbox(inbox) = &inner.engine {
            inbox.spawn(inner, &runtime);
        }
        inner.tasks.spawn(&runtime, &context, &inner.elector);
        *phase = Phase::Started;
        Ok(())
    }

    /// Stops the background work, in order, and waits up to `deadline`
    /// for running handlers.
    ///
    /// First the periodic tasks stop, the last registered first (a tick in
    /// progress is dropped). Then the handlers drain. Ack-first mode: stops
    /// accepting background work (new requests are answered 503
    /// `overloaded`) and waits for queued handlers to finish; their claims
    /// free when their leases end. Inbox mode: the workers take no new
    /// entries (deliveries are still stored and acknowledged) and running
    /// handlers may finish; at the deadline the rest are stopped and their
    /// entries given back, pending, the cut attempt counted as failed (it
    /// may have done its side effect, and runs again).
    ///
    /// Returns how many handlers were still running at the deadline (0 when
    /// all finished). Inline mode has none and returns 0 at once. A shut
    /// down receiver cannot be started again.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use costkatana_webhooks::{Payload, Receiver};
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// let receiver = Receiver::builder()
    ///     .secret("s3cret")
    ///     .fallback(|_: Payload| async { Ok(()) })
    ///     .build()?;
    /// receiver.start().await?;
    /// assert_eq!(receiver.shutdown(Duration::from_secs(30)).await, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub async fn shutdown(&self, deadline: Duration) -> usize {
        let inner = &self.inner;
        let mut phase = inner.life.phase.lock().await;
        *phase = Phase::Stopped;
        inner.tasks.stop().await;
        match &inner.engine {
            Engine::Inline(_) => 0,
            Engine::AckFirst(_, queue) => queue.shutdown(deadline).await,
            Engine::Inbox(inbox) => inbox.shutdown(deadline).await,
        }
    }

    /// Whether the receiver can take deliveries now: its store answers
    /// and, for an inbox, can write (a write rolled back). Serve it on a
    /// `/health` route with [`Health::status`].
    ///
    /// ```
    /// # use costkatana_webhooks::{Payload, Receiver};
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// let receiver = Receiver::builder()
    ///     .secret("s3cret")
    ///     .fallback(|_: Payload| async { Ok(()) })
    ///     .build()?;
    /// assert_eq!(receiver.health().await.status(), 200);
    /// # Ok::<(), costkatana_webhooks::ConfigError>(()) }).unwrap();
    /// ```
    pub async fn health(&self) -> Health {
        let probe = match &self.inner.engine {
            Engine::Inline(store) | Engine::AckFirst(store, _) => store.probe().await,
            Engine::Inbox(inbox) => inbox.store().probe().await,
        };
        match probe {
            Ok(()) => Health::Ready,
            Err(err) => Health::Unavailable(err.to_string()),
        }
    }

    /// The receiver's store as catch-up sees it: what it knows of a
    /// delivery, and the ledger of the replays asked of the sender (see
    /// [`ReplayLedger`]).
    ///
    /// ```
    /// # use costkatana_webhooks::{Payload, Receiver};
    /// let receiver = Receiver::builder()
    ///     .secret("s3cret")
    ///     .fallback(|_: Payload| async { Ok(()) })
    ///     .build()?;
    /// assert!(!receiver.replay_ledger().remembers_after_restart()); // the memory store
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn replay_ledger(&self) -> ReplayLedger {
        self.inner.replay_ledger()
    }

    /// The one exception to the timestamp window: an authentic stale
    /// delivery the receiver asked the sender to replay passes, until the
    /// ledger's deadline (dedupe then handles it once).
    /// Anything else keeps its verdict (`stale_timestamp`, or
    /// `future_timestamp`). A ledger that cannot be read is answered 503,
    /// since the replay's retry can still pass.
    async fn admit_expected_replay(&self, verdict: Error, key: &str) -> Result<(), Error> {
        if verdict.kind() != ErrorKind::StaleTimestamp {
            return Err(verdict);
        }
        match self.inner.replay_ledger().expects(key).await {
            Ok(true) => {
                metrics::counter!(REPLAYS_RECEIVED_TOTAL).increment(1);
                tracing::info!(
                    "accepted a replay the receiver asked for, outside the timestamp window"
                );
                Ok(())
            }
            Ok(false) => Err(verdict),
            Err(err) => {
                tracing::warn!(error = %err, "could not read the ledger of expected replays");
                Err(err.into())
            }
        }
    }

    /// Says once that an inbox receiver stores deliveries it will not run
    /// until it is started: a forgotten `start` shows in the log.
    fn warn_if_unstarted(&self) {
        let life = &self.inner.life;
        let built = life
            .phase
            .try_lock()
            .is_ok_and(|phase| *phase == Phase::Built);
        if built && !life.warned_unstarted.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "inbox mode: deliveries are stored, but their handlers run only once \
                 Receiver::start has been called"
            );
        }
    }

    /// Verification and parsing: what the handler will get, or why not.
    async fn intake(
        &self,
        method: &str,
        headers: &impl Headers,
        body: impl RequestBody,
    ) -> Result<(Payload, Delivery), (Error, Option<Bytes>)> {
        let inner = &*self.inner;
        let (mut verified, age) = inner
            .verifier
            .verify_request_judged(method, headers, body)
            .await?;
        let payload = verified.take_payload();
        let namespace = inner.namespace.for_secret(verified.secret_index());
        // A blank id is no id: keying on it would merge different events.
        let key = match payload.event_id().filter(|id| !id.trim().is_empty()) {
            Some(id) => dedupe_key(namespace, DedupeKey::EVENT, id),
            None => dedupe_key(namespace, DedupeKey::SIGNATURE, &verified.signature_hex()),
        };
        if let Err(err) = age {
            let body = verified.body_bytes();
            self.admit_expected_replay(err, &key)
                .await
                .map_err(|err| (err, Some(body)))?;
        }
        let span = tracing::Span::current();
        span.record("scheme", verified.scheme().as_str());
        if let Payload::Event(event) = &payload {
            telemetry::record_event(&span, event.id.as_deref(), event.event_type.as_str());
        }
        Ok((
            payload,
            Delivery::new(verified, key, &inner.captured_headers, headers),
        ))
    }
}

impl Inner {
    fn replay_ledger(&self) -> ReplayLedger {
        let store = match &self.engine {
            Engine::Inline(store) | Engine::AckFirst(store, _) => {
                replays::Store::Dedupe(Arc::clone(store))
            }
            Engine::Inbox(inbox) => replays::Store::Inbox(Arc::clone(inbox.store())),
        };
        ReplayLedger::new(
            store,
            Arc::clone(&self.namespace),
            self.verifier.shared_clock(),
        )
    }

    /// Inline and ack-first modes: claim, run (now, or in the background
    /// on `queue`), settle.
    async fn process(
        &self,
        store: &Arc<dyn DedupeStore>,
        queue: Option<&Background>,
        payload: Payload,
        delivery: Delivery,
    ) -> Outcome {
        let event_id = payload.event_id().map(str::to_owned);
        let key = delivery.dedupe_key().to_owned();
        let token = match store.claim(&key, self.lease).await {
            Ok(Claim::Fresh(token)) => token,
            Ok(Claim::Done) => return Outcome::Duplicate { event_id },
            Ok(Claim::InFlight) => return Outcome::Failed(Error::new(ErrorKind::InProgress)),
            Err(err) => {
                // The detail (hosts, ports) is logged, never sent to the caller.
                tracing::warn!(error = %err, "dedupe store unavailable");
                return Outcome::Failed(err.into());
            }
        };
        let guard = ClaimGuard::new(Arc::clone(store), key, token, self.dedupe_ttl);
        let handler = catch_panic::call(|| {
            self.routes
                .dispatch(payload, delivery, &self.states, None, None)
        });
        let Some(queue) = queue else {
            return match settle(handler, guard).await {
                Ok(()) => Outcome::Processed { event_id },
                Err(err) => Outcome::Failed(err),
            };
        };
        let job = async move {
            if let Err(err) = settle(handler, guard).await {
                metrics::counter!(BACKGROUND_FAILURES_TOTAL).increment(1);
                tracing::error!(error = %err.message(), "background handler failed");
            }
        };
        match queue.try_spawn(job.in_current_span()) {
            Ok(()) => Outcome::Queued { event_id },
            // The job (and its guard) was dropped: the claim is released.
            Err(err) => Outcome::Failed(err),
        }
    }
}

/// The namespace of a receiver's dedupe keys.
#[derive(Debug)]
pub(crate) enum Namespace {
    /// Set on purpose: every delivery's keys.
    Fixed(String),
    /// Derived from each secret, in the verifier's order.
    PerSecret(Vec<String>),
}

impl Namespace {
    /// Every namespace a delivery may be keyed in.
    fn all(&self) -> impl Iterator<Item = &str> {
        let namespaces: &[String] = match self {
            Namespace::Fixed(namespace) => std::slice::from_ref(namespace),
            Namespace::PerSecret(namespaces) => namespaces,
        };
        namespaces.iter().map(String::as_str)
    }

    /// The namespace of a delivery verified by the `index`-th secret.
    fn for_secret(&self, index: usize) -> &str {
        match self {
            Namespace::Fixed(namespace) => namespace,
            Namespace::PerSecret(namespaces) => namespaces.get(index).map_or("", String::as_str),
        }
    }
}

/// The key of a delivery's `kind` of `value` in `namespace` (see
/// [`DedupeKey`]).
fn dedupe_key(namespace: &str, kind: &str, value: &str) -> String {
    DedupeKey {
        namespace,
        kind,
        value,
    }
    .to_string()
}

/// Runs the handler and settles the claim by its result: done when it
/// succeeded or refused for good, released when it failed.
async fn settle(handler: catch_panic::CatchPanic, guard: ClaimGuard) -> Result<(), Error> {
    let started = Instant::now();
    let result = handler.await;
    metrics::histogram!(HANDLER_SECONDS).record(started.elapsed().as_secs_f64());
    match result {
        Ok(()) => {
            complete(guard).await;
            Ok(())
        }
        Err(err) if err.is_refusal() => {
            tracing::warn!(error = %err, "handler refused the delivery permanently");
            complete(guard).await;
            Err(Error::new(ErrorKind::Refused))
        }
        Err(err) => {
            tracing::warn!(error = %err, "handler failed; releasing the claim for a retry");
            if let Err(store_err) = guard.release().await {
                tracing::warn!(error = %store_err, "could not release the claim; it frees when its lease ends");
            }
            Err(Error::new(ErrorKind::HandlerFailed))
        }
    }
}

/// Marks the claim done; a failure is logged, not answered, since the
/// handler ran and a 5xx would make the sender run it again.
async fn complete(guard: ClaimGuard) {
    if let Err(err) = guard.complete().await {
        tracing::warn!(error = %err, "handled, but could not mark the event done; the claim frees when its lease ends");
    }
}

impl Inner {
    /// The one place a request's outcome is counted and logged: a refusal
    /// that points at a misconfigured sender (a wrong secret, a clock, a
    /// limit) at WARN, at most one line per reason every 10 s; other
    /// refusals at INFO.
    fn record(&self, span: &tracing::Span, outcome: &Outcome, started: Instant) {
        let label = outcome.label();
        span.record("outcome", label);
        telemetry::record_answer(span, outcome, started);
        metrics::counter!(REQUESTS_TOTAL, "outcome" => label).increment(1);
        match outcome {
            Outcome::Failed(err) if err.kind().sender_retries() => {
                tracing::warn!(parent: span, outcome = label, reason = %err.message(), "webhook delivery not handled; the sender will retry");
            }
            Outcome::Failed(err) if rejections::misconfiguration(err.kind()) => {
                let now_ms = self.verifier.clock().now_ms();
                if let Some(held) = self.rejections.may_warn(err.code(), now_ms) {
                    tracing::warn!(parent: span, outcome = label, reason = %err.message(), similar_since = held, "webhook delivery rejected: is the sender configured as this receiver? (Receiver::rejections has the details)");
                }
            }
            Outcome::Failed(err) => {
                tracing::info!(parent: span, outcome = label, reason = %err.message(), "webhook delivery rejected");
            }
            _ => tracing::info!(parent: span, outcome = label, "webhook delivery"),
        }
    }
}
