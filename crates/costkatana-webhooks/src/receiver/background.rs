//! Ack-first mode's bounded background queue.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::{ConfigError, Error, ErrorKind};

/// At most `capacity` handlers queued or running at once; a permit per job.
/// Jobs run on the runtime serving the request, which is alive by
/// definition (the one the receiver was built in may be gone).
pub(crate) struct Background {
    permits: Arc<Semaphore>,
    capacity: u32,
    closed: AtomicBool,
}

impl Background {
    pub(crate) fn new(capacity: usize) -> Result<Self, ConfigError> {
        let capacity = u32::try_from(capacity)
            .ok()
            .filter(|&c| c > 0 && c as usize <= Semaphore::MAX_PERMITS)
            .ok_or_else(|| {
                ConfigError::new("the ack-first queue capacity must be between 1 and 2^32-1")
            })?;
        Ok(Background {
            permits: Arc::new(Semaphore::new(capacity as usize)),
            capacity,
            closed: AtomicBool::new(false),
        })
    }

    /// Starts `job` on the current runtime if there is room; `overloaded`
    /// otherwise, or outside any runtime (the job is dropped, which
    /// releases its claim): never a 200 for work that cannot run.
    pub(crate) fn try_spawn(
        &self,
        job: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::with_detail(
                ErrorKind::Overloaded,
                "the receiver is shutting down; retry later",
            ));
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            Error::with_detail(
                ErrorKind::Overloaded,
                "ack-first mode runs handlers on a Tokio runtime, and none is running here",
            )
        })?;
        let permit = Arc::clone(&self.permits)
            .try_acquire_owned()
            .map_err(|_| Error::new(ErrorKind::Overloaded))?;
        runtime.spawn(async move {
            job.await;
            drop(permit);
        });
        Ok(())
    }

    /// Refuses new jobs and waits up to `deadline` for the running ones;
    /// returns how many were still running then.
    pub(crate) async fn shutdown(&self, deadline: Duration) -> usize {
        self.closed.store(true, Ordering::SeqCst);
        match tokio::time::timeout(deadline, self.permits.acquire_many(self.capacity)).await {
            Ok(_) => 0,
            Err(_) => self.capacity as usize - self.permits.available_permits(),
        }
    }
}
