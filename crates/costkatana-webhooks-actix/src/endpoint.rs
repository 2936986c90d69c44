//! A whole endpoint: verify, dedupe, route to handlers, settle, answer.

use actix_web::dev::{AppService, HttpServiceFactory};
use actix_web::{web, HttpRequest};
use costkatana_webhooks::receiver::RequestInfo;
use costkatana_webhooks::Receiver;

use crate::{http_response, ActixHeaders, ActixRequestBody};

/// Mounts a [`Receiver`] (verifier, dedupe store, handlers) at a path.
///
/// Every method is routed here, so that anything but `POST` is answered 405
/// from the status table. The method and signature headers are judged
/// before the body is read; the body is read within the receiver's limits;
/// then the receiver's outcome is the answer.
///
/// When the client goes away mid-handler (the sender times out after 30 s
/// by default), actix-web by default lets the handler run to completion:
/// the event is marked done, a retry meanwhile is answered 503
/// `in_progress` and a later one 200 duplicate. With
/// `HttpServer::h1_allow_half_closed(false)` actix drops the request's
/// future instead, the receiver releases the claim, and the retry runs the
/// handler again. Either way the event is handled once.
///
/// ```
/// use actix_web::App;
/// use costkatana_webhooks::{Payload, Receiver};
/// use costkatana_webhooks_actix::WebhookEndpoint;
///
/// let receiver = Receiver::builder()
///     .secret("s3cret")
///     .fallback(|_: Payload| async { Ok(()) })
///     .build()?;
/// let app = App::new().service(WebhookEndpoint::new("/webhooks/costkatana", receiver));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct WebhookEndpoint {
    path: String,
    receiver: Receiver,
}

impl WebhookEndpoint {
    /// Serves `receiver` at `path`.
    pub fn new(path: impl Into<String>, receiver: Receiver) -> Self {
        WebhookEndpoint {
            path: path.into(),
            receiver,
        }
    }
}

impl HttpServiceFactory for WebhookEndpoint {
    fn register(self, config: &mut AppService) {
        let receiver = self.receiver;
        web::resource(self.path)
            .to(move |req: HttpRequest, payload: web::Payload| {
                let receiver = receiver.clone();
                async move {
                    let mut info = RequestInfo::new().path(req.path());
                    if let Some(peer) = req.peer_addr() {
                        info = info.remote(peer.ip());
                    }
                    let outcome = receiver
                        .receive_with(
                            info,
                            req.method().as_str(),
                            &ActixHeaders(req.headers()),
                            ActixRequestBody(payload.into_inner()),
                        )
                        .await;
                    http_response(outcome.answer())
                }
            })
            .register(config);
    }
}
