//! The one error type of a rejected or failed delivery, and its reason codes.

use std::fmt;
use std::sync::Arc;

/// Why a delivery was not handled.
///
/// Every kind maps to one row of the status table: an HTTP status
/// ([`ErrorKind::status`]) and a stable reason code ([`ErrorKind::code`]) that
/// tests and users match on. The kind is `#[non_exhaustive]`: match with a
/// wildcard arm.
///
/// ```
/// use costkatana_webhooks::ErrorKind;
///
/// assert_eq!(ErrorKind::InvalidSignature.status(), 401);
/// assert_eq!(ErrorKind::InvalidSignature.code(), "invalid_signature");
/// assert!(ErrorKind::StoreUnavailable.sender_retries());
/// assert!(!ErrorKind::InvalidSignature.sender_retries());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No signature header of any scheme was present (400).
    MissingSignature,
    /// A signature or timestamp header could not be parsed (400).
    MalformedSignature,
    /// No signature matched any configured secret (401). Checked before the
    /// timestamp, so a forgery learns nothing about the clock.
    InvalidSignature,
    /// An authentic request's timestamp is older than the past tolerance (401).
    StaleTimestamp,
    /// An authentic request's timestamp is further ahead than the future
    /// tolerance (503, with `Retry-After`): the sender's retry re-sends the
    /// same timestamp, which ages into the window.
    FutureTimestamp,
    /// The body is larger than the configured limit (413).
    PayloadTooLarge,
    /// The request method is not `POST` (405).
    MethodNotAllowed,
    /// The request body could not be read: it stalled past the time bound
    /// or failed mid-way (503, since the sender's retry can succeed).
    BodyUnreadable,
    /// The same event is being handled by another request right now (503,
    /// with `Retry-After`).
    InProgress,
    /// The user's handler returned an error or panicked (500).
    HandlerFailed,
    /// The user's handler refused the delivery permanently with
    /// [`HandlerError::refuse`](crate::HandlerError::refuse) (422): the
    /// sender stops retrying it.
    Refused,
    /// The dedupe store could not be reached (503).
    StoreUnavailable,
    /// The background queue of ack-first mode is full (503).
    Overloaded,
}

impl ErrorKind {
    /// Every kind, in the order of the status table.
    ///
    /// ```
    /// use costkatana_webhooks::ErrorKind;
    /// assert!(ErrorKind::ALL.iter().all(|k| k.status() >= 400));
    /// ```
    pub const ALL: [ErrorKind; 13] = [
        ErrorKind::InProgress,
        ErrorKind::HandlerFailed,
        ErrorKind::Refused,
        ErrorKind::StoreUnavailable,
        ErrorKind::Overloaded,
        ErrorKind::MissingSignature,
        ErrorKind::MalformedSignature,
        ErrorKind::InvalidSignature,
        ErrorKind::StaleTimestamp,
        ErrorKind::FutureTimestamp,
        ErrorKind::PayloadTooLarge,
        ErrorKind::MethodNotAllowed,
        ErrorKind::BodyUnreadable,
    ];

    /// The HTTP status this kind is answered with.
    ///
    /// 5xx where a retry of the identical request can still succeed (the
    /// sender retries only 5xx and time-outs), 4xx where it never can.
    ///
    /// ```
    /// use costkatana_webhooks::ErrorKind;
    /// assert_eq!(ErrorKind::InProgress.status(), 503);
    /// assert_eq!(ErrorKind::PayloadTooLarge.status(), 413);
    /// ```
    pub const fn status(self) -> u16 {
        match self {
            ErrorKind::MissingSignature | ErrorKind::MalformedSignature => 400,
            ErrorKind::InvalidSignature | ErrorKind::StaleTimestamp => 401,
            ErrorKind::MethodNotAllowed => 405,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::Refused => 422,
            ErrorKind::HandlerFailed => 500,
            ErrorKind::InProgress
            | ErrorKind::StoreUnavailable
            | ErrorKind::Overloaded
            | ErrorKind::BodyUnreadable
            | ErrorKind::FutureTimestamp => 503,
        }
    }

