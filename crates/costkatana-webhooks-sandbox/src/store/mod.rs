//! Everything the sandbox knows, in memory: webhooks and delivery records,
//! in the order they were made, with the live service's rules for making,
//! changing, listing, expiring and replaying them. The delivery engine's
//! state changes are in [`attempts`].

pub(crate) mod attempts;
pub(crate) mod outcome;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::model::delivery::{Delivery, Status};
use crate::model::event::EventFacts;
use crate::model::id::{Id, IdMaker};
use crate::model::outgoing::signed_request;
use crate::model::webhook::{RetryConfig, Webhook, WebhookStats};
use crate::validate::queries::{DeliveryQuery, WebhookQuery};
use crate::validate::webhook::WebhookFields;

/// How long a delivery record is kept (the live collection's TTL).
pub(crate) const RECORD_LIFETIME_MS: i64 = 30 * 24 * 3_600_000;

/// Why a replay was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplayRefused {
    NotFound,
    Pending,
}

/// How many records are in each state, as the live service's
/// database-backed queue counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct QueueCounts {
    /// Pending, not being attempted.
    pub(crate) waiting: usize,
    /// Being attempted now.
    pub(crate) active: usize,
    pub(crate) completed: usize,
    pub(crate) failed: usize,
}

/// The sandbox's memory.
pub(crate) struct Store {
    webhooks: BTreeMap<u64, Webhook>,
    webhook_seq: HashMap<Id, u64>,
    deliveries: BTreeMap<u64, Delivery>,
    delivery_seq: HashMap<Id, u64>,
    next_seq: u64,
    ids: IdMaker,
    max_deliveries: usize,
}

impl Store {
    /// An empty store keeping at most `max_deliveries` records (at least 1).
    pub(crate) fn new(ids: IdMaker, max_deliveries: usize) -> Store {
        Store {
            webhooks: BTreeMap::new(),
            webhook_seq: HashMap::new(),
            deliveries: BTreeMap::new(),
            delivery_seq: HashMap::new(),
            next_seq: 0,
            ids,
            max_deliveries: max_deliveries.max(1),
        }
    }

    fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    // Webhooks.

    /// Makes a webhook from a checked create body (defaults filled) and a
    /// fresh `secret`.
    pub(crate) fn create_webhook(
        &mut self,
        fields: WebhookFields,
        secret: String,
        now: i64,
    ) -> &Webhook {
        let id = self.ids.next(now);
        let webhook = Webhook {
            id,
            name: fields.name.unwrap_or_default(),
            description: fields.description,
            url: fields.url.unwrap_or_default(),
            events: fields.events.unwrap_or_default(),
            active: fields.active.unwrap_or(true),
            auth: fields.auth,
            filters: fields.filters,
            headers: fields.headers,
            payload_template: fields.payload_template,
            use_default_payload: fields.use_default_payload.unwrap_or(true),
            secret,
            timeout: fields.timeout.unwrap_or(30_000.0),
            retry: fields.retry.unwrap_or_default(),
            stats: WebhookStats::default(),
            created_at: now,
            updated_at: now,
        };
        let seq = self.seq();
        self.webhook_seq.insert(id, seq);
        self.webhooks.entry(seq).or_insert(webhook)
    }

    pub(crate) fn webhook(&self, id: Id) -> Option<&Webhook> {
        self.webhooks.get(self.webhook_seq.get(&id)?)
    }

    pub(crate) fn webhook_mut(&mut self, id: Id) -> Option<&mut Webhook> {
        self.webhooks.get_mut(self.webhook_seq.get(&id)?)
    }

    /// Newest first, filtered by `active` and by any of `events`.
    pub(crate) fn webhooks(&self, query: &WebhookQuery) -> Vec<&Webhook> {
        self.webhooks
            .values()
            .rev()
            .filter(|w| query.active.is_none_or(|active| w.active == active))
            .filter(|w| {
                query
                    .events
                    .as_ref()
                    .filter(|wanted| !wanted.is_empty())
                    .is_none_or(|wanted| w.events.iter().any(|e| wanted.contains(e)))
            })
            .collect()
    }

