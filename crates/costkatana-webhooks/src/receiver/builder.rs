//! The one entry point for a whole receiver.

use std::sync::Arc;
use std::time::Duration;

use super::background::Background;
use super::extract::{ModeFacts, States};
use super::handler::WebhookHandler;
use super::inbox_mode::{self, DeadLetter, DeadLetterHook, InboxMode};
use super::lifecycle::{BackgroundTask, Elector, Tasks};
use super::mode::Engine;
use super::rejections::Rejections;
use super::routes::Routes;
use super::{
    EventSelector, Inner, Namespace, Receiver, DEFAULT_DEDUPE_TTL, DEFAULT_INBOX_WORKERS,
    DEFAULT_LEASE,
};
use crate::dedupe::{DedupeStore, MemoryStore};
use crate::inbox::{InboxStore, RetryPolicy};
use crate::{Clock, ConfigError, Event, Payload, Scheme, Secret, VerifierBuilder};

/// The mode chosen so far: one of three, never a combination.
enum Choice {
    /// Inline, on this store or a default `MemoryStore`.
    Inline(Option<Arc<dyn DedupeStore>>),
    /// Ack-first with this queue capacity, on this store or the default.
    AckFirst(Option<Arc<dyn DedupeStore>>, usize),
    /// Inbox mode on this inbox.
    Inbox(Arc<dyn InboxStore>),
}

/// The shortest lease: its third, when it is renewed, is a whole ms.
const MIN_LEASE: Duration = Duration::from_millis(3);

/// Why an inbox cannot be combined with the other two modes' settings.
const INBOX_ALONE: &str = "an inbox is the receiver's dedupe store and runs handlers after the \
    200 itself: use it without store(..) and ack_first(..)";

/// Builds a [`Receiver`]: the secrets, the handlers, the store, the
/// tolerances and the limits.
///
/// | setting | default |
/// |---|---|
/// | secrets | required: at least one |
/// | fallback handler | required |
/// | scheme | detected per request |
/// | past / future tolerance | 300 s each |
/// | max body / body timeout | 1 MiB / 10 s |
/// | store | a [`MemoryStore`] on the receiver's clock |
/// | namespace | derived from the secret that verified each delivery |
/// | dedupe TTL | 24 h, or the whole timestamp window (past + future tolerance) if longer |
/// | lease | 60 s (at least 3 ms) |
/// | inbox attempt time limit | 5 min, per type or category with [`attempt_timeout_for`](Self::attempt_timeout_for) |
/// | captured headers | `authorization`, `x-costkatana-event`, `x-costkatana-delivery-id` |
/// | mode | [inline](crate::receiver::Mode::Inline); or [`ack_first`](Self::ack_first), or [`inbox`](Self::inbox) |
/// | background tasks | none besides the inbox's own; add with [`background`](Self::background) |
///
/// Mistakes (no secret, an unknown event type name, a type routed twice,
/// no fallback, a handler taking a state that was never given, two modes
/// at once) are all reported by [`ReceiverBuilder::build`], together.
/// Building has no side effects: [`Receiver::start`] starts the background
/// work (inbox workers, maintenance, your tasks).
///
/// ```
/// use std::time::Duration;
/// use costkatana_webhooks::{Category, Event, EventType, HandlerResult, Payload, Receiver};
///
/// async fn over_budget(event: Event) -> HandlerResult {
///     println!("{:?}", event.data.budget());
///     Ok(())
/// }
///
/// let receiver = Receiver::builder()
///     .secret("new-secret")
///     .secret("old-secret") // rotation: either may match
///     .past_tolerance(Duration::from_secs(3600)) // accept late sender retries
///     .max_body(256 * 1024)
///     .on(EventType::BudgetExceeded, over_budget)
///     .on(Category::Security, |event: Event| async move {
///         println!("security: {}", event.event_type);
///         Ok(())
///     })
///     .fallback(|payload: Payload| async move {
///         println!("something else: {payload:?}");
///         Ok(())
///     })
///     .build()?;
/// # Ok::<(), costkatana_webhooks::ConfigError>(())
/// ```
#[must_use]
pub struct ReceiverBuilder {
    verifier: VerifierBuilder,
    routes: Routes,
    states: States,
    namespace: Option<String>,
    dedupe_ttl: Option<Duration>,
    lease: Duration,
    captured_headers: Vec<&'static str>,
    mode: Choice,
    mode_mistake: bool,
    inbox_workers: usize,
    /// Set by [`ReceiverBuilder::retry_policy`]; inbox mode only.
    retry_policy: Option<RetryPolicy>,
    tasks: Vec<Arc<dyn BackgroundTask>>,
    rejection_log: usize,
    dead_letter_hook: Option<DeadLetterHook>,
}

