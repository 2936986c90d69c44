//! A tower `Service` that is a whole webhook endpoint.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use costkatana_webhooks::receiver::RequestInfo;
use costkatana_webhooks::Receiver;
use http_body::Body;
use http_body_util::Full;
use tower_service::Service;

use crate::{http_response, HttpRequestBody, PeerAddr};

/// A complete endpoint for a [`Receiver`]: checks the method and the
/// signature headers, reads the body within the receiver's limits,
/// verifies, deduplicates, routes, settles, and answers per the status
/// table. Every method reaches it, so anything but `POST` is answered 405
/// in the same JSON shape. It has no inner service, so it is always ready.
///
/// Mount it in axum with `Router::route_service`, or serve it with
/// [`serve`](crate::serve) or hyper directly.
///
/// ```
/// use costkatana_webhooks::{Payload, Receiver};
/// use costkatana_webhooks_tower::WebhookEndpoint;
///
/// let receiver = Receiver::builder()
///     .secret("s3cret")
///     .fallback(|payload: Payload| async move { println!("{payload:?}"); Ok(()) })
///     .build()?;
/// let endpoint = WebhookEndpoint::new(receiver);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct WebhookEndpoint {
    receiver: Receiver,
}

impl WebhookEndpoint {
    /// An endpoint for `receiver`.
    pub fn new(receiver: Receiver) -> Self {
        WebhookEndpoint { receiver }
    }
}

impl From<Receiver> for WebhookEndpoint {
    fn from(receiver: Receiver) -> Self {
        WebhookEndpoint::new(receiver)
    }
}

/// The future of [`WebhookEndpoint`].
pub type EndpointFuture =
    Pin<Box<dyn Future<Output = Result<http::Response<Full<Bytes>>, Infallible>> + Send>>;

impl<B> Service<http::Request<B>> for WebhookEndpoint
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    type Response = http::Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = EndpointFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let receiver = self.receiver.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let mut info = RequestInfo::new().path(parts.uri.path());
            if let Some(peer) = parts.extensions.get::<PeerAddr>() {
                info = info.remote(peer.0.ip());
            }
            let outcome = receiver
                .receive_with(
                    info,
                    parts.method.as_str(),
                    &parts.headers,
                    HttpRequestBody::new(body),
                )
                .await;
            Ok(http_response(outcome.answer()))
        })
    }
}
