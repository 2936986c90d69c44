//! The verified request as a handler argument.

use std::future::{ready, Future};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use costkatana_webhooks::{ErrorKind, Verified, Verifier};

use crate::{read_payload, ActixHeaders, BodyLimits, WebhookError};

/// Extracts the [`Verified`] request: scheme, timestamp, matched secret,
/// raw body and the lazily parsed payload.
///
/// Two ways to get it, tried in order:
///
/// 1. **Behind [`VerifyWebhook`](crate::VerifyWebhook)**: the middleware
///    already verified the request and left the result in the request
///    extensions; the extractor clones it (cheap) and the body can still be
///    read by other extractors.
/// 2. **On its own**: with a `web::Data<Verifier>` in the app data, the
///    extractor checks the method (`POST`, else 405), reads the body itself
///    within the [`BodyLimits`] found in the app data (default 1 MiB, 10 s)
///    and verifies it. It consumes the body: read the bytes through
///    [`Verified::body`] rather than a second body extractor.
///
/// With neither, extraction fails with [`WebhookError::not_configured`]
/// (500 `webhook_not_configured`). Rejections answer per the status table.
///
/// ```
/// use actix_web::{web, App, HttpResponse};
/// use costkatana_webhooks::Verifier;
/// use costkatana_webhooks_actix::{BodyLimits, VerifiedEvent};
///
/// async fn webhook(VerifiedEvent(verified): VerifiedEvent) -> HttpResponse {
///     match verified.event() {
///         Some(event) => println!("{} {:?}", event.event_type, event.id),
///         None => println!("verified, but not an event: {} bytes", verified.body().len()),
///     }
///     HttpResponse::Ok().finish()
/// }
///
/// let verifier = Verifier::builder().secret("whsec_test_secret").build()?;
/// let app = App::new()
///     .app_data(web::Data::new(verifier))
///     .app_data(BodyLimits::default().max_bytes(256 * 1024))
///     .route("/webhooks/costkatana", web::post().to(webhook));
/// # Ok::<(), costkatana_webhooks::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct VerifiedEvent(pub Verified);

impl VerifiedEvent {
    /// The verified request.
    ///
    /// ```
    /// use costkatana_webhooks_actix::VerifiedEvent;
    ///
    /// async fn webhook(event: VerifiedEvent) -> String {
    ///     event.into_inner().scheme().to_string()
    /// }
    /// ```
    pub fn into_inner(self) -> Verified {
        self.0
    }
}

impl std::ops::Deref for VerifiedEvent {
    type Target = Verified;

    fn deref(&self) -> &Verified {
        &self.0
    }
}

impl FromRequest for VerifiedEvent {
    type Error = WebhookError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if let Some(verified) = req.extensions().get::<Verified>() {
            return Box::pin(ready(Ok(VerifiedEvent(verified.clone()))));
        }
        let Some(verifier) = req.app_data::<web::Data<Verifier>>() else {
            return Box::pin(ready(Err(WebhookError::not_configured())));
        };
        if req.method() != Method::POST {
            return Box::pin(ready(Err(ErrorKind::MethodNotAllowed.into())));
        }
        let verifier = Verifier::clone(verifier);
        let limits = req.app_data::<BodyLimits>().copied().unwrap_or_default();
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let body = read_payload(&limits, req.headers(), &mut payload).await?;
            let verified = verifier.verify(&ActixHeaders(req.headers()), body)?;
            Ok(VerifiedEvent(verified))
        })
    }
}
