//! Many events at once: distinct events sent by concurrent workers, each
//! event's copies sent side by side (as the sender's retries and fallback
//! mode may), and a [`Summary`] of every attempt: a load and dedupe test for
//! a receiver.
//!
//! ```
//! use std::convert::Infallible;
//! use costkatana_webhooks::Scheme;
//! use costkatana_webhooks_sandbox::bulk::{send_many, Plan};
//! use costkatana_webhooks_sandbox::sender::{Endpoint, Sender, SignedRequest};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
//! let endpoint = Endpoint::parse(&format!("http://127.0.0.1:{port}/webhooks/costkatana"))?;
//! let next = move || -> Result<SignedRequest, Infallible> {
//!     Ok(SignedRequest::new(endpoint.clone(), Scheme::Current, "s3cret", 1_777_377_600_000, "{}"))
//! };
//! let plan = Plan::new(10).concurrency(4).duplicates(2);
//! let summary = send_many(&Sender::builder().build()?, plan, next, || {}).await?;
//! // Nothing listens there: every copy fails at once, unretried.
//! assert_eq!(summary.requests(), 20);
//! assert_eq!(summary.statuses().get("unreachable"), Some(&20));
//! assert!(!summary.all_delivered());
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::sender::{Reply, Sender, SignedRequest};

/// How many events, how many in flight, how many copies of each.
///
/// ```
/// use costkatana_webhooks_sandbox::bulk::Plan;
///
/// let plan = Plan::new(100).concurrency(0).duplicates(0);
/// assert_eq!((plan.count(), plan.concurrency_limit(), plan.copies()), (100, 1, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    count: u64,
    concurrency: usize,
    duplicates: u32,
}

impl Plan {
    /// `count` distinct events, 8 in flight at once, one copy of each.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::bulk::Plan;
    /// assert_eq!(Plan::new(3).concurrency_limit(), 8);
    /// ```
    pub const fn new(count: u64) -> Plan {
        Plan {
            count,
            concurrency: 8,
            duplicates: 1,
        }
    }

    /// Events in flight at once (at least 1).
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::bulk::Plan;
    /// assert_eq!(Plan::new(3).concurrency(2).concurrency_limit(), 2);
    /// ```
    #[must_use]
    pub fn concurrency(mut self, events: usize) -> Plan {
        self.concurrency = events.max(1);
        self
    }

    /// Identical copies of each event, sent concurrently and each retried on
    /// its own (at least 1).
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::bulk::Plan;
    /// assert_eq!(Plan::new(3).duplicates(2).copies(), 2);
    /// ```
    #[must_use]
    pub fn duplicates(mut self, copies: u32) -> Plan {
        self.duplicates = copies.max(1);
        self
    }

    /// How many distinct events.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::bulk::Plan;
    /// assert_eq!(Plan::new(3).count(), 3);
    /// ```
    pub fn count(&self) -> u64 {
        self.count
    }

    /// How many events in flight at once.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::bulk::Plan;
    /// assert_eq!(Plan::new(3).concurrency(4).concurrency_limit(), 4);
    /// ```
    pub fn concurrency_limit(&self) -> usize {
        self.concurrency
    }

    /// How many copies of each event.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::bulk::Plan;
    /// assert_eq!(Plan::new(3).copies(), 1);
    /// ```
    pub fn copies(&self) -> u32 {
        self.duplicates
    }
}

/// What a [`send_many`] run did: every attempt's reply and latency, and
/// how many events and copies were delivered.
///
/// ```
/// # use costkatana_webhooks_sandbox::bulk::Summary;
/// fn print(summary: &Summary) {
///     println!("{}/{} events delivered", summary.events_delivered(), summary.plan().count());
///     if let Some(p99) = summary.latency_percentile(99) {
///         println!("p99 {p99:?}");
///     }
/// }
/// # let _ = print;
/// ```
#[derive(Debug, Clone)]
pub struct Summary {
    plan: Plan,
    elapsed: Duration,
    statuses: BTreeMap<String, u64>,
    /// Sorted, for percentiles.
    latencies: Vec<Duration>,
    events_delivered: u64,
    copies_delivered: u64,
    first_failure: Option<Reply>,
}

impl Summary {
    /// The plan it ran.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::bulk::Summary;
    /// # fn check(summary: &Summary) {
    /// println!("{} event(s) x {} copies", summary.plan().count(), summary.plan().copies());
    /// # }
    /// ```
    pub fn plan(&self) -> Plan {
        self.plan
    }