    /// Applies the fields an update body gave; `None` when there is no
    /// such webhook.
    pub(crate) fn update_webhook(
        &mut self,
        id: Id,
        fields: WebhookFields,
        now: i64,
    ) -> Option<&Webhook> {
        let webhook = self.webhook_mut(id)?;
        if let Some(name) = fields.name {
            webhook.name = name;
        }
        if let Some(description) = fields.description {
            webhook.description = Some(description);
        }
        if let Some(url) = fields.url {
            webhook.url = url;
        }
        if let Some(events) = fields.events {
            webhook.events = events;
        }
        if let Some(active) = fields.active {
            webhook.active = active;
        }
        if let Some(timeout) = fields.timeout {
            webhook.timeout = timeout;
        }
        if let Some(retry) = fields.retry {
            webhook.retry = retry;
        }
        if let Some(filters) = fields.filters {
            webhook.filters = Some(filters);
        }
        if let Some(headers) = fields.headers {
            webhook.headers = Some(headers);
        }
        if let Some(template) = fields.payload_template {
            webhook.payload_template = Some(template);
        }
        if let Some(use_default) = fields.use_default_payload {
            webhook.use_default_payload = use_default;
        }
        if let Some(auth) = fields.auth {
            webhook.auth = Some(auth);
        }
        webhook.updated_at = now;
        Some(webhook)
    }

    /// Deletes the webhook and all its delivery records; `false` when
    /// there is no such webhook.
    pub(crate) fn delete_webhook(&mut self, id: Id) -> bool {
        let Some(seq) = self.webhook_seq.remove(&id) else {
            return false;
        };
        self.webhooks.remove(&seq);
        let doomed: Vec<(u64, Id)> = self
            .deliveries
            .iter()
            .filter(|(_, d)| d.webhook_id == id)
            .map(|(seq, d)| (*seq, d.id))
            .collect();
        for (seq, delivery_id) in doomed {
            self.deliveries.remove(&seq);
            self.delivery_seq.remove(&delivery_id);
        }
        true
    }

    /// The active webhooks subscribed to `event_type`, oldest first.
    pub(crate) fn subscribers(&self, event_type: &str) -> Vec<Id> {
        self.webhooks
            .values()
            .filter(|w| w.active && w.events.iter().any(|e| e == event_type))
            .map(|w| w.id)
            .collect()
    }

    // Delivery records.

    /// Forgets the records older than their lifetime (MongoDB's TTL rule:
    /// made before `now` less the lifetime).
    pub(crate) fn expire(&mut self, now: i64) {
        let cutoff = now.saturating_sub(RECORD_LIFETIME_MS);
        while let Some(entry) = self.deliveries.first_entry() {
            if entry.get().created_at >= cutoff {
                break;
            }
            let delivery = entry.remove();
            self.delivery_seq.remove(&delivery.id);
        }
    }

    fn insert_delivery(&mut self, delivery: Delivery) -> Id {
        let id = delivery.id;
        let seq = self.seq();
        self.delivery_seq.insert(id, seq);
        self.deliveries.insert(seq, delivery);
        // The cap bounds memory: the oldest records go, whatever their state
        // (a pending one is then never attempted).
        while self.deliveries.len() > self.max_deliveries {
            if let Some((_, oldest)) = self.deliveries.pop_first() {
                self.delivery_seq.remove(&oldest.id);
            }
        }
        id
    }

    /// A new pending record of the event for `webhook_id`: its request
    /// signed now, with the webhook's retries (`0` read as 3). `None` when
    /// there is no such webhook.
    pub(crate) fn create_delivery(
        &mut self,
        webhook_id: Id,
        facts: &EventFacts,
        now: i64,
    ) -> Option<Id> {
        let webhook = self.webhook(webhook_id)?;
        let (request, signature) = signed_request(webhook, facts.body(), now);
        let retries_left = retries_for(webhook.retry);
        let delivery = Delivery {
            id: self.ids.next(now),
            webhook_id,
            event_id: facts.event_id.clone(),
            event_type: facts.event_type.clone(),
            event_data: Arc::from(facts.data.as_str()),
            attempt: 1,
            status: Status::Pending,
            request,
            response: None,
            error: None,
            next_retry_at: None,
            retries_left,
            signature: Some(signature),
            metadata: Map::new(),
            created_at: now,
            updated_at: now,
            in_flight: false,
        };
        Some(self.insert_delivery(delivery))
    }

