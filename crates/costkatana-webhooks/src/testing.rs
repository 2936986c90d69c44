//! A testing kit (feature `testing`): send signed deliveries through a
//! built [`Receiver`], with no server, and assert on the answer and on
//! what the handlers received.
//!
//! [`Receiver::test`] gives a [`TestSender`]. It signs each
//! [`TestDelivery`] as Cost Katana does (with the receiver's own first
//! secret, at the receiver's clock, unless told otherwise) and passes it to
//! [`Receiver::receive_with`], the call every adapter makes: the real
//! pipeline runs (verification, the timestamp window, dedupe, routing, the
//! handler, the answer), and nothing of it is mocked. The [`TestAnswer`]
//! has the status, reason code, body and headers an adapter would send.
//!
//! Time is the receiver's [clock](crate::clock): build the receiver on a
//! [`ManualClock`](crate::ManualClock) and move it to test a stale or
//! future timestamp, or a duplicate inside or past the dedupe TTL.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use costkatana_webhooks::testing::{Recorder, TestDelivery};
//! use costkatana_webhooks::{samples, Clock, Event, ManualClock, Payload, Receiver};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let clock = Arc::new(ManualClock::new(1_777_377_600_000));
//! let alerts = Recorder::<Event>::new();
//! let receiver = Receiver::builder()
//!     .secret("whsec_test")
//!     .clock(clock.clone())
//!     .on("cost.alert", alerts.handler())
//!     .fallback(|_: Payload| async { Ok(()) })
//!     .build()?;
//!
//! // Signed with the receiver's secret, now: handled, 200.
//! let alert = TestDelivery::new(samples::cost_alert());
//! let answer = receiver.test().send(alert.clone()).await;
//! assert_eq!(answer.status(), 200);
//! assert_eq!(alerts.len(), 1);
//! assert_eq!(alerts.last().unwrap().title.as_deref(), Some("Cost threshold exceeded"));
//!
//! // The same event again: a duplicate, still 200, and the handler not run.
//! let answer = receiver.test().send(alert.clone()).await;
//! assert_eq!((answer.status(), answer.reason()), (200, "duplicate"));
//! assert_eq!(alerts.len(), 1);
//!
//! // Signed ten minutes ago: past the default 300 s, refused.
//! let stale = alert.signed_at(clock.now_ms() - 600_000);
//! let answer = receiver.test().send(stale).await;
//! assert_eq!((answer.status(), answer.reason()), (401, "stale_timestamp"));
//! # Ok::<(), costkatana_webhooks::ConfigError>(()) }).unwrap();
//! ```
//!
//! In inbox mode the answer is the `200` of a stored delivery, and the
//! handler runs later on the inbox's workers: [`TestAnswer::settled`]
//! starts the receiver if needed and waits until the delivery's attempt has
//! ended, then says what became of its entry.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::inbox::EntryState;
use crate::receiver::{Mode, RequestInfo};
use crate::signing::sign_keyed;
use crate::{mac, Answer, EventType, HandlerResult, Outcome, Receiver, Scheme};

pub use crate::samples::{iso8601, sample_event, Shape};

/// How long [`TestAnswer::settled`] waits before it gives up (real time).
const SETTLE_LIMIT: Duration = Duration::from_secs(60);

impl Receiver {
    /// A [`TestSender`] for this receiver: signs deliveries with its first
    /// secret at its clock's time and runs them through its pipeline, as
    /// an adapter would (feature `testing`).
    ///
    /// ```
    /// use costkatana_webhooks::{samples, Payload, Receiver};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// let receiver = Receiver::builder()
    ///     .secret("whsec_test")
    ///     .fallback(|_: Payload| async { Ok(()) })
    ///     .build()?;
    /// assert_eq!(receiver.test().send(samples::cost_alert()).await.status(), 200);
    /// # Ok::<(), costkatana_webhooks::ConfigError>(()) }).unwrap();
    /// ```
    pub fn test(&self) -> TestSender<'_> {
        self.handler_runs().watch();
        self.settlements().watch();
        TestSender {
            receiver: self,
            remote: None,
            path: None,
        }
    }
}

