//! One pass: keep the webhook active, read its records since the horizon,
//! decide per event, ask for one replay per lost event.

use std::collections::HashSet;
use std::time::Duration;

use costkatana_webhooks::receiver::{DeliveryKey, ReplayLedger};

use super::report::{CatchUpReport, LostEvent};
use super::{
    Settings, CATCH_UP_API_ERRORS_TOTAL, CATCH_UP_LOST_TOTAL, CATCH_UP_REACTIVATIONS_TOTAL,
    CATCH_UP_REPLAYS_TOTAL,
};
use crate::model::{Delivery, DeliveryQuery, UpdateWebhook};
use crate::time::iso8601_ms;
use crate::{ApiError, ApiErrorKind, Client};

/// Records a page: the most the API gives.
const PAGE: u32 = 100;
/// The most distinct events one pass remembers (a 128-bit digest of each
/// id, some 40 bytes with the set's overhead: at most about 40 MB).
/// Records are read newest
/// first, so a window holding more events than this has its oldest ones
/// never examined, by this pass or the next (which starts from the same
/// horizon): the pass says so, and a shorter `since(..)` or more frequent
/// passes are the remedy.
const MAX_EVENTS: usize = 1_000_000;

pub(super) struct Pass<'a> {
    pub(super) client: &'a Client,
    pub(super) webhook_id: &'a str,
    pub(super) settings: &'a Settings,
    pub(super) ledger: Option<&'a ReplayLedger>,
    pub(super) dry_run: bool,
}

