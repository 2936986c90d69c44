//! The verify-only middleware: read the body (bounded), verify, pass on.

use std::future::{ready, Ready};
use std::rc::Rc;
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::Method;
use actix_web::HttpMessage;
use costkatana_webhooks::{Error, ErrorKind, Outcome, Verifier};
use futures_util::future::LocalBoxFuture;

use crate::{outcome_response, read_payload, ActixHeaders, BodyLimits};

/// Middleware that verifies Cost Katana signatures before the handler runs.
///
/// For each request it checks the method (`POST`, else 405), reads the body
/// within [`BodyLimits`] (413 as soon as `max_body` is passed, 400
/// `body_unreadable` when the body errors or trickles in past the time
/// bound), and verifies it. A verified request reaches the wrapped service
/// with its body put back (extractors such as `web::Bytes` read it as usual)
/// and the [`Verified`](costkatana_webhooks::Verified) in its extensions,
/// which [`VerifiedEvent`](crate::VerifiedEvent) extracts. Anything else is
/// answered per the status table and the wrapped service is not called.
///
/// It verifies only: no dedupe, no routing. For the full pipeline use
/// [`ReceiverService`](crate::ReceiverService). Wrap the webhook resource,
/// not a scope with other routes, since every request it sees must be a
/// signed `POST`.
///
/// | setting | default |
/// |---|---|
/// | [`max_body`](VerifyWebhook::max_body) | 1 MiB |
/// | [`body_timeout`](VerifyWebhook::body_timeout) | 10 s |
///
/// ```
/// use actix_web::{web, App, HttpResponse};
/// use costkatana_webhooks::Verifier;
/// use costkatana_webhooks_actix::{VerifiedEvent, VerifyWebhook};
///
/// async fn webhook(VerifiedEvent(verified): VerifiedEvent, body: web::Bytes) -> HttpResponse {
///     // `body` holds the same raw bytes that were verified.
///     assert_eq!(verified.body(), &body[..]);
///     HttpResponse::Ok().finish()
/// }
///
/// let verifier = Verifier::builder().secret("whsec_test_secret").build()?;
/// let app = App::new().service(
///     web::resource("/webhooks/costkatana")
///         .wrap(VerifyWebhook::new(verifier).max_body(256 * 1024))
///         .route(web::post().to(webhook)),
/// );
/// # Ok::<(), costkatana_webhooks::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct VerifyWebhook {
    verifier: Verifier,
    limits: BodyLimits,
}

impl VerifyWebhook {
    /// Verifies with `verifier`, with the default limits (1 MiB, 10 s).
    ///
    /// ```
    /// use costkatana_webhooks::Verifier;
    /// use costkatana_webhooks_actix::VerifyWebhook;
    ///
    /// let middleware = VerifyWebhook::new(Verifier::builder().secret("s3cret").build()?);
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn new(verifier: Verifier) -> Self {
        VerifyWebhook {
            verifier,
            limits: BodyLimits::default(),
        }
    }

    /// The longest body read (default 1 MiB).
    ///
    /// ```
    /// use costkatana_webhooks::Verifier;
    /// use costkatana_webhooks_actix::VerifyWebhook;
    ///
    /// let middleware = VerifyWebhook::new(Verifier::builder().secret("s3cret").build()?)
    ///     .max_body(64 * 1024);
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.limits = self.limits.max_bytes(bytes);
        self
    }

    /// How long the whole body may take to arrive (default 10 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// use costkatana_webhooks::Verifier;
    /// use costkatana_webhooks_actix::VerifyWebhook;
    ///
    /// let middleware = VerifyWebhook::new(Verifier::builder().secret("s3cret").build()?)
    ///     .body_timeout(Duration::from_secs(5));
    /// # Ok::<(), costkatana_webhooks::ConfigError>(())
    /// ```
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.limits = self.limits.timeout(timeout);
        self
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
            limits: self.limits,
        }))
    }
}

/// The service [`VerifyWebhook`] wraps around a route; see there.
///
/// ```
/// use actix_web::{web, App, HttpResponse};
/// use costkatana_webhooks::Verifier;
/// use costkatana_webhooks_actix::VerifyWebhook;
///
/// // Built by actix-web from the `VerifyWebhook` transform:
/// let verifier = Verifier::builder().secret("s3cret").build()?;
/// let app = App::new().service(
///     web::resource("/hook")
///         .wrap(VerifyWebhook::new(verifier))
///         .to(HttpResponse::Ok),
/// );
/// # Ok::<(), costkatana_webhooks::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct VerifyWebhookMiddleware<S> {
    service: Rc<S>,
    verifier: Verifier,
    limits: BodyLimits,
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
        let limits = self.limits;
        Box::pin(async move {
            match verify(&mut req, &verifier, limits).await {
                Ok(verified) => {
                    req.set_payload(verified.body_bytes().into());
                    req.extensions_mut().insert(verified);
                    let response = service.call(req).await?;
                    Ok(response.map_into_left_body())
                }
                Err(err) => {
                    let response = outcome_response(&Outcome::Failed(err));
                    Ok(req.into_response(response).map_into_right_body())
                }
            }
        })
    }
}

async fn verify(
    req: &mut ServiceRequest,
    verifier: &Verifier,
    limits: BodyLimits,
) -> Result<costkatana_webhooks::Verified, Error> {
    if req.method() != Method::POST {
        return Err(Error::new(ErrorKind::MethodNotAllowed));
    }
    let mut payload = req.take_payload();
    let body = read_payload(&limits, req.headers(), &mut payload).await?;
    verifier.verify(&ActixHeaders(req.headers()), body)
}
