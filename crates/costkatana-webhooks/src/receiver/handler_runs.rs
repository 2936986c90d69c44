//! Which handler runs have ended, per dedupe key: what the testing kit
//! waits on to know that a stored or queued delivery has been handled.
//! Off (one relaxed load per run) until a kit asks for it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::handler::HandlerFuture;
use super::Delivery;

/// Handler runs that have ended, by dedupe key.
#[derive(Default)]
pub(crate) struct HandlerRuns {
    watching: AtomicBool,
    ended: Mutex<HashMap<String, u32>>,
    changed: tokio::sync::Notify,
}

impl HandlerRuns {
    /// Counts the runs that start from now on.
    pub(crate) fn watch(&self) {
        self.watching.store(true, Ordering::Relaxed);
    }

    /// The key to count `delivery`'s run under, while watching.
    pub(crate) fn key_of(&self, delivery: &Delivery) -> Option<String> {
        self.watching
            .load(Ordering::Relaxed)
            .then(|| delivery.dedupe_key().to_owned())
    }

    /// `run`, counted for `key` (from [`key_of`](Self::key_of)) when it
    /// ends: returns, fails, panics or is dropped (cut by a time limit or a
    /// shutdown).
    pub(crate) fn count(
        self: &Arc<Self>,
        key: Option<String>,
        run: HandlerFuture,
    ) -> HandlerFuture {
        let Some(key) = key else {
            return run;
        };
        let ended = Ended {
            runs: Arc::clone(self),
            key,
        };
        Box::pin(async move {
            let _ended = ended;
            run.await
        })
    }

    /// How many runs for `key` have ended.
    pub(crate) fn ended(&self, key: &str) -> u32 {
        let ended = self
            .ended
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        ended.get(key).copied().unwrap_or(0)
    }

    /// Resolves at the next run's end (create it before reading
    /// [`ended`](Self::ended), so no end is missed in between).
    pub(crate) fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.changed.notified()
    }
}

/// Counts a run when dropped.
struct Ended {
    runs: Arc<HandlerRuns>,
    key: String,
}

impl Drop for Ended {
    fn drop(&mut self) {
        let mut ended = self
            .runs
            .ended
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *ended.entry(std::mem::take(&mut self.key)).or_default() += 1;
        drop(ended);
        self.runs.changed.notify_waiters();
    }
}
