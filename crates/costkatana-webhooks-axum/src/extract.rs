//! The verifying extractor and its rejection.

use axum::extract::{FromRef, FromRequest, Request};
use axum::response::{IntoResponse, Response};
use axum::RequestExt;
use costkatana_webhooks::BodyLimits;
use costkatana_webhooks::{Error, ErrorKind, Outcome, Verified, Verifier};
use costkatana_webhooks_tower::{outcome_response, read_body};

/// A verified webhook: the body read within [`BodyLimits`] (1 MiB and
/// 10 s, or a `BodyLimits` placed in the request extensions, e.g. with
/// `axum::Extension`; a smaller `DefaultBodyLimit` applies too), verified
/// with the [`Verifier`] taken from the state. Must be the last extractor
/// (it consumes the body).
///
/// ```
/// use axum::{routing::post, Router};
/// use costkatana_webhooks::Verifier;
/// use costkatana_webhooks_axum::VerifiedEvent;
///
/// async fn webhook(VerifiedEvent(verified): VerifiedEvent) -> &'static str {
///     match verified.event() {
///         Some(event) => println!("{} {:?}", event.event_type, event.title),
///         None => println!("a verified non-event payload: {:?}", verified.payload()),
///     }
///     r#"{"received":true}"#
/// }
///
/// let verifier = Verifier::builder().secret("s3cret").build()?;
/// let app: Router = Router::new().route("/webhooks/costkatana", post(webhook)).with_state(verifier);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct VerifiedEvent(pub Verified);

impl<S> FromRequest<S> for VerifiedEvent
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebhookRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let verifier = Verifier::from_ref(state);
        // Through the limited body, so a smaller `DefaultBodyLimit` applies too.
        let (parts, body) = request.with_limited_body().into_parts();
        if parts.method != axum::http::Method::POST {
            return Err(WebhookRejection(Error::new(ErrorKind::MethodNotAllowed)));
        }
        let limits = parts
            .extensions
            .get::<BodyLimits>()
            .copied()
            .unwrap_or_default();
        let bytes = read_body(&limits, &parts.headers, body)
            .await
            .map_err(WebhookRejection)?;
        verifier
            .verify(&parts.headers, bytes)
            .map(VerifiedEvent)
            .map_err(WebhookRejection)
    }
}

/// Why [`VerifiedEvent`] refused a request; answers per the status table
/// (status, JSON body with the reason code, `Retry-After` where due).
///
/// ```
/// use axum::response::IntoResponse;
/// use costkatana_webhooks::{Error, ErrorKind};
/// use costkatana_webhooks_axum::WebhookRejection;
///
/// let response = WebhookRejection(Error::new(ErrorKind::InvalidSignature)).into_response();
/// assert_eq!(response.status(), 401);
/// ```
#[derive(Debug)]
pub struct WebhookRejection(pub Error);

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        outcome_response(&Outcome::Failed(self.0)).into_response()
    }
}

impl std::fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for WebhookRejection {}
