//! The verifier: scheme, timestamp window and HMAC over the raw body.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use subtle::ConstantTimeEq;

use crate::body_limits::BodyLimits;
use crate::signed_headers::{SignedHeaders, Tag};
use crate::{
    intake, mac, Clock, ConfigError, Error, ErrorKind, Headers, RequestBody, Scheme, Secret,
    SystemClock, Verified,
};

/// The default past and future timestamp tolerance: 300 s each.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// Checks Cost Katana signatures over raw request bytes.
///
/// Cheap to clone (an `Arc` inside) and safe to share between threads.
/// Verification needs no async runtime and allocates nothing in proportion
/// to the body. The verifier also holds the body limits, so every path
/// that reads a webhook body (the receiver, each adapter's middleware and
/// extractor) reads it within the same bounds.
///
/// ```
/// use costkatana_webhooks::{Scheme, Verifier};
///
/// let verifier = Verifier::builder().secret("whsec_test_secret").build()?;
///
/// let body = br#"{"event_type":"cost.alert","data":{"amount":100}}"#;
/// let headers = [(
///     "X-CostKatana-Signature",
///     "t=1705320600,v1=8e7a9a20aa184accf213305d7c9527ee23b7719acf0048d4eba31bf3e0e51008",
/// )];
/// let verified = verifier.verify_at(&headers, &body[..], 1_705_320_610_000)?;
/// assert_eq!(verified.scheme(), Scheme::Documented);
/// assert_eq!(verified.timestamp_ms(), 1_705_320_600_000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Config>,
}

struct Config {
    secrets: Vec<Secret>,
    scheme: Option<Scheme>,
    window: Option<(i64, i64)>,
    limits: BodyLimits,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("secrets", &self.inner.secrets.len())
            .field("scheme", &self.inner.scheme)
            .field("window_ms", &self.inner.window)
            .field("max_body", &self.inner.limits.max_bytes)
            .field("body_timeout", &self.inner.limits.timeout)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A builder with the defaults: schemes detected per request, 300 s of
    /// tolerance each way, bodies of at most 1 MiB arriving within 10 s,
    /// the system clock, and no secret yet.
    ///
    /// ```
    /// let verifier = costkatana_webhooks::Verifier::builder().secret("s3cret").build()?;
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn builder() -> VerifierBuilder {
        VerifierBuilder::default()
    }

    /// Verifies a whole HTTP request, as adapters do: the method and the
    /// signature headers are judged first (a request that can never verify
    /// is answered without waiting for its body), then the body is read
    /// within the size and time bounds and verified.
    ///
    /// # Errors
    ///
    /// `method_not_allowed`, `missing_signature`, `malformed_signature`,
    /// `payload_too_large` (a declared or an actual length over the
    /// bound), `body_unreadable` (a body that fails or stalls), then those
    /// of [`Verifier::verify`].
    ///
    /// ```
    /// use costkatana_webhooks::{ErrorKind, Verifier};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// let verifier = Verifier::builder().secret("s3cret").max_body(4).build()?;
    /// let err = verifier.verify_request("GET", &[("Content-Length", "0")], "").await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::MethodNotAllowed);
    /// # Ok::<(), costkatana_webhooks::ConfigError>(()) }).unwrap();
    /// ```
    pub async fn verify_request(
        &self,
        method: &str,
        headers: &impl Headers,
        body: impl RequestBody,
    ) -> Result<Verified, Error> {
        let (verified, age) = self
            .verify_request_judged(method, headers, body)
            .await
            .map_err(|(err, _)| err)?;
        age.map(|()| verified)
    }

    /// [`Verifier::verify_request`] that hands back an authentic request
    /// together with the verdict on its age, so a receiver can make its one
    /// exception (an authentic delivery it asked the sender to replay), and,
    /// beside a refusal, the body when it was read, so the receiver can
    /// diagnose it.
    pub(crate) async fn verify_request_judged(
        &self,
        method: &str,
        headers: &impl Headers,
        body: impl RequestBody,
    ) -> Result<(Verified, Result<(), Error>), (Error, Option<Bytes>)> {
        let (signed, declared) = self
            .check_head(method, headers)
            .map_err(|err| (err, None))?;
        let body = intake::read_body(self.inner.limits, declared, body)
            .await
            .map_err(|err| (err, None))?;
        self.judge_signed(&signed, body.clone(), self.inner.clock.now_ms())
            .map_err(|err| (err, Some(body)))
    }

