//! A local stand-in of the Cost Katana sender, for development and tests:
//! deliver signed events to your receiver exactly as the real sender would,
//! and see what your answers cause.
//!
//! - [`sender`]: one delivery. The request is signed once (any of the three
//!   schemes, the sender's own headers, your custom ones) and POSTed; a 2xx
//!   is delivered; a 5xx or a time-out is sent again, **unchanged** (same
//!   timestamp, same signature), after the sender's backoff, while retries
//!   remain; any other answer, an unfollowed redirect and a refused
//!   connection fail at once (PROTOCOL.md §4 and §7).
//! - [`bulk`]: many distinct events at once, each possibly sent twice side
//!   by side, with a summary: a load and dedupe test for a receiver.
//!
//! The `ckwebhook send` command is this crate behind a command line. Later,
//! the sender's management API (webhooks, deliveries, replays) joins it.
//!
//! ```
//! use std::time::Duration;
//! use costkatana_webhooks::samples::{sample_event, Shape};
//! use costkatana_webhooks::{Backoff, Clock, EventType, Scheme, SystemClock};
//! use costkatana_webhooks_sandbox::sender::{Endpoint, Sender, SignedRequest};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
//! # let url = format!("http://127.0.0.1:{port}/webhooks/costkatana");
//! // Your receiver, say http://127.0.0.1:3000/webhooks/costkatana.
//! let endpoint = Endpoint::parse(&url)?;
//! let now_ms = SystemClock.now_ms();
//! let body = sample_event(&EventType::CostAlert, Shape::Camel, "cost_alert_1", now_ms);
//! let request = SignedRequest::new(endpoint, Scheme::Current, "whsec_s3cret", now_ms, body);
//!
//! // The sender's schedule, 100 times faster: about 50, 100, 200 ms.
//! let sender = Sender::builder()
//!     .backoff(Backoff::sender().first_delay(Duration::from_millis(50)))
//!     .build()?;
//! let last = sender
//!     .deliver(&request, |attempt| println!("attempt {}: {}", attempt.number, attempt.reply.label()))
//!     .await;
//! if !last.reply.is_delivered() {
//!     println!("lost after {} attempt(s): {:?}", last.number, last.reply);
//! }
//! # Ok(()) }
//! ```

pub mod bulk;
pub mod sender;
