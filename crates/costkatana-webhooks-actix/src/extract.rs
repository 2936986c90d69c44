//! The verified request as a handler argument.

use std::future::{ready, Future};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use costkatana_webhooks::{Verified, Verifier};

use crate::{ActixHeaders, ActixRequestBody, WebhookRejection};

/// The verified-request extractor: the [`Verified`] request (scheme,
/// timestamp, matched secret, raw body and the lazily parsed payload).
///
/// Two ways to get it, tried in order:
///
/// 1. **Behind [`VerifyWebhook`](crate::VerifyWebhook)**: the middleware
///    already verified the request and left the result in the request
///    extensions; the extractor clones it (cheap) and the body can still be
///    read by other extractors.
/// 2. **On its own**: with a `web::Data<Verifier>` in the app data, the
///    extractor verifies the request itself, within that verifier's body
///    limits: the method and signature headers first, then the body. It
///    consumes the body: read the bytes through [`Verified::body`] rather
///    than a second body extractor.
///
/// With neither, extraction fails with [`WebhookRejection::not_configured`]
/// (500 `webhook_not_configured`). Rejections answer per the status table.
///
/// ```
/// use actix_web::{web, App, HttpResponse};
/// use costkatana_webhooks::Verifier;
/// use costkatana_webhooks_actix::VerifiedWebhook;
///
/// async fn webhook(VerifiedWebhook(verified): VerifiedWebhook) -> HttpResponse {
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
///     .route("/webhooks/costkatana", web::post().to(webhook));
/// # Ok::<(), costkatana_webhooks::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct VerifiedWebhook(pub Verified);

impl VerifiedWebhook {
    /// The verified request.
    ///
    /// ```
    /// use costkatana_webhooks_actix::VerifiedWebhook;
    ///
    /// async fn webhook(verified: VerifiedWebhook) -> String {
    ///     verified.into_inner().scheme().to_string()
    /// }
    /// ```
    pub fn into_inner(self) -> Verified {
        self.0
    }
}

impl std::ops::Deref for VerifiedWebhook {
    type Target = Verified;

    fn deref(&self) -> &Verified {
        &self.0
    }
}

impl FromRequest for VerifiedWebhook {
    type Error = WebhookRejection;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if let Some(verified) = req.extensions().get::<Verified>() {
            return Box::pin(ready(Ok(VerifiedWebhook(verified.clone()))));
        }
        let Some(verifier) = req.app_data::<web::Data<Verifier>>() else {
            return Box::pin(ready(Err(WebhookRejection::not_configured())));
        };
        let verifier = Verifier::clone(verifier);
        let req = req.clone();
        let body = ActixRequestBody(payload.take());
        Box::pin(async move {
            let verified = verifier
                .verify_request(req.method().as_str(), &ActixHeaders(req.headers()), body)
                .await?;
            Ok(VerifiedWebhook(verified))
        })
    }
}
