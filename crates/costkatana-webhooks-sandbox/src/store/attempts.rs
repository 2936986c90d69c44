//! The delivery engine's changes to the store, one attempt at a time, as
//! the live delivery service makes them: each attempt is its own record; a
//! retried attempt is marked failed (`retry_scheduled`) and a new pending
//! record made for the next; a final failure moves the webhook's counters
//! and, past 50 failed records in 24 h, deactivates it.

use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::Backoff;
use serde_json::{json, Value};

use super::outcome::{judge, response_record, Verdict};
use super::Store;
use crate::js;
use crate::model::delivery::{Delivery, DeliveryError, ResponseRecord, Status, StoredRequest};
use crate::model::id::Id;
use crate::model::webhook::RetryConfig;
use crate::sender::Exchange;

/// The window in which failed records are counted.
pub(crate) const FAILURE_WINDOW_MS: i64 = 24 * 3_600_000;

/// More failed records than this in the window deactivate a webhook.
pub(crate) const MAX_FAILURES: usize = 50;

/// The longest wait before a retry (before `speed` divides it).
const MAX_RETRY_DELAY: Duration = Duration::from_secs(3600);

/// Longer than any wait worth waiting for.
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// One attempt to make.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) request: Arc<StoredRequest>,
    pub(crate) timeout_ms: f64,
}

/// The next attempt of a delivery: its record and the wait before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Retry {
    pub(crate) id: Id,
    pub(crate) delay: Duration,
}

impl Store {
    /// Starts the attempt of record `id`. `None` when there is nothing to
    /// send: the record is gone, settled, already in its attempt, or has
    /// just failed because its webhook is gone or inactive.
    pub(crate) fn begin_attempt(&mut self, id: Id, now: i64) -> Option<Job> {
        let delivery = self.delivery(id)?;
        if delivery.status != Status::Pending || delivery.in_flight {
            return None;
        }
        let (timeout_ms, active) = match self.webhook(delivery.webhook_id) {
            Some(webhook) => (webhook.timeout, webhook.active),
            None => {
                let error = DeliveryError::new("webhook_not_found", "Associated webhook not found");
                self.fail(id, error, None, now);
                return None;
            }
        };
        if !active {
            self.fail(
                id,
                DeliveryError::new("webhook_inactive", "Webhook is inactive"),
                None,
                now,
            );
            return None;
        }
        let delivery = self.delivery_mut(id)?;
        delivery.in_flight = true;
        Some(Job {
            request: Arc::clone(&delivery.request),
            timeout_ms,
        })
    }

    /// Records what the attempt of `id` got; the retry to schedule, if
    /// any, its wait divided by `speed`.
    pub(crate) fn finish_attempt(
        &mut self,
        id: Id,
        exchange: &Exchange,
        now: i64,
        speed: f64,
    ) -> Option<Retry> {
        let delivery = self.delivery_mut(id)?;
        delivery.in_flight = false;
        let (webhook_id, retries_left) = (delivery.webhook_id, delivery.retries_left);
        let (timeout_ms, retry) = self
            .webhook(webhook_id)
            .map_or((30_000.0, RetryConfig::default()), |w| (w.timeout, w.retry));
        let response = response_record(exchange, now);
        match judge(exchange, retries_left, timeout_ms) {
            Verdict::Delivered => {
                self.succeed(id, response, exchange.latency, now);
                None
            }
            Verdict::Retry(reason) => self.schedule_retry(id, &reason, response, retry, now, speed),
            Verdict::Failed(error) => {
                self.fail(id, error, response, now);
                None
            }
        }
    }

    /// Fails record `id` for good before any attempt, such as when its
    /// request cannot be sent at all.
    pub(crate) fn fail_before_attempt(&mut self, id: Id, error: DeliveryError, now: i64) {
        if let Some(delivery) = self.delivery_mut(id) {
            delivery.in_flight = false;
        }
        self.fail(id, error, None, now);
    }

    fn succeed(&mut self, id: Id, response: Option<ResponseRecord>, latency: Duration, now: i64) {
        let Some(delivery) = self.delivery_mut(id) else {
            return;
        };
        delivery.status = Status::Success;
        delivery.response = response;
        delivery.updated_at = now;
        let webhook_id = delivery.webhook_id;
        if let Some(webhook) = self.webhook_mut(webhook_id) {
            let stats = &mut webhook.stats;
            stats.total += 1;
            stats.successful += 1;
            stats.last_delivery_at = Some(now);
            stats.last_success_at = Some(now);
            let millis = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
            // The live service keeps the last success's time, unless it was 0.
            if millis > 0 {
                stats.average_response_time = Some(millis);
            }
            webhook.updated_at = now;
        }
    }

