//! Reading a request body with a size bound and a time bound.

use std::time::Duration;

use bytes::Bytes;
use costkatana_webhooks::{Error, ErrorKind};
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};

/// How much of a body is read, and for how long.
///
/// ```
/// use std::time::Duration;
/// use costkatana_webhooks_tower::BodyLimits;
///
/// let limits = BodyLimits::default().max_bytes(256 * 1024).timeout(Duration::from_secs(5));
/// assert_eq!(limits.max_bytes_value(), 256 * 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    max_bytes: usize,
    timeout: Duration,
}

impl Default for BodyLimits {
    /// 1 MiB, 10 s.
    fn default() -> Self {
        BodyLimits {
            max_bytes: costkatana_webhooks::receiver::DEFAULT_MAX_BODY,
            timeout: costkatana_webhooks::receiver::DEFAULT_BODY_TIMEOUT,
        }
    }
}

impl BodyLimits {
    /// The longest body read (default 1 MiB); longer ones are answered 413
    /// `payload_too_large` without reading the rest.
    #[must_use]
    pub fn max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// How long the whole body may take to arrive (default 10 s); a body
    /// that trickles in longer is answered 400 `body_unreadable`.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The configured size bound.
    pub fn max_bytes_value(&self) -> usize {
        self.max_bytes
    }

    /// Reads `body` within the limits. A declared `content_length` over the
    /// limit is refused before reading anything.
    ///
    /// # Errors
    ///
    /// `payload_too_large`, or `body_unreadable` when the body errors or
    /// does not arrive in time.
    ///
    /// ```
    /// use costkatana_webhooks::ErrorKind;
    /// use costkatana_webhooks_tower::BodyLimits;
    /// use http_body_util::Full;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// let limits = BodyLimits::default().max_bytes(4);
    /// let err = limits.read(Full::new(bytes::Bytes::from_static(b"12345")), None).await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::PayloadTooLarge);
    /// # });
    /// ```
    pub async fn read<B>(&self, body: B, content_length: Option<u64>) -> Result<Bytes, Error>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if content_length.is_some_and(|len| len > self.max_bytes as u64) {
            return Err(Error::new(ErrorKind::PayloadTooLarge));
        }
        let collect = Limited::new(body, self.max_bytes).collect();
        match tokio::time::timeout(self.timeout, collect).await {
            Ok(Ok(collected)) => Ok(collected.to_bytes()),
            Ok(Err(err)) if err.is::<LengthLimitError>() => {
                Err(Error::new(ErrorKind::PayloadTooLarge))
            }
            Ok(Err(err)) => Err(Error::body_failed(err)),
            Err(_) => Err(Error::body_timed_out(self.timeout)),
        }
    }
}

/// The declared `Content-Length`, if it is a number.
pub(crate) fn content_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}