    pub(crate) fn delivery(&self, id: Id) -> Option<&Delivery> {
        self.deliveries.get(self.delivery_seq.get(&id)?)
    }

    pub(crate) fn delivery_mut(&mut self, id: Id) -> Option<&mut Delivery> {
        self.deliveries.get_mut(self.delivery_seq.get(&id)?)
    }

    /// A page of the webhook's records, newest first, and how many match.
    pub(crate) fn deliveries_of(
        &self,
        webhook_id: Id,
        query: &DeliveryQuery,
    ) -> (Vec<&Delivery>, usize) {
        let matching: Vec<&Delivery> = self
            .deliveries
            .values()
            .rev()
            .filter(|d| d.webhook_id == webhook_id)
            .filter(|d| {
                query
                    .status
                    .as_deref()
                    .is_none_or(|s| d.status.as_str() == s)
            })
            .filter(|d| {
                query
                    .event_type
                    .as_deref()
                    .is_none_or(|t| d.event_type == t)
            })
            .collect();
        let total = matching.len();
        let skip = usize::try_from(query.offset).unwrap_or(0);
        // A negative limit reads as its size, as MongoDB reads it.
        let take = usize::try_from(query.limit.unsigned_abs()).unwrap_or(usize::MAX);
        let page = matching.into_iter().skip(skip).take(take).collect();
        (page, total)
    }

    /// A new pending record sending the original record's stored request
    /// again (its URL, timestamp and signature), with its retries left.
    pub(crate) fn replay(&mut self, id: Id, now: i64) -> Result<Id, ReplayRefused> {
        let original = self.delivery(id).ok_or(ReplayRefused::NotFound)?;
        if original.status == Status::Pending {
            return Err(ReplayRefused::Pending);
        }
        let mut metadata = original.metadata.clone();
        metadata.insert(
            "originalDeliveryId".into(),
            Value::from(original.id.to_string()),
        );
        let replay = Delivery {
            id: self.ids.next(now),
            webhook_id: original.webhook_id,
            event_id: original.event_id.clone(),
            event_type: original.event_type.clone(),
            event_data: Arc::clone(&original.event_data),
            attempt: 1,
            status: Status::Pending,
            request: Arc::clone(&original.request),
            response: None,
            error: None,
            next_retry_at: None,
            retries_left: original.retries_left,
            signature: None,
            metadata,
            created_at: now,
            updated_at: now,
            in_flight: false,
        };
        Ok(self.insert_delivery(replay))
    }

    pub(crate) fn queue_counts(&self) -> QueueCounts {
        let mut counts = QueueCounts::default();
        for delivery in self.deliveries.values() {
            match (delivery.status, delivery.in_flight) {
                (Status::Pending, true) => counts.active += 1,
                (Status::Pending, false) => counts.waiting += 1,
                (Status::Success, _) => counts.completed += 1,
                (Status::Failed, _) => counts.failed += 1,
            }
        }
        counts
    }

    /// Records waiting for or in their attempt.
    pub(crate) fn pending(&self) -> usize {
        self.deliveries
            .values()
            .filter(|d| d.status == Status::Pending)
            .count()
    }

    /// Records held now.
    pub(crate) fn records(&self) -> usize {
        self.deliveries.len()
    }
}

/// The retries a new delivery gets: `maxRetries`, and 3 for 0 (the live
/// service's `maxRetries || 3`).
fn retries_for(retry: RetryConfig) -> f64 {
    if retry.max_retries == 0.0 {
        3.0
    } else {
        retry.max_retries
    }
}
