//! What the console asks of the inbox, in one place: each page and API
//! call goes through here, so the pages never depend on how a figure is
//! obtained.

use costkatana_webhooks::inbox::{Entry, EntryState, EntrySummary, InboxStats, MAX_LIST};
use costkatana_webhooks_inbox::{Inbox, InboxError, InboxErrorKind};

use crate::filter::Filter;

/// The most entries a count walks before it says "at least".
const COUNT_CAP: u64 = 100_000;

/// Why an action was not taken.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The inbox said no, or could not answer.
    Inbox(InboxError),
    /// The console refuses it as asked (a done entry retried without
    /// force, a purge of a pending entry, …): the message says why.
    Console(String),
}

impl From<InboxError> for Refusal {
    fn from(err: InboxError) -> Self {
        Refusal::Inbox(err)
    }
}

/// How many entries a filter matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Count {
    Exact(u64),
    /// More than the count walks; at least this many.
    AtLeast(u64),
}

impl Count {
    pub(crate) fn at_least(self) -> u64 {
        match self {
            Count::Exact(n) | Count::AtLeast(n) => n,
        }
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Count::Exact(n) => write!(f, "{n}"),
            Count::AtLeast(n) => write!(f, "at least {n}"),
        }
    }
}

/// One minute of activity.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Minute {
    pub(crate) handled: u64,
    pub(crate) failed: u64,
    pub(crate) dead: u64,
    pub(crate) p50_ms: Option<f64>,
    pub(crate) p90_ms: Option<f64>,
    pub(crate) p99_ms: Option<f64>,
}

/// Minute by minute from `start_ms`, every minute present.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Activity {
    pub(crate) start_ms: i64,
    pub(crate) minutes: Vec<Minute>,
}

/// One attempt of an entry, as the delivery page shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct AttemptView {
    pub(crate) number: u32,
    pub(crate) started_at_ms: i64,
    pub(crate) duration_ms: Option<i64>,
    pub(crate) outcome: String,
    pub(crate) error: Option<String>,
    pub(crate) worker: Option<String>,
}

/// Which entries a bulk action takes from a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bulk {
    /// Dead letters, or done entries when the filter asks for done ones.
    Retry,
    /// Done and dead entries.
    Purge,
}

impl Bulk {
    /// The filter the action really applies, or why it cannot apply to
    /// this one.
    pub(crate) fn scope(self, filter: &Filter) -> Result<Filter, String> {
        let mut scoped = filter.without_cursor();
        match (self, filter.state) {
            (Bulk::Retry, None) => scoped.state = Some(EntryState::Dead),
            (Bulk::Retry, Some(EntryState::Dead | EntryState::Done)) => {}
            (Bulk::Purge, None | Some(EntryState::Dead | EntryState::Done)) => {}
            (Bulk::Retry, Some(state)) => {
                return Err(format!(
                    "{state} deliveries are waiting for their worker already: retry acts on dead \
                     (or done) ones"
                ))
            }
            (Bulk::Purge, Some(state)) => {
                return Err(format!(
                    "{state} deliveries are never purged: purge acts on done and dead ones"
                ))
            }
        }
        Ok(scoped)
    }
}

/// The inbox as the console uses it.
#[derive(Clone)]
pub(crate) struct Source {
    inbox: Inbox,
}

impl Source {
    pub(crate) fn new(inbox: Inbox) -> Source {
        Source { inbox }
    }

    pub(crate) async fn stats(&self) -> Result<InboxStats, InboxError> {
        self.inbox.stats().await
    }

    /// Per-minute activity between the two times, when the inbox keeps it.
    pub(crate) async fn activity(
        &self,
        _since_ms: i64,
        _until_ms: i64,
    ) -> Result<Option<Activity>, InboxError> {
        Ok(None)
    }

    pub(crate) async fn list(
        &self,
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<EntrySummary>, InboxError> {
        self.inbox.list(&filter.entry_query(limit)).await
    }

    pub(crate) async fn get(&self, id: i64) -> Result<Entry, InboxError> {
        self.inbox.get(id).await
    }

    /// Every attempt of entry `id`, when the inbox keeps them.
    pub(crate) async fn attempts(&self, _id: i64) -> Result<Option<Vec<AttemptView>>, InboxError> {
        Ok(None)
    }

    /// Makes entry `id` pending again; a done one only with `force` (its
    /// handler succeeded once already). Returns the state it was in.
    pub(crate) async fn retry(&self, id: i64, force: bool) -> Result<EntryState, Refusal> {
        let entry = self.inbox.get(id).await?;
        if entry.state == EntryState::Done && !force {
            return Err(Refusal::Console(
                "this delivery was handled already: confirm that its handler should run again"
                    .to_owned(),
            ));
        }
        Ok(self.inbox.retry(id).await?)
    }

    /// Deletes entry `id`, done or dead.
    pub(crate) async fn purge(&self, id: i64) -> Result<(), Refusal> {
        let entry = self.inbox.get(id).await?;
        if !matches!(entry.state, EntryState::Done | EntryState::Dead) {
            return Err(Refusal::Console(format!(
                "a {} delivery is never purged: only done and dead ones are",
                entry.state
            )));
        }
        Err(Refusal::Console(
            "this inbox version cannot delete one delivery".to_owned(),
        ))
    }

    /// How many entries `filter` matches (its cursor aside).
    pub(crate) async fn count(&self, filter: &Filter) -> Result<Count, InboxError> {
        let mut page_filter = filter.without_cursor();
        let mut total = 0u64;
        loop {
            let page = self.inbox.list(&page_filter.entry_query(MAX_LIST)).await?;
            total += page.len() as u64;
            match page.last() {
                Some(last) if page.len() == MAX_LIST => page_filter.before = Some(last.id),
                _ => return Ok(Count::Exact(total)),
            }
            if total >= COUNT_CAP {
                return Ok(Count::AtLeast(total));
            }
        }
    }

    /// Makes every entry `filter` matches pending again, at most
    /// `per_second` a second; `progress` is told each one. Returns how many.
    pub(crate) async fn retry_matching(
        &self,
        filter: &Filter,
        per_second: u32,
        progress: impl Fn(u64),
    ) -> Result<u64, InboxError> {
        let per_second = u64::from(per_second.max(1));
        let mut page_filter = filter.without_cursor();
        let mut done = 0u64;
        let started = tokio::time::Instant::now();
        loop {
            let page = self.inbox.list(&page_filter.entry_query(MAX_LIST)).await?;
            for entry in &page {
                match self.inbox.retry(entry.id).await {
                    Ok(_) => {
                        done += 1;
                        progress(done);
                    }
                    // Taken by a worker or purged meanwhile: not this action's.
                    Err(err)
                        if matches!(
                            err.kind(),
                            InboxErrorKind::Conflict | InboxErrorKind::NotFound
                        ) => {}
                    Err(err) => return Err(err),
                }
                if done % per_second == 0 {
                    tokio::time::sleep_until(
                        started + std::time::Duration::from_secs(done / per_second),
                    )
                    .await;
                }
            }
            match page.last() {
                Some(last) if page.len() == MAX_LIST => page_filter.before = Some(last.id),
                _ => return Ok(done),
            }
        }
    }

    /// Deletes the done and dead entries `filter` matches; `None` when this
    /// inbox cannot.
    pub(crate) async fn purge_matching(&self, _filter: &Filter) -> Result<Option<u64>, InboxError> {
        Ok(None)
    }
}
