//! The one error type of a rejected or failed delivery, and its reason codes.

use std::fmt;

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
    /// No signature matched any configured secret (401).
    InvalidSignature,
    /// The timestamp is older than the past tolerance (401).
    StaleTimestamp,
    /// The timestamp is further ahead than the future tolerance (401).
    FutureTimestamp,
    /// The body is larger than the configured limit (413).
    PayloadTooLarge,
    /// The request method is not `POST` (405).
    MethodNotAllowed,
    /// The request body could not be read, for instance the client stopped
    /// sending it in time (400).
    BodyUnreadable,
    /// The same event is being handled by another request right now (503,
    /// with `Retry-After`).
    InProgress,
    /// The user's handler returned an error or panicked (500).
    HandlerFailed,
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
    pub const ALL: [ErrorKind; 12] = [
        ErrorKind::InProgress,
        ErrorKind::HandlerFailed,
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
            ErrorKind::MissingSignature
            | ErrorKind::MalformedSignature
            | ErrorKind::BodyUnreadable => 400,
            ErrorKind::InvalidSignature
            | ErrorKind::StaleTimestamp
            | ErrorKind::FutureTimestamp => 401,
            ErrorKind::MethodNotAllowed => 405,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::HandlerFailed => 500,
            ErrorKind::InProgress | ErrorKind::StoreUnavailable | ErrorKind::Overloaded => 503,
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
            ErrorKind::BodyUnreadable => "the request body could not be read",
            ErrorKind::InProgress => "this event is being handled by another request; retry later",
            ErrorKind::HandlerFailed => "the handler failed; the claim was released so a retry is processed",
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
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    detail: Option<Box<str>>,
}

impl Error {
    /// An error of `kind` with its default message.
    ///
    /// ```
    /// use costkatana_webhooks::{Error, ErrorKind};
    /// assert_eq!(Error::new(ErrorKind::Overloaded).status(), 503);
    /// ```
    pub fn new(kind: ErrorKind) -> Self {
        Error { kind, detail: None }
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
        }
    }

    /// `body_unreadable`: the body did not arrive within `timeout`. Every
    /// adapter words this the same way.
    ///
    /// ```
    /// use std::time::Duration;
    /// use costkatana_webhooks::Error;
    /// let err = Error::body_timed_out(Duration::from_millis(400));
    /// assert_eq!(err.message(), "the request body did not arrive within 400 ms");
    /// ```
    pub fn body_timed_out(timeout: std::time::Duration) -> Self {
        Error::with_detail(
            ErrorKind::BodyUnreadable,
            format!(
                "the request body did not arrive within {} ms",
                timeout.as_millis()
            ),
        )
    }

    /// `body_unreadable`: reading the body failed with `cause`.
    ///
    /// ```
    /// use costkatana_webhooks::{Error, ErrorKind};
    /// let err = Error::body_failed("connection reset");
    /// assert_eq!(err.kind(), ErrorKind::BodyUnreadable);
    /// assert_eq!(err.message(), "the request body could not be read: connection reset");
    /// ```
    pub fn body_failed(cause: impl std::fmt::Display) -> Self {
        Error::with_detail(
            ErrorKind::BodyUnreadable,
            format!("the request body could not be read: {cause}"),
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
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message())
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.message())
    }
}

impl std::error::Error for Error {}

/// A configuration mistake found while building a verifier or receiver.
///
/// ```
/// use costkatana_webhooks::Secret;
///
/// let err = Secret::new("").unwrap_err();
/// assert!(err.to_string().contains("empty"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub(crate) String);

impl ConfigError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        ConfigError(message.into())
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}