impl std::fmt::Debug for ReceiverBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiverBuilder")
            .field("verifier", &self.verifier)
            .field("routes", &self.routes)
            .field("namespace", &self.namespace)
            .field("dedupe_ttl", &self.dedupe_ttl)
            .field("lease", &self.lease)
            .field("mode", &self.mode.mode())
            .field("inbox_workers", &self.inbox_workers)
            .field("retry_policy", &self.retry_policy)
            .field(
                "tasks",
                &self.tasks.iter().map(|t| t.name()).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl ReceiverBuilder {
    pub(super) fn new() -> Self {
        ReceiverBuilder {
            verifier: VerifierBuilder::default(),
            routes: Routes::default(),
            states: States::default(),
            namespace: None,
            dedupe_ttl: None,
            lease: DEFAULT_LEASE,
            captured_headers: vec![
                "authorization",
                "x-costkatana-event",
                "x-costkatana-delivery-id",
            ],
            mode: Choice::Inline(None),
            mode_mistake: false,
            inbox_workers: DEFAULT_INBOX_WORKERS,
            retry_policy: None,
            tasks: Vec::new(),
            rejection_log: super::DEFAULT_REJECTION_LOG,
            dead_letter_hook: None,
        }
    }

    /// Adds a secret; call again to accept several (rotation). The text is
    /// the key exactly as configured on the sender. See
    /// [`VerifierBuilder::secret`].
    pub fn secret<S>(mut self, secret: S) -> Self
    where
        S: TryInto<Secret, Error = ConfigError>,
    {
        self.verifier = self.verifier.secret(secret);
        self
    }

    /// Adds several secrets, in order, such as
    /// [`Secret::parse_list`] of a comma-separated variable.
    pub fn secrets(mut self, secrets: impl IntoIterator<Item = Secret>) -> Self {
        self.verifier = self.verifier.secrets(secrets);
        self
    }

    /// Accepts only `scheme` instead of detecting it per request.
    pub fn scheme(mut self, scheme: Scheme) -> Self {
        self.verifier = self.verifier.scheme(scheme);
        self
    }

    /// How old a timestamp may be (default 300 s). The sender's retries
    /// re-send the original timestamp; see
    /// [`VerifierBuilder::past_tolerance`].
    pub fn past_tolerance(mut self, tolerance: Duration) -> Self {
        self.verifier = self.verifier.past_tolerance(tolerance);
        self
    }

    /// How far ahead a timestamp may be, for clock skew (default 300 s).
    pub fn future_tolerance(mut self, tolerance: Duration) -> Self {
        self.verifier = self.verifier.future_tolerance(tolerance);
        self
    }

    /// **Turns off the timestamp check**; see
    /// [`VerifierBuilder::dangerously_disable_timestamp_check`].
    pub fn dangerously_disable_timestamp_check(mut self) -> Self {
        self.verifier = self.verifier.dangerously_disable_timestamp_check();
        self
    }

    /// The longest body accepted, in bytes (default 1 MiB); longer ones are
    /// answered 413 without reading the rest.
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.verifier = self.verifier.max_body(bytes);
        self
    }

    /// How long the whole body may take to arrive (default 10 s); slower
    /// ones are answered 503 `body_unreadable`.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.verifier = self.verifier.body_timeout(timeout);
        self
    }

    /// The clock the verifier and the default store read (default the
    /// system clock); inject a [`ManualClock`](crate::ManualClock) in tests.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.verifier = self.verifier.clock(clock);
        self
    }

    /// Handles the events `selector` picks with `handler`: an
    /// [`EventType`](crate::EventType), a [`Category`](crate::Category), or
    /// a name as the docs spell it (`"budget.exceeded"`, `"security.*"`).
    /// A handler for an exact type wins over its category's. See
    /// [`WebhookHandler`](super::WebhookHandler) for the shapes a handler may take.
    pub fn on<Args, H>(mut self, selector: impl Into<EventSelector>, handler: H) -> Self
    where
        H: WebhookHandler<Event, Args>,
    {
        self.routes.on(selector.into(), handler);
        self
    }

    /// Handles everything no route takes: unknown or unrouted types,
    /// template bodies, JSON that is not an event, bytes that are not JSON.
    /// Required.
    pub fn fallback<Args, H>(mut self, handler: H) -> Self
    where
        H: WebhookHandler<Payload, Args>,
    {
        self.routes.fallback(handler);
        self
    }

    /// Shares `value` with handlers that take a [`Shared<T>`](super::Shared):
    /// each call gets a clone, so make it cheap to clone (a pool, a client,
    /// an `Arc`). One value per type; a later one of the same type replaces
    /// the earlier.
    pub fn share<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.states.insert(value);
        self
    }

    /// The dedupe store of inline or ack-first mode (default: a new
    /// [`MemoryStore`]). An inbox is its own store: not combined with
    /// [`inbox`](Self::inbox).
    pub fn store(mut self, store: impl DedupeStore) -> Self {
        let store: Arc<dyn DedupeStore> = Arc::new(store);
        self.mode = match self.mode {
            Choice::Inline(_) => Choice::Inline(Some(store)),
            Choice::AckFirst(_, capacity) => Choice::AckFirst(Some(store), capacity),
            inbox @ Choice::Inbox(_) => {
                self.mode_mistake = true;
                inbox
            }
        };
        self
    }

    /// The namespace of this receiver's dedupe keys in a shared store.
    ///
    /// By default each delivery's keys are scoped by the secret that
    /// verified it (a 16-hex-digit keyed digest, never the secret): two
    /// endpoints with different secrets on one store never see each
    /// other's keys, replicas of one endpoint (the same secrets) share
    /// theirs, and a delivery's retries, signed with the same secret, land
    /// on the same key during a rotation. Set a namespace to share keys on
    /// purpose, or to keep them stable across a secret change.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// How long a handled delivery is remembered (default 24 h, or the
    /// whole timestamp window if that is longer). Must cover the window,
    /// the past plus the future tolerance: a sender whose clock runs ahead
    /// makes a delivery valid for that long, and a copy arriving after the
    /// TTL would be neither refused nor recognised as a duplicate.
    pub fn dedupe_ttl(mut self, ttl: Duration) -> Self {
        self.dedupe_ttl = Some(ttl);
        self
    }

    /// How long an in-flight claim holds before another copy of the event
    /// may take it over (default 60 s, twice the sender's default 30 s
    /// time-out, so a copy retried after a time-out while the handler
    /// still runs is answered `in_progress`, not run a second time).
    ///
    /// Make it longer than the slowest handler, and than the sender's
    /// time-out if you raised it (up to 120 s). A handler that outlives
    /// its lease unchallenged still records its success; if another copy
    /// took the claim over meanwhile, the event ran twice, which is logged
    /// and counted in `costkatana_webhook_lease_overruns_total`: raise the
    /// lease, or move slow work out of the request (ack-first mode).
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Copies request header `name` into every [`Delivery`](super::Delivery),
    /// for handlers that check e.g. an auth header configured on the sender.
    pub fn capture_header(mut self, name: &'static str) -> Self {
        self.captured_headers.push(name);
        self
    }

    /// **Ack-first mode**: answer 200 as soon as the claim is held and run
    /// the handler in the background, at most `capacity` at a time; when
    /// full, requests are answered 503 `overloaded` (the sender retries).
    ///
    /// The trade-off, plainly: after the 200 the sender will never retry
    /// that event. If the handler then fails, its claim is released and the
    /// failure logged and counted (`costkatana_webhook_background_failures_total`),
    /// but the event is lost unless it is delivered again (a replay). If
    /// the process dies first, the work is lost too. Use it only when the
    /// handler is slower than the sender's time-out or when losing an event
    /// on failure is acceptable; otherwise keep the default, where a failure
    /// answers 500 and the sender retries.
    ///
    /// Handlers run on the Tokio runtime serving the request (a request
    /// received outside any runtime is answered 503, never 200 for work that
    /// cannot run); call [`Receiver::shutdown`] to drain on exit.
    pub fn ack_first(mut self, capacity: usize) -> Self {
        self.mode = match self.mode {
            Choice::Inline(store) | Choice::AckFirst(store, _) => Choice::AckFirst(store, capacity),
            inbox @ Choice::Inbox(_) => {
                self.mode_mistake = true;
                inbox
            }
        };
        self
    }

    /// **Inbox mode**: store each verified delivery durably, answer 200
    /// once the write has committed (503 if it fails), and run handlers
    /// from the stored copy on `inbox_workers` workers, with retries and a
    /// dead-letter state. See [`crate::inbox`].
    ///
    /// The inbox is then the dedupe store: a duplicate of a stored delivery
    /// is answered 200 `duplicate` whether it is pending, running, done or
    /// dead (inline mode answers 503 `in_progress` while a copy runs). Done
    /// rows are kept for the dedupe TTL, then purged. Handlers keep their
    /// API; the [`lease`](Self::lease) bounds how long a crashed worker's
    /// row waits before another worker takes it (a running handler renews
    /// it every third of its length, however slow the handler is).
    ///
    /// Workers start with [`Receiver::start`], on the Tokio runtime it is
    /// called in; call [`Receiver::shutdown`] on exit so running handlers
    /// finish or give their entries back. Not combined with
    /// [`store`](Self::store) or [`ack_first`](Self::ack_first).
    ///
    /// ```
    /// use costkatana_webhooks::inbox::{InboxStore, RetryPolicy};
    /// use costkatana_webhooks::{ConfigError, Payload, Receiver};
    /// use std::time::Duration;
    ///
    /// // `inbox` is e.g. `costkatana_webhooks_inbox::Inbox::open("sqlite:inbox.db").await?`.
    /// fn receiver(inbox: impl InboxStore) -> Result<Receiver, ConfigError> {
    ///     Receiver::builder()
    ///         .secret("s3cret")
    ///         .inbox(inbox)
    ///         .retry_policy(RetryPolicy::default().first_delay(Duration::from_millis(500)))
    ///         .fallback(|_: Payload| async { Ok(()) })
    ///         .build()
    /// }
    /// ```
    pub fn inbox(mut self, inbox: impl InboxStore) -> Self {
        let inbox: Arc<dyn InboxStore> = Arc::new(inbox);
        self.mode = match self.mode {
            Choice::Inline(None) | Choice::Inbox(_) => Choice::Inbox(inbox),
            other => {
                self.mode_mistake = true;
                other
            }
        };
        self
    }

    /// How many handlers inbox mode runs at once (default 32: handlers
    /// mostly wait on the network, and each holds only a lease).
    ///
    /// ```
    /// # use costkatana_webhooks::Receiver;
    /// let builder = Receiver::builder().inbox_workers(32);
    /// ```
    pub fn inbox_workers(mut self, workers: usize) -> Self {
        self.inbox_workers = workers;
        self
    }

    /// How long an inbox attempt may run before it is stopped and counted
    /// as failed (default 5 min, [`DEFAULT_ATTEMPT_TIMEOUT`](super::DEFAULT_ATTEMPT_TIMEOUT)): a handler
    /// that never returns is then retried and, after its last attempt,
    /// dead-lettered, instead of holding its entry and a worker for ever.
    /// Set a route's own with [`attempt_timeout_for`](Self::attempt_timeout_for).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use costkatana_webhooks::Receiver;
    /// let builder = Receiver::builder().attempt_timeout(Duration::from_secs(60));
    /// ```
    pub fn attempt_timeout(mut self, limit: Duration) -> Self {
        self.routes.default_time_limit(limit);
        self
    }

    /// The attempt time limit of the events `selector` picks (a type's
    /// limit wins over its category's), as [`on`](Self::on) routes them.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use costkatana_webhooks::{Category, Receiver};
    /// let builder = Receiver::builder()
    ///     .attempt_timeout_for(Category::Workflow, Duration::from_secs(900))
    ///     .attempt_timeout_for("workflow.failed", Duration::from_secs(30));
    /// ```
    pub fn attempt_timeout_for(
        mut self,
        selector: impl Into<EventSelector>,
        limit: Duration,
    ) -> Self {
        self.routes.time_limit_for(selector.into(), limit);
        self
    }

    /// When inbox mode retries a failed handler, and after how many attempts
    /// it dead-letters the event (see [`RetryPolicy`] for the defaults).
    /// Inbox mode only: [`build`](Self::build) refuses it without
    /// [`inbox`](Self::inbox), since the other modes leave retries to the
    /// sender.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use costkatana_webhooks::{inbox::RetryPolicy, Payload, Receiver};
    /// let builder = Receiver::builder()
    ///     .retry_policy(RetryPolicy::default().max_attempts(5).first_delay(Duration::from_secs(2)));
    ///
    /// // Without an inbox, the policy would do nothing: a build error says so.
    /// let err = Receiver::builder()
    ///     .secret("s3cret")
    ///     .retry_policy(RetryPolicy::default())
    ///     .fallback(|_: Payload| async { Ok(()) })
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("add .inbox(..) or remove .retry_policy(..)"));
    /// ```
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = Some(policy);
        self
    }

    /// Runs `hook` once for each inbox entry that reaches the dead letter
    /// (its last attempt failed, or its handler refused it), after the
    /// dead state is committed: to page someone, say. It runs on its own
    /// task; a panic in it is caught and logged, and it cannot change the
    /// entry. Inbox mode only.
    ///
    /// ```
    /// use costkatana_webhooks::receiver::DeadLetter;
    /// use costkatana_webhooks::Receiver;
    ///
    /// let builder = Receiver::builder().on_dead_letter(|dead: DeadLetter| async move {
    ///     eprintln!("dead letter: entry {} ({:?}) after {} attempts: {}",
    ///         dead.entry_id, dead.event_type, dead.attempts, dead.error);
    /// });
    /// ```
    pub fn on_dead_letter<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(DeadLetter) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.dead_letter_hook = Some(Arc::new(move |dead| Box::pin(hook(dead))));
        self
    }

    /// How many refused requests [`Receiver::rejections`] keeps (default
    /// 1000; 0 keeps none).
    ///
    /// ```
    /// # use costkatana_webhooks::Receiver;
    /// let builder = Receiver::builder().rejection_log(100);
    /// ```
    pub fn rejection_log(mut self, capacity: usize) -> Self {
        self.rejection_log = capacity;
        self
    }

    /// Runs `task` between [`Receiver::start`] and [`Receiver::shutdown`]:
    /// periodic work such as recovering missed events. See
    /// [`BackgroundTask`] for when it runs and how it stops.
    ///
    /// ```
    /// use std::time::Duration;
    /// use costkatana_webhooks::receiver::{BackgroundTask, TaskContext, TaskFuture};
    /// use costkatana_webhooks::{Payload, Receiver};
    ///
    /// struct Tick;
    /// impl BackgroundTask for Tick {
    ///     fn name(&self) -> &'static str { "tick" }
    ///     fn every(&self) -> Duration { Duration::from_secs(1) }
    ///     fn tick<'a>(&'a self, _: &'a TaskContext) -> TaskFuture<'a, ()> {
    ///         Box::pin(async {})
    ///     }
    /// }
    ///
    /// let receiver = Receiver::builder()
    ///     .secret("s3cret")
    ///     .background(Tick)
    ///     .fallback(|_: Payload| async { Ok(()) })
    ///     .build()?;
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn background(mut self, task: impl BackgroundTask) -> Self {
        self.tasks.push(Arc::new(task));
        self
    }

    /// Builds the receiver. Nothing runs yet: [`Receiver::start`] starts
    /// its background work.
    ///
    /// # Errors
    ///
    /// Every mistake at once: the verifier's (no or an invalid secret), the
    /// routes' (an unknown type name, a type or category routed twice, no
    /// fallback, a `Shared<T>` never given), a dedupe TTL shorter than the
    /// timestamp window (past + future tolerance), a zero lease, ack-first
    /// with capacity 0, an inbox combined with a dedupe store or ack-first,
    /// zero inbox workers, an inbox-only setting ([`retry_policy`](Self::retry_policy),
    /// [`on_dead_letter`](Self::on_dead_letter)) or handler argument outside inbox
    /// mode.
    ///
    /// ```
    /// use costkatana_webhooks::{Event, Payload, Receiver};
    ///
    /// let err = Receiver::builder()
    ///     .secret("s3cret")
    ///     .on("budget.exceeded", |_: Event| async { Ok(()) })
    ///     .on("budget.exceeded", |_: Event| async { Ok(()) })
    ///     .fallback(|_: Payload| async { Ok(()) })
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.to_string(), "a handler for budget.exceeded is registered twice");
    /// ```
    pub fn build(self) -> Result<Receiver, ConfigError> {
        let mode = match &self.mode {
            Choice::Inbox(inbox) => ModeFacts {
                inbox: true,
                transactions: inbox.supports_transactions(),
            },
            _ => ModeFacts::default(),
        };
        let mode_checked = self.check_mode(mode);
        let verifier = self.verifier.build();
        let routes = self.routes.validate(&self.states, mode);
        let (verifier, ()) = match (verifier, routes) {
            (Ok(verifier), Ok(())) => (verifier, ()),
            (Err(a), Err(b)) => return Err(ConfigError::new(format!("{a}; {b}"))),
            (Err(err), _) | (_, Err(err)) => return Err(err),
        };
        let window = verifier.window_ms().map(|(past_ms, future_ms)| {
            let ms = |ms: i64| Duration::from_millis(u64::try_from(ms).unwrap_or(0));
            (ms(past_ms), ms(future_ms))
        });
        let window_total = window.map_or(Duration::ZERO, |(past, future)| past + future);
        let dedupe_ttl = self
            .dedupe_ttl
            .unwrap_or(DEFAULT_DEDUPE_TTL.max(window_total));
        if let Some((past, future)) = window {
            if dedupe_ttl < window_total {
                return Err(ConfigError::new(format!(
                    "the dedupe TTL ({} s) is shorter than the timestamp window ({} s past + {} s \
                     future = {} s): a copy arriving after the TTL but inside the window would \
                     be neither refused nor recognised as a duplicate",
                    dedupe_ttl.as_secs(),
                    past.as_secs(),
                    future.as_secs(),
                    window_total.as_secs()
                )));
            }
        }
        if self.lease.is_zero() {
            return Err(ConfigError::new("the claim lease must be longer than zero"));
        }
        // A running entry's lease is renewed every third of it, in whole ms.
        if self.lease < MIN_LEASE {
            return Err(ConfigError::new(format!(
                "the lease ({} µs) must be at least {} ms: it is renewed every third of it",
                self.lease.as_micros(),
                MIN_LEASE.as_millis()
            )));
        }
        mode_checked?;
        let default_store = || -> Arc<dyn DedupeStore> {
            Arc::new(
                MemoryStore::builder()
                    .clock(verifier.shared_clock())
                    .build(),
            )
        };
        #[cfg(feature = "testing")]
        let settlements = Arc::new(super::settlements::Settlements::default());
        let mut tasks: Vec<Arc<dyn BackgroundTask>> = Vec::new();
        let (engine, elector) = match self.mode {
            Choice::Inline(store) => (
                Engine::Inline(store.unwrap_or_else(default_store)),
                Elector::Alone,
            ),
            Choice::AckFirst(store, capacity) => (
                Engine::AckFirst(
                    store.unwrap_or_else(default_store),
                    Background::new(capacity)?,
                ),
                Elector::Alone,
            ),
            Choice::Inbox(inbox) => {
                // The testing kit waits on what the workers settle.
                #[cfg(feature = "testing")]
                let inbox: Arc<dyn InboxStore> = Arc::new(super::settlements::Watched {
                    inner: inbox,
                    settlements: Arc::clone(&settlements),
                });
                let mode = InboxMode::new(
                    Arc::clone(&inbox),
                    self.retry_policy.unwrap_or_default(),
                    self.inbox_workers,
                    self.dead_letter_hook,
                )?;
                tasks.push(Arc::new(inbox_mode::Gauges(Arc::clone(&inbox))));
                tasks.push(Arc::new(inbox_mode::Purge {
                    inbox: Arc::clone(&inbox),
                    ttl: dedupe_ttl,
                }));
                (Engine::Inbox(Arc::new(mode)), Elector::Inbox(inbox))
            }
        };
        tasks.extend(self.tasks);
        let namespace = match self.namespace {
            Some(namespace) => Namespace::Fixed(namespace),
            None => Namespace::PerSecret(verifier.secret_namespaces()),
        };
        Ok(Receiver {
            inner: Arc::new(Inner {
                namespace: Arc::new(namespace),
                verifier,
                routes: self.routes,
                states: self.states,
                dedupe_ttl,
                lease: self.lease,
                captured_headers: self.captured_headers,
                engine,
                elector,
                tasks: Tasks::new(tasks),
                life: Default::default(),
                rejections: Rejections::new(self.rejection_log),
                #[cfg(feature = "testing")]
                settlements,
            }),
        })
    }
}

impl ReceiverBuilder {
    /// The mode checks, in one place: one mode at a time, and each
    /// inbox-only setting refused outside inbox mode (it would be ignored).
    fn check_mode(&self, mode: ModeFacts) -> Result<(), ConfigError> {
        if self.mode_mistake {
            return Err(ConfigError::new(INBOX_ALONE));
        }
        if mode.inbox {
            return Ok(());
        }
        if self.dead_letter_hook.is_some() {
            return Err(ConfigError::new(
                "on_dead_letter(..) needs inbox mode, the one mode with dead letters: add .inbox(..)",
            ));
        }
        if self.retry_policy.is_some() {
            return Err(ConfigError::new(
                "retry_policy applies only in inbox mode, where the receiver retries handlers \
                 itself (the other modes answer 500 and the sender retries): add .inbox(..) or \
                 remove .retry_policy(..)",
            ));
        }
        Ok(())
    }
}

impl Choice {
    fn mode(&self) -> super::Mode {
        match self {
            Choice::Inline(_) => super::Mode::Inline,
            Choice::AckFirst(..) => super::Mode::AckFirst,
            Choice::Inbox(_) => super::Mode::Inbox,
        }
    }
}