/// Sends [`TestDelivery`]s through a [`Receiver`], as Cost Katana and an
/// adapter would together, with no server. Made by [`Receiver::test`].
///
/// ```
/// use costkatana_webhooks::testing::TestDelivery;
/// use costkatana_webhooks::{Payload, Receiver};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let receiver = Receiver::builder()
///     .secret("whsec_test")
///     .fallback(|_: Payload| async { Ok(()) })
///     .build()?;
/// let sender = receiver.test().remote("203.0.113.7".parse().unwrap());
/// let answer = sender.send(TestDelivery::new("{}").signed_with("whsec_other")).await;
/// assert_eq!(answer.reason(), "invalid_signature");
/// assert_eq!(receiver.rejections()[0].remote, Some("203.0.113.7".parse().unwrap()));
/// # Ok::<(), costkatana_webhooks::ConfigError>(()) }).unwrap();
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct TestSender<'r> {
    receiver: &'r Receiver,
    remote: Option<IpAddr>,
    path: Option<String>,
}

impl TestSender<'_> {
    /// The peer's address the receiver sees (kept beside a refused request
    /// in [`Receiver::rejections`]). Default: none.
    ///
    /// ```
    /// # use costkatana_webhooks::{Payload, Receiver};
    /// # let receiver = Receiver::builder().secret("s").fallback(|_: Payload| async { Ok(()) }).build()?;
    /// let sender = receiver.test().remote("198.51.100.4".parse().unwrap());
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn remote(mut self, remote: IpAddr) -> Self {
        self.remote = Some(remote);
        self
    }

    /// The request's path, which names its span. Default: none.
    ///
    /// ```
    /// # use costkatana_webhooks::{Payload, Receiver};
    /// # let receiver = Receiver::builder().secret("s").fallback(|_: Payload| async { Ok(()) }).build()?;
    /// let sender = receiver.test().path("/webhooks/costkatana");
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The headers `delivery` is sent with: the sender's constant headers,
    /// the signature (unless [unsigned](TestDelivery::unsigned)) and the
    /// delivery's own, which replace any of the same name.
    ///
    /// ```
    /// use costkatana_webhooks::testing::TestDelivery;
    /// # use costkatana_webhooks::{Payload, Receiver};
    /// # let receiver = Receiver::builder().secret("s").fallback(|_: Payload| async { Ok(()) }).build()?;
    /// let headers = receiver.test().headers(&TestDelivery::new("{}").signed_at(1_777_377_600_000));
    /// assert!(headers.contains(&("X-Webhook-Timestamp".to_string(), "1777377600000".to_string())));
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn headers(&self, delivery: &TestDelivery) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = crate::signing::SENDER_HEADERS
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        if delivery.signed {
            let at_ms = delivery
                .signed_at_ms
                .unwrap_or_else(|| self.receiver.verifier().clock().now_ms());
            let signature = match &delivery.secret {
                Some(secret) => sign_keyed(
                    delivery.scheme,
                    &mac::keyed(secret.as_bytes()),
                    at_ms,
                    &delivery.body,
                ),
                None => {
                    let secrets = self.receiver.verifier().secrets();
                    // A verifier always has at least one secret.
                    let keyed = secrets.first().map(crate::Secret::keyed);
                    let keyed = keyed.cloned().unwrap_or_else(|| mac::keyed(&[]));
                    sign_keyed(delivery.scheme, &keyed, at_ms, &delivery.body)
                }
            };
            headers.extend(signature);
        }
        for (name, value) in &delivery.headers {
            headers.retain(|(have, _)| !have.eq_ignore_ascii_case(name));
            if let Some(value) = value {
                headers.push((name.clone(), value.clone()));
            }
        }
        headers
    }

    /// Signs `delivery` and runs it through the receiver's pipeline
    /// ([`Receiver::receive_with`], as an adapter calls it); the answer.
    ///
    /// `delivery` is a [`TestDelivery`], or a body (`String`, `&'static
    /// str`, `Vec<u8>`, `Bytes`) signed with the defaults.
    ///
    /// ```
    /// use costkatana_webhooks::testing::TestDelivery;
    /// use costkatana_webhooks::{Payload, Receiver};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// let receiver = Receiver::builder()
    ///     .secret("whsec_test")
    ///     .fallback(|_: Payload| async { Ok(()) })
    ///     .build()?;
    /// // Not JSON at all: authentic, so the fallback takes it.
    /// assert_eq!(receiver.test().send("hello").await.status(), 200);
    /// // No signature: refused before the body is read.
    /// let answer = receiver.test().send(TestDelivery::new("{}").unsigned()).await;
    /// assert_eq!((answer.status(), answer.reason()), (400, "missing_signature"));
    /// # Ok::<(), costkatana_webhooks::ConfigError>(()) }).unwrap();
    /// ```
    pub async fn send(&self, delivery: impl Into<TestDelivery>) -> TestAnswer {
        let delivery = delivery.into();
        let headers = self.headers(&delivery);
        let mut info = RequestInfo::new();
        if let Some(remote) = self.remote {
            info = info.remote(remote);
        }
        if let Some(path) = &self.path {
            info = info.path(path);
        }
        let (outcome, key) = self
            .receiver
            .receive_keyed(
                info,
                &delivery.method,
                &headers,
                delivery.body.clone(),
                true,
            )
            .await;
        let (key, seen) = match key {
            Some((key, before)) => (Some(key), before),
            None => (None, 0),
        };
        TestAnswer {
            answer: outcome.answer(),
            outcome,
            receiver: self.receiver.clone(),
            key,
            seen: AtomicUsize::new(seen),
        }
    }
}

