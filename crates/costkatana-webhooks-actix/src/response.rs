//! Answers and rejections as actix-web responses, per the core's status
//! table (which lives in the core, once).

use std::fmt;

use actix_web::http::header::CONTENT_TYPE;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use costkatana_webhooks::{Answer, Error, ErrorKind};

/// The actix-web response for `answer`: its status, every header it
/// lists, and its JSON body.
///
/// ```
/// use costkatana_webhooks::{ErrorKind, Outcome};
/// use costkatana_webhooks_actix::http_response;
///
/// let response = http_response(Outcome::Failed(ErrorKind::InProgress.into()).answer());
/// assert_eq!(response.status(), 503);
/// assert_eq!(response.headers().get("retry-after").unwrap(), "5");
/// ```
pub fn http_response(answer: Answer) -> HttpResponse {
    // Every status in the table is valid; 500 guards against a future one that is not.
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    for header in answer.headers() {
        response.insert_header(header);
    }
    response.body(answer.body)
}

/// Why [`VerifiedWebhook`](crate::VerifiedWebhook) (or the middleware)
/// refused a request.
///
/// Answers per the status table when the request was rejected; answers 500
/// `webhook_not_configured` when the app has neither the
/// [`VerifyWebhook`](crate::VerifyWebhook) middleware on the route nor a
/// `web::Data<Verifier>` (a server mistake: the 5xx makes the sender retry
/// once it is fixed). Also usable as a handler's error type, through
/// `From<costkatana_webhooks::Error>`.
///
/// ```
/// use actix_web::ResponseError;
/// use costkatana_webhooks::{Error, ErrorKind};
/// use costkatana_webhooks_actix::WebhookRejection;
///
/// let err = WebhookRejection::from(Error::new(ErrorKind::InvalidSignature));
/// assert_eq!(err.kind(), Some(ErrorKind::InvalidSignature));
/// assert_eq!(err.status_code(), 401);
///
/// assert_eq!(WebhookRejection::not_configured().status_code(), 500);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRejection(Repr);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Repr {
    Rejected(Error),
    NotConfigured,
}

/// The reason code of [`WebhookRejection::not_configured`], sent in the
/// body's `error` field with status 500.
///
/// ```
/// use costkatana_webhooks_actix::NOT_CONFIGURED;
/// assert_eq!(NOT_CONFIGURED, "webhook_not_configured");
/// ```
pub const NOT_CONFIGURED: &str = "webhook_not_configured";

const NOT_CONFIGURED_MESSAGE: &str = "the server cannot verify webhooks on this route: wrap it \
     in costkatana_webhooks_actix::VerifyWebhook or add web::Data<Verifier> to the app";

impl WebhookRejection {
    /// The rejection for an app that gave the extractor no way to verify.
    ///
    /// ```
    /// use costkatana_webhooks_actix::{WebhookRejection, NOT_CONFIGURED};
    /// assert_eq!(WebhookRejection::not_configured().code(), NOT_CONFIGURED);
    /// ```
    pub fn not_configured() -> Self {
        WebhookRejection(Repr::NotConfigured)
    }

    /// The core error kind, or `None` for [`WebhookRejection::not_configured`].
    ///
    /// ```
    /// use costkatana_webhooks::ErrorKind;
    /// use costkatana_webhooks_actix::WebhookRejection;
    /// let err = WebhookRejection::from(ErrorKind::MissingSignature);
    /// assert_eq!(err.kind(), Some(ErrorKind::MissingSignature));
    /// ```
    pub fn kind(&self) -> Option<ErrorKind> {
        match &self.0 {
            Repr::Rejected(err) => Some(err.kind()),
            Repr::NotConfigured => None,
        }
    }

    /// The stable reason code sent in the body's `error` field.
    ///
    /// ```
    /// use costkatana_webhooks::ErrorKind;
    /// use costkatana_webhooks_actix::WebhookRejection;
    /// assert_eq!(WebhookRejection::from(ErrorKind::StaleTimestamp).code(), "stale_timestamp");
    /// ```
    pub fn code(&self) -> &'static str {
        match &self.0 {
            Repr::Rejected(err) => err.code(),
            Repr::NotConfigured => NOT_CONFIGURED,
        }
    }
}

impl From<Error> for WebhookRejection {
    fn from(err: Error) -> Self {
        WebhookRejection(Repr::Rejected(err))
    }
}

impl From<ErrorKind> for WebhookRejection {
    fn from(kind: ErrorKind) -> Self {
        WebhookRejection(Repr::Rejected(Error::new(kind)))
    }
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Rejected(err) => fmt::Display::fmt(err, f),
            Repr::NotConfigured => write!(f, "{NOT_CONFIGURED}: {NOT_CONFIGURED_MESSAGE}"),
        }
    }
}

impl std::error::Error for WebhookRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            Repr::Rejected(err) => Some(err),
            Repr::NotConfigured => None,
        }
    }
}

impl ResponseError for WebhookRejection {
    fn status_code(&self) -> StatusCode {
        match &self.0 {
            Repr::Rejected(err) => {
                StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            Repr::NotConfigured => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match &self.0 {
            Repr::Rejected(err) => http_response(err.answer()),
            Repr::NotConfigured => HttpResponse::InternalServerError()
                .insert_header((CONTENT_TYPE, "application/json"))
                .body(
                    serde_json::json!({ "error": NOT_CONFIGURED, "message": NOT_CONFIGURED_MESSAGE })
                        .to_string(),
                ),
        }
    }
}
