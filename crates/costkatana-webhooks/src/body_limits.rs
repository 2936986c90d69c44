//! How much of a request body adapters read, and for how long.

use std::time::Duration;

use crate::{Error, ErrorKind, Headers};

/// The default longest body read: 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;
/// The default time a whole body may take to arrive: 10 s.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Bounds on reading a request body: a size (over it, 413
/// `payload_too_large` without reading the rest) and a time (a body that
/// trickles in longer is answered 400 `body_unreadable`).
///
/// Every adapter reads bodies within one of these; the
/// [`Receiver`](crate::receiver::Receiver) carries its own.
///
/// ```
/// use std::time::Duration;
/// use costkatana_webhooks::BodyLimits;
///
/// let limits = BodyLimits::default().max_bytes(256 * 1024).timeout(Duration::from_secs(5));
/// assert_eq!(limits.max_bytes_value(), 256 * 1024);
/// assert_eq!(limits.timeout_value(), Duration::from_secs(5));
/// assert_eq!(BodyLimits::default().max_bytes_value(), 1024 * 1024);
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
            max_bytes: DEFAULT_MAX_BODY,
            timeout: DEFAULT_BODY_TIMEOUT,
        }
    }
}

impl BodyLimits {
    /// The longest body read (default 1 MiB).
    #[must_use]
    pub fn max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// How long the whole body may take to arrive (default 10 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The size bound.
    pub fn max_bytes_value(&self) -> usize {
        self.max_bytes
    }

    /// The time bound.
    pub fn timeout_value(&self) -> Duration {
        self.timeout
    }

    /// Refuses a declared `Content-Length` over the size bound, before
    /// anything is read.
    ///
    /// # Errors
    ///
    /// `payload_too_large`.
    ///
    /// ```
    /// use costkatana_webhooks::{BodyLimits, ErrorKind};
    ///
    /// let limits = BodyLimits::default().max_bytes(4);
    /// assert!(limits.check_declared(&[("Content-Length", "4")]).is_ok());
    /// let err = limits.check_declared(&[("Content-Length", "5")]).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::PayloadTooLarge);
    /// ```
    pub fn check_declared(&self, headers: &impl Headers) -> Result<(), Error> {
        let declared = headers
            .header("content-length")
            .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse::<u64>().ok());
        match declared {
            Some(len) if len > self.max_bytes as u64 => Err(Error::new(ErrorKind::PayloadTooLarge)),
            _ => Ok(()),
        }
    }

    /// Refuses a body that has grown to `received` bytes, over the bound.
    ///
    /// # Errors
    ///
    /// `payload_too_large`.
    pub fn check_received(&self, received: usize) -> Result<(), Error> {
        if received > self.max_bytes {
            return Err(Error::new(ErrorKind::PayloadTooLarge));
        }
        Ok(())
    }

    /// The error for a body that did not arrive within the time bound.
    pub fn timed_out(&self) -> Error {
        Error::body_timed_out(self.timeout)
    }
}
