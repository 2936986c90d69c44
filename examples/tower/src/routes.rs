//! The one service every connection runs: the webhook endpoint, health and
//! metrics, 404 for anything else.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use costkatana_webhooks::Receiver;
use costkatana_webhooks_tower::WebhookEndpoint;
use example_common::WEBHOOK_PATH;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use metrics_exporter_prometheus::PrometheusHandle;
use tower_service::Service;

/// Dispatches by path; cheap to clone (one clone per connection).
#[derive(Clone)]
pub(crate) struct Routes {
    pub(crate) endpoint: WebhookEndpoint,
    pub(crate) receiver: Receiver,
    pub(crate) metrics: PrometheusHandle,
    /// The inbox console, served under `/console` when configured.
    pub(crate) console: Option<costkatana_webhooks_console::Console>,
}

type RouteFuture = Pin<Box<dyn Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send>>;

impl Service<Request<Incoming>> for Routes {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = RouteFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        let path = request.uri().path();
        if let Some(console) = self
            .console
            .as_mut()
            .filter(|_| path == "/console" || path.starts_with("/console/"))
        {
            return Box::pin(console.call(request));
        }
        match (request.method(), request.uri().path()) {
            // Every method reaches the endpoint, which answers 405 itself in
            // the status table's JSON shape.
            (_, WEBHOOK_PATH) => self.endpoint.call(request),
            (&http::Method::GET, "/health") => {
                let receiver = self.receiver.clone();
                Box::pin(async move {
                    let (status, body) = example_common::health(&receiver).await;
                    let status =
                        StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                    Ok(text(status, body.into(), "text/plain"))
                })
            }
            (&http::Method::GET, "/metrics") => ready(text(
                StatusCode::OK,
                self.metrics.render(),
                "text/plain; version=0.0.4; charset=utf-8",
            )),
            _ => ready(text(
                StatusCode::NOT_FOUND,
                "not found".into(),
                "text/plain",
            )),
        }
    }
}

fn ready(response: Response<Full<Bytes>>) -> RouteFuture {
    Box::pin(std::future::ready(Ok(response)))
}

fn text(status: StatusCode, body: String, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
