//! What a receiver does with a verified delivery: one mode, chosen at build.

use std::sync::Arc;

use super::background::Background;
use super::inbox_mode::InboxMode;
use crate::dedupe::DedupeStore;

/// What a receiver does with a verified delivery, chosen when it is built.
///
/// ```
/// use costkatana_webhooks::receiver::Mode;
/// use costkatana_webhooks::{Payload, Receiver};
///
/// let receiver = Receiver::builder()
///     .secret("s3cret")
///     .ack_first(64)
///     .fallback(|_: Payload| async { Ok(()) })
///     .build()?;
/// assert_eq!(receiver.mode(), Mode::AckFirst);
/// # Ok::<(), costkatana_webhooks::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mode {
    /// The default: claim the dedupe key, run the handler, answer with its
    /// result (a failure is a 500, which the sender retries).
    Inline,
    /// [`ack_first`](super::ReceiverBuilder::ack_first): claim the key,
    /// answer 200, run the handler in the background.
    AckFirst,
    /// [`inbox`](super::ReceiverBuilder::inbox): store the delivery
    /// durably, answer 200 once stored, run the handler from the inbox with
    /// retries.
    Inbox,
}

/// The parts a mode runs on.
pub(crate) enum Engine {
    Inline(Arc<dyn DedupeStore>),
    AckFirst(Arc<dyn DedupeStore>, Background),
    Inbox(Arc<InboxMode>),
}

impl Engine {
    pub(crate) fn mode(&self) -> Mode {
        match self {
            Engine::Inline(_) => Mode::Inline,
            Engine::AckFirst(..) => Mode::AckFirst,
            Engine::Inbox(_) => Mode::Inbox,
        }
    }
}
