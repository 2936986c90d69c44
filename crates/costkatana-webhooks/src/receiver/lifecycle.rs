//! The receiver's life: built (no side effects), started (its background
//! work runs), shut down (that work stops, in order). Modelled on River's
//! client `Start`/`Stop` and its elected maintenance services.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::task::JoinHandle;

use super::{Inner, ReplayLedger};
use crate::error::Cause;
use crate::inbox::InboxStore;
use crate::Clock;

/// The boxed future a [`BackgroundTask`] method returns.
pub type TaskFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Periodic work a receiver runs between [`Receiver::start`] and
/// [`Receiver::shutdown`]: maintenance such as the inbox's purge, or the
/// recovery of events the sender dropped.
///
/// Register one with
/// [`ReceiverBuilder::background`](super::ReceiverBuilder::background).
/// At start, every task's [`prepare`](BackgroundTask::prepare) runs first
/// (an error refuses the start, and nothing runs); then each task ticks at
/// once and every [`every`](BackgroundTask::every). A task that must run
/// once per fleet says [`leader_only`](BackgroundTask::leader_only): it
/// ticks only in the process that leads it (on a Postgres inbox, the one
/// holding its advisory lock; on SQLite or without an inbox, the one
/// process). At shutdown, tasks stop in the reverse order of their
/// registration, before the handlers drain; a tick in progress is dropped,
/// so a tick must be safe to cancel at any `.await`.
///
/// [`Receiver::start`]: super::Receiver::start
/// [`Receiver::shutdown`]: super::Receiver::shutdown
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::time::Duration;
/// use costkatana_webhooks::receiver::{BackgroundTask, TaskContext, TaskFuture};
/// use costkatana_webhooks::{Payload, Receiver};
///
/// /// Logs a heartbeat once a minute.
/// #[derive(Default)]
/// struct Heartbeat(AtomicU64);
///
/// impl BackgroundTask for Heartbeat {
///     fn name(&self) -> &'static str { "heartbeat" }
///     fn every(&self) -> Duration { Duration::from_secs(60) }
///     fn tick<'a>(&'a self, context: &'a TaskContext) -> TaskFuture<'a, ()> {
///         Box::pin(async move {
///             let beats = self.0.fetch_add(1, Ordering::Relaxed) + 1;
///             println!("alive at {} ms ({beats} beats)", context.now_ms());
///         })
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let receiver = Receiver::builder()
///     .secret("s3cret")
///     .background(Heartbeat::default())
///     .fallback(|_: Payload| async { Ok(()) })
///     .build()?;
/// receiver.start().await?;
/// receiver.shutdown(Duration::from_secs(5)).await;
/// # Ok(()) }
/// ```
pub trait BackgroundTask: Send + Sync + 'static {
    /// A short name, for logs and for leader election (`inbox-purge`).
    fn name(&self) -> &'static str;

    /// How long to wait between two ticks.
    fn every(&self) -> Duration;

    /// Whether only the fleet's leader for this task runs it (default: no,
    /// every process does).
    fn leader_only(&self) -> bool {
        false
    }

    /// Checks made once at start, before anything runs (default: none).
    ///
    /// # Errors
    ///
    /// Why the receiver must not start (a setting the service refuses, a
    /// store that cannot write).
    fn prepare<'a>(&'a self, context: &'a TaskContext) -> TaskFuture<'a, Result<(), StartError>> {
        let _ = context;
        Box::pin(std::future::ready(Ok(())))
    }

    /// One run of the task. Failures are the task's to log; the next tick
    /// comes regardless.
    fn tick<'a>(&'a self, context: &'a TaskContext) -> TaskFuture<'a, ()>;
}

/// What a [`BackgroundTask`] gets from the receiver running it.
///
/// ```
/// use costkatana_webhooks::receiver::TaskContext;
/// fn log_time(context: &TaskContext) {
///     println!("{}", context.now_ms());
/// }
/// ```
#[derive(Clone)]
pub struct TaskContext {
    clock: Arc<dyn Clock>,
    receiver: Weak<Inner>,
}

impl fmt::Debug for TaskContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskContext").finish_non_exhaustive()
    }
}

impl TaskContext {
    pub(super) fn new(clock: Arc<dyn Clock>, receiver: Weak<Inner>) -> Self {
        TaskContext { clock, receiver }
    }

