//! actix-web 4 support for Cost Katana webhooks: a middleware that
//! verifies, an extractor for the verified request, and a service that
//! mounts a whole [`Receiver`](costkatana_webhooks::receiver::Receiver)
//! (verify, dedupe, route, settle).
//!
//! Every answer comes from the core's status table
//! ([`Outcome::response`](costkatana_webhooks::Outcome::response)); this
//! crate reads the body within bounds and translates.
//!
//! # Quick start: a full receiver
//!
//! ```no_run
//! use actix_web::{App, HttpServer};
//! use costkatana_webhooks::receiver::{Delivery, HandlerError, Receiver, Router};
//! use costkatana_webhooks::{Event, EventType, Payload, Verifier};
//! use costkatana_webhooks_actix::receiver_service;
//!
//! #[actix_web::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let router = Router::new()
//!         .on(EventType::BudgetExceeded, |event: Event, _: Delivery| async move {
//!             println!("over budget: {:?}", event.title);
//!             Ok::<_, HandlerError>(())
//!         })
//!         .fallback(|payload: Payload, _: Delivery| async move {
//!             println!("other delivery: {payload:?}");
//!             Ok::<_, HandlerError>(())
//!         });
//!     let verifier = Verifier::builder()
//!         .secret(std::env::var("COSTKATANA_WEBHOOK_SECRET")?)
//!         .build()?;
//!     let receiver = Receiver::builder(verifier).router(router).build()?;
//!
//!     HttpServer::new(move || {
//!         App::new().service(receiver_service("/webhooks/costkatana", receiver.clone()))
//!     })
//!     .bind("127.0.0.1:3000")?
//!     .run()
//!     .await?;
//!     Ok(())
//! }
//! ```
//!
//! # Verify only
//!
//! [`VerifyWebhook`] checks the signature and hands your handler the
//! request, body intact, with the [`Verified`](costkatana_webhooks::Verified)
//! available through [`VerifiedEvent`]; deduplication is then yours.
//!
//! ```
//! use actix_web::{web, App, HttpResponse};
//! use costkatana_webhooks::Verifier;
//! use costkatana_webhooks_actix::{VerifiedEvent, VerifyWebhook};
//!
//! async fn webhook(VerifiedEvent(verified): VerifiedEvent) -> HttpResponse {
//!     println!("{:?}", verified.event().map(|event| &event.event_type));
//!     HttpResponse::Ok().json(serde_json::json!({ "received": true }))
//! }
//!
//! let verifier = Verifier::builder().secret("whsec_test_secret").build()?;
//! let app = App::new().service(
//!     web::resource("/webhooks/costkatana")
//!         .wrap(VerifyWebhook::new(verifier))
//!         .route(web::post().to(webhook)),
//! );
//! # Ok::<(), costkatana_webhooks::ConfigError>(())
//! ```

mod body;
mod extract;
mod headers;
mod middleware;
mod receiver_service;
mod response;

pub use body::{BodyLimits, DEFAULT_BODY_TIMEOUT};
pub use extract::VerifiedEvent;
pub use headers::ActixHeaders;
pub use middleware::{VerifyWebhook, VerifyWebhookMiddleware};
pub use receiver_service::{receiver_service, ReceiverService};
pub use response::{outcome_response, WebhookError, NOT_CONFIGURED};