    /// The configured secrets, in order.
    pub(crate) fn secrets(&self) -> &[Secret] {
        &self.inner.secrets
    }

    /// The scheme every request must use, when one is pinned.
    pub(crate) fn pinned_scheme(&self) -> Option<Scheme> {
        self.inner.scheme
    }

    /// Verifies a request whose body has been read, at the clock's current
    /// time.
    ///
    /// `body` is the raw request body, exactly as received.
    ///
    /// # Errors
    ///
    /// `missing_signature`, `malformed_signature`, `payload_too_large`,
    /// `invalid_signature`, then, for an authentic request only,
    /// `stale_timestamp` or `future_timestamp`: checked in that order, so a
    /// forgery learns nothing about the clock.
    ///
    /// ```
    /// use costkatana_webhooks::{ErrorKind, Verifier};
    ///
    /// let verifier = Verifier::builder().secret("s3cret").build()?;
    /// let err = verifier.verify(&[("Content-Type", "application/json")], "{}").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::MissingSignature);
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn verify(
        &self,
        headers: &impl Headers,
        body: impl Into<Bytes>,
    ) -> Result<Verified, Error> {
        self.verify_at(headers, body, self.inner.clock.now_ms())
    }

    /// Verifies a request as if the time were `now_ms` (ms since the epoch).
    ///
    /// # Errors
    ///
    /// As [`Verifier::verify`].
    ///
    /// ```
    /// use costkatana_webhooks::{ErrorKind, Verifier};
    ///
    /// let verifier = Verifier::builder().secret("whsec_test_secret").build()?;
    /// let body = r#"{"event_type":"cost.alert","data":{"amount":100}}"#;
    /// let headers = [("x-costkatana-signature",
    ///     "t=1705320600,v1=8e7a9a20aa184accf213305d7c9527ee23b7719acf0048d4eba31bf3e0e51008")];
    /// // 301 s later, the default 300 s tolerance has passed.
    /// let err = verifier.verify_at(&headers, body, 1_705_320_901_000).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::StaleTimestamp);
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn verify_at(
        &self,
        headers: &impl Headers,
        body: impl Into<Bytes>,
        now_ms: i64,
    ) -> Result<Verified, Error> {
        let signed = SignedHeaders::parse(headers, self.inner.scheme)?;
        let body = body.into();
        self.inner.limits.check_received(body.len())?;
        self.verify_signed(&signed, body, now_ms)
    }

    /// Verifies a stored request again: the signature only, since its
    /// timestamp was judged when it arrived (judging it again now, or at a
    /// recorded arrival a moment after the check, could refuse it).
    pub(crate) fn reverify(&self, headers: &impl Headers, body: Bytes) -> Result<Verified, Error> {
        let signed = SignedHeaders::parse(headers, self.inner.scheme)?;
        // At its own timestamp, a request is inside any window.
        let at = signed.timestamp_ms;
        self.verify_signed(&signed, body, at)
    }

    /// The verdict on a request before its body is read: the method, the
    /// signature headers, and the declared length. Returns the parsed
    /// headers and the declared length.
    fn check_head(
        &self,
        method: &str,
        headers: &impl Headers,
    ) -> Result<(SignedHeaders, Option<u64>), Error> {
        if method != "POST" {
            return Err(Error::method_not_allowed(method));
        }
        let signed = SignedHeaders::parse(headers, self.inner.scheme)?;
        let declared = self.inner.limits.check_declared(headers)?;
        Ok((signed, declared))
    }

    /// The signature against every secret, then, for an authentic request
    /// only, the timestamp window: a forgery learns nothing about the
    /// clock or the tolerance.
    fn verify_signed(
        &self,
        signed: &SignedHeaders,
        body: Bytes,
        now_ms: i64,
    ) -> Result<Verified, Error> {
        let (index, signature, age) = self.match_signed(signed, &body, now_ms)?;
        age?;
        // Built once, where it is returned from: it is large (the event it
        // reads is kept inside), and each move of it is a copy.
        Ok(Verified::new(
            signed.scheme,
            index,
            signed.timestamp_ms,
            signature,
            body,
        ))
    }

