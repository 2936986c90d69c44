//! The framework-free receiver: verify, parse, claim, handle, settle.
//!
//! ```
//! use std::sync::Arc;
//! use bytes::Bytes;
//! use costkatana_webhooks::receiver::{Delivery, HandlerError, Receiver, Router};
//! use costkatana_webhooks::{Event, EventType, Payload, Verifier};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let router = Router::new()
//!     .on(EventType::CostAlert, |event: Event, _: Delivery| async move {
//!         println!("cost alert: {:?}", event.title);
//!         Ok::<_, HandlerError>(())
//!     })
//!     .fallback(|_: Payload, _: Delivery| async { Ok::<_, HandlerError>(()) });
//! let receiver = Receiver::builder(Verifier::builder().secret("whsec_test_secret").build()?)
//!     .router(router)
//!     .build()?;
//!
//! // An adapter passes the method, the headers and the raw body:
//! let headers = [("Content-Type", "application/json")];
//! let outcome = receiver.receive("POST", &headers, Bytes::from_static(b"{}")).await;
//! assert_eq!(outcome.response().status, 400); // missing_signature
//! # Ok(()) }
//! ```

mod background;
mod catch_panic;
mod claim_guard;
mod delivery;
mod router;

pub use delivery::Delivery;
pub use router::{HandlerError, HandlerResult, Router};

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tracing::Instrument;

use crate::dedupe::{Claim, DedupeStore, MemoryStore};
use crate::{BodyLimits, ConfigError, Error, ErrorKind, Headers, Outcome, Payload, Verifier};

use background::Background;
use claim_guard::ClaimGuard;

/// The default time a completed delivery is remembered: 24 h.
pub const DEFAULT_DEDUPE_TTL: Duration = Duration::from_secs(24 * 3600);
/// The default lease of an in-flight claim: 60 s.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// Request counter, labelled by `outcome`.
pub const REQUESTS_TOTAL: &str = "costkatana_webhook_requests_total";
/// Histogram of handler run time, in seconds.
pub const HANDLER_SECONDS: &str = "costkatana_webhook_handler_seconds";
/// Counter of handlers that failed in the background (ack-first mode).
pub const BACKGROUND_FAILURES_TOTAL: &str = "costkatana_webhook_background_failures_total";

/// The future returned by [`Receiver::receive`].
pub type ReceiveFuture = Pin<Box<dyn Future<Output = Outcome> + Send + 'static>>;

/// Receives Cost Katana deliveries, exactly once, without a web framework.
///
/// For each request it verifies the signature, parses the payload, claims
/// the dedupe key (the event id, else the signature), runs the routed
/// handler, and settles the claim: completed when the handler succeeds,
/// released when it fails, panics, or its request is dropped, so the
/// sender's retry is processed. The [`Outcome`] maps to the HTTP answer
/// through [`Outcome::response`].
///
/// Cheap to clone; share one per endpoint.
#[derive(Clone)]
pub struct Receiver {
    inner: Arc<Inner>,
}

struct Inner {
    verifier: Verifier,
    store: Arc<dyn DedupeStore>,
    router: Router,
    namespace: String,
    dedupe_ttl: Duration,
    lease: Duration,
    body_limits: BodyLimits,
    captured_headers: Vec<&'static str>,
    background: Option<Background>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("verifier", &self.inner.verifier)
            .field("router", &self.inner.router)
            .field("namespace", &self.inner.namespace)
            .field("dedupe_ttl", &self.inner.dedupe_ttl)
            .field("lease", &self.inner.lease)
            .field("body_limits", &self.inner.body_limits)
            .field("ack_first", &self.inner.background.is_some())
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// A builder around `verifier`. See [`ReceiverBuilder`] for the defaults.
    pub fn builder(verifier: Verifier) -> ReceiverBuilder {
        ReceiverBuilder {
            verifier,
            store: None,
            router: None,
            namespace: "default".to_owned(),
            dedupe_ttl: DEFAULT_DEDUPE_TTL,
            lease: DEFAULT_LEASE,
            body_limits: BodyLimits::default(),
            captured_headers: vec![
                "authorization",
                "x-costkatana-event",
                "x-costkatana-delivery-id",
            ],
            ack_first: None,
        }
    }

    /// The bounds adapters read bodies within: longer ones are answered
    /// 413 without reading the rest, slower ones 400 `body_unreadable`.
    pub fn body_limits(&self) -> BodyLimits {
        self.inner.body_limits
    }

    /// The verifier, for adapters that only verify.
    pub fn verifier(&self) -> &Verifier {
        &self.inner.verifier
    }

