//! Inbox mode's periodic work: the depth gauges, and the purge of done
//! entries past the dedupe TTL (once per fleet).

use std::sync::Arc;
use std::time::Duration;

use crate::clock::millis;
use crate::inbox::{EntryState, InboxStore, INBOX_DEPTH, INBOX_OLDEST_PENDING_SECONDS};
use crate::receiver::{BackgroundTask, TaskContext, TaskFuture};

/// Refreshes the depth gauges every 5 s.
pub(crate) struct Gauges(pub(crate) Arc<dyn InboxStore>);

impl BackgroundTask for Gauges {
    fn name(&self) -> &'static str {
        "inbox-gauges"
    }

    fn every(&self) -> Duration {
        Duration::from_secs(5)
    }

    fn tick<'a>(&'a self, context: &'a TaskContext) -> TaskFuture<'a, ()> {
        Box::pin(async move {
            match self.0.stats().await {
                Ok(stats) => {
                    for state in EntryState::ALL {
                        metrics::gauge!(INBOX_DEPTH, "state" => state.as_str())
                            .set(stats.count(state) as f64);
                    }
                    let oldest_ms = stats
                        .oldest_pending_ms
                        .map_or(0, |at| (context.now_ms() - at).max(0));
                    metrics::gauge!(INBOX_OLDEST_PENDING_SECONDS).set(oldest_ms as f64 / 1000.0);
                }
                Err(err) => tracing::warn!(error = %err, "could not read the inbox depth"),
            }
        })
    }
}

/// Deletes done entries older than the dedupe TTL every minute, in the one
/// process that leads the purge.
pub(crate) struct Purge {
    pub(crate) inbox: Arc<dyn InboxStore>,
    pub(crate) ttl: Duration,
}

impl BackgroundTask for Purge {
    fn name(&self) -> &'static str {
        "inbox-purge"
    }

    fn every(&self) -> Duration {
        Duration::from_secs(60)
    }

    fn leader_only(&self) -> bool {
        true
    }

    fn tick<'a>(&'a self, context: &'a TaskContext) -> TaskFuture<'a, ()> {
        Box::pin(async move {
            let before_ms = context.now_ms().saturating_sub(millis(self.ttl));
            match self.inbox.purge_done(before_ms).await {
                Ok(0) => {}
                Ok(purged) => tracing::debug!(purged, "purged done entries past the dedupe TTL"),
                Err(err) => tracing::warn!(error = %err, "could not purge done entries"),
            }
        })
    }
}