    /// The signature, then the age of an authentic request, as a verdict
    /// beside it.
    fn judge_signed(
        &self,
        signed: &SignedHeaders,
        body: Bytes,
        now_ms: i64,
    ) -> Result<(Verified, Result<(), Error>), Error> {
        let (index, signature, age) = self.match_signed(signed, &body, now_ms)?;
        let verified = Verified::new(signed.scheme, index, signed.timestamp_ms, signature, body);
        Ok((verified, age))
    }

    /// Which secret signed the request and its tag, and the verdict on its
    /// age; `Err` when no secret did.
    fn match_signed(
        &self,
        signed: &SignedHeaders,
        body: &[u8],
        now_ms: i64,
    ) -> Result<(usize, Tag, Result<(), Error>), Error> {
        let config = &*self.inner;
        let matched = config
            .secrets
            .iter()
            .enumerate()
            .find_map(|(index, secret)| {
                let expected = mac::tag(secret.keyed(), signed.timestamp_text(), body);
                // Compare against every candidate without stopping early, so the
                // time taken does not tell which one matched.
                let matched = signed
                    .signatures()
                    .iter()
                    .fold(subtle::Choice::from(0), |any, candidate| {
                        any | tags_equal(candidate, &expected)
                    });
                bool::from(matched).then_some((index, expected))
            });
        let Some((index, signature)) = matched else {
            return Err(Error::new(ErrorKind::InvalidSignature));
        };
        let age = match config.window {
            Some((past_ms, future_ms)) => check_window(signed, now_ms, past_ms, future_ms),
            None => Ok(()),
        };
        Ok((index, signature, age))
    }

    /// The clock this verifier reads.
    ///
    /// ```
    /// use costkatana_webhooks::Verifier;
    /// let verifier = Verifier::builder().secret("s3cret").build()?;
    /// assert!(verifier.clock().now_ms() > 0);
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn clock(&self) -> &dyn Clock {
        &*self.inner.clock
    }

    /// Per secret, in order, a name derived from it for dedupe keys: 16 hex
    /// digits of a keyed digest, which tells endpoints apart without
    /// revealing anything about the secret.
    pub(crate) fn secret_namespaces(&self) -> Vec<String> {
        self.inner
            .secrets
            .iter()
            .map(|secret| {
                let digest = mac::tag(secret.keyed(), "costkatana-webhooks", b"dedupe namespace");
                hex::encode(&digest[..8])
            })
            .collect()
    }

    /// The clock, shared (for stores that should read the same time).
    pub(crate) fn shared_clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.inner.clock)
    }

    /// The past tolerance in ms, or `None` when the timestamp check is off.
    ///
    /// ```
    /// use costkatana_webhooks::Verifier;
    /// let verifier = Verifier::builder().secret("s3cret").build()?;
    /// assert_eq!(verifier.past_tolerance_ms(), Some(300_000));
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn past_tolerance_ms(&self) -> Option<i64> {
        self.inner.window.map(|(past, _)| past)
    }

    /// The past and the future tolerance in ms, or `None` when the
    /// timestamp check is off.
    ///
    /// ```
    /// use costkatana_webhooks::Verifier;
    /// let verifier = Verifier::builder().secret("s3cret").build()?;
    /// assert_eq!(verifier.window_ms(), Some((300_000, 300_000)));
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn window_ms(&self) -> Option<(i64, i64)> {
        self.inner.window
    }

    /// The longest body read, in bytes.
    ///
    /// ```
    /// use costkatana_webhooks::Verifier;
    /// let verifier = Verifier::builder().secret("s3cret").build()?;
    /// assert_eq!(verifier.max_body(), 1024 * 1024);
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn max_body(&self) -> usize {
        self.inner.limits.max_bytes
    }

    /// How long a whole body may take to arrive.
    ///
    /// ```
    /// use std::time::Duration;
    /// use costkatana_webhooks::Verifier;
    /// let verifier = Verifier::builder().secret("s3cret").build()?;
    /// assert_eq!(verifier.body_timeout(), Duration::from_secs(10));
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn body_timeout(&self) -> Duration {
        self.inner.limits.timeout
    }
}

/// Timestamps in ms below this (March 1973) are seconds sent by mistake.
const SECONDS_LOOK_BELOW_MS: i64 = 100_000_000_000;

/// Whether two tags are equal, in constant time: the bytes' differences
/// are folded into one word, compared once.
fn tags_equal(a: &Tag, b: &Tag) -> subtle::Choice {
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    difference.ct_eq(&0)
}

