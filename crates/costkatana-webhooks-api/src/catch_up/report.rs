//! What a pass of catch-up found and did.

use serde::Serialize;

/// An event the sender failed to deliver for good, which the receiver's
/// store does not know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LostEvent {
    /// The event's id.
    pub event_id: String,
    /// Its type.
    pub event_type: String,
    /// Its most recent failed delivery, the one replayed.
    pub delivery_id: String,
    /// How that delivery failed (`network_error`, `http_error`, …).
    pub error_type: String,
    /// Whether a replay was asked for in this pass (`false` on a dry run,
    /// or when another pass or replica had asked already).
    pub replay_asked: bool,
}

/// What one pass of catch-up found and did.
///
/// ```
/// use costkatana_webhooks_api::CatchUpReport;
/// let report = CatchUpReport::default();
/// assert_eq!(report.replays_asked, 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CatchUpReport {
    /// Whether the webhook was found inactive.
    pub was_inactive: bool,
    /// Whether this pass re-activated it.
    pub reactivated: bool,
    /// Delivery records read.
    pub deliveries_read: u64,
    /// Distinct events among them.
    pub events_seen: u64,
    /// Events found lost.
    pub lost: Vec<LostEvent>,
    /// Events whose last delivery failed, but which reached the receiver
    /// (its store knows them).
    pub known_to_the_store: u64,
    /// Events whose last delivery failed after reaching the receiver (a
    /// time-out, a 5xx), left alone because the store forgets on restart
    /// and cannot tell whether they were handled.
    pub uncertain: u64,
    /// Replays asked of the sender.
    pub replays_asked: u64,
    /// Lost events another pass or replica had asked a replay of already.
    pub already_asked: u64,
    /// API calls made.
    pub api_calls: u64,
    /// API calls that failed.
    pub api_errors: u64,
    /// Whether every record since the horizon was read and every lost
    /// event handled (the next pass then starts from this one).
    pub complete: bool,
    /// Why the pass stopped before the end, when it did (`complete` is
    /// then `false`): the API or the receiver's store failed in a way the
    /// next pass may get past.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_by: Option<String>,
}

impl CatchUpReport {
    /// One log line: at info level when something was recovered or the
    /// pass stopped early, debug otherwise.
    pub(crate) fn log(&self) {
        if let Some(reason) = &self.stopped_by {
            tracing::info!(
                read = self.deliveries_read,
                lost = self.lost.len(),
                replays = self.replays_asked,
                reason = %reason,
                "catch-up: pass stopped early; the next one reads again from the same horizon"
            );
        } else if self.lost.is_empty() && !self.reactivated {
            tracing::debug!(
                read = self.deliveries_read,
                events = self.events_seen,
                "catch-up: nothing lost"
            );
        } else {
            tracing::info!(
                read = self.deliveries_read,
                lost = self.lost.len(),
                replays = self.replays_asked,
                already_asked = self.already_asked,
                reactivated = self.reactivated,
                "catch-up: recovering missed events"
            );
        }
    }
}
