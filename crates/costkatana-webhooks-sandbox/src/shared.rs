//! What a running sandbox shares between its routes and its engine: the
//! store, the clock, the key, and the operations that make delivery
//! records (an event, a test, a replay) and hand them to the engine.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use costkatana_webhooks::{Clock, EventType};

use crate::engine::Engine;
use crate::model::event::{sample_data, EventFacts};
use crate::model::id::Id;
use crate::random::{self, NoRandomness};
use crate::server::{ApiKey, Emission, Emitted};
use crate::store::{ReplayRefused, Store};

/// Why the test route refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TestRefused {
    NotFound,
    Inactive,
    NoRandomness,
}

pub(crate) struct Shared {
    store: Mutex<Store>,
    clock: Arc<dyn Clock>,
    pub(crate) api_key: ApiKey,
    /// The user the API key belongs to: events are theirs.
    pub(crate) user_id: String,
    pub(crate) engine: Engine,
}

impl Shared {
    pub(crate) fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        api_key: ApiKey,
        user_id: String,
        engine: Engine,
    ) -> Shared {
        Shared {
            store: Mutex::new(store),
            clock,
            api_key,
            user_id,
            engine,
        }
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The store, with the records past their lifetime forgotten.
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        // Every change to the store is complete before any call that could
        // panic, so a poisoned lock still guards consistent data.
        let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        store.expire(self.now());
        store
    }

    /// Emits an event to every active webhook subscribed to its type.
    pub(crate) fn emit(self: &Arc<Self>, emission: Emission) -> Result<Emitted, NoRandomness> {
        let now = self.now();
        let prefix = emission.event_type.as_str().replace('.', "_");
        let facts = EventFacts {
            event_id: format!("{prefix}_{}", random::uuid4()?),
            event_type: emission.event_type.as_str().to_owned(),
            occurred_at: now,
            user_id: emission.user_id.unwrap_or_else(|| self.user_id.clone()),
            project_id: emission.project_id,
            data: emission
                .data
                .unwrap_or_else(|| sample_data(&emission.event_type, now)),
        };
        let ids: Vec<Id> = {
            let mut store = self.store();
            store
                .subscribers(&facts.event_type)
                .into_iter()
                .filter_map(|webhook| store.create_delivery(webhook, &facts, now))
                .collect()
        };
        for id in &ids {
            self.enqueue(*id, Duration::ZERO);
        }
        Ok(Emitted {
            event_id: facts.event_id,
            delivery_ids: ids.iter().map(Id::to_string).collect(),
        })
    }

    /// The test delivery of `POST /api/webhooks/:id/test`: a `system.error`
    /// titled "Webhook Test", its `context` the test data (JSON text).
    pub(crate) fn test_webhook(
        self: &Arc<Self>,
        id: Id,
        test_data: Option<String>,
    ) -> Result<Id, TestRefused> {
        let now = self.now();
        let delivery = {
            let mut store = self.store();
            let webhook = store.webhook(id).ok_or(TestRefused::NotFound)?;
            if !webhook.active {
                return Err(TestRefused::Inactive);
            }
            let text = |s: &str| serde_json::Value::from(s).to_string();
            let data = format!(
                r#"{{"title":"Webhook Test","description":"This is a test webhook delivery","severity":"low","resource":{{"type":"webhook","id":{},"name":{}}},"context":{}}}"#,
                text(&webhook.id.to_string()),
                text(&webhook.name),
                test_data.as_deref().unwrap_or("{}"),
            );
            let facts = EventFacts {
                event_id: format!(
                    "test_{}",
                    random::uuid4().map_err(|_| TestRefused::NoRandomness)?
                ),
                event_type: EventType::SystemError.as_str().to_owned(),
                occurred_at: now,
                user_id: self.user_id.clone(),
                project_id: None,
                data,
            };
            store
                .create_delivery(id, &facts, now)
                .ok_or(TestRefused::NotFound)?
        };
        self.enqueue(delivery, Duration::ZERO);
        Ok(delivery)
    }

    /// Replays record `id`: a new record sending its stored request again.
    pub(crate) fn replay(self: &Arc<Self>, id: Id) -> Result<Id, ReplayRefused> {
        let now = self.now();
        let replay = self.store().replay(id, now)?;
        self.enqueue(replay, Duration::ZERO);
        Ok(replay)
    }

    /// The full secret of webhook `id`.
    pub(crate) fn secret(&self, id: Id) -> Option<String> {
        self.store().webhook(id).map(|w| w.secret.clone())
    }
}
