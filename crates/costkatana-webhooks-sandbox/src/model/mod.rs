//! What the sandbox keeps: webhooks, delivery records, events, and the
//! shapes the live API shows them in.

pub(crate) mod catalog;
pub(crate) mod delivery;
pub(crate) mod event;
pub(crate) mod id;
pub(crate) mod outgoing;
pub(crate) mod webhook;