    fn fail(&mut self, id: Id, error: DeliveryError, response: Option<ResponseRecord>, now: i64) {
        let Some(delivery) = self.delivery_mut(id) else {
            return;
        };
        delivery.status = Status::Failed;
        delivery.error = Some(error);
        if response.is_some() {
            delivery.response = response;
        }
        delivery.updated_at = now;
        let webhook_id = delivery.webhook_id;
        if let Some(webhook) = self.webhook_mut(webhook_id) {
            let stats = &mut webhook.stats;
            stats.total += 1;
            stats.failed += 1;
            stats.last_delivery_at = Some(now);
            stats.last_failure_at = Some(now);
            webhook.updated_at = now;
        }
        self.check_health(webhook_id, now);
    }

    /// Deactivates the webhook when it has more than [`MAX_FAILURES`]
    /// failed records (retried attempts included) made in the last 24 h.
    fn check_health(&mut self, webhook_id: Id, now: i64) {
        let since = now.saturating_sub(FAILURE_WINDOW_MS);
        let failures = self
            .deliveries
            .values()
            .filter(|d| {
                d.webhook_id == webhook_id && d.status == Status::Failed && d.created_at >= since
            })
            .count();
        if failures > MAX_FAILURES {
            if let Some(webhook) = self.webhook_mut(webhook_id) {
                webhook.active = false;
                webhook.updated_at = now;
            }
        }
    }

    fn schedule_retry(
        &mut self,
        id: Id,
        reason: &str,
        response: Option<ResponseRecord>,
        retry: RetryConfig,
        now: i64,
        speed: f64,
    ) -> Option<Retry> {
        let next_id = self.ids.next(now);
        let failed = self.delivery_mut(id)?;
        let next_attempt = failed.attempt + 1;
        let delay = retry_delay(retry, next_attempt, speed);
        let delay_ms = delay.as_secs_f64() * 1000.0;
        failed.status = Status::Failed;
        failed.retries_left -= 1.0;
        #[allow(clippy::cast_possible_truncation)]
        let wait_ms = delay_ms.round() as i64;
        failed.next_retry_at = Some(now.saturating_add(wait_ms));
        failed.error = Some(DeliveryError {
            kind: "retry_scheduled",
            message: format!("Retry scheduled due to: {reason}"),
            code: None,
            details: Some(json!({
                "nextAttempt": next_attempt,
                "delay": js::number(delay_ms),
                "retriesLeft": js::number(failed.retries_left),
            })),
        });
        if response.is_some() {
            failed.response = response;
        }
        failed.updated_at = now;
        let mut metadata = failed.metadata.clone();
        metadata.insert(
            "previousAttemptId".into(),
            Value::from(failed.id.to_string()),
        );
        let next = Delivery {
            id: next_id,
            webhook_id: failed.webhook_id,
            event_id: failed.event_id.clone(),
            event_type: failed.event_type.clone(),
            event_data: Arc::clone(&failed.event_data),
            attempt: next_attempt,
            status: Status::Pending,
            request: Arc::clone(&failed.request),
            response: None,
            error: None,
            next_retry_at: None,
            retries_left: failed.retries_left,
            signature: None,
            metadata,
            created_at: now,
            updated_at: now,
            in_flight: false,
        };
        let id = self.insert_delivery(next);
        Some(Retry { id, delay })
    }
}

/// The wait before attempt `next_attempt` (from 2): `initialDelay ×
/// multiplier^(next_attempt − 1) × a jitter of 0.85–1.15`, capped at 1 h
/// after the jitter (as the live service caps it), divided by `speed`.
pub(crate) fn retry_delay(retry: RetryConfig, next_attempt: u32, speed: f64) -> Duration {
    let first =
        Duration::try_from_secs_f64(retry.initial_delay / 1000.0).unwrap_or(Duration::from_secs(5));
    let delay = Backoff::new(first)
        .multiplier(retry.backoff_multiplier)
        .max_delay(FOREVER)
        .jitter(0.85, 1.15)
        .delay(next_attempt)
        .min(MAX_RETRY_DELAY);
    Duration::try_from_secs_f64(delay.as_secs_f64() / speed).map_or(FOREVER, |d| d.min(FOREVER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_follow_the_live_schedule() {
        let defaults = RetryConfig::default();
        for (attempt, nominal) in [(2, 10.0), (3, 20.0), (4, 40.0)] {
            let delay = retry_delay(defaults, attempt, 1.0).as_secs_f64();
            assert!(
                (nominal * 0.85..=nominal * 1.15).contains(&delay),
                "{attempt}: {delay}"
            );
        }
        let slow = RetryConfig {
            max_retries: 10.0,
            backoff_multiplier: 5.0,
            initial_delay: 60_000.0,
        };
        assert_eq!(retry_delay(slow, 11, 1.0), MAX_RETRY_DELAY);
        let fast = retry_delay(defaults, 2, 1000.0).as_secs_f64();
        assert!((0.0085..=0.0115).contains(&fast), "{fast}");
    }
}