    /// Runs the whole pipeline for one request.
    ///
    /// The synchronous part (method, size, signature, parsing) runs now; the
    /// returned future claims, handles and settles, owning everything it
    /// needs. Metrics and the request's log line are recorded once, when it
    /// completes.
    pub fn receive(&self, method: &str, headers: &impl Headers, body: Bytes) -> ReceiveFuture {
        let span = tracing::info_span!(
            "costkatana_webhook",
            event_id = tracing::field::Empty,
            event_type = tracing::field::Empty,
            scheme = tracing::field::Empty,
            outcome = tracing::field::Empty,
        );
        let prepared = span.in_scope(|| self.prepare(method, headers, body));
        let inner = Arc::clone(&self.inner);
        let record_span = span.clone();
        Box::pin(
            async move {
                let outcome = match prepared {
                    Ok((payload, delivery)) => inner.process(payload, delivery).await,
                    Err(err) => Outcome::Failed(err),
                };
                record(&record_span, &outcome);
                outcome
            }
            .instrument(span),
        )
    }

    /// The outcome of a request an adapter rejected before calling
    /// [`Receiver::receive`] (body too large or unreadable), recorded in the
    /// metrics like any other.
    pub fn reject(&self, err: Error) -> Outcome {
        let outcome = Outcome::Failed(err);
        record(
            &tracing::info_span!("costkatana_webhook", outcome = tracing::field::Empty),
            &outcome,
        );
        outcome
    }

    /// Ack-first mode: stops accepting background work (new requests are
    /// answered 503 `overloaded`) and waits up to `deadline` for queued
    /// handlers to finish. Returns how many were still running at the
    /// deadline (0 when all finished); their claims free when their leases
    /// end. Without ack-first mode it returns 0 at once.
    pub async fn shutdown(&self, deadline: Duration) -> usize {
        match &self.inner.background {
            Some(background) => background.shutdown(deadline).await,
            None => 0,
        }
    }

    fn prepare(
        &self,
        method: &str,
        headers: &impl Headers,
        body: Bytes,
    ) -> Result<(Payload, Delivery), Error> {
        let inner = &*self.inner;
        if method != "POST" {
            return Err(Error::new(ErrorKind::MethodNotAllowed));
        }
        inner.body_limits.check_received(body.len())?;
        let mut verified = inner.verifier.verify(headers, body)?;
        let payload = verified.take_payload();
        // A blank id is no id: keying on it would merge different events.
        let key = match payload.event_id().filter(|id| !id.trim().is_empty()) {
            Some(id) => format!("{}:event:{id}", inner.namespace),
            None => format!("{}:signature:{}", inner.namespace, verified.signature_hex()),
        };
        let span = tracing::Span::current();
        span.record("scheme", verified.scheme().as_str());
        if let Payload::Event(event) = &payload {
            span.record("event_type", event.event_type.as_str());
            if let Some(id) = &event.id {
                span.record("event_id", id.as_str());
            }
        }
        Ok((
            payload,
            Delivery::new(verified, key, &inner.captured_headers, headers),
        ))
    }
}

impl Inner {
    async fn process(self: Arc<Self>, payload: Payload, delivery: Delivery) -> Outcome {
        let event_id = payload.event_id().map(str::to_owned);
        let key = delivery.dedupe_key().to_owned();
        let token = match self.store.claim(&key, self.lease).await {
            Ok(Claim::Fresh(token)) => token,
            Ok(Claim::Done) => return Outcome::Duplicate { event_id },
            Ok(Claim::InFlight) => return Outcome::Failed(Error::new(ErrorKind::InProgress)),
            Err(err) => {
                // The detail (hosts, ports) is logged, never sent to the caller.
                tracing::warn!(error = %err, "dedupe store unavailable");
                return Outcome::Failed(err.into());
            }
        };
        let guard = ClaimGuard::new(Arc::clone(&self.store), key, token, self.dedupe_ttl);
        let handler = catch_panic::call(|| self.router.dispatch(payload, delivery));

        if let Some(background) = &self.background {
            let job = async move {
                if let Err(err) = settle(handler, guard).await {
                    metrics::counter!(BACKGROUND_FAILURES_TOTAL).increment(1);
                    tracing::error!(error = %err.message(), "background handler failed; claim released");
                }
            };
            return match background.try_spawn(job.in_current_span()) {
                Ok(()) => Outcome::Processed { event_id },
                // The job (and its guard) was dropped: the claim is released.
                Err(err) => Outcome::Failed(err),
            };
        }
        match settle(handler, guard).await {
            Ok(()) => Outcome::Processed { event_id },
            Err(err) => Outcome::Failed(err),
        }
    }
}