    /// From the first request to the last answer.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::bulk::Summary;
    /// # fn check(summary: &Summary) {
    /// println!("{:.2} s", summary.elapsed().as_secs_f64());
    /// # }
    /// ```
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Requests made, retries included.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::bulk::Summary;
    /// # fn check(summary: &Summary) {
    /// let per_second = summary.requests() as f64 / summary.elapsed().as_secs_f64().max(1e-9);
    /// # }
    /// ```
    pub fn requests(&self) -> u64 {
        self.statuses.values().sum()
    }

    /// Attempts per [`Reply::label`] (`200`, `503`, `timeout`, …), by label.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::bulk::Summary;
    /// # fn check(summary: &Summary) {
    /// assert_eq!(summary.statuses().values().sum::<u64>(), summary.requests());
    /// # }
    /// ```
    pub fn statuses(&self) -> &BTreeMap<String, u64> {
        &self.statuses
    }

    /// The nearest-rank percentile `pct` (0–100) of the attempts'
    /// latencies; `None` when no attempt was made.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::bulk::Summary;
    /// # fn check(summary: &Summary) {
    /// assert!(summary.latency_percentile(50) <= summary.latency_percentile(99));
    /// assert_eq!(summary.latency_percentile(100), summary.max_latency());
    /// # }
    /// ```
    pub fn latency_percentile(&self, pct: u8) -> Option<Duration> {
        nearest_rank(&self.latencies, pct)
    }

    /// The slowest attempt's latency; `None` when no attempt was made.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::bulk::Summary;
    /// # fn check(summary: &Summary) {
    /// assert_eq!(summary.max_latency().is_some(), summary.requests() > 0);
    /// # }
    /// ```
    pub fn max_latency(&self) -> Option<Duration> {
        self.latencies.last().copied()
    }

    /// Events of which at least one copy was delivered.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::bulk::Summary;
    /// # fn check(summary: &Summary) {
    /// assert!(summary.events_delivered() <= summary.plan().count());
    /// # }
    /// ```
    pub fn events_delivered(&self) -> u64 {
        self.events_delivered
    }

    /// Copies delivered, of [`Plan::count`] × [`Plan::copies`].
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::bulk::Summary;
    /// # fn check(summary: &Summary) {
    /// assert!(summary.copies_delivered() >= summary.events_delivered());
    /// # }
    /// ```
    pub fn copies_delivered(&self) -> u64 {
        self.copies_delivered
    }

    /// Whether every event was delivered (at least one copy of each).
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::bulk::Summary;
    /// # fn check(summary: &Summary) {
    /// assert_eq!(summary.all_delivered(), summary.events_delivered() == summary.plan().count());
    /// # }
    /// ```
    pub fn all_delivered(&self) -> bool {
        self.events_delivered == self.plan.count
    }

    /// The first reply other than a 2xx, if any: usually the reason for the
    /// rest.
    ///
    /// ```
    /// # use costkatana_webhooks_sandbox::bulk::Summary;
    /// # fn check(summary: &Summary) {
    /// if let Some(reply) = summary.first_failure() {
    ///     println!("first answer other than 2xx: {reply:?}");
    /// }
    /// # }
    /// ```
    pub fn first_failure(&self) -> Option<&Reply> {
        self.first_failure.as_ref()
    }
}

/// Sends `plan.count()` events with `sender`: `next` makes (and signs) each
/// event's request, its copies are sent concurrently, each retried on its
/// own; `on_event` is called as each event is settled (for a progress bar).
///
/// Spawns tasks: needs a tokio runtime with time enabled.
///
/// # Errors
///
/// The first error `next` returns; the events in flight are abandoned.
///
/// # Panics
///
/// When a sending task panicked (the panic is passed on).
pub async fn send_many<E: Send + 'static>(
    sender: &Sender,
    plan: Plan,
    next: impl Fn() -> Result<SignedRequest, E> + Send + Sync + 'static,
    on_event: impl Fn() + Send + Sync + 'static,
) -> Result<Summary, E> {
    let run = Arc::new(Run {
        sender: sender.clone(),
        plan,
        next_event: AtomicU64::new(0),
        tally: Mutex::new(Tally::default()),
        next,
        on_event,
    });
    let started = Instant::now();
    let workers = usize::try_from(plan.count)
        .unwrap_or(usize::MAX)
        .min(plan.concurrency);
    let mut tasks = JoinSet::new();
    for _ in 0..workers {
        let run = Arc::clone(&run);
        tasks.spawn(async move { run.work().await });
    }
    while let Some(joined) = tasks.join_next().await {
        // Dropping `tasks` on an error aborts the other workers.
        joined.unwrap_or_else(|err| std::panic::resume_unwind(err.into_panic()))?;
    }
    let tally = std::mem::take(&mut *run.tally.lock().unwrap_or_else(PoisonError::into_inner));
    Ok(tally.into_summary(plan, started.elapsed()))
}