/// A delivery to send with a [`TestSender`]: a body, and how it is signed
/// and sent.
///
/// | setting | default |
/// |---|---|
/// | scheme | [`Scheme::Current`], as the live sender signs |
/// | signed at | the receiver's clock, when sent |
/// | secret | the receiver's first secret |
/// | method | `POST` |
/// | headers | the sender's constant headers and the signature |
///
/// Clone it to send the same bytes again; fix its time with
/// [`signed_at`](Self::signed_at) to resend the very same request, as the
/// sender's retries do. `Debug` shows the body's length, never the body or
/// a secret.
///
/// ```
/// use costkatana_webhooks::testing::TestDelivery;
/// use costkatana_webhooks::{EventType, Scheme};
///
/// let delivery = TestDelivery::event(&EventType::BudgetExceeded)
///     .scheme(Scheme::Documented)
///     .signed_at(1_777_377_600_000)
///     .header("Authorization", "Bearer t0ken");
/// let body = std::str::from_utf8(delivery.body()).unwrap();
/// assert!(body.contains(r#""eventId":"budget_exceeded_"#));
/// ```
#[derive(Clone)]
#[must_use]
pub struct TestDelivery {
    body: Bytes,
    scheme: Scheme,
    signed_at_ms: Option<i64>,
    secret: Option<String>,
    signed: bool,
    method: String,
    /// Header overrides, in order: `None` removes the header.
    headers: Vec<(String, Option<String>)>,
}

impl std::fmt::Debug for TestDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("TestDelivery")
            .field("body_len", &self.body.len())
            .field("scheme", &self.scheme)
            .field("signed_at_ms", &self.signed_at_ms)
            .field("own_secret", &self.secret.is_some())
            .field("signed", &self.signed)
            .field("method", &self.method)
            .field("headers", &names)
            .finish()
    }
}

impl TestDelivery {
    /// A delivery of `body`, exactly these bytes (your own, or a
    /// [sample](crate::samples)).
    ///
    /// ```
    /// use costkatana_webhooks::testing::TestDelivery;
    /// let delivery = TestDelivery::new(r#"{"eventId":"evt_1","eventType":"cost.alert"}"#);
    /// assert_eq!(delivery.body().len(), 44);
    /// ```
    pub fn new(body: impl Into<Bytes>) -> Self {
        TestDelivery {
            body: body.into(),
            scheme: Scheme::Current,
            signed_at_ms: None,
            secret: None,
            signed: true,
            method: "POST".to_owned(),
            headers: Vec::new(),
        }
    }

    /// A realistic event of `event_type` with a fresh id
    /// ([`samples::event`](crate::samples::event)).
    ///
    /// ```
    /// use costkatana_webhooks::testing::TestDelivery;
    /// use costkatana_webhooks::{Event, EventType};
    /// let delivery = TestDelivery::event(&EventType::SecurityAlert);
    /// let event = Event::from_slice(delivery.body()).unwrap();
    /// assert_eq!(event.event_type, EventType::SecurityAlert);
    /// ```
    pub fn event(event_type: &EventType) -> Self {
        TestDelivery::new(crate::samples::event(event_type))
    }

    /// Signs under `scheme` (default [`Scheme::Current`]).
    ///
    /// ```
    /// # use costkatana_webhooks::{testing::TestDelivery, Scheme};
    /// let delivery = TestDelivery::new("{}").scheme(Scheme::Legacy);
    /// ```
    pub fn scheme(mut self, scheme: Scheme) -> Self {
        self.scheme = scheme;
        self
    }

