//! A web console for the [`costkatana-webhooks`](costkatana_webhooks)
//! inbox, served by your receiver: what arrived, what failed and why,
//! what is dead-lettered, and the buttons to retry or purge it, one at a
//! time or all on a filter. Modelled on Sidekiq Web, Oban Web and River
//! UI.
//!
//! | path (under `/console`) | what |
//! |---|---|
//! | `/` | the overview: counts by state, the oldest pending age, the last 24 h as charts |
//! | `/deliveries` | deliveries newest first, paged by key, filtered by `?state=`, `type=`, `since=`, `q=` |
//! | `/deliveries/{id}` | one delivery: envelope, attempts, headers (credentials redacted), body; Retry and Purge |
//! | `/bulk/retry`, `/bulk/purge` | the current filter's count to confirm, then the action |
//! | `/rejections` | the requests the receiver refused lately, with reason codes and diagnoses |
//! | `/api/…` | the same as JSON, for scripts (`/api/deliveries?state=dead`, `/api/overview`, …) |
//!
//! Pages are rendered on the server and need no script; charts are inline
//! SVG; the stylesheet and the small script are compiled into the crate.
//!
//! # Security
//!
//! - Signing in is a form with one password field for the token; the
//!   session is a cookie (`HttpOnly`, `SameSite=Strict`, `Secure` over
//!   https, scoped to the console's path) that expires
//!   ([`ConsoleBuilder::session_ttl`]). The token is compared in constant
//!   time, never put in a URL, and wrong tokens are rate-limited.
//! - Every state-changing request is a POST with the session's CSRF token,
//!   and its `Origin` must be the console's.
//! - Every answer carries a Content-Security-Policy that allows nothing
//!   from another origin (and no inline script), `frame-ancestors 'none'`,
//!   `X-Content-Type-Options: nosniff` and `Referrer-Policy: same-origin`.
//! - No page shows a signature, a secret or a credential: headers are
//!   shown through [`Entry::redacted_headers`](costkatana_webhooks::inbox::Entry::redacted_headers),
//!   a dedupe key that is a signature is redacted, and every stored value
//!   is HTML-escaped with control and bidirectional characters shown as
//!   escapes.
//! - Requests are bounded (URL 4 KiB, form 16 KiB); bodies shown are cut
//!   at [`ConsoleBuilder::body_limit`].
//!
//! # Mounting
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! # let dir = std::env::temp_dir().join(format!("console-doc-lib-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! use costkatana_webhooks_console::Console;
//! use costkatana_webhooks_inbox::Inbox;
//!
//! let inbox = Inbox::open(&format!("sqlite:{}", dir.join("inbox.db").display())).await?;
//! let console = Console::builder(inbox)
//!     .token("a-long-random-token-from-your-secret-store")
//!     .build()?;
//! let app: axum::Router = axum::Router::new().nest_service("/console", console);
//! # std::fs::remove_dir_all(dir).unwrap();
//! # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
//! ```

mod actions;
#[cfg(feature = "actix")]
pub mod actix;
mod api;
mod assets;
mod auth;
mod builder;
mod chart;
mod console;
mod dispatch;
mod error;
mod failure;
mod filter;
mod jobs;
mod pages;
mod redact;
mod request;
mod response;
mod router;
mod security;
mod settings;
mod source;
mod text;
mod views;

pub use builder::{ConsoleBuilder, DEFAULT_SESSION_TTL};
pub use console::{Console, ResponseFuture};
pub use error::{ConsoleError, ConsoleErrorKind};
pub use response::ConsoleBody;
