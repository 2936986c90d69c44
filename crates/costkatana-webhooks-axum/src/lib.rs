//! axum 0.8 integration for Cost Katana webhooks.
//!
//! | role | here |
//! |---|---|
//! | the whole endpoint | [`WebhookEndpoint`]: `Router::route_service(path, WebhookEndpoint::new(receiver))` |
//! | verify-only middleware | [`VerifyWebhook`]: `.route_layer(VerifyWebhook::new(verifier))`; handlers take `Extension<Verified>` or [`VerifiedWebhook`] |
//! | the verified-request extractor | [`VerifiedWebhook`], with the [`Verifier`] from the state |
//! | the rejection | [`WebhookRejection`] |
//! | a server that cuts slow clients | [`serve`], in place of `axum::serve` |
//!
//! ```no_run
//! use axum::routing::get;
//! use costkatana_webhooks::{Event, EventType, HandlerResult, Payload, Receiver};
//! use costkatana_webhooks_axum::{serve, WebhookEndpoint};
//!
//! async fn over_budget(event: Event) -> HandlerResult {
//!     println!("over budget: {:?}", event.data.budget());
//!     Ok(())
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let receiver = Receiver::builder()
//!     .secret(std::env::var("COSTKATANA_WEBHOOK_SECRET")?)
//!     .on(EventType::BudgetExceeded, over_budget)
//!     .fallback(|_: Payload| async { Ok(()) })
//!     .build()?;
//! let app = axum::Router::new()
//!     .route_service("/webhooks/costkatana", WebhookEndpoint::new(receiver))
//!     .route("/health", get(|| async { "ok" }));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! serve(listener, app).await?;
//! # Ok(()) }
//! ```

mod extract;

pub use extract::{VerifiedWebhook, WebhookRejection};

#[doc(no_inline)]
pub use axum::extract::FromRef;
#[doc(no_inline)]
pub use costkatana_webhooks::Verifier;
#[doc(no_inline)]
pub use costkatana_webhooks_tower::{
    serve, shutdown_signal, VerifyWebhook, VerifyWebhookMiddleware, WebhookEndpoint, WebhookServer,
};
