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
/// assert_eq!(done.response().status, 200);
/// assert_eq!(done.label(), "processed");
///
/// let busy = Outcome::from(Error::new(ErrorKind::InProgress));
/// assert_eq!(busy.response().status, 503);
/// assert_eq!(busy.response().retry_after_secs, Some(5));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Verified and handled (or, in ack-first mode, accepted for handling).
    Processed {
        /// The event id, when the body had one.
        event_id: Option<String>,
    },
    /// A duplicate of a delivery already handled.
    Duplicate {
        /// The event id, when the body had one.
        event_id: Option<String>,
    },
    /// Rejected or failed.
    Failed(Error),
}

impl Outcome {
    /// The metrics label and log word: `processed`, `duplicate`, or the
    /// error's reason code.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Processed { .. } => "processed",
            Outcome::Duplicate { .. } => "duplicate",
            Outcome::Failed(err) => err.code(),
        }
    }

    /// The HTTP answer for this outcome, per the status table.
    ///
    /// ```
    /// use costkatana_webhooks::{Error, ErrorKind, Outcome};
    ///
    /// let answer = Outcome::Duplicate { event_id: Some("e1".into()) }.response();
    /// assert_eq!(answer.status, 200);
    /// assert_eq!(answer.body, r#"{"duplicate":true,"event_id":"e1","received":true}"#);
    ///
    /// let answer = Outcome::from(Error::new(ErrorKind::InvalidSignature)).response();
    /// assert_eq!(answer.status, 401);
    /// assert!(answer.body.starts_with(r#"{"error":"invalid_signature","message":"#));
    /// ```
    pub fn response(&self) -> Response {
        match self {
            Outcome::Processed { event_id } => {
                Response::json(200, json!({ "received": true, "event_id": event_id }), None)
            }
            Outcome::Duplicate { event_id } => Response::json(
                200,
                json!({ "received": true, "duplicate": true, "event_id": event_id }),
                None,
            ),
            Outcome::Failed(err) => {
                let retry_after = matches!(
                    err.kind(),
                    ErrorKind::InProgress | ErrorKind::Overloaded | ErrorKind::StoreUnavailable
                )
                .then_some(RETRY_AFTER_SECS);
                Response::json(
                    err.status(),
                    json!({ "error": err.code(), "message": err.message() }),
                    retry_after,
                )
            }
        }
    }
}

impl From<Error> for Outcome {
    fn from(err: Error) -> Self {
        Outcome::Failed(err)
    }
}

/// An HTTP answer, framework-free: adapters copy it into their response type.
///
/// ```
/// use costkatana_webhooks::{ErrorKind, Outcome, Response};
///
/// let answer: Response = Outcome::Failed(ErrorKind::MethodNotAllowed.into()).response();
/// assert_eq!(answer.status, 405);
/// assert_eq!(answer.content_type, "application/json");
/// assert_eq!(answer.retry_after_secs, None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The `Content-Type` header value (always JSON).
    pub content_type: &'static str,
    /// The `Retry-After` header value in seconds, when the answer has one.
    pub retry_after_secs: Option<u32>,
    /// The JSON body.
    pub body: String,
}

impl Response {
    fn json(status: u16, body: serde_json::Value, retry_after_secs: Option<u32>) -> Self {
        Response {
            status,
            content_type: "application/json",
            retry_after_secs,
            body: body.to_string(),
        }
    }
}