    /// The stable reason code, as sent in the JSON body's `error` field and
    /// used as the `outcome` label of the request counter.
    ///
    /// ```
    /// use costkatana_webhooks::ErrorKind;
    /// assert_eq!(ErrorKind::StaleTimestamp.code(), "stale_timestamp");
    /// ```
    pub const fn code(self) -> &'static str {
        match self {
            ErrorKind::MissingSignature => "missing_signature",
            ErrorKind::MalformedSignature => "malformed_signature",
            ErrorKind::InvalidSignature => "invalid_signature",
            ErrorKind::StaleTimestamp => "stale_timestamp",
            ErrorKind::FutureTimestamp => "future_timestamp",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::MethodNotAllowed => "method_not_allowed",
            ErrorKind::BodyUnreadable => "body_unreadable",
            ErrorKind::InProgress => "in_progress",
            ErrorKind::HandlerFailed => "handler_failed",
            ErrorKind::Refused => "refused",
            ErrorKind::StoreUnavailable => "store_unavailable",
            ErrorKind::Overloaded => "overloaded",
        }
    }

    /// Whether the sender retries a request answered with this kind, i.e.
    /// whether the status is a 5xx.
    ///
    /// ```
    /// use costkatana_webhooks::ErrorKind;
    /// assert!(ErrorKind::HandlerFailed.sender_retries());
    /// ```
    pub const fn sender_retries(self) -> bool {
        self.status() >= 500
    }

    /// A default explanation of this kind, used when no detail is given.
    const fn default_message(self) -> &'static str {
        match self {
            ErrorKind::MissingSignature => "no Cost Katana signature header was present (expected X-Webhook-Signature or X-CostKatana-Signature)",
            ErrorKind::MalformedSignature => "the signature or timestamp header could not be parsed",
            ErrorKind::InvalidSignature => "no signature matched any configured secret: check that the secret is the one configured on the sender and that the raw body bytes are verified, not a re-serialized copy",
            ErrorKind::StaleTimestamp => "the timestamp is older than the allowed tolerance",
            ErrorKind::FutureTimestamp => "the timestamp is further in the future than the allowed tolerance",
            ErrorKind::PayloadTooLarge => "the body is larger than the configured limit",
            ErrorKind::MethodNotAllowed => "only POST is accepted",
            ErrorKind::BodyUnreadable => "the request body could not be read; retry later",
            ErrorKind::InProgress => "this event is being handled by another request; retry later",
            ErrorKind::HandlerFailed => "the handler failed; the claim was released so a retry is processed",
            ErrorKind::Refused => "the handler refused this delivery permanently; do not retry it",
            ErrorKind::StoreUnavailable => "the dedupe store is unavailable; retry later",
            ErrorKind::Overloaded => "the background queue is full; retry later",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A rejected or failed delivery: a kind plus a message that helps the user.
///
/// The message never contains the secret, an expected signature or the body.
///
/// ```
/// use costkatana_webhooks::{Error, ErrorKind};
///
/// let err = Error::new(ErrorKind::StaleTimestamp);
/// assert_eq!(err.kind(), ErrorKind::StaleTimestamp);
/// assert_eq!(err.status(), 401);
/// assert!(err.to_string().starts_with("stale_timestamp: "));
/// ```
#[derive(Clone)]
pub struct Error {
    kind: ErrorKind,
    detail: Option<Box<str>>,
    source: Cause,
}

/// Errors are equal when their kind and message are; the source is detail.
impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.message() == other.message()
    }
}

impl Eq for Error {}

impl Error {
    /// An error of `kind` with its default message.
    ///
    /// ```
    /// use costkatana_webhooks::{Error, ErrorKind};
    /// assert_eq!(Error::new(ErrorKind::Overloaded).status(), 503);
    /// ```
    pub fn new(kind: ErrorKind) -> Self {
        Error {
            kind,
            detail: None,
            source: Cause::default(),
        }
    }

    /// An error of `kind` with a specific message.
    ///
    /// ```
    /// use costkatana_webhooks::{Error, ErrorKind};
    /// let err = Error::with_detail(ErrorKind::HandlerFailed, "database down");
    /// assert_eq!(err.message(), "database down");
    /// ```
    pub fn with_detail(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Error {
            kind,
            detail: Some(detail.into().into_boxed_str()),
            source: Cause::default(),
        }
    }

    /// The same error, caused by `source` (reported by
    /// [`std::error::Error::source`], for logs; never sent to the caller).
    ///
    /// ```
    /// use std::error::Error as _;
    /// use costkatana_webhooks::{Error, ErrorKind};
    /// let cause = std::io::Error::other("connection reset");
    /// let err = Error::new(ErrorKind::BodyUnreadable).caused_by(cause);
    /// assert_eq!(err.source().unwrap().to_string(), "connection reset");
    /// ```
    #[must_use]
    pub fn caused_by(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        self.source = Cause::new(source);
        self
    }

    /// `body_unreadable`: the body did not arrive within `timeout`.
    pub(crate) fn body_timed_out(timeout: std::time::Duration) -> Self {
        Error::with_detail(
            ErrorKind::BodyUnreadable,
            format!(
                "the request body did not arrive within {} ms",
                timeout.as_millis()
            ),
        )
    }

    /// `method_not_allowed`, naming the method received.
    pub(crate) fn method_not_allowed(method: &str) -> Self {
        // Methods are tokens; a long or odd one is not echoed.
        let shown = if method.len() <= 16 && method.bytes().all(|b| b.is_ascii_alphabetic()) {
            method
        } else {
            "another method"
        };
        Error::with_detail(
            ErrorKind::MethodNotAllowed,
            format!("only POST is accepted, not {shown}"),
        )
    }

    /// `body_unreadable`: reading the body failed with `cause`, kept as the
    /// error's source.
    ///
    /// ```
    /// use costkatana_webhooks::{Error, ErrorKind};
    /// let err = Error::body_failed("connection reset");
    /// assert_eq!(err.kind(), ErrorKind::BodyUnreadable);
    /// assert_eq!(err.message(), "the request body could not be read: connection reset");
    /// ```
    pub fn body_failed(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        let cause = cause.into();
        Error::with_detail(
            ErrorKind::BodyUnreadable,
            format!("the request body could not be read: {cause}"),
        )
        .caused_by(cause)
    }