/// Runs the handler and settles the claim by its result.
async fn settle(handler: catch_panic::CatchPanic, guard: ClaimGuard) -> Result<(), Error> {
    let started = Instant::now();
    let result = handler.await;
    metrics::histogram!(HANDLER_SECONDS).record(started.elapsed().as_secs_f64());
    match result {
        Ok(()) => {
            if let Err(err) = guard.complete().await {
                // The handler ran: answering 5xx would make the sender run
                // it again. The claim frees when its lease ends.
                tracing::warn!(error = %err, "handled, but could not mark the event done");
            }
            Ok(())
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

/// The one place a request's outcome is counted and logged.
fn record(span: &tracing::Span, outcome: &Outcome) {
    let label = outcome.label();
    span.record("outcome", label);
    metrics::counter!(REQUESTS_TOTAL, "outcome" => label).increment(1);
    match outcome {
        Outcome::Failed(err) if err.kind().sender_retries() => {
            tracing::warn!(parent: span, outcome = label, "webhook delivery not handled; the sender will retry");
        }
        Outcome::Failed(err) => {
            tracing::info!(parent: span, outcome = label, reason = %err.message(), "webhook delivery rejected");
        }
        _ => tracing::info!(parent: span, outcome = label, "webhook delivery"),
    }
}

/// Builds a [`Receiver`].
///
/// | setting | default |
/// |---|---|
/// | store | a [`MemoryStore`] |
/// | router | required |
/// | namespace | `default` |
/// | dedupe TTL | 24 h (must be at least the verifier's past tolerance) |
/// | lease | 60 s |
/// | max body | 1 MiB |
/// | body timeout | 10 s |
/// | captured headers | `authorization`, `x-costkatana-event`, `x-costkatana-delivery-id` |
/// | ack-first | off |
#[must_use]
pub struct ReceiverBuilder {
    verifier: Verifier,
    store: Option<Arc<dyn DedupeStore>>,
    router: Option<Router>,
    namespace: String,
    dedupe_ttl: Duration,
    lease: Duration,
    body_limits: BodyLimits,
    captured_headers: Vec<&'static str>,
    ack_first: Option<usize>,
}

impl ReceiverBuilder {
    /// The dedupe store (default: a new [`MemoryStore`]).
    pub fn store(mut self, store: impl DedupeStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// The handlers. Required.
    pub fn router(mut self, router: Router) -> Self {
        self.router = Some(router);
        self
    }

    /// The key namespace (default `default`): give each endpoint or tenant
    /// sharing a store its own, so their keys never collide.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// How long a handled delivery is remembered (default 24 h). Must be at
    /// least the verifier's past tolerance, or a late retry would slip past
    /// both checks.
    pub fn dedupe_ttl(mut self, ttl: Duration) -> Self {
        self.dedupe_ttl = ttl;
        self
    }

    /// How long an in-flight claim holds before another request may take
    /// it over (default 60 s). Make it longer than the slowest handler.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// The longest body accepted (default 1 MiB).
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.body_limits = self.body_limits.max_bytes(bytes);
        self
    }

    /// How long the whole body may take to arrive (default 10 s), so a
    /// client that trickles bytes cannot hold a connection for long.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_limits = self.body_limits.timeout(timeout);
        self
    }

    /// Copies request header `name` into every [`Delivery`], for handlers
    /// that check e.g. an auth header configured on the sender.
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
    /// Needs a Tokio runtime when the receiver is built; call
    /// [`Receiver::shutdown`] to drain on exit.
    pub fn ack_first(mut self, capacity: usize) -> Self {
        self.ack_first = Some(capacity);
        self
    }

    /// Builds the receiver.
    ///
    /// # Errors
    ///
    /// No router, a router with duplicate registrations or no fallback, a
    /// dedupe TTL shorter than the past tolerance, a zero lease, ack-first
    /// with capacity 0 or outside a Tokio runtime.
    pub fn build(self) -> Result<Receiver, ConfigError> {
        let router = self
            .router
            .ok_or_else(|| ConfigError::new("the receiver has no router: add .router(..)"))?;
        router.validate()?;
        if let Some(past_ms) = self.verifier.past_tolerance_ms() {
            if self.dedupe_ttl.as_millis() < u128::try_from(past_ms).unwrap_or(0) {
                return Err(ConfigError::new(format!(
                    "the dedupe TTL ({} s) is shorter than the past timestamp tolerance ({} s): a \
                     late retry would be neither rejected as stale nor recognised as a duplicate",
                    self.dedupe_ttl.as_secs(),
                    past_ms / 1000
                )));
            }
        }
        if self.lease.is_zero() {
            return Err(ConfigError::new("the claim lease must be longer than zero"));
        }
        let background = self.ack_first.map(Background::new).transpose()?;
        let store = match self.store {
            Some(store) => store,
            None => Arc::new(
                MemoryStore::builder()
                    .clock(self.verifier.shared_clock())
                    .build(),
            ),
        };
        Ok(Receiver {
            inner: Arc::new(Inner {
                verifier: self.verifier,
                store,
                router,
                namespace: self.namespace,
                dedupe_ttl: self.dedupe_ttl,
                lease: self.lease,
                body_limits: self.body_limits,
                captured_headers: self.captured_headers,
                background,
            }),
        })
    }
}
