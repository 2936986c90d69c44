//! How much of a request body is read, and for how long: the one place
//! both bounds are enforced.

use std::time::Duration;

use crate::{Error, Headers};

/// The default longest body read: 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;
/// The default time a whole body may take to arrive: 10 s.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Bounds on reading a request body: a size (over it, 413
/// `payload_too_large` without reading the rest) and a time (a body that
/// trickles in longer is answered 503 `body_unreadable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BodyLimits {
    pub(crate) max_bytes: usize,
    pub(crate) timeout: Duration,
}

impl Default for BodyLimits {
    fn default() -> Self {
        BodyLimits {
            max_bytes: DEFAULT_MAX_BODY,
            timeout: DEFAULT_BODY_TIMEOUT,
        }
    }
}

impl BodyLimits {
    /// The declared `Content-Length`, refused when over the size bound,
    /// before anything is read.
    pub(crate) fn check_declared(&self, headers: &impl Headers) -> Result<Option<u64>, Error> {
        let declared = headers
            .header("content-length")
            .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse::<u64>().ok());
        match declared {
            Some(len) if len > self.max_bytes as u64 => Err(Error::body_too_large(self.max_bytes)),
            _ => Ok(declared),
        }
    }

    /// Refuses a body that has grown to `received` bytes, over the bound.
    pub(crate) fn check_received(&self, received: usize) -> Result<(), Error> {
        if received > self.max_bytes {
            return Err(Error::body_too_large(self.max_bytes));
        }
        Ok(())
    }
}
