//! tower middleware for Cost Katana webhooks, for http 1.x services
//! (axum, hyper, tonic-style stacks).
//!
//! Two uses:
//!
//! - **verify only**: [`VerifyLayer`] reads the body within [`BodyLimits`],
//!   verifies it, and hands the inner service the request with its body
//!   re-attached and the [`Verified`](costkatana_webhooks::Verified) in its
//!   extensions; rejections are answered per the status table.
//! - **full receiver**: [`ReceiverService`] is a whole endpoint: verify,
//!   dedupe, route to handlers, settle, answer.
//!
//! ```
//! use costkatana_webhooks::receiver::{Delivery, HandlerError, Receiver, Router};
//! use costkatana_webhooks::{Event, EventType, Payload, Verifier};
//! use costkatana_webhooks_tower::ReceiverService;
//!
//! let router = Router::new()
//!     .on(EventType::BudgetExceeded, |event: Event, _: Delivery| async move {
//!         println!("{:?}", event.title);
//!         Ok(())
//!     })
//!     .fallback(|_: Payload, _: Delivery| async { Ok(()) });
//! let receiver = Receiver::builder(Verifier::builder().secret("s3cret").build()?)
//!     .router(router)
//!     .build()?;
//! // Serve it with hyper, or mount it in any tower stack.
//! let service = ReceiverService::new(receiver);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod body;
mod receiver_service;
mod response;
mod verify;

pub use body::read_body;
#[doc(no_inline)]
pub use costkatana_webhooks::BodyLimits;
pub use receiver_service::{ReceiverFuture, ReceiverService};
pub use response::outcome_response;
pub use verify::{Verify, VerifyFuture, VerifyLayer};
