//! Settling a claim exactly once, even when the request future is dropped.

use std::sync::Arc;
use std::time::Duration;

use crate::dedupe::{ClaimToken, Completion, DedupeStore, StoreError};

use super::LEASE_OVERRUNS_TOTAL;

/// Owns a fresh claim until it is settled.
///
/// Dropped unsettled (the client went away, a time-out cancelled the
/// request, a background task was aborted), it settles the claim: released
/// if the handler had not succeeded, so the sender's retry is processed;
/// completed if it had, so it is not handled twice. It settles from a
/// spawned task inside a Tokio runtime, and at once outside one when the
/// store can (the memory store can; network stores' claims free when their
/// lease ends).
pub(crate) struct ClaimGuard {
    store: Arc<dyn DedupeStore>,
    key: String,
    token: Option<ClaimToken>,
    ttl: Duration,
    succeeded: bool,
}

impl ClaimGuard {
    pub(crate) fn new(
        store: Arc<dyn DedupeStore>,
        key: String,
        token: ClaimToken,
        ttl: Duration,
    ) -> Self {
        ClaimGuard {
            store,
            key,
            token: Some(token),
            ttl,
            succeeded: false,
        }
    }

    /// The handler succeeded: remember the key as done for the TTL.
    pub(crate) async fn complete(mut self) -> Result<(), StoreError> {
        self.succeeded = true;
        let Some(token) = self.token.take() else {
            return Ok(());
        };
        let completion = self.store.complete(&self.key, token, self.ttl).await?;
        note(completion);
        Ok(())
    }

    /// The handler failed: forget the claim so a retry is processed.
    pub(crate) async fn release(mut self) -> Result<(), StoreError> {
        match self.token.take() {
            Some(token) => self.store.release(&self.key, token).await,
            None => Ok(()),
        }
    }
}

/// Reports a handler that outlived its lease while another copy took the
/// claim over: the event ran twice.
fn note(completion: Completion) {
    if completion == Completion::Overtaken {
        metrics::counter!(LEASE_OVERRUNS_TOTAL).increment(1);
        tracing::warn!(
            "the handler finished after its lease ended and another copy of the event took the \
             claim over, so the event ran twice: raise the lease above the slowest handler, or \
             use ack-first mode for handlers slower than the sender's time-out"
        );
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        let Some(token) = self.token.take() else {
            return;
        };
        let done = self.succeeded.then_some(self.ttl);
        let (store, key) = (Arc::clone(&self.store), std::mem::take(&mut self.key));
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime (the process is shutting down): settle at once if
            // the store can, else the claim frees when its lease ends.
            if !store.settle_without_runtime(&key, token, done) {
                tracing::warn!(
                    "no runtime to settle an abandoned claim; it frees when its lease ends"
                );
            }
            return;
        };
        runtime.spawn(async move {
            let result = match done {
                Some(ttl) => store.complete(&key, token, ttl).await.map(note),
                None => store.release(&key, token).await,
            };
            if let Err(err) = result {
                tracing::warn!(error = %err, "could not settle an abandoned claim; it frees when its lease ends");
            }
        });
    }
}
