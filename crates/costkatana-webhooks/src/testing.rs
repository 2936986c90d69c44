//! Helpers for tests (feature `testing`): the [sample events](crate::samples)
//! under their test-facing names.
//!
//! ```
//! use costkatana_webhooks::testing::{sample_event, Shape};
//! use costkatana_webhooks::EventType;
//!
//! let body = sample_event(&EventType::BudgetExceeded, Shape::Camel, "evt_1", 0);
//! assert!(body.contains(r#""eventId":"evt_1""#));
//! ```

pub use crate::samples::{iso8601, sample_event, Shape};
