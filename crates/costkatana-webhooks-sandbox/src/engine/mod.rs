//! The delivery engine: attempts each pending record when it is due, at
//! most [`MAX_CONCURRENT_ATTEMPTS`] at once, and schedules the retries the
//! store asks for. The rules of what an answer means are the store's
//! ([`crate::store::attempts`]); this runs them in time.

mod request;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify, Semaphore};

use crate::model::id::Id;
use crate::sender::Sender;
use crate::shared::Shared;

/// Attempts in flight at once, as the live service's queue worker runs
/// them.
pub(crate) const MAX_CONCURRENT_ATTEMPTS: usize = 5;

/// What runs the attempts.
pub(crate) struct Engine {
    sender: Sender,
    /// Divides every retry delay.
    speed: f64,
    permits: Semaphore,
    stop: watch::Receiver<bool>,
    /// Told whenever a record settles or a new one appears.
    changed: Notify,
    runtime: tokio::runtime::Handle,
}

impl Engine {
    pub(crate) fn new(
        sender: Sender,
        speed: f64,
        stop: watch::Receiver<bool>,
        runtime: tokio::runtime::Handle,
    ) -> Engine {
        Engine {
            sender,
            speed,
            permits: Semaphore::new(MAX_CONCURRENT_ATTEMPTS),
            stop,
            changed: Notify::new(),
            runtime,
        }
    }

    /// Resolves once the sandbox is told to stop.
    async fn stopped(&self) {
        let mut stop = self.stop.clone();
        // An error means the sender is gone: stopped too.
        let _ = stop.wait_for(|stopped| *stopped).await;
    }
}

impl Shared {
    /// Attempts record `id` after `delay`.
    pub(crate) fn enqueue(self: &Arc<Self>, id: Id, delay: Duration) {
        let state = Arc::clone(self);
        self.engine.changed.notify_waiters();
        self.engine.runtime.spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(delay) => state.attempt(id).await,
                () = state.engine.stopped() => {}
            }
        });
    }

    /// Makes the attempt of record `id`, if it is still due one.
    async fn attempt(self: Arc<Self>, id: Id) {
        let engine = &self.engine;
        let Ok(_permit) = engine.permits.acquire().await else {
            return;
        };
        let job = self.store().begin_attempt(id, self.now());
        let Some(job) = job else {
            // It may have just failed (its webhook inactive): tell waiters.
            engine.changed.notify_waiters();
            return;
        };
        let request = match request::outgoing(&job.request) {
            Ok(request) => request,
            Err(error) => {
                self.store().fail_before_attempt(id, error, self.now());
                engine.changed.notify_waiters();
                return;
            }
        };
        let timeout =
            Duration::try_from_secs_f64(job.timeout_ms / 1000.0).unwrap_or(Duration::from_secs(30));
        let exchange = tokio::select! {
            exchange = engine.sender.exchange(&request, Some(timeout)) => exchange,
            // Stopping mid-attempt leaves the record pending, as a crash
            // of the live worker would.
            () = engine.stopped() => return,
        };
        let retry = self
            .store()
            .finish_attempt(id, &exchange, self.now(), engine.speed);
        engine.changed.notify_waiters();
        if let Some(retry) = retry {
            self.enqueue(retry.id, retry.delay);
        }
    }

    /// Resolves once no record is pending (none waiting for its attempt or
    /// in it).
    pub(crate) async fn settled(&self) {
        loop {
            let changed = self.engine.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.store().pending() == 0 {
                return;
            }
            changed.await;
        }
    }
}