impl Pass<'_> {
    pub(super) async fn run(self, since_ms: i64) -> Result<CatchUpReport, ApiError> {
        let mut report = CatchUpReport::default();
        let webhook = self
            .api(&mut report, self.client.webhook(self.webhook_id))
            .await?;
        if !webhook.active {
            report.was_inactive = true;
            if self.settings.reactivate && !self.dry_run {
                let activate = UpdateWebhook {
                    active: Some(true),
                    ..UpdateWebhook::default()
                };
                self.api(
                    &mut report,
                    self.client.update_webhook(self.webhook_id, &activate),
                )
                .await?;
                report.reactivated = true;
                metrics::counter!(CATCH_UP_REACTIVATIONS_TOTAL).increment(1);
                tracing::error!(
                    webhook = self.webhook_id,
                    "the sender had deactivated the webhook after too many failed deliveries: \
                     re-activated it; events emitted while it was inactive were never queued \
                     and are lost for good"
                );
            }
        }
        let by_signature = webhook.uses_template();
        let mut seen = HashSet::new();
        let mut query = DeliveryQuery::new().limit(PAGE);
        let mut complete = true;
        'pages: loop {
            let asked_before = report.replays_asked;
            let page = self
                .api(&mut report, self.client.deliveries(self.webhook_id, &query))
                .await?;
            for delivery in &page.items {
                if delivery
                    .created_at
                    .as_deref()
                    .and_then(iso8601_ms)
                    .is_some_and(|at| at < since_ms)
                {
                    break 'pages;
                }
                report.deliveries_read += 1;
                // Newest first: an event's first record is its latest word.
                if seen.len() >= MAX_EVENTS {
                    complete = false;
                    report.stopped_by = Some(format!(
                        "more than {MAX_EVENTS} events since the horizon: the older ones were not \
                         examined (run passes more often, or shorten since(..))"
                    ));
                    break 'pages;
                }
                if !seen.insert(digest(&delivery.event_id)) {
                    continue;
                }
                report.events_seen += 1;
                if !delivery.failed_for_good() {
                    continue;
                }
                match self.lost(&mut report, delivery, by_signature).await {
                    Ok(()) => {}
                    // Asked or not, the rest waits for the next pass.
                    Err(err) if err.kind().is_transient() => {
                        complete = false;
                        tracing::warn!(error = %err, "catch-up stops this pass");
                        report.stopped_by = Some(err.to_string());
                        break 'pages;
                    }
                    Err(err) => return Err(err),
                }
            }
            let read = page.items.len() as u64;
            if !page.pagination.has_more || read == 0 {
                break;
            }
            // Newest first: each replay asked made a record ahead of the
            // next page; skip them rather than read this page again.
            let asked = report.replays_asked - asked_before;
            query = query.clone().offset(query.offset + read + asked);
        }
        report.complete = complete;
        Ok(report)
    }

    /// An event whose latest delivery failed for good: lost unless the
    /// store knows it; asked for again once.
    async fn lost(
        &self,
        report: &mut CatchUpReport,
        delivery: &Delivery,
        by_signature: bool,
    ) -> Result<(), ApiError> {
        let signature;
        let key = if by_signature {
            signature = match delivery.sent_signature() {
                Some(signature) => signature.to_owned(),
                None => {
                    let detail = self.api(report, self.client.delivery(&delivery.id)).await?;
                    detail.sent_signature().unwrap_or_default().to_owned()
                }
            };
            DeliveryKey::Signature(&signature)
        } else {
            DeliveryKey::EventId(&delivery.event_id)
        };
        let remembers = match self.ledger {
            Some(ledger) => {
                if ledger
                    .known(key)
                    .await
                    .map_err(store)?
                    .reached_the_receiver()
                {
                    report.known_to_the_store += 1;
                    return Ok(());
                }
                ledger.remembers_after_restart()
            }
            None => false,
        };
        if !remembers && !delivery.never_reached_the_receiver() {
            report.uncertain += 1;
            return Ok(());
        }
        metrics::counter!(CATCH_UP_LOST_TOTAL).increment(1);
        let mut lost = LostEvent {
            event_id: delivery.event_id.clone(),
            event_type: delivery.event_type.clone(),
            delivery_id: delivery.id.clone(),
            error_type: delivery.error_type().unwrap_or_default().to_owned(),
            replay_asked: false,
        };
        let Some(ledger) = self.ledger.filter(|_| !self.dry_run) else {
            report.lost.push(lost);
            return Ok(());
        };
        let window = self.settings.replay_window;
        if !ledger.expect_replay(key, window).await.map_err(store)? {
            report.already_asked += 1;
            report.lost.push(lost);
            return Ok(());
        }
        match self.api(report, self.client.replay(&delivery.id)).await {
            Ok(_) => {
                lost.replay_asked = true;
                report.replays_asked += 1;
                metrics::counter!(CATCH_UP_REPLAYS_TOTAL).increment(1);
                let pace = Duration::from_secs(1) / self.settings.replays_per_second;
                tokio::time::sleep(pace).await;
            }
            // A replay of it is pending already: not lost after all.
            Err(err) if err.kind() == ApiErrorKind::Rejected => {
                tracing::debug!(error = %err, "replay refused");
            }
            Err(err) => return Err(err),
        }
        report.lost.push(lost);
        Ok(())
    }

    /// One API call, counted.
    async fn api<T>(
        &self,
        report: &mut CatchUpReport,
        call: impl std::future::Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        report.api_calls += 1;
        call.await.inspect_err(|err| {
            report.api_errors += 1;
            let kind = format!("{:?}", err.kind()).to_ascii_lowercase();
            metrics::counter!(CATCH_UP_API_ERRORS_TOTAL, "kind" => kind).increment(1);
        })
    }
}

/// The store could not answer: like an unreachable API, the pass stops and
/// the next one tries again.
fn store(err: costkatana_webhooks::dedupe::StoreError) -> ApiError {
    ApiError::new(
        ApiErrorKind::Server,
        format!("the receiver's store could not answer: {err}"),
    )
    .caused_by(err)
}

/// An event id as a pass remembers it: the first 128 bits of its SHA-256
/// (two ids sharing them are as likely as guessing a random 128-bit key).
fn digest(event_id: &str) -> u128 {
    let hash = <sha2::Sha256 as sha2::Digest>::digest(event_id.as_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&hash[..16]);
    u128::from_be_bytes(first)
}
