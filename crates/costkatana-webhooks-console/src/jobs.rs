//! Bulk retries run in the background (they are rate-limited, so a large
//! one takes a while); the console keeps the last few so the overview and
//! the API can show their progress.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// How many finished or running jobs are remembered.
const KEPT: usize = 20;

/// One bulk retry.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) id: u64,
    /// The filter it acts on, in words.
    pub(crate) scope: String,
    pub(crate) started_ms: i64,
    /// How many matched when it was confirmed.
    pub(crate) expected: u64,
    done: AtomicU64,
    outcome: Mutex<Outcome>,
}

/// Where a job is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Running,
    Finished,
    /// Stopped by an inbox error (logged); the deliveries retried until
    /// then stay retried.
    Failed,
}

impl Job {
    pub(crate) fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    pub(crate) fn set_done(&self, n: u64) {
        self.done.store(n, Ordering::Relaxed);
    }

    pub(crate) fn outcome(&self) -> Outcome {
        self.outcome
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn finish(&self, outcome: Outcome) {
        *self
            .outcome
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = outcome;
    }
}

/// The recent jobs, newest first.
#[derive(Debug, Default)]
pub(crate) struct Jobs {
    next_id: AtomicU64,
    recent: Mutex<VecDeque<Arc<Job>>>,
}

impl Jobs {
    pub(crate) fn start(&self, scope: String, expected: u64, now_ms: i64) -> Arc<Job> {
        let job = Arc::new(Job {
            id: self.next_id.fetch_add(1, Ordering::Relaxed) + 1,
            scope,
            started_ms: now_ms,
            expected,
            done: AtomicU64::new(0),
            outcome: Mutex::new(Outcome::Running),
        });
        let mut recent = self.lock();
        recent.push_front(Arc::clone(&job));
        recent.truncate(KEPT);
        job
    }

    pub(crate) fn recent(&self) -> Vec<Arc<Job>> {
        self.lock().iter().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Arc<Job>>> {
        self.recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