    /// The receiver's store as catch-up sees it (see [`ReplayLedger`]);
    /// `None` once the receiver is gone.
    pub fn replay_ledger(&self) -> Option<ReplayLedger> {
        self.receiver.upgrade().map(|inner| inner.replay_ledger())
    }

    /// The receiver's clock.
    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// The receiver's time, in ms since the epoch.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}

/// Why a receiver could not start: nothing of it runs.
///
/// ```
/// use costkatana_webhooks::receiver::StartError;
///
/// let err = StartError::new("catch-up", "webhook 65f0… does not exist");
/// assert_eq!(err.to_string(), "could not start catch-up: webhook 65f0… does not exist");
/// ```
#[derive(Debug, Clone)]
pub struct StartError {
    task: &'static str,
    message: String,
    source: Cause,
}

impl StartError {
    /// `task` could not start, for the reason `message` gives (never
    /// include a secret or a credential).
    pub fn new(task: &'static str, message: impl Into<String>) -> Self {
        StartError {
            task,
            message: message.into(),
            source: Cause::default(),
        }
    }

    /// The same error, caused by `source` (reported by
    /// [`std::error::Error::source`]).
    ///
    /// ```
    /// use std::error::Error as _;
    /// use costkatana_webhooks::receiver::StartError;
    /// let err = StartError::new("inbox", "cannot write").caused_by(std::io::Error::other("read-only"));
    /// assert_eq!(err.source().unwrap().to_string(), "read-only");
    /// ```
    #[must_use]
    pub fn caused_by(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        self.source = Cause::new(source);
        self
    }

    /// The task that refused to start.
    ///
    /// ```
    /// # use costkatana_webhooks::receiver::StartError;
    /// assert_eq!(StartError::new("inbox", "x").task(), "inbox");
    /// ```
    pub fn task(&self) -> &'static str {
        self.task
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not start {}: {}", self.task, self.message)
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.get()
    }
}

/// Who leads leader-only tasks: the inbox's election, or this process alone.
#[derive(Clone)]
pub(crate) enum Elector {
    Alone,
    Inbox(Arc<dyn InboxStore>),
}

impl Elector {
    async fn leads(&self, task: &'static str) -> bool {
        match self {
            Elector::Alone => true,
            Elector::Inbox(inbox) => match inbox.lead(task).await {
                Ok(leads) => leads,
                Err(err) => {
                    tracing::debug!(task, error = %err, "could not ask who leads; skipping this run");
                    false
                }
            },
        }
    }
}

/// The registered tasks and, once started, their loops.
pub(crate) struct Tasks {
    tasks: Vec<Arc<dyn BackgroundTask>>,
    running: Mutex<Option<Running>>,
}

/// The loops of started tasks, in registration order.
type Running = Vec<JoinHandle<()>>;

impl Tasks {
    pub(crate) fn new(tasks: Vec<Arc<dyn BackgroundTask>>) -> Self {
        Tasks {
            tasks,
            running: Mutex::new(None),
        }
    }

    pub(crate) fn names(&self) -> Vec<&'static str> {
        self.tasks.iter().map(|task| task.name()).collect()
    }

    /// Every task's checks, in order; the first refusal ends the start.
    pub(crate) async fn prepare(&self, context: &TaskContext) -> Result<(), StartError> {
        for task in &self.tasks {
            task.prepare(context).await?;
        }
        Ok(())
    }

    /// Starts every task's loop on `runtime`.
    pub(crate) fn spawn(
        &self,
        runtime: &tokio::runtime::Handle,
        context: &TaskContext,
        elector: &Elector,
    ) {
        let loops = self
            .tasks
            .iter()
            .map(|task| runtime.spawn(every(Arc::clone(task), context.clone(), elector.clone())))
            .collect();
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) = Some(loops);
    }

    /// Stops the loops one by one, the last registered first (a tick in
    /// progress is dropped at its next `.await`).
    pub(crate) async fn stop(&self) {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        for handle in running.into_iter().flatten().rev() {
            handle.abort();
            let _ = handle.await;
        }
    }
}

/// One task's loop: a tick at once, then one every `task.every()`, until
/// aborted or the receiver is gone.
async fn every(task: Arc<dyn BackgroundTask>, context: TaskContext, elector: Elector) {
    // Ends with the receiver, should it be dropped without a shutdown.
    while context.receiver.strong_count() > 0 {
        if !task.leader_only() || elector.leads(task.name()).await {
            task.tick(&context).await;
        }
        tokio::time::sleep(task.every()).await;
    }
}
