//! Verify-only middleware: the inner service gets the verified request.

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use costkatana_webhooks::Verifier;
use http_body::Body;
use http_body_util::{Either, Full};
use tower_layer::Layer;
use tower_service::Service;

use crate::{http_response, HttpRequestBody};

/// Verify-only middleware, as a tower [`Layer`]: the wrapped service sees
/// only verified requests.
///
/// For each request it checks the method and the signature headers (a
/// request that can never verify is answered at once, without waiting for
/// its body), reads the body within the verifier's limits and verifies it.
/// A verified request reaches the inner service with its body put back
/// (rebuilt from the bytes, so the body type stays the same: axum's `Body`,
/// `Full<Bytes>`, ...) and the [`Verified`](costkatana_webhooks::Verified)
/// in its extensions; any other request is answered per the status table.
/// It verifies only: deduplication is then yours (or use
/// [`WebhookEndpoint`](crate::WebhookEndpoint)).
///
/// ```
/// use std::convert::Infallible;
/// use bytes::Bytes;
/// use costkatana_webhooks::{Verified, Verifier};
/// use costkatana_webhooks_tower::VerifyWebhook;
/// use http_body_util::Full;
/// use tower::{service_fn, ServiceBuilder};
///
/// let verifier = Verifier::builder().secret("s3cret").build()?;
/// let service = ServiceBuilder::new()
///     .layer(VerifyWebhook::new(verifier))
///     .service(service_fn(|request: http::Request<Full<Bytes>>| async move {
///         let verified = request.extensions().get::<Verified>().expect("set by the layer");
///         println!("verified {:?} under {}", verified.event().map(|e| &e.event_type), verified.scheme());
///         Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(b"{\"received\":true}"))))
///     }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct VerifyWebhook {
    verifier: Verifier,
}

impl VerifyWebhook {
    /// Verifies with `verifier`, within its body limits.
    pub fn new(verifier: Verifier) -> Self {
        VerifyWebhook { verifier }
    }
}

impl<S> Layer<S> for VerifyWebhook {
    type Service = VerifyWebhookMiddleware<S>;

    fn layer(&self, inner: S) -> VerifyWebhookMiddleware<S> {
        VerifyWebhookMiddleware {
            inner,
            verifier: self.verifier.clone(),
        }
    }
}

/// The service [`VerifyWebhook`] wraps around another; see there.
#[derive(Debug, Clone)]
pub struct VerifyWebhookMiddleware<S> {
    inner: S,
    verifier: Verifier,
}

/// The future of [`VerifyWebhookMiddleware`].
pub type VerifyFuture<R, E> = Pin<Box<dyn Future<Output = Result<R, E>> + Send>>;

impl<S, B, ResBody> Service<http::Request<B>> for VerifyWebhookMiddleware<S>
where
    S: Service<http::Request<B>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    B: Body + From<Bytes> + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    type Response = http::Response<Either<ResBody, Full<Bytes>>>;
    type Error = S::Error;
    type Future = VerifyFuture<Self::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // The clone was not polled ready; keep the one that was.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = self.verifier.clone();
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let verified = verifier
                .verify_request(
                    parts.method.as_str(),
                    &parts.headers,
                    HttpRequestBody::new(body),
                )
                .await;
            match verified {
                Ok(verified) => {
                    let body = B::from(verified.body_bytes());
                    parts.extensions.insert(verified);
                    let response = inner.call(http::Request::from_parts(parts, body)).await?;
                    Ok(response.map(Either::Left))
                }
                Err(err) => Ok(http_response(err.answer()).map(Either::Right)),
            }
        })
    }
}
