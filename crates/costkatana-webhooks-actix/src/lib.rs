//! actix-web 4 support for Cost Katana webhooks.
//!
//! | role | here |
//! |---|---|
//! | the whole endpoint | [`WebhookEndpoint`] |
//! | verify-only middleware | [`VerifyWebhook`] |
//! | the verified-request extractor | [`VerifiedWebhook`] |
//! | the rejection | [`WebhookRejection`] |
//!
//! Every answer comes from the core's status table; this crate only
//! translates between actix-web (on http 0.2) and the core.
//!
//! # Quick start: a full receiver
//!
//! ```no_run
//! use std::time::Duration;
//! use actix_web::{App, HttpServer};
//! use costkatana_webhooks::{Event, EventType, HandlerResult, Payload, Receiver};
//! use costkatana_webhooks_actix::WebhookEndpoint;
//!
//! async fn over_budget(event: Event) -> HandlerResult {
//!     println!("over budget: {:?}", event.title);
//!     Ok(())
//! }
//!
//! #[actix_web::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let receiver = Receiver::builder()
//!         .secret(std::env::var("COSTKATANA_WEBHOOK_SECRET")?)
//!         .on(EventType::BudgetExceeded, over_budget)
//!         .fallback(|payload: Payload| async move { println!("{payload:?}"); Ok(()) })
//!         .build()?;
//!
//!     HttpServer::new(move || {
//!         App::new().service(WebhookEndpoint::new("/webhooks/costkatana", receiver.clone()))
//!     })
//!     // Cut slow clients: headers within 10 s, idle keep-alive 30 s.
//!     .client_request_timeout(Duration::from_secs(10))
//!     .keep_alive(Duration::from_secs(30))
//!     .bind("127.0.0.1:3000")?
//!     .run()
//!     .await?;
//!     Ok(())
//! }
//! ```
//!
//! # Verify only
//!
//! [`VerifyWebhook`] only verifies: the handler gets the body back and the
//! [`Verified`](costkatana_webhooks::Verified) through
//! [`VerifiedWebhook`]; deduplication is then yours.
//!
//! ```
//! use actix_web::{web, HttpResponse};
//! use costkatana_webhooks::Verifier;
//! use costkatana_webhooks_actix::{VerifiedWebhook, VerifyWebhook};
//!
//! fn routes(cfg: &mut web::ServiceConfig, verifier: &Verifier) {
//!     cfg.service(
//!         web::resource("/webhooks/verify-only")
//!             .wrap(VerifyWebhook::new(verifier.clone()))
//!             .route(web::post().to(webhook)),
//!     );
//! }
//!
//! async fn webhook(VerifiedWebhook(verified): VerifiedWebhook, body: web::Bytes) -> HttpResponse {
//!     println!("{:?} ({} bytes)", verified.event().map(|event| &event.event_type), body.len());
//!     HttpResponse::Ok().finish()
//! }
//! ```

mod body;
mod endpoint;
mod extract;
mod headers;
mod middleware;
mod response;

pub use body::ActixRequestBody;
pub use endpoint::WebhookEndpoint;
pub use extract::VerifiedWebhook;
pub use headers::ActixHeaders;
pub use middleware::{VerifyWebhook, VerifyWebhookMiddleware};
pub use response::{http_response, WebhookRejection, NOT_CONFIGURED};
