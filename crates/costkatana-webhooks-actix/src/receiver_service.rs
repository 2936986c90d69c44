//! A whole endpoint: verify, dedupe, route to handlers, settle, answer.

use std::time::Duration;

use actix_web::dev::{AppService, HttpServiceFactory, Payload};
use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use costkatana_webhooks::receiver::Receiver;

use crate::{outcome_response, read_payload, ActixHeaders, BodyLimits};

/// Mounts a [`Receiver`] (verifier, dedupe store, router) at a path.
///
/// Every method is routed here, so that anything but `POST` is answered 405
/// from the status table. The body is read up to the receiver's
/// [`body_limits`](Receiver::body_limits) size (413 as soon as it is
/// passed) within its time bound (default 10 s; 400
/// `body_unreadable` past it), then the receiver's outcome is the answer.
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
/// use costkatana_webhooks::receiver::{Delivery, HandlerError, Receiver, Router};
/// use costkatana_webhooks::{Payload, Verifier};
/// use costkatana_webhooks_actix::receiver_service;
///
/// let router = Router::new()
///     .fallback(|_: Payload, _: Delivery| async { Ok(()) });
/// let receiver = Receiver::builder(Verifier::builder().secret("s3cret").build()?)
///     .router(router)
///     .build()?;
/// let app = App::new().service(receiver_service("/webhooks/costkatana", receiver));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ReceiverService {
    path: String,
    receiver: Receiver,
    limits: BodyLimits,
}

/// Shorthand for [`ReceiverService::new`].
///
/// ```
/// # use costkatana_webhooks::receiver::{Delivery, HandlerError, Receiver, Router};
/// # use costkatana_webhooks::{Payload, Verifier};
/// # let receiver = Receiver::builder(Verifier::builder().secret("s3cret").build()?)
/// #     .router(Router::new().fallback(|_: Payload, _: Delivery| async { Ok(()) }))
/// #     .build()?;
/// let app = actix_web::App::new()
///     .service(costkatana_webhooks_actix::receiver_service("/webhooks/costkatana", receiver));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn receiver_service(path: impl Into<String>, receiver: Receiver) -> ReceiverService {
    ReceiverService::new(path, receiver)
}

impl ReceiverService {
    /// Serves `receiver` at `path`, reading bodies within the receiver's
    /// [`body_limits`](Receiver::body_limits).
    ///
    /// ```
    /// # use costkatana_webhooks::receiver::{Delivery, HandlerError, Receiver, Router};
    /// # use costkatana_webhooks::{Payload, Verifier};
    /// use costkatana_webhooks_actix::ReceiverService;
    /// # let receiver = Receiver::builder(Verifier::builder().secret("s3cret").build()?)
    /// #     .router(Router::new().fallback(|_: Payload, _: Delivery| async { Ok(()) }))
    /// #     .build()?;
    /// let service = ReceiverService::new("/webhooks/costkatana", receiver);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(path: impl Into<String>, receiver: Receiver) -> Self {
        ReceiverService {
            path: path.into(),
            limits: receiver.body_limits(),
            receiver,
        }
    }

    /// How long the whole body may take to arrive (default: the receiver's,
    /// 10 s unless set); a body
    /// that trickles in longer is answered 400 `body_unreadable`.
    ///
    /// ```
    /// # use costkatana_webhooks::receiver::{Delivery, HandlerError, Receiver, Router};
    /// # use costkatana_webhooks::{Payload, Verifier};
    /// use std::time::Duration;
    /// use costkatana_webhooks_actix::receiver_service;
    /// # let receiver = Receiver::builder(Verifier::builder().secret("s3cret").build()?)
    /// #     .router(Router::new().fallback(|_: Payload, _: Delivery| async { Ok(()) }))
    /// #     .build()?;
    /// let service = receiver_service("/webhooks/costkatana", receiver)
    ///     .body_timeout(Duration::from_secs(5));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.limits = self.limits.timeout(timeout);
        self
    }
}

impl HttpServiceFactory for ReceiverService {
    fn register(self, config: &mut AppService) {
        let receiver = self.receiver;
        let limits = self.limits;
        web::resource(self.path)
            .to(move |req: HttpRequest, payload: web::Payload| {
                let receiver = receiver.clone();
                async move { receive(&receiver, limits, &req, payload.into_inner()).await }
            })
            .register(config);
    }
}

async fn receive(
    receiver: &Receiver,
    limits: BodyLimits,
    req: &HttpRequest,
    mut payload: Payload,
) -> HttpResponse {
    let headers = ActixHeaders(req.headers());
    if req.method() != Method::POST {
        // The receiver answers 405 (and counts it) without looking at a body.
        let outcome = receiver
            .receive(req.method().as_str(), &headers, Bytes::new())
            .await;
        return outcome_response(&outcome);
    }
    let outcome = match read_payload(&limits, req.headers(), &mut payload).await {
        Ok(body) => receiver.receive("POST", &headers, body).await,
        Err(err) => receiver.reject(err),
    };
    outcome_response(&outcome)
}
