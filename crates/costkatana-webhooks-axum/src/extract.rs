//! The verifying extractor and its rejection.

use axum::extract::{FromRef, FromRequest, Request};
use axum::response::{IntoResponse, Response};
use axum::RequestExt;
use costkatana_webhooks::{Error, Verified, Verifier};
use costkatana_webhooks_tower::{http_response, HttpRequestBody};

/// The verified-request extractor: the [`Verified`] request (scheme,
/// timestamp, matched secret, raw body, lazily parsed payload).
///
/// It verifies with the [`Verifier`] found in the state (through
/// [`FromRef`]), within that verifier's body limits: the method and the
/// signature headers first (a request that can never verify is rejected
/// without waiting for its body), then the body, read through axum's
/// limited body so a smaller `DefaultBodyLimit` applies too (answered 413
/// like ours). Behind [`VerifyWebhook`](crate::VerifyWebhook), it takes
/// the request the middleware verified. It consumes the body, so it must be
/// the last extractor; read the bytes through [`Verified::body`].
///
/// ```
/// use axum::{routing::post, Router};
/// use costkatana_webhooks::Verifier;
/// use costkatana_webhooks_axum::VerifiedWebhook;
///
/// async fn webhook(VerifiedWebhook(verified): VerifiedWebhook) -> &'static str {
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
pub struct VerifiedWebhook(pub Verified);

impl<S> FromRequest<S> for VerifiedWebhook
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebhookRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(verified) = request.extensions().get::<Verified>() {
            return Ok(VerifiedWebhook(verified.clone()));
        }
        let verifier = Verifier::from_ref(state);
        let (parts, body) = request.with_limited_body().into_parts();
        verifier
            .verify_request(
                parts.method.as_str(),
                &parts.headers,
                HttpRequestBody::new(body),
            )
            .await
            .map(VerifiedWebhook)
            .map_err(WebhookRejection)
    }
}

/// Why [`VerifiedWebhook`] refused a request; answers per the status
/// table (status, JSON body with the reason code, `Retry-After` or `Allow`
/// where due). Its [`source`](std::error::Error::source) is the core
/// [`Error`].
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
        http_response(self.0.answer()).into_response()
    }
}

impl std::fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for WebhookRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}
