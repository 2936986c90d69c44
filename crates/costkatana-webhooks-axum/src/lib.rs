//! axum 0.8 integration for Cost Katana webhooks.
//!
//! - [`VerifiedEvent`]: an extractor that reads the body within limits and
//!   verifies it with the [`Verifier`] found in the state (through
//!   [`FromRef`]); its rejection answers per the status table.
//! - [`receiver_route`]: a one-liner to mount a full receiver (verify,
//!   dedupe, routing, settling) at a path.
//!
//! ```
//! use axum::Router;
//! use costkatana_webhooks::receiver::{Delivery, HandlerError, Receiver, Router as Handlers};
//! use costkatana_webhooks::{Event, EventType, Payload, Verifier};
//! use costkatana_webhooks_axum::receiver_route;
//!
//! let handlers = Handlers::new()
//!     .on(EventType::BudgetExceeded, |event: Event, _: Delivery| async move {
//!         println!("over budget: {:?}", event.data.budget());
//!         Ok(())
//!     })
//!     .fallback(|_: Payload, _: Delivery| async { Ok(()) });
//! let receiver = Receiver::builder(Verifier::builder().secret("s3cret").build()?)
//!     .router(handlers)
//!     .build()?;
//!
//! let app: Router = Router::new().route("/webhooks/costkatana", receiver_route(receiver));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod extract;

pub use extract::{VerifiedEvent, WebhookRejection};

use axum::routing::MethodRouter;
use costkatana_webhooks::receiver::Receiver;
use costkatana_webhooks_tower::ReceiverService;

#[doc(no_inline)]
pub use axum::extract::FromRef;
#[doc(no_inline)]
pub use costkatana_webhooks::Verifier;

/// A route serving a full [`Receiver`] for every method: `POST` deliveries
/// are verified, deduplicated and routed; other methods are answered 405
/// `method_not_allowed` in the same JSON shape.
///
/// ```
/// # use costkatana_webhooks::receiver::{Delivery, HandlerError, Receiver, Router as Handlers};
/// # use costkatana_webhooks::{Payload, Verifier};
/// # let receiver = Receiver::builder(Verifier::builder().secret("s3cret").build()?)
/// #     .router(Handlers::new().fallback(|_: Payload, _: Delivery| async { Ok(()) }))
/// #     .build()?;
/// let app: axum::Router = axum::Router::new()
///     .route("/webhooks/costkatana", costkatana_webhooks_axum::receiver_route(receiver));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn receiver_route<S>(receiver: Receiver) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    axum::routing::any_service(ReceiverService::new(receiver))
}
