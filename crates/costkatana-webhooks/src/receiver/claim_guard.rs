//! Settling a claim exactly once, even when the request future is dropped.

use std::sync::Arc;
use std::time::Duration;

use crate::dedupe::{ClaimToken, DedupeStore, StoreError};

/// Owns a fresh claim until it is settled.
///
/// Dropped unsettled (the client went away, a time-out cancelled the
/// request, a background task was aborted), it settles the claim from a
/// spawned task: released if the handler had not succeeded, so the
/// sender's retry is processed; completed if it had, so it is not handled
/// twice.
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
        let result = match self.token {
            Some(token) => self.store.complete(&self.key, token, self.ttl).await,
            None => Ok(()),
        };
        self.token = None;
        result
    }

    /// The handler failed: forget the claim so a retry is processed.
    pub(crate) async fn release(mut self) -> Result<(), StoreError> {
        let result = match self.token {
            Some(token) => self.store.release(&self.key, token).await,
            None => Ok(()),
        };
        self.token = None;
        result
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        let Some(token) = self.token.take() else {
            return;
        };
        let (store, key, ttl, succeeded) = (
            Arc::clone(&self.store),
            std::mem::take(&mut self.key),
            self.ttl,
            self.succeeded,
        );
        let settle = async move {
            let result = if succeeded {
                store.complete(&key, token, ttl).await
            } else {
                store.release(&key, token).await
            };
            if let Err(err) = result {
                tracing::warn!(error = %err, "could not settle an abandoned claim; it frees when its lease ends");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(settle);
            }
            // No runtime (the process is shutting down): the claim frees
            // when its lease ends.
            Err(_) => tracing::warn!(
                "no runtime to settle an abandoned claim; it frees when its lease ends"
            ),
        }
    }
}