fn check_window(
    signed: &SignedHeaders,
    now_ms: i64,
    past_ms: i64,
    future_ms: i64,
) -> Result<(), Error> {
    // i128: no overflow whatever the clock or header says.
    let age = i128::from(now_ms) - i128::from(signed.timestamp_ms);
    if age > i128::from(past_ms) {
        let ms_header = signed.scheme.ms_per_timestamp_unit() == 1;
        if ms_header && signed.timestamp_ms < SECONDS_LOOK_BELOW_MS {
            let header = signed.scheme.timestamp_header().unwrap_or("timestamp");
            return Err(Error::with_detail(
                ErrorKind::StaleTimestamp,
                format!(
                    "the {header} value {} looks like seconds since the epoch, but the {} \
                     scheme sends milliseconds ({}000 for the same time): the sender's \
                     timestamp unit is wrong, not the tolerance",
                    signed.timestamp_text(),
                    signed.scheme,
                    signed.timestamp_text()
                ),
            ));
        }
        return Err(Error::with_detail(
            ErrorKind::StaleTimestamp,
            format!(
                "the timestamp is {} s old, more than the allowed {} s (sender retries re-send \
                 the original timestamp: raise the past tolerance to accept late retries)",
                age / 1000,
                past_ms / 1000
            ),
        ));
    }
    if -age > i128::from(future_ms) {
        return Err(Error::with_detail(
            ErrorKind::FutureTimestamp,
            format!(
                "the timestamp is {} s in the future, more than the allowed {} s: the clocks \
                 disagree; a retry re-sends this timestamp, which ages into the window",
                -age / 1000,
                future_ms / 1000
            ),
        ));
    }
    Ok(())
}