    /// Signs at `at_ms` (ms since the epoch) instead of the receiver's
    /// clock when sent: a stale or future timestamp, or the very same
    /// request sent twice, as a retry.
    ///
    /// ```
    /// # use costkatana_webhooks::testing::TestDelivery;
    /// let retry = TestDelivery::new("{}").signed_at(1_777_377_600_000);
    /// ```
    pub fn signed_at(mut self, at_ms: i64) -> Self {
        self.signed_at_ms = Some(at_ms);
        self
    }

    /// Signs with `secret` (the text, as given) instead of the receiver's
    /// first secret: another endpoint's secret, a rotated one, a copy with
    /// a trailing newline.
    ///
    /// ```
    /// # use costkatana_webhooks::testing::TestDelivery;
    /// let forged = TestDelivery::new("{}").signed_with("whsec_someone_else");
    /// ```
    pub fn signed_with(mut self, secret: impl Into<String>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// Sends no signature headers at all.
    ///
    /// ```
    /// # use costkatana_webhooks::testing::TestDelivery;
    /// let unsigned = TestDelivery::new("{}").unsigned();
    /// ```
    pub fn unsigned(mut self) -> Self {
        self.signed = false;
        self
    }

    /// Sends with `method` (default `POST`).
    ///
    /// ```
    /// # use costkatana_webhooks::testing::TestDelivery;
    /// let get = TestDelivery::new("").method("GET");
    /// ```
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = method.into();
        self
    }

    /// Sets header `name` to `value`, replacing the sender's or the
    /// signature's of that name (to send a tampered signature, say).
    ///
    /// ```
    /// # use costkatana_webhooks::testing::TestDelivery;
    /// let delivery = TestDelivery::new("{}").header("Authorization", "Bearer t0ken");
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), Some(value.into())));
        self
    }

    /// Leaves header `name` out (a timestamp header, say).
    ///
    /// ```
    /// # use costkatana_webhooks::testing::TestDelivery;
    /// let delivery = TestDelivery::new("{}").without_header("X-Webhook-Timestamp");
    /// ```
    pub fn without_header(mut self, name: impl Into<String>) -> Self {
        self.headers.push((name.into(), None));
        self
    }

    /// The body, exactly as it is signed and sent.
    ///
    /// ```
    /// # use costkatana_webhooks::testing::TestDelivery;
    /// assert_eq!(TestDelivery::new("{}").body(), &b"{}"[..]);
    /// ```
    pub fn body(&self) -> &Bytes {
        &self.body
    }
}

impl From<String> for TestDelivery {
    fn from(body: String) -> Self {
        TestDelivery::new(body)
    }
}

impl From<&'static str> for TestDelivery {
    fn from(body: &'static str) -> Self {
        TestDelivery::new(body)
    }
}

impl From<Vec<u8>> for TestDelivery {
    fn from(body: Vec<u8>) -> Self {
        TestDelivery::new(body)
    }
}

impl From<Bytes> for TestDelivery {
    fn from(body: Bytes) -> Self {
        TestDelivery::new(body)
    }
}

/// What the receiver answered a [`TestDelivery`], as an adapter would send
/// it, and the [`Outcome`] behind it.
///
/// ```
/// use costkatana_webhooks::testing::TestDelivery;
/// use costkatana_webhooks::{HandlerError, Payload, Receiver};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let receiver = Receiver::builder()
///     .secret("whsec_test")
///     .fallback(|_: Payload| async { Err(HandlerError::from("database down")) })
///     .build()?;
/// let answer = receiver.test().send("{}").await;
/// assert_eq!(answer.status(), 500);
/// assert_eq!(answer.reason(), "handler_failed");
/// assert_eq!(answer.json()["error"], "handler_failed");
/// assert_eq!(answer.header("content-type").as_deref(), Some("application/json"));
/// assert!(!answer.body().contains("database down"), "the handler's error is never sent");
/// # Ok::<(), costkatana_webhooks::ConfigError>(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct TestAnswer {
    outcome: Outcome,
    answer: Answer,
    receiver: Receiver,
    /// The verified delivery's dedupe key.
    key: Option<String>,
    /// How many of the delivery's runs (ack-first) or settlements (inbox)
    /// were already seen.
    seen: AtomicUsize,
}

