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
//!             Ok(())
//!         })
//!         .fallback(|payload: Payload, _: Delivery| async move {
//!             println!("other delivery: {payload:?}");
//!             Ok(())
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
//! # Both ways, in one `ServiceConfig`
//!
//! [`receiver_service`] mounts a whole endpoint. [`VerifyWebhook`] only
//! verifies: the handler gets the body back and the
//! [`Verified`](costkatana_webhooks::Verified) through [`VerifiedEvent`];
//! deduplication is then yours. (This snippet is the README's actix-web
//! quick start.)
//!
//! ```
//! use actix_web::{web, HttpResponse};
//! use costkatana_webhooks::receiver::{Delivery, HandlerError, Receiver, Router};
//! use costkatana_webhooks::{ConfigError, Payload, Verifier};
//! use costkatana_webhooks_actix::{receiver_service, VerifiedEvent, VerifyWebhook};
//!
//! /// In `HttpServer::new(move || App::new().configure(|cfg| routes(cfg, &receiver, &verifier)))`.
//! fn routes(cfg: &mut web::ServiceConfig, receiver: &Receiver, verifier: &Verifier) {
//!     // A whole endpoint (verify, dedupe, route, settle), answering per the status table:
//!     cfg.service(receiver_service("/webhooks/costkatana", receiver.clone()));
//!     // Or verify only: the handler gets the body back and the `Verified`.
//!     cfg.service(
//!         web::resource("/webhooks/verify-only")
//!             .wrap(VerifyWebhook::new(verifier.clone()))
//!             .route(web::post().to(webhook)),
//!     );
//! }
//!
//! async fn webhook(VerifiedEvent(verified): VerifiedEvent, body: web::Bytes) -> HttpResponse {
//!     println!("{:?} ({} bytes)", verified.event().map(|event| &event.event_type), body.len());
//!     HttpResponse::Ok().finish()
//! }
//!
//! fn receiver(verifier: Verifier) -> Result<Receiver, ConfigError> {
//!     Receiver::builder(verifier)
//!         .router(Router::new().fallback(|payload: Payload, _: Delivery| async move {
//!             println!("{payload:?}");
//!             Ok(())
//!         }))
//!         .build()
//! }
//! ```

mod body;
mod extract;
mod headers;
mod middleware;
mod receiver_service;
mod response;

pub use body::read_payload;
#[doc(no_inline)]
pub use costkatana_webhooks::BodyLimits;
pub use extract::VerifiedEvent;
pub use headers::ActixHeaders;
pub use middleware::{VerifyWebhook, VerifyWebhookMiddleware};
pub use receiver_service::{receiver_service, ReceiverService};
pub use response::{outcome_response, WebhookError, NOT_CONFIGURED};
