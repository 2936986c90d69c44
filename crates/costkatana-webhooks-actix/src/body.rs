//! Reading an actix-web payload with a size bound and a time bound.

use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header::{HeaderMap, CONTENT_LENGTH};
use bytes::{Bytes, BytesMut};
use costkatana_webhooks::{Error, ErrorKind};
use futures_util::StreamExt;

/// How much of a body is read, and for how long.
///
/// Used by [`VerifyWebhook`](crate::VerifyWebhook) (set through its
/// builder), by [`ReceiverService`](crate::ReceiverService) (its size bound
/// comes from the receiver), and by the self-verifying path of
/// [`VerifiedEvent`](crate::VerifiedEvent), which reads it from app data.
///
/// ```
/// use std::time::Duration;
/// use costkatana_webhooks_actix::BodyLimits;
///
/// let limits = BodyLimits::default().max_bytes(256 * 1024).timeout(Duration::from_secs(5));
/// assert_eq!(limits.max_bytes_value(), 256 * 1024);
/// assert_eq!(limits.timeout_value(), Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    max_bytes: usize,
    timeout: Duration,
}

#[doc(no_inline)]
pub use costkatana_webhooks::receiver::DEFAULT_BODY_TIMEOUT;

impl Default for BodyLimits {
    /// 1 MiB, 10 s.
    ///
    /// ```
    /// use costkatana_webhooks_actix::BodyLimits;
    /// assert_eq!(BodyLimits::default().max_bytes_value(), 1024 * 1024);
    /// ```
    fn default() -> Self {
        BodyLimits {
            max_bytes: costkatana_webhooks::receiver::DEFAULT_MAX_BODY,
            timeout: DEFAULT_BODY_TIMEOUT,
        }
    }
}

impl BodyLimits {
    /// The longest body read (default 1 MiB); a longer one is answered 413
    /// `payload_too_large` as soon as the limit is passed, without reading
    /// the rest.
    ///
    /// ```
    /// use costkatana_webhooks_actix::BodyLimits;
    /// assert_eq!(BodyLimits::default().max_bytes(10).max_bytes_value(), 10);
    /// ```
    #[must_use]
    pub fn max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// How long the whole body may take to arrive (default 10 s); a body
    /// that trickles in longer is answered 400 `body_unreadable`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use costkatana_webhooks_actix::BodyLimits;
    /// let limits = BodyLimits::default().timeout(Duration::from_millis(500));
    /// assert_eq!(limits.timeout_value(), Duration::from_millis(500));
    /// ```
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The configured size bound.
    ///
    /// ```
    /// use costkatana_webhooks_actix::BodyLimits;
    /// assert_eq!(BodyLimits::default().max_bytes_value(), 1 << 20);
    /// ```
    pub fn max_bytes_value(&self) -> usize {
        self.max_bytes
    }

    /// The configured time bound.
    ///
    /// ```
    /// use std::time::Duration;
    /// use costkatana_webhooks_actix::BodyLimits;
    /// assert_eq!(BodyLimits::default().timeout_value(), Duration::from_secs(10));
    /// ```
    pub fn timeout_value(&self) -> Duration {
        self.timeout
    }

    /// Reads `payload` within the limits. A declared `Content-Length` over
    /// the size bound is refused before anything is read.
    ///
    /// Needs to run inside the actix (Tokio) runtime, for the timer.
    ///
    /// # Errors
    ///
    /// `payload_too_large`, or `body_unreadable` when the payload errors or
    /// does not arrive in time.
    ///
    /// ```
    /// use actix_web::dev::Payload;
    /// use actix_web::http::header::HeaderMap;
    /// use costkatana_webhooks::ErrorKind;
    /// use costkatana_webhooks_actix::BodyLimits;
    ///
    /// # actix_web::rt::System::new().block_on(async {
    /// let mut payload = Payload::from(bytes::Bytes::from_static(b"12345"));
    /// let limits = BodyLimits::default().max_bytes(4);
    /// let err = limits.read(&HeaderMap::new(), &mut payload).await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::PayloadTooLarge);
    /// # });
    /// ```
    pub async fn read(&self, headers: &HeaderMap, payload: &mut Payload) -> Result<Bytes, Error> {
        let declared = content_length(headers);
        if declared.is_some_and(|len| len > self.max_bytes as u64) {
            return Err(Error::new(ErrorKind::PayloadTooLarge));
        }
        let capacity = declared.map_or(0, |len| len as usize);
        match tokio::time::timeout(self.timeout, collect(payload, self.max_bytes, capacity)).await {
            Ok(result) => result,
            Err(_) => Err(Error::body_timed_out(self.timeout)),
        }
    }
}

/// Collects chunks until the end, stopping at the first one past `max`.
async fn collect(payload: &mut Payload, max: usize, capacity: usize) -> Result<Bytes, Error> {
    let mut body = BytesMut::with_capacity(capacity);
    while let Some(chunk) = payload.next().await {
        // The payload error says what went wrong on the wire, never the body.
        let chunk = chunk.map_err(Error::body_failed)?;
        if body.len() + chunk.len() > max {
            return Err(Error::new(ErrorKind::PayloadTooLarge));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The declared `Content-Length`, if it is a number.
fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}