    /// `payload_too_large`: the body passed the configured limit of
    /// `max_bytes`. The message names the limit and how to raise it.
    pub(crate) fn body_too_large(max_bytes: usize) -> Self {
        Error::with_detail(
            ErrorKind::PayloadTooLarge,
            format!(
                "the body is larger than the limit of {max_bytes} bytes ({}); raise it with \
                 max_body(..) on the receiver or verifier builder",
                human_size(max_bytes)
            ),
        )
    }

    /// `payload_too_large`: a limit set outside this crate fired while the
    /// body was read, such as axum's `DefaultBodyLimit` or tower-http's
    /// `RequestBodyLimit`; `limit` names it.
    ///
    /// ```
    /// use costkatana_webhooks::{Error, ErrorKind};
    /// let err = Error::body_too_large_for("axum's DefaultBodyLimit");
    /// assert_eq!(err.kind(), ErrorKind::PayloadTooLarge);
    /// assert!(err.message().contains("raise that limit"));
    /// ```
    pub fn body_too_large_for(limit: &str) -> Self {
        Error::with_detail(
            ErrorKind::PayloadTooLarge,
            format!("the body is larger than {limit}; raise that limit"),
        )
    }

    /// The kind, for matching.
    ///
    /// ```
    /// use costkatana_webhooks::{Error, ErrorKind};
    /// assert_eq!(Error::new(ErrorKind::MissingSignature).kind(), ErrorKind::MissingSignature);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The HTTP status (shorthand for `self.kind().status()`).
    ///
    /// ```
    /// use costkatana_webhooks::{Error, ErrorKind};
    /// assert_eq!(Error::new(ErrorKind::MethodNotAllowed).status(), 405);
    /// ```
    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    /// The stable reason code (shorthand for `self.kind().code()`).
    ///
    /// ```
    /// use costkatana_webhooks::{Error, ErrorKind};
    /// assert_eq!(Error::new(ErrorKind::MethodNotAllowed).code(), "method_not_allowed");
    /// ```
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The human-readable explanation.
    ///
    /// ```
    /// use costkatana_webhooks::{Error, ErrorKind};
    /// assert!(Error::new(ErrorKind::InvalidSignature).message().contains("re-serialized"));
    /// ```
    pub fn message(&self) -> &str {
        self.detail
            .as_deref()
            .unwrap_or_else(|| self.kind.default_message())
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error::new(kind)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Error");
        debug
            .field("kind", &self.kind)
            .field("message", &self.message());
        if let Some(source) = self.source.get() {
            debug.field("source", &source.to_string());
        }
        debug.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.message())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.get()
    }
}

/// The error that caused another: kept for `source()` and logs, shared so
/// the error stays cheap to clone, and never part of an answer.
#[derive(Clone, Default)]
pub(crate) struct Cause(Option<Arc<dyn std::error::Error + Send + Sync>>);

impl Cause {
    pub(crate) fn new(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Cause(Some(Arc::from(source.into())))
    }

    pub(crate) fn get(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(source) => write!(f, "{source:?}"),
            None => f.write_str("None"),
        }
    }
}

/// `1 MiB`, `64 KiB` or `300 B`: a size as people say it.
fn human_size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} B"),
    }
}

/// A configuration mistake found while building a verifier, receiver or
/// store: it needs a fix, not a retry.
///
/// Stores and adapters in other crates report their own configuration
/// mistakes (a malformed URL, a certificate that is not PEM) with
/// [`ConfigError::new`], so they are never mistaken for an unavailable
/// store.
///
/// ```
/// use costkatana_webhooks::Secret;
///
/// let err = Secret::new("").unwrap_err();
/// assert!(err.to_string().contains("empty"));
/// ```
#[derive(Debug, Clone)]
pub struct ConfigError {
    message: String,
    source: Cause,
}

impl ConfigError {
    /// A configuration error with `message`, which says what to fix (never
    /// include a secret or a password).
    ///
    /// ```
    /// use costkatana_webhooks::ConfigError;
    /// let err = ConfigError::new("the Redis URL has no host");
    /// assert_eq!(err.to_string(), "the Redis URL has no host");
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        ConfigError {
            message: message.into(),
            source: Cause::default(),
        }
    }

    /// The same error, caused by `source` (reported by
    /// [`std::error::Error::source`]).
    ///
    /// ```
    /// use std::error::Error as _;
    /// use costkatana_webhooks::ConfigError;
    /// let cause = "x".parse::<u32>().unwrap_err();
    /// let err = ConfigError::new("the port is not a number").caused_by(cause);
    /// assert!(err.source().is_some());
    /// ```
    #[must_use]
    pub fn caused_by(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        self.source = Cause::new(source);
        self
    }
}

/// Configuration errors are equal when their messages are.
impl PartialEq for ConfigError {
    fn eq(&self, other: &Self) -> bool {
        self.message == other.message
    }
}

impl Eq for ConfigError {}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.get()
    }
}
