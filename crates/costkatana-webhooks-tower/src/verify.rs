//! Verify-only middleware: the inner service gets the verified request.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use costkatana_webhooks::{Error, ErrorKind, Outcome, Verifier};
use http_body::Body;
use http_body_util::{Either, Full};
use tower_layer::Layer;
use tower_service::Service;

use crate::{outcome_response, read_body};
use costkatana_webhooks::BodyLimits;

/// Applies [`Verify`] to a service.
///
/// ```
/// use std::convert::Infallible;
/// use bytes::Bytes;
/// use costkatana_webhooks::{Verified, Verifier};
/// use costkatana_webhooks_tower::VerifyLayer;
/// use http_body_util::Full;
/// use tower::{ServiceBuilder, service_fn};
///
/// let verifier = Verifier::builder().secret("s3cret").build()?;
/// let service = ServiceBuilder::new()
///     .layer(VerifyLayer::new(verifier))
///     .service(service_fn(|request: http::Request<Full<Bytes>>| async move {
///         let verified = request.extensions().get::<Verified>().expect("set by the layer");
///         println!("verified {:?} under {}", verified.event().map(|e| &e.event_type), verified.scheme());
///         Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(b"{\"received\":true}"))))
///     }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct VerifyLayer {
    verifier: Verifier,
    limits: BodyLimits,
}

impl VerifyLayer {
    /// Verifies with `verifier`, reading at most 1 MiB within 10 s.
    pub fn new(verifier: Verifier) -> Self {
        VerifyLayer {
            verifier,
            limits: BodyLimits::default(),
        }
    }

    /// Replaces the body limits.
    #[must_use]
    pub fn limits(mut self, limits: BodyLimits) -> Self {
        self.limits = limits;
        self
    }
}

impl<S> Layer<S> for VerifyLayer {
    type Service = Verify<S>;

    fn layer(&self, inner: S) -> Verify<S> {
        Verify {
            inner,
            verifier: self.verifier.clone(),
            limits: self.limits,
        }
    }
}

/// Reads the body within its limits and verifies it. A verified request
/// reaches the inner service with its body re-attached (as `Full<Bytes>`)
/// and the [`Verified`](costkatana_webhooks::Verified) in its extensions;
/// any other request is answered per the status table without reaching it.
#[derive(Debug, Clone)]
pub struct Verify<S> {
    inner: S,
    verifier: Verifier,
    limits: BodyLimits,
}

/// The future of [`Verify`].
pub type VerifyFuture<R, E> = Pin<Box<dyn Future<Output = Result<R, E>> + Send>>;

impl<S, B, ResBody> Service<http::Request<B>> for Verify<S>
where
    S: Service<http::Request<Full<Bytes>>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
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
        let (verifier, limits) = (self.verifier.clone(), self.limits);
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let verified = if parts.method == http::Method::POST {
                match read_body(&limits, &parts.headers, body).await {
                    Ok(bytes) => verifier.verify(&parts.headers, bytes),
                    Err(err) => Err(err),
                }
            } else {
                Err(Error::new(ErrorKind::MethodNotAllowed))
            };
            match verified {
                Ok(verified) => {
                    let body = Full::new(verified.body_bytes());
                    parts.extensions.insert(verified);
                    let response = inner.call(http::Request::from_parts(parts, body)).await?;
                    Ok(response.map(Either::Left))
                }
                Err(err) => Ok(outcome_response(&Outcome::Failed(err)).map(Either::Right)),
            }
        })
    }
}