/// What the workers of one run share.
struct Run<N, P> {
    sender: Sender,
    plan: Plan,
    next_event: AtomicU64,
    tally: Mutex<Tally>,
    next: N,
    on_event: P,
}

impl<N, P, E> Run<N, P>
where
    N: Fn() -> Result<SignedRequest, E> + Send + Sync + 'static,
    P: Fn() + Send + Sync + 'static,
    E: Send + 'static,
{
    /// Takes events until there are none left.
    async fn work(self: Arc<Self>) -> Result<(), E> {
        while self.next_event.fetch_add(1, Ordering::Relaxed) < self.plan.count {
            let request = Arc::new((self.next)()?);
            self.send_event(request).await;
            (self.on_event)();
        }
        Ok(())
    }

    /// One event: its copies side by side, each retried on its own.
    async fn send_event(self: &Arc<Self>, request: Arc<SignedRequest>) {
        let mut copies = JoinSet::new();
        for _ in 0..self.plan.duplicates {
            let (run, request) = (Arc::clone(self), Arc::clone(&request));
            copies.spawn(async move {
                let last = run
                    .sender
                    .deliver(&request, |attempt| {
                        run.tally().count(&attempt.reply, attempt.latency);
                    })
                    .await;
                last.reply.is_delivered()
            });
        }
        let mut delivered = 0;
        while let Some(joined) = copies.join_next().await {
            if joined.unwrap_or_else(|err| std::panic::resume_unwind(err.into_panic())) {
                delivered += 1;
            }
        }
        let mut tally = self.tally();
        tally.copies_delivered += delivered;
        if delivered > 0 {
            tally.events_delivered += 1;
        }
    }

    fn tally(&self) -> std::sync::MutexGuard<'_, Tally> {
        // A panicking holder only ever left a count half-added.
        self.tally.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The counts as they are being made.
#[derive(Default)]
struct Tally {
    statuses: BTreeMap<String, u64>,
    latencies: Vec<Duration>,
    events_delivered: u64,
    copies_delivered: u64,
    first_failure: Option<Reply>,
}

impl Tally {
    fn count(&mut self, reply: &Reply, latency: Duration) {
        *self.statuses.entry(reply.label()).or_default() += 1;
        self.latencies.push(latency);
        if !reply.is_delivered() && self.first_failure.is_none() {
            self.first_failure = Some(reply.clone());
        }
    }

    fn into_summary(mut self, plan: Plan, elapsed: Duration) -> Summary {
        self.latencies.sort_unstable();
        Summary {
            plan,
            elapsed,
            statuses: self.statuses,
            latencies: self.latencies,
            events_delivered: self.events_delivered,
            copies_delivered: self.copies_delivered,
            first_failure: self.first_failure,
        }
    }
}

/// The nearest-rank percentile `pct` of sorted `values`.
fn nearest_rank(values: &[Duration], pct: u8) -> Option<Duration> {
    let rank = (values.len() * usize::from(pct.min(100)))
        .div_ceil(100)
        .max(1);
    values.get(rank.min(values.len()).checked_sub(1)?).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(nearest_rank(&values, 50), Some(Duration::from_millis(50)));
        assert_eq!(nearest_rank(&values, 99), Some(Duration::from_millis(99)));
        assert_eq!(nearest_rank(&values, 100), Some(Duration::from_millis(100)));
        assert_eq!(nearest_rank(&values, 0), Some(Duration::from_millis(1)));
        assert_eq!(
            nearest_rank(&values[..1], 99),
            Some(Duration::from_millis(1))
        );
        assert_eq!(nearest_rank(&[], 50), None);
    }
}
