//! What the console asks of the inbox, in one place: each page and API
//! call goes through here, so the pages never depend on how a figure is
//! obtained.

use costkatana_webhooks::inbox::{Entry, EntryState, EntrySummary, InboxStats, MAX_LIST};
use costkatana_webhooks_inbox::{Inbox, InboxError};

use crate::filter::Filter;

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
    pub(crate) duration_ms: i64,
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

    /// Per-minute activity between the two times, every minute present.
    pub(crate) async fn activity(
        &self,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Activity, InboxError> {
        let start_ms = since_ms.div_euclid(60_000) * 60_000;
        let recorded = self.inbox.activity(start_ms, until_ms).await?;
        let span = usize::try_from((until_ms - start_ms).div_euclid(60_000) + 1).unwrap_or(0);
        let mut minutes = vec![Minute::default(); span];
        for minute in recorded {
            let Ok(at) = usize::try_from((minute.minute_ms - start_ms) / 60_000) else {
                continue;
            };
            if let Some(slot) = minutes.get_mut(at) {
                *slot = Minute {
                    handled: minute.handled,
                    failed: minute.failed,
                    dead: minute.dead,
                    p50_ms: minute.p50_ms,
                    p90_ms: minute.p90_ms,
                    p99_ms: minute.p99_ms,
                };
            }
        }
        Ok(Activity { start_ms, minutes })
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

    /// Every attempt of entry `id`, oldest first.
    pub(crate) async fn attempts(&self, id: i64) -> Result<Vec<AttemptView>, InboxError> {
        Ok(self
            .inbox
            .attempts(id)
            .await?
            .into_iter()
            .map(|attempt| AttemptView {
                number: attempt.number,
                started_at_ms: attempt.started_at_ms,
                duration_ms: attempt.duration_ms,
                outcome: attempt.outcome.to_string(),
                error: attempt.error,
                worker: attempt.worker,
            })
            .collect())
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
        self.inbox.delete(id).await?;
        Ok(())
    }

    /// How many entries `filter` matches (its cursor aside).
    pub(crate) async fn count(&self, filter: &Filter) -> Result<u64, InboxError> {
        self.inbox
            .count(&filter.without_cursor().entry_query(MAX_LIST))
            .await
    }

    /// Makes every entry `filter` matches pending again, at most
    /// `per_second` a second; `progress` is told each one. Returns how many.
    pub(crate) async fn retry_matching(
        &self,
        filter: &Filter,
        per_second: u32,
        progress: impl FnMut(u64) + Send,
    ) -> Result<u64, InboxError> {
        let query = filter.without_cursor().entry_query(MAX_LIST);
        self.inbox
            .retry_matching_with_progress(&query, per_second.max(1), progress)
            .await
    }

    /// Deletes the done and dead entries `filter` matches.
    pub(crate) async fn purge_matching(&self, filter: &Filter) -> Result<u64, InboxError> {
        self.inbox
            .purge(&filter.without_cursor().entry_query(MAX_LIST))
            .await
    }
}
