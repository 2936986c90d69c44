//! The status table, once: every outcome becomes a status and a JSON body.

use serde_json::json;

use crate::{Error, ErrorKind};

/// How long a sender is asked to wait before retrying an in-flight
/// duplicate or a busy receiver (the `Retry-After` header, in seconds).
pub const RETRY_AFTER_SECS: u32 = 5;

/// What became of one delivery.
///
/// ```
/// use costkatana_webhooks::{Error, ErrorKind, Outcome};
///
/// let done = Outcome::Processed { event_id: Some("e1".into()) };
/// assert_eq!(done.answer().status, 200);
/// assert_eq!(done.label(), "processed");
///
/// let busy = Outcome::from(Error::new(ErrorKind::InProgress));
/// assert_eq!(busy.answer().status, 503);
/// assert_eq!(busy.answer().retry_after_secs, Some(5));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Verified and handled by its handler (inline mode).
    Processed {
        /// The event id, when the body had one.
        event_id: Option<String>,
    },
    /// Ack-first mode: verified, claimed, and queued for its handler, which
    /// runs after the answer.
    Queued {
        /// The event id, when the body had one.
        event_id: Option<String>,
    },
    /// Inbox mode: stored durably, to be handled by a worker.
    Stored {
        /// The event id, when the body had one.
        event_id: Option<String>,
    },
    /// A duplicate of a delivery already handled (or, in inbox mode, already
    /// stored).
    Duplicate {
        /// The event id, when the body had one.
        event_id: Option<String>,
    },
    /// Rejected or failed.
    Failed(Error),
}

impl Outcome {
    /// The metrics label and log word: `processed` (for a queued delivery
    /// too, as the request counter has always counted it: match the variant
    /// to tell them apart), `stored`, `duplicate`, or the error's reason
    /// code.
    ///
    /// ```
    /// use costkatana_webhooks::Outcome;
    /// assert_eq!(Outcome::Queued { event_id: None }.label(), "processed");
    /// ```
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Processed { .. } | Outcome::Queued { .. } => "processed",
            Outcome::Stored { .. } => "stored",
            Outcome::Duplicate { .. } => "duplicate",
            Outcome::Failed(err) => err.code(),
        }
    }

    /// The HTTP answer for this outcome, per the status table.
    ///
    /// ```
    /// use costkatana_webhooks::{Error, ErrorKind, Outcome};
    ///
    /// let answer = Outcome::Duplicate { event_id: Some("e1".into()) }.answer();
    /// assert_eq!(answer.status, 200);
    /// assert_eq!(answer.body, r#"{"duplicate":true,"event_id":"e1","received":true}"#);
    ///
    /// let answer = Outcome::from(Error::new(ErrorKind::InvalidSignature)).answer();
    /// assert_eq!(answer.status, 401);
    /// assert!(answer.body.starts_with(r#"{"error":"invalid_signature","message":"#));
    /// ```
    pub fn answer(&self) -> Answer {
        match self {
            Outcome::Processed { event_id } | Outcome::Queued { event_id } => {
                Answer::json(200, &json!({ "received": true, "event_id": event_id }))
            }
            Outcome::Stored { event_id } => Answer::json(
                200,
                &json!({ "received": true, "stored": true, "event_id": event_id }),
            ),
            Outcome::Duplicate { event_id } => Answer::json(
                200,
                &json!({ "received": true, "duplicate": true, "event_id": event_id }),
            ),
            Outcome::Failed(err) => err.answer(),
        }
    }
}

impl Error {
    /// The HTTP answer for this error, per the status table: its status, a
    /// JSON body with its reason code and message, and `Retry-After` or
    /// `Allow` where the table says so.
    ///
    /// ```
    /// use costkatana_webhooks::{Error, ErrorKind};
    /// let answer = Error::new(ErrorKind::MethodNotAllowed).answer();
    /// assert_eq!(answer.status, 405);
    /// assert_eq!(answer.allow, Some("POST"));
    /// ```
    pub fn answer(&self) -> Answer {
        let mut answer = Answer::json(
            self.status(),
            &json!({ "error": self.code(), "message": self.message() }),
        );
        answer.retry_after_secs = matches!(
            self.kind(),
            ErrorKind::InProgress
                | ErrorKind::Overloaded
                | ErrorKind::StoreUnavailable
                | ErrorKind::FutureTimestamp
        )
        .then_some(RETRY_AFTER_SECS);
        answer.allow = (self.kind() == ErrorKind::MethodNotAllowed).then_some("POST");
        answer
    }
}

impl From<Error> for Outcome {
    fn from(err: Error) -> Self {
        Outcome::Failed(err)
    }
}

/// An HTTP answer, framework-free: adapters copy its status, its
/// [`headers`](Answer::headers) and its body into their response type.
///
/// ```
/// use costkatana_webhooks::{Answer, ErrorKind, Outcome};
///
/// let answer: Answer = Outcome::Failed(ErrorKind::MethodNotAllowed.into()).answer();
/// assert_eq!(answer.status, 405);
/// let headers: Vec<_> = answer.headers().collect();
/// assert_eq!(headers, [("content-type", "application/json".to_owned()), ("allow", "POST".to_owned())]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Answer {
    /// The HTTP status code.
    pub status: u16,
    /// The `Content-Type` header value (always JSON).
    pub content_type: &'static str,
    /// The `Retry-After` header value in seconds, when the answer has one.
    pub retry_after_secs: Option<u32>,
    /// The `Allow` header value, on a 405.
    pub allow: Option<&'static str>,
    /// The JSON body.
    pub body: String,
}

impl Answer {
    fn json(status: u16, body: &serde_json::Value) -> Self {
        Answer {
            status,
            content_type: "application/json",
            retry_after_secs: None,
            allow: None,
            body: body.to_string(),
        }
    }

    /// Every header of the answer, as lowercase `(name, value)` pairs:
    /// `content-type`, then `retry-after` and `allow` where they apply.
    /// Adapters copy them all, so a header added here reaches every one.
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, String)> + '_ {
        let retry_after = self
            .retry_after_secs
            .map(|secs| ("retry-after", secs.to_string()));
        let allow = self.allow.map(|methods| ("allow", methods.to_owned()));
        std::iter::once(("content-type", self.content_type.to_owned()))
            .chain(retry_after)
            .chain(allow)
    }
}
