//! Receive Cost Katana webhooks safely: verify the signature over the raw
//! body under any of the three signing schemes the sender uses, reject
//! stale or future timestamps, and read typed events from either body shape.
//!
//! This crate knows no web framework and needs no async runtime to verify.
//! The adapter crates (`costkatana-webhooks-axum`, `-actix`, `-tower`) plug
//! it into a server; [`Receiver`] adds dedupe and routing, and its inbox
//! mode ([`inbox`], backends in `costkatana-webhooks-inbox`) acknowledges
//! only what it stored durably.
//!
//! ```
//! use costkatana_webhooks::{EventType, Payload, Verifier};
//!
//! let verifier = Verifier::builder().secret("whsec_test_secret").build()?;
//!
//! // Headers and the raw body exactly as received.
//! let headers = [("X-CostKatana-Signature",
//!     "t=1705320600,v1=8e7a9a20aa184accf213305d7c9527ee23b7719acf0048d4eba31bf3e0e51008")];
//! let body = br#"{"event_type":"cost.alert","data":{"amount":100}}"#;
//!
//! # let verifier = Verifier::builder().secret("whsec_test_secret")
//! #     .clock(std::sync::Arc::new(costkatana_webhooks::ManualClock::new(1_705_320_610_000))).build()?;
//! match verifier.verify(&headers, &body[..]) {
//!     Ok(verified) => match verified.payload() {
//!         Payload::Event(event) if event.event_type == EventType::CostAlert => {
//!             println!("cost alert: {:?}", event.data.cost());
//!         }
//!         other => println!("something else: {other:?}"),
//!     },
//!     // Every rejection knows its HTTP status and a stable reason code.
//!     Err(err) => println!("{} {}", err.status(), err.code()),
//! }
//! # Ok::<(), costkatana_webhooks::ConfigError>(())
//! ```
//!
//! # Features
//!
//! - `http`: [`Headers`] for `http::HeaderMap` (http 1.x).
//! - `testing`: the testing kit, module `testing` (linked only when the feature is on): send signed deliveries
//!   through a built [`Receiver`] with no server (`receiver.test()`),
//!   assert on the answer and on what the handlers received, wait for inbox
//!   workers, with time on a [`ManualClock`]. (Sample events are
//!   [`samples`] and signing them is [`signing`], both always available.)

#![cfg_attr(docsrs, feature(doc_auto_cfg))]

mod backoff;
mod body_limits;
pub mod clock;
pub mod dedupe;
pub mod diagnose;
mod error;
mod event;
mod headers;
pub mod inbox;
mod intake;
mod mac;
mod outcome;
pub mod receiver;
pub mod samples;
mod scheme;
mod secret;
mod signed_headers;
pub mod signing;
mod verified;
mod verifier;

#[cfg(feature = "testing")]
pub mod testing;

pub use backoff::Backoff;
pub use body_limits::{DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{ConfigError, Error, ErrorKind};
pub use event::{
    Budget, Category, Cost, Event, EventData, EventType, Links, Metrics, Payload, Resource,
    Severity,
};
pub use headers::{is_sensitive_header, Headers};
pub use intake::RequestBody;
pub use outcome::{Answer, Outcome, RETRY_AFTER_SECS};
pub use receiver::{
    Delivery, EventSelector, HandlerError, HandlerResult, Receiver, ReceiverBuilder, Shared,
    WebhookHandler,
};
pub use scheme::Scheme;
pub use secret::Secret;
pub use verified::{JsonError, Verified};
pub use verifier::{Verifier, VerifierBuilder, DEFAULT_TOLERANCE};