/// Builds a [`Verifier`].
///
/// | setting | default |
/// |---|---|
/// | secrets | none: at least one is required |
/// | scheme | detected per request from the headers |
/// | past tolerance | 300 s |
/// | future tolerance | 300 s |
/// | max body | 1 MiB |
/// | body timeout | 10 s |
/// | clock | [`SystemClock`] |
///
/// ```
/// use std::time::Duration;
/// use costkatana_webhooks::{Scheme, Verifier};
///
/// let verifier = Verifier::builder()
///     .secret("new-secret")
///     .secret("old-secret") // rotation: either may match
///     .scheme(Scheme::Current)
///     .past_tolerance(Duration::from_secs(3600)) // accept late sender retries
///     .future_tolerance(Duration::from_secs(60))
///     .build()?;
/// # Ok::<(), costkatana_webhooks::ConfigError>(())
/// ```
#[must_use]
pub struct VerifierBuilder {
    secrets: Vec<Result<Secret, ConfigError>>,
    scheme: Option<Scheme>,
    past: Duration,
    future: Duration,
    check_timestamps: bool,
    limits: BodyLimits,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for VerifierBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifierBuilder")
            .field("secrets", &self.secrets.len())
            .field("scheme", &self.scheme)
            .field("past", &self.past)
            .field("future", &self.future)
            .field("check_timestamps", &self.check_timestamps)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Default for VerifierBuilder {
    fn default() -> Self {
        VerifierBuilder {
            secrets: Vec::new(),
            scheme: None,
            past: DEFAULT_TOLERANCE,
            future: DEFAULT_TOLERANCE,
            check_timestamps: true,
            limits: BodyLimits::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

impl VerifierBuilder {
    /// Adds a secret. Call again to accept several (rotation); the index of
    /// the one that matched is reported by [`Verified::secret_index`].
    /// Invalid secrets are reported by [`VerifierBuilder::build`].
    ///
    /// ```
    /// use costkatana_webhooks::Verifier;
    /// assert!(Verifier::builder().secret("").build().is_err());
    /// ```
    pub fn secret<S>(mut self, secret: S) -> Self
    where
        S: TryInto<Secret, Error = ConfigError>,
    {
        self.secrets.push(secret.try_into());
        self
    }

    /// Adds several secrets, in order.
    ///
    /// ```
    /// use costkatana_webhooks::{Secret, Verifier};
    /// let verifier = Verifier::builder().secrets(Secret::parse_list("a,b")?).build()?;
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn secrets(mut self, secrets: impl IntoIterator<Item = Secret>) -> Self {
        self.secrets.extend(secrets.into_iter().map(Ok));
        self
    }

    /// Accepts only `scheme` instead of detecting it per request.
    ///
    /// ```
    /// use costkatana_webhooks::{Scheme, Verifier};
    /// let verifier = Verifier::builder().secret("s").scheme(Scheme::Legacy).build()?;
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn scheme(mut self, scheme: Scheme) -> Self {
        self.scheme = Some(scheme);
        self
    }

    /// How old a timestamp may be (default 300 s). `Duration::ZERO` means
    /// zero tolerance, not "the default". The sender's retries re-send the
    /// original timestamp, so a receiver that must accept late retries
    /// needs more than the default (about 70 s with the sender's defaults,
    /// hours with its maximum settings).
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = costkatana_webhooks::Verifier::builder()
    ///     .past_tolerance(Duration::from_secs(2 * 3600));
    /// ```
    pub fn past_tolerance(mut self, tolerance: Duration) -> Self {
        self.past = tolerance;
        self
    }

    /// How far in the future a timestamp may be (default 300 s), for clock
    /// skew. `Duration::ZERO` means zero tolerance.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = costkatana_webhooks::Verifier::builder()
    ///     .future_tolerance(Duration::from_secs(30));
    /// ```
    pub fn future_tolerance(mut self, tolerance: Duration) -> Self {
        self.future = tolerance;
        self
    }

    /// **Turns off the timestamp check**: any timestamp, however old, is
    /// accepted, so a captured request can be replayed forever unless a
    /// dedupe store remembers it. Meant for replaying archived deliveries.
    ///
    /// ```
    /// let builder = costkatana_webhooks::Verifier::builder()
    ///     .dangerously_disable_timestamp_check();
    /// ```
    pub fn dangerously_disable_timestamp_check(mut self) -> Self {
        self.check_timestamps = false;
        self
    }

    /// The longest body accepted, in bytes (default 1 MiB). A request that
    /// declares a longer `Content-Length` is answered 413 before its body
    /// is read, and a longer body as soon as it passes the limit.
    ///
    /// ```
    /// let builder = costkatana_webhooks::Verifier::builder().max_body(256 * 1024);
    /// ```
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.limits.max_bytes = bytes;
        self
    }

    /// How long a whole body may take to arrive (default 10 s), so a
    /// client that trickles bytes cannot hold a connection for long. A body
    /// that is slower is answered 503 `body_unreadable` (the sender retries).
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = costkatana_webhooks::Verifier::builder().body_timeout(Duration::from_secs(5));
    /// ```
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.limits.timeout = timeout;
        self
    }

    /// The clock to read (default [`SystemClock`]); inject a
    /// [`ManualClock`](crate::ManualClock) in tests.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use costkatana_webhooks::{ManualClock, Verifier};
    /// let clock = Arc::new(ManualClock::new(1_777_377_600_000));
    /// let verifier = Verifier::builder().secret("s").clock(clock.clone()).build()?;
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the verifier.
    ///
    /// # Errors
    ///
    /// No secret, an invalid secret, a tolerance beyond 100 years, or a
    /// zero body timeout.
    ///
    /// ```
    /// let err = costkatana_webhooks::Verifier::builder().build().unwrap_err();
    /// assert!(err.to_string().contains("secret"));
    /// ```
    pub fn build(self) -> Result<Verifier, ConfigError> {
        let secrets = self.secrets.into_iter().collect::<Result<Vec<_>, _>>()?;
        if secrets.is_empty() {
            return Err(ConfigError::new(
                "no webhook secret configured: add one with .secret(..)",
            ));
        }
        if self.limits.timeout.is_zero() {
            return Err(ConfigError::new(
                "the body timeout must be longer than zero",
            ));
        }
        let window = if self.check_timestamps {
            Some((
                tolerance_ms(self.past, "past")?,
                tolerance_ms(self.future, "future")?,
            ))
        } else {
            None
        };
        Ok(Verifier {
            inner: Arc::new(Config {
                secrets,
                scheme: self.scheme,
                window,
                limits: self.limits,
                clock: self.clock,
            }),
        })
    }
}

fn tolerance_ms(tolerance: Duration, which: &str) -> Result<i64, ConfigError> {
    const CENTURY_MS: i64 = 100 * 366 * 24 * 3600 * 1000;
    let ms = crate::clock::millis(tolerance);
    if ms > CENTURY_MS {
        return Err(ConfigError::new(format!(
            "the {which} tolerance is over 100 years; to turn the timestamp check off, call \
             dangerously_disable_timestamp_check()"
        )));
    }
    Ok(ms)
}
