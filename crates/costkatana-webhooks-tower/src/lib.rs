//! tower middleware for Cost Katana webhooks, for http 1.x services
//! (axum, hyper, tonic-style stacks).
//!
//! | role | here |
//! |---|---|
//! | the whole endpoint | [`WebhookEndpoint`] (a `Service`) |
//! | verify-only middleware | [`VerifyWebhook`] (a `Layer`); the inner service finds the [`Verified`](costkatana_webhooks::Verified) in the request extensions |
//! | a server that cuts slow clients | [`serve`] (feature `server`, on by default) |
//!
//! Every answer comes from the core's status table; this crate only
//! translates between `http` and the core.
//!
//! ```
//! use costkatana_webhooks::{Event, EventType, HandlerResult, Payload, Receiver};
//! use costkatana_webhooks_tower::WebhookEndpoint;
//!
//! async fn over_budget(event: Event) -> HandlerResult {
//!     println!("{:?}", event.title);
//!     Ok(())
//! }
//!
//! let receiver = Receiver::builder()
//!     .secret("s3cret")
//!     .on(EventType::BudgetExceeded, over_budget)
//!     .fallback(|_: Payload| async { Ok(()) })
//!     .build()?;
//! // Serve it with `costkatana_webhooks_tower::serve`, or mount it in any tower stack.
//! let endpoint = WebhookEndpoint::new(receiver);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod body;
mod endpoint;
mod peer;
mod response;
#[cfg(feature = "server")]
mod serve;
#[cfg(feature = "server")]
mod signal;
mod verify;

pub use body::HttpRequestBody;
pub use endpoint::{EndpointFuture, WebhookEndpoint};
pub use peer::PeerAddr;
pub use response::http_response;
#[cfg(feature = "server")]
pub use serve::{
    serve, WebhookServer, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_SHUTDOWN_GRACE,
};
#[cfg(feature = "server")]
pub use signal::shutdown_signal;
pub use verify::{VerifyFuture, VerifyWebhook, VerifyWebhookMiddleware};
