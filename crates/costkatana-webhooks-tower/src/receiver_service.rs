//! A tower `Service` that is a whole webhook endpoint.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use costkatana_webhooks::receiver::Receiver;
use costkatana_webhooks::{Error, ErrorKind};
use http_body::Body;
use http_body_util::Full;
use tower_service::Service;

use crate::{outcome_response, read_body};
use costkatana_webhooks::BodyLimits;

/// A complete endpoint: reads the body within its limits, runs the
/// [`Receiver`] (verify, dedupe, route, settle) and answers per the status
/// table. It has no inner service, so it is always ready.
///
/// ```
/// use costkatana_webhooks::receiver::{Delivery, HandlerError, Receiver, Router};
/// use costkatana_webhooks::{Payload, Verifier};
/// use costkatana_webhooks_tower::ReceiverService;
///
/// let router = Router::new()
///     .fallback(|_: Payload, _: Delivery| async { Ok(()) });
/// let receiver = Receiver::builder(Verifier::builder().secret("s3cret").build()?)
///     .router(router)
///     .build()?;
/// let service = ReceiverService::new(receiver);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ReceiverService {
    receiver: Receiver,
    limits: BodyLimits,
}

impl ReceiverService {
    /// An endpoint for `receiver`, reading bodies within the receiver's
    /// [`body_limits`](Receiver::body_limits).
    pub fn new(receiver: Receiver) -> Self {
        let limits = receiver.body_limits();
        ReceiverService { receiver, limits }
    }

    /// Replaces the body limits.
    #[must_use]
    pub fn limits(mut self, limits: BodyLimits) -> Self {
        self.limits = limits;
        self
    }
}

/// The future of [`ReceiverService`].
pub type ReceiverFuture =
    Pin<Box<dyn Future<Output = Result<http::Response<Full<Bytes>>, Infallible>> + Send>>;

impl<B> Service<http::Request<B>> for ReceiverService
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = http::Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = ReceiverFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let (receiver, limits) = (self.receiver.clone(), self.limits);
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let outcome = if parts.method != http::Method::POST {
                receiver.reject(Error::new(ErrorKind::MethodNotAllowed))
            } else {
                match read_body(&limits, &parts.headers, body).await {
                    Ok(bytes) => {
                        receiver
                            .receive(parts.method.as_str(), &parts.headers, bytes)
                            .await
                    }
                    Err(err) => receiver.reject(err),
                }
            };
            Ok(outcome_response(&outcome))
        })
    }
}
