//! The verify-only middleware: judge the head, read the body (bounded),
//! verify, pass on.

use std::future::{ready, Ready};
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::HttpMessage;
use costkatana_webhooks::Verifier;
use futures_util::future::LocalBoxFuture;

use crate::{http_response, ActixHeaders, ActixRequestBody};

/// Verify-only middleware: the wrapped service sees only verified
/// requests.
///
/// For each request it checks the method (`POST`, else 405 with `Allow`)
/// and the signature headers (a request that can never verify is answered
/// at once, without waiting for its body), reads the body within the
/// verifier's limits, and verifies it. A verified request reaches the
/// wrapped service with its body put back (extractors such as `web::Bytes`
/// read it as usual) and the [`Verified`](costkatana_webhooks::Verified)
/// in its extensions, which [`VerifiedWebhook`](crate::VerifiedWebhook)
/// extracts. Anything else is answered per the status table and the
/// wrapped service is not called.
///
/// It verifies only: no dedupe, no routing. For the full pipeline use
/// [`WebhookEndpoint`](crate::WebhookEndpoint). Wrap the webhook resource,
/// not a scope with other routes, since every request it sees must be a
/// signed `POST`.
///
/// ```
/// use actix_web::{web, App, HttpResponse};
/// use costkatana_webhooks::Verifier;
/// use costkatana_webhooks_actix::{VerifiedWebhook, VerifyWebhook};
///
/// async fn webhook(VerifiedWebhook(verified): VerifiedWebhook, body: web::Bytes) -> HttpResponse {
///     // `body` holds the same raw bytes that were verified.
///     assert_eq!(verified.body(), &body[..]);
///     HttpResponse::Ok().finish()
/// }
///
/// let verifier = Verifier::builder().secret("whsec_test_secret").max_body(256 * 1024).build()?;
/// let app = App::new().service(
///     web::resource("/webhooks/costkatana")
///         .wrap(VerifyWebhook::new(verifier))
///         .route(web::post().to(webhook)),
/// );
/// # Ok::<(), costkatana_webhooks::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct VerifyWebhook {
    verifier: Verifier,
}

impl VerifyWebhook {
    /// Verifies with `verifier`, within its body limits.
    ///
    /// ```
    /// use costkatana_webhooks::Verifier;
    /// use costkatana_webhooks_actix::VerifyWebhook;
    ///
    /// let middleware = VerifyWebhook::new(Verifier::builder().secret("s3cret").build()?);
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn new(verifier: Verifier) -> Self {
        VerifyWebhook { verifier }
    }
}

impl<S, B> Transform<S, ServiceRequest> for VerifyWebhook
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = VerifyWebhookMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(VerifyWebhookMiddleware {
            service: Rc::new(service),
            verifier: self.verifier.clone(),
        }))
    }
}

/// The service [`VerifyWebhook`] wraps around a route; see there.
#[derive(Debug)]
pub struct VerifyWebhookMiddleware<S> {
    service: Rc<S>,
    verifier: Verifier,
}

impl<S, B> Service<ServiceRequest> for VerifyWebhookMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let verifier = self.verifier.clone();
        Box::pin(async move {
            let body = ActixRequestBody(req.take_payload());
            let verified = verifier
                .verify_request(req.method().as_str(), &ActixHeaders(req.headers()), body)
                .await;
            match verified {
                Ok(verified) => {
                    req.set_payload(verified.body_bytes().into());
                    req.extensions_mut().insert(verified);
                    let response = service.call(req).await?;
                    Ok(response.map_into_left_body())
                }
                Err(err) => {
                    let response = http_response(err.answer());
                    Ok(req.into_response(response).map_into_right_body())
                }
            }
        })
    }
}
