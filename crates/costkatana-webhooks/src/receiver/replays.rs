//! What recovering missed events needs from a receiver's store: whether it
//! already knows an event, and a ledger of the replays asked of the sender,
//! which lets one authentic copy of each in despite its old timestamp.

use std::sync::Arc;
use std::time::Duration;

use super::{dedupe_key, Namespace};
use crate::clock::millis;
use crate::dedupe::{DedupeKey, DedupeStore, KeyState, StoreError};
use crate::inbox::{EntryState, InboxStore};
use crate::Clock;

/// Counter of authentic deliveries outside the timestamp window accepted
/// because the receiver had asked the sender to replay them.
pub const REPLAYS_RECEIVED_TOTAL: &str = "costkatana_webhook_replays_received_total";

/// How a delivery is keyed: by its event id, or, for a body without one
/// (a payload template), by its signature.
///
/// ```
/// use costkatana_webhooks::receiver::DeliveryKey;
/// let key = DeliveryKey::EventId("cost_alert_1");
/// assert_eq!(key, DeliveryKey::EventId("cost_alert_1"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryKey<'a> {
    /// The event id the body carries.
    EventId(&'a str),
    /// The lowercase hex signature of a body without an event id.
    Signature(&'a str),
}

impl DeliveryKey<'_> {
    fn parts(self) -> (&'static str, String) {
        match self {
            DeliveryKey::EventId(id) => (DedupeKey::EVENT, id.to_owned()),
            DeliveryKey::Signature(hex) => (DedupeKey::SIGNATURE, hex.to_ascii_lowercase()),
        }
    }
}

/// What a receiver's store knows of a delivery.
///
/// ```
/// use costkatana_webhooks::receiver::Known;
/// assert!(Known::Handled.reached_the_receiver());
/// assert!(!Known::Unknown.reached_the_receiver());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Known {
    /// Nothing: never received, or forgotten.
    Unknown,
    /// Received and being handled, or waiting for a worker (inbox).
    InProgress,
    /// Handled.
    Handled,
    /// Received, and dead-lettered in the inbox (an operator can retry it).
    DeadLettered,
}

impl Known {
    /// Whether the delivery reached the receiver, so a replay would only
    /// repeat it.
    pub fn reached_the_receiver(self) -> bool {
        self != Known::Unknown
    }
}

/// The receiver's store seen by whoever recovers missed events: what it
/// knows of a delivery, and the ledger of the replays asked of the sender.
///
/// A replay re-sends the original request, timestamp included, so it
/// arrives outside the timestamp window. The receiver lets such an
/// authentic delivery past the window only if this ledger expects it, and
/// only until the deadline given here; dedupe then handles it once (a
/// later copy is a duplicate, and a copy retried after a failure is still
/// let in, so the replay is not lost). Every other stale delivery is still
/// refused. The
/// ledger lives in the store (the memory store, Redis, the inbox), so
/// replicas on one store share it: one of them asks, any of them accepts.
///
/// Get it from a started receiver's background task
/// ([`TaskContext::replay_ledger`](super::TaskContext::replay_ledger)) or
/// from a receiver ([`Receiver::replay_ledger`](super::Receiver::replay_ledger)).
///
/// ```
/// use std::time::Duration;
/// use costkatana_webhooks::receiver::{DeliveryKey, Known};
/// use costkatana_webhooks::{Payload, Receiver};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let receiver = Receiver::builder()
///     .secret("s3cret")
///     .fallback(|_: Payload| async { Ok(()) })
///     .build()?;
/// let ledger = receiver.replay_ledger();
/// let key = DeliveryKey::EventId("cost_alert_1");
/// assert_eq!(ledger.known(key).await?, Known::Unknown);
/// assert!(ledger.expect_replay(key, Duration::from_secs(3600)).await?);
/// assert!(!ledger.expect_replay(key, Duration::from_secs(3600)).await?); // asked already
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct ReplayLedger {
    store: Store,
    namespace: Arc<Namespace>,
    clock: Arc<dyn Clock>,
}

#[derive(Clone)]
pub(crate) enum Store {
    Dedupe(Arc<dyn DedupeStore>),
    Inbox(Arc<dyn InboxStore>),
}

impl std::fmt::Debug for ReplayLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let store = match self.store {
            Store::Dedupe(_) => "dedupe store",
            Store::Inbox(_) => "inbox",
        };
        f.debug_struct("ReplayLedger")
            .field("store", &store)
            .finish_non_exhaustive()
    }
}

impl ReplayLedger {
    pub(crate) fn new(store: Store, namespace: Arc<Namespace>, clock: Arc<dyn Clock>) -> Self {
        ReplayLedger {
            store,
            namespace,
            clock,
        }
    }

    /// The keys a delivery may have in the store: one per namespace (one
    /// per secret by default, since any of them may verify it).
    fn keys(&self, key: DeliveryKey<'_>) -> Vec<String> {
        let (kind, value) = key.parts();
        self.namespace
            .all()
            .map(|namespace| dedupe_key(namespace, kind, &value))
            .collect()
    }

    /// What the store knows of the delivery.
    ///
    /// # Errors
    ///
    /// The store cannot be read.
    pub async fn known(&self, key: DeliveryKey<'_>) -> Result<Known, StoreError> {
        for key in self.keys(key) {
            let known = match &self.store {
                Store::Dedupe(store) => match store.peek(&key).await? {
                    KeyState::Done => Known::Handled,
                    KeyState::InFlight => Known::InProgress,
                    _ => Known::Unknown,
                },
                Store::Inbox(inbox) => match inbox.state_of(&key).await? {
                    None => Known::Unknown,
                    Some(EntryState::Done) => Known::Handled,
                    Some(EntryState::Dead) => Known::DeadLettered,
                    Some(_) => Known::InProgress,
                },
            };
            if known != Known::Unknown {
                return Ok(known);
            }
        }
        Ok(Known::Unknown)
    }

    /// Records that a replay of the delivery is asked for, expected for
    /// `ttl`: `true` when recorded now (ask the sender), `false` when it
    /// was already (another pass or replica asked).
    ///
    /// # Errors
    ///
    /// The store cannot be written, or keeps no such record.
    pub async fn expect_replay(
        &self,
        key: DeliveryKey<'_>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now_ms = self.clock.now_ms();
        let mut recorded = None;
        // The first namespace's record decides; the others let a copy that
        // another secret verifies in too.
        for key in self.keys(key) {
            let fresh = match &self.store {
                Store::Dedupe(store) => store.expect_replay(&key, ttl).await?,
                Store::Inbox(inbox) => {
                    let until_ms = now_ms.saturating_add(millis(ttl));
                    inbox.expect_replay(&key, now_ms, until_ms).await?
                }
            };
            recorded.get_or_insert(fresh);
        }
        Ok(recorded.unwrap_or(false))
    }

    /// Whether what the store knows survives a restart of the receiver
    /// (an inbox, Redis), so an event it does not know was truly not
    /// received; the memory store forgets on restart.
    pub fn remembers_after_restart(&self) -> bool {
        match &self.store {
            Store::Dedupe(store) => store.remembers_after_restart(),
            Store::Inbox(_) => true,
        }
    }

    /// Whether a replay of a delivery's `key` (already namespaced) is
    /// expected now.
    pub(crate) async fn expects(&self, key: &str) -> Result<bool, StoreError> {
        match &self.store {
            Store::Dedupe(store) => store.replay_expected(key).await,
            Store::Inbox(inbox) => inbox.replay_expected(key, self.clock.now_ms()).await,
        }
    }
}