impl TestAnswer {
    /// The HTTP status.
    ///
    /// ```
    /// # use costkatana_webhooks::{Payload, Receiver};
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// # let receiver = Receiver::builder().secret("s").fallback(|_: Payload| async { Ok(()) }).build()?;
    /// assert_eq!(receiver.test().send("{}").await.status(), 200);
    /// # Ok::<(), costkatana_webhooks::ConfigError>(()) }).unwrap();
    /// ```
    pub fn status(&self) -> u16 {
        self.answer.status
    }

    /// The reason code: `processed`, `stored`, `duplicate`, or the error's
    /// (`invalid_signature`, `stale_timestamp`, …), as
    /// [`Outcome::label`] gives it.
    ///
    /// ```
    /// # use costkatana_webhooks::{testing::TestDelivery, Payload, Receiver};
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// # let receiver = Receiver::builder().secret("s").fallback(|_: Payload| async { Ok(()) }).build()?;
    /// let answer = receiver.test().send(TestDelivery::new("").method("GET")).await;
    /// assert_eq!(answer.reason(), "method_not_allowed");
    /// # Ok::<(), costkatana_webhooks::ConfigError>(()) }).unwrap();
    /// ```
    pub fn reason(&self) -> &'static str {
        self.outcome.label()
    }

    /// The body, JSON text.
    ///
    /// ```
    /// # use costkatana_webhooks::{Payload, Receiver};
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// # let receiver = Receiver::builder().secret("s").fallback(|_: Payload| async { Ok(()) }).build()?;
    /// assert_eq!(receiver.test().send("{}").await.body(), r#"{"event_id":null,"received":true}"#);
    /// # Ok::<(), costkatana_webhooks::ConfigError>(()) }).unwrap();
    /// ```
    pub fn body(&self) -> &str {
        &self.answer.body
    }

    /// The body, parsed.
    ///
    /// ```
    /// # use costkatana_webhooks::{Payload, Receiver};
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// # let receiver = Receiver::builder().secret("s").fallback(|_: Payload| async { Ok(()) }).build()?;
    /// assert_eq!(receiver.test().send("{}").await.json()["received"], true);
    /// # Ok::<(), costkatana_webhooks::ConfigError>(()) }).unwrap();
    /// ```
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.answer.body).unwrap_or(serde_json::Value::Null)
    }

    /// The value of header `name` (any case) the answer carries:
    /// `content-type`, `retry-after`, `allow`.
    ///
    /// ```
    /// # use costkatana_webhooks::{testing::TestDelivery, Payload, Receiver};
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// # let receiver = Receiver::builder().secret("s").fallback(|_: Payload| async { Ok(()) }).build()?;
    /// let answer = receiver.test().send(TestDelivery::new("").method("PUT")).await;
    /// assert_eq!(answer.header("Allow").as_deref(), Some("POST"));
    /// assert_eq!(answer.header("retry-after"), None);
    /// # Ok::<(), costkatana_webhooks::ConfigError>(()) }).unwrap();
    /// ```
    pub fn header(&self, name: &str) -> Option<String> {
        self.answer
            .headers()
            .find(|(have, _)| have.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }

    /// The `Retry-After` value in seconds, when the answer has one.
    ///
    /// ```
    /// # use costkatana_webhooks::{testing::TestDelivery, Clock, ManualClock, Payload, Receiver};
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// # let clock = std::sync::Arc::new(ManualClock::new(1_777_377_600_000));
    /// # let receiver = Receiver::builder().secret("s").clock(clock.clone()).fallback(|_: Payload| async { Ok(()) }).build()?;
    /// // Ten minutes ahead: the clocks disagree; retried later, it ages into the window.
    /// let ahead = TestDelivery::new("{}").signed_at(clock.now_ms() + 600_000);
    /// let answer = receiver.test().send(ahead).await;
    /// assert_eq!((answer.status(), answer.reason()), (503, "future_timestamp"));
    /// assert_eq!(answer.retry_after(), Some(5));
    /// # Ok::<(), costkatana_webhooks::ConfigError>(()) }).unwrap();
    /// ```
    pub fn retry_after(&self) -> Option<u32> {
        self.answer.retry_after_secs
    }

    /// The outcome behind the answer.
    ///
    /// ```
    /// # use costkatana_webhooks::{Outcome, Payload, Receiver};
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// # let receiver = Receiver::builder().secret("s").fallback(|_: Payload| async { Ok(()) }).build()?;
    /// let answer = receiver.test().send(r#"{"eventId":"e1","eventType":"cost.alert"}"#).await;
    /// assert_eq!(answer.outcome(), &Outcome::Processed { event_id: Some("e1".into()) });
    /// # Ok::<(), costkatana_webhooks::ConfigError>(()) }).unwrap();
    /// ```
    pub fn outcome(&self) -> &Outcome {
        &self.outcome
    }

    /// The whole [`Answer`] an adapter copies into its response.
    ///
    /// ```
    /// # use costkatana_webhooks::{Payload, Receiver};
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// # let receiver = Receiver::builder().secret("s").fallback(|_: Payload| async { Ok(()) }).build()?;
    /// assert_eq!(receiver.test().send("{}").await.answer().content_type, "application/json");
    /// # Ok::<(), costkatana_webhooks::ConfigError>(()) }).unwrap();
    /// ```
    pub fn answer(&self) -> &Answer {
        &self.answer
    }

    /// Waits until the handler run this answer promised has ended, and
    /// says what became of the delivery's inbox entry.
    ///
    /// - Inbox mode, a delivery just stored: starts the receiver if it is
    ///   not started (its workers run handlers only once it is), waits for
    ///   the entry's next attempt to end, then returns its state: `Done`,
    ///   `Dead` (refused, or its last attempt failed), or `Pending` (it
    ///   failed and a retry is due later: move the clock past the retry
    ///   policy's delay and call `settled` again for the next attempt).
    /// - Inbox mode, any other answer: the entry's state now, if any.
    /// - Ack-first mode, a delivery queued: waits for its background
    ///   handler to end; `None`.
    /// - Inline mode: the handler ran before the answer; `None` at once.
    ///
    /// # Panics
    ///
    /// When the receiver was shut down, cannot start, or the attempt has
    /// not ended after 60 s of real time.
    ///
    /// ```
    /// use costkatana_webhooks::inbox::{EntryState, InboxStore};
    /// use costkatana_webhooks::testing::Recorder;
    /// use costkatana_webhooks::{samples, Event, Payload, Receiver};
    ///
    /// // `inbox` is e.g. `costkatana_webhooks_inbox::Inbox::open("sqlite::memory:").await?`.
    /// async fn stored_then_handled(inbox: impl InboxStore) -> Result<(), Box<dyn std::error::Error>> {
    ///     let alerts = Recorder::<Event>::new();
    ///     let receiver = Receiver::builder()
    ///         .secret("whsec_test")
    ///         .inbox(inbox)
    ///         .on("cost.alert", alerts.handler())
    ///         .fallback(|_: Payload| async { Ok(()) })
    ///         .build()?;
    ///     let answer = receiver.test().send(samples::cost_alert()).await;
    ///     assert_eq!((answer.status(), answer.reason()), (200, "stored"));
    ///     assert_eq!(answer.settled().await, Some(EntryState::Done));
    ///     assert_eq!(alerts.len(), 1);
    ///     Ok(())
    /// }
    /// ```
    pub async fn settled(&self) -> Option<EntryState> {
        let receiver = &self.receiver;
        let key = self.key.as_deref()?;
        let waits = matches!(
            self.outcome,
            Outcome::Stored { .. } | Outcome::Queued { .. }
        );
        match receiver.mode() {
            Mode::Inbox => {
                let settlements = receiver.settlements();
                if !waits {
                    let noted = settlements.of(key).last().copied();
                    return match noted {
                        Some(state) => Some(state),
                        None => receiver.inbox_store()?.state_of(key).await.ok().flatten(),
                    };
                }
                if !receiver.is_started().await {
                    if let Err(err) = receiver.start().await {
                        panic!("the receiver cannot start, so its inbox is never worked: {err}");
                    }
                }
                self.wait_for(|| {
                    let noted = settlements.of(key);
                    (noted.len(), noted.last().copied())
                })
                .await
            }
            _ if waits => {
                let runs = receiver.handler_runs();
                self.wait_for(|| (runs.ended(key) as usize, None)).await
            }
            _ => None,
        }
    }

    /// Waits until `progress` (how many runs or settlements the delivery
    /// has had, and the last state) moves past what was seen; then counts
    /// it as seen.
    async fn wait_for(
        &self,
        progress: impl Fn() -> (usize, Option<EntryState>),
    ) -> Option<EntryState> {
        let started = Instant::now();
        loop {
            // Both are notified at each change; created first, so none is missed.
            let settled = self.receiver.settlements().changed();
            let ran = self.receiver.handler_runs().changed();
            let (count, state) = progress();
            if count > self.seen.load(Ordering::SeqCst) {
                self.seen.store(count, Ordering::SeqCst);
                return state;
            }
            assert!(
                started.elapsed() < SETTLE_LIMIT,
                "the delivery was not handled within {} s: is the receiver shut down, or its \
                 handler stuck?",
                SETTLE_LIMIT.as_secs()
            );
            tokio::select! {
                () = settled => {}
                () = ran => {}
                () = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
        }
    }
}

/// A handler that keeps what it receives, for tests to assert on: an
/// [`Event`](crate::Event) for a route, a [`Payload`](crate::Payload) for
/// the fallback. Clones share one record.
///
/// ```
/// use costkatana_webhooks::testing::Recorder;
/// use costkatana_webhooks::{samples, Event, Payload, Receiver};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let budget = Recorder::<Event>::new();
/// let other = Recorder::<Payload>::new();
/// let receiver = Receiver::builder()
///     .secret("whsec_test")
///     .on("budget.*", budget.handler())
///     .fallback(other.handler())
///     .build()?;
/// receiver.test().send(samples::event(&"budget.exceeded".into())).await;
/// receiver.test().send("not JSON").await;
/// assert_eq!(budget.len(), 1);
/// assert_eq!(other.last(), Some(Payload::NotJson));
/// # Ok::<(), costkatana_webhooks::ConfigError>(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct Recorder<T>(Arc<Mutex<Vec<T>>>);

impl<T> Clone for Recorder<T> {
    fn clone(&self) -> Self {
        Recorder(Arc::clone(&self.0))
    }
}

impl<T> Default for Recorder<T> {
    fn default() -> Self {
        Recorder(Arc::default())
    }
}

impl<T: Clone + Send + 'static> Recorder<T> {
    /// An empty record.
    ///
    /// ```
    /// # use costkatana_webhooks::{testing::Recorder, Event};
    /// assert!(Recorder::<Event>::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Recorder::default()
    }

    /// A handler that records what it receives and succeeds.
    ///
    /// ```
    /// # use costkatana_webhooks::{testing::Recorder, Event, Payload, Receiver};
    /// let seen = Recorder::<Event>::new();
    /// let builder = Receiver::builder().on("cost.alert", seen.handler());
    /// ```
    pub fn handler(
        &self,
    ) -> impl Fn(T) -> std::future::Ready<HandlerResult> + Send + Sync + 'static {
        self.handler_with(|_| Ok(()))
    }

    /// A handler that records what it receives, then answers with
    /// `result` of it: to fail (a retry) or refuse some deliveries.
    ///
    /// ```
    /// # use costkatana_webhooks::{testing::Recorder, Event, HandlerError, Receiver};
    /// let seen = Recorder::<Event>::new();
    /// let failing = seen.handler_with(|_| Err(HandlerError::from("downstream is down")));
    /// let builder = Receiver::builder().on("cost.alert", failing);
    /// ```
    pub fn handler_with<F>(
        &self,
        result: F,
    ) -> impl Fn(T) -> std::future::Ready<HandlerResult> + Send + Sync + 'static
    where
        F: Fn(&T) -> HandlerResult + Send + Sync + 'static,
    {
        let record = Arc::clone(&self.0);
        move |value: T| {
            let answer = result(&value);
            record
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push(value);
            std::future::ready(answer)
        }
    }

    /// Everything received, in order.
    ///
    /// ```
    /// # use costkatana_webhooks::{testing::Recorder, Event};
    /// assert!(Recorder::<Event>::new().all().is_empty());
    /// ```
    pub fn all(&self) -> Vec<T> {
        self.lock().clone()
    }

    /// The last thing received.
    ///
    /// ```
    /// # use costkatana_webhooks::{testing::Recorder, Event};
    /// assert!(Recorder::<Event>::new().last().is_none());
    /// ```
    pub fn last(&self) -> Option<T> {
        self.lock().last().cloned()
    }

    /// How many were received.
    ///
    /// ```
    /// # use costkatana_webhooks::{testing::Recorder, Event};
    /// assert_eq!(Recorder::<Event>::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing was received.
    ///
    /// ```
    /// # use costkatana_webhooks::{testing::Recorder, Payload};
    /// assert!(Recorder::<Payload>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<T>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
