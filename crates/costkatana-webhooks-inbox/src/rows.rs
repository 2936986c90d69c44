//! What both backends share about rows: the columns a settlement writes,
//! how a leased row becomes a job, the stored headers' encoding, and how a
//! settlement that changed nothing is read.

use bytes::Bytes;
use costkatana_webhooks::dedupe::{ClaimToken, Completion};
use costkatana_webhooks::inbox::{EntryState, InboxStats, LeasedEntry, Settlement};

use crate::error::{InboxError, InboxErrorKind};
use crate::history::{ActivityBuffer, AttemptOutcome, Counts};

/// The columns a settlement writes: state, run_after, attempts (absolute,
/// so writing it twice changes nothing), settled_at, last_error, and
/// whether the body and headers are dropped.
pub(crate) struct SettleParams {
    pub(crate) state: &'static str,
    pub(crate) run_after: Option<i64>,
    pub(crate) attempts: i64,
    pub(crate) settled_at: Option<i64>,
    pub(crate) last_error: Option<String>,
    /// A done row keeps only what dedupe needs, unless the inbox keeps
    /// done bodies ([`crate::InboxBuilder::keep_done_bodies`]).
    pub(crate) drop_body: bool,
    /// When the attempt started, and when it ended (now).
    pub(crate) started_at: i64,
    pub(crate) ended_at: i64,
    /// A failed attempt's outcome, for the attempts table (a done
    /// attempt is the row itself; a release is no attempt).
    pub(crate) failed: Option<AttemptOutcome>,
}

impl SettleParams {
    /// The columns for `settlement` of `job`; `keep_done_bodies` is the
    /// inbox's setting.
    pub(crate) fn new(
        job: &LeasedEntry,
        settlement: Settlement,
        now_ms: i64,
        keep_done_bodies: bool,
    ) -> Self {
        SettleParams::of_attempt(
            job.attempt,
            job.leased_at_ms,
            settlement,
            now_ms,
            keep_done_bodies,
        )
    }

    /// The columns for `settlement` of the `attempt`th attempt, which
    /// started at `started_at`.
    pub(crate) fn of_attempt(
        attempt: u32,
        started_at: i64,
        settlement: Settlement,
        now_ms: i64,
        keep_done_bodies: bool,
    ) -> Self {
        let attempts = i64::from(attempt);
        let failed = AttemptOutcome::of(&settlement).filter(|o| *o != AttemptOutcome::Done);
        let columns =
            |state, run_after, attempts, settled_at, last_error, drop_body| SettleParams {
                state,
                run_after,
                attempts,
                settled_at,
                last_error,
                drop_body,
                started_at,
                ended_at: now_ms,
                failed,
            };
        match settlement {
            Settlement::Done => columns(
                "done",
                None,
                attempts,
                Some(now_ms),
                None,
                !keep_done_bodies,
            ),
            Settlement::Retry { at_ms, error } => {
                columns("pending", Some(at_ms), attempts, None, Some(error), false)
            }
            Settlement::Dead { error } => {
                columns("dead", None, attempts, Some(now_ms), Some(error), false)
            }
            Settlement::Release => {
                columns("pending", Some(now_ms), attempts - 1, None, None, false)
            }
        }
    }

    /// How the attempt ended, if it is one that ended (not a release).
    pub(crate) fn outcome(&self) -> Option<AttemptOutcome> {
        self.failed
            .or((self.state == "done").then_some(AttemptOutcome::Done))
    }

    /// Counts the attempt this settlement ends, if it is one that ended,
    /// in `activity`; answers the counts due for the table (see
    /// [`ActivityBuffer::take_due`]).
    pub(crate) fn count_in(&self, activity: &ActivityBuffer) -> Counts {
        let Some(outcome) = self.outcome() else {
            return Counts::new();
        };
        let duration = self.ended_at.saturating_sub(self.started_at);
        activity.record(outcome, self.ended_at, duration);
        activity.take_due(self.ended_at, false)
    }

    /// A settlement that changed no row (the row was no longer running
    /// under this lease): recorded if the row already holds exactly it
    /// under this lease (the same settlement written again after a lost
    /// reply), else overtaken. `row` is the row's lease token, state and
    /// attempts, when there is a row.
    pub(crate) fn judge(
        &self,
        token: &str,
        row: Option<(Option<String>, String, i64)>,
    ) -> Completion {
        match row {
            Some((Some(held), state, attempts))
                if held == token && state == self.state && attempts == self.attempts =>
            {
                Completion::Recorded
            }
            _ => Completion::Overtaken,
        }
    }
}

/// A row as a lease statement returns it.
pub(crate) struct Taken {
    pub(crate) id: i64,
    pub(crate) attempts: i64,
    pub(crate) dedupe_key: String,
    pub(crate) headers: String,
    pub(crate) body: Vec<u8>,
    pub(crate) received_at_ms: i64,
}

impl Taken {
    /// This lease's attempt number.
    pub(crate) fn attempt(&self) -> u32 {
        u32::try_from(self.attempts).unwrap_or(u32::MAX)
    }

    /// The row as a worker's job leased at `now_ms`, or why it cannot be
    /// one.
    pub(crate) fn into_job(
        self,
        token: ClaimToken,
        now_ms: i64,
    ) -> Result<LeasedEntry, InboxError> {
        Ok(LeasedEntry {
            id: self.id,
            token,
            attempt: self.attempt(),
            headers: parse_headers(&self.headers)?,
            dedupe_key: self.dedupe_key,
            body: Bytes::from(self.body),
            received_at_ms: self.received_at_ms,
            leased_at_ms: now_ms,
        })
    }
}

pub(crate) fn headers_json(headers: &[(String, String)]) -> String {
    serde_json::to_string(headers).unwrap_or_else(|_| "[]".to_owned())
}

/// A row's stored headers. The error says where they stop parsing, never
/// what they hold (a signature, a credential).
pub(crate) fn parse_headers(json: &str) -> Result<Vec<(String, String)>, InboxError> {
    serde_json::from_str(json).map_err(|err| {
        InboxError::new(
            InboxErrorKind::Schema,
            format!(
                "the stored headers are not a JSON list of name and value pairs (line {}, \
                 column {})",
                err.line(),
                err.column()
            ),
        )
    })
}

/// How a leased row whose stored headers do not parse is settled: dead at
/// once, saying why (it cannot be verified again, so no attempt can run),
/// instead of failing the whole take and stranding the rows leased with
/// it.
pub(crate) fn unreadable(attempt: u32, why: &InboxError, now_ms: i64) -> SettleParams {
    let error = format!("{why}: it cannot be verified again, so it was dead-lettered unrun");
    SettleParams::of_attempt(attempt, now_ms, Settlement::Dead { error }, now_ms, true)
}

/// A state read back from the table; the table only ever holds the four.
pub(crate) fn parse_state(name: &str) -> EntryState {
    EntryState::parse(name).unwrap_or(EntryState::Pending)
}

/// A renewal: one row changed, the caller's lease held; none, another
/// worker's now (or the row is no longer running).
pub(crate) fn completion(changed: u64) -> Completion {
    if changed == 1 {
        Completion::Recorded
    } else {
        Completion::Overtaken
    }
}

/// Adds one `GROUP BY state` row to `stats`.
pub(crate) fn add_count(stats: &mut InboxStats, state: &str, count: i64) {
    let count = u64::try_from(count).unwrap_or(0);
    match EntryState::parse(state) {
        Some(EntryState::Pending) => stats.pending = count,
        Some(EntryState::Running) => stats.running = count,
        Some(EntryState::Done) => stats.done = count,
        Some(EntryState::Dead) => stats.dead = count,
        None => {}
    }
}

/// The error for a row that is not there.
pub(crate) fn no_row(id: i64) -> InboxError {
    InboxError::new(
        InboxErrorKind::NotFound,
        format!("there is no inbox row with id {id}"),
    )
}

/// The error for retrying a done row whose body was dropped.
pub(crate) fn not_kept(id: i64) -> InboxError {
    InboxError::new(
        InboxErrorKind::Conflict,
        format!(
            "row {id} is done and its body was not kept (a done row keeps only what dedupe \
             needs, unless the inbox keeps done bodies): it cannot run again"
        ),
    )
}

/// The error for deleting a row that is not there (`None`) or is not done
/// or dead.
pub(crate) fn not_deletable(id: i64, state: Option<EntryState>) -> InboxError {
    match state {
        None => no_row(id),
        Some(state) => InboxError::new(
            InboxErrorKind::Conflict,
            format!(
                "row {id} is {state}: only done or dead rows can be purged (retry it, or wait \
                 for it to end)"
            ),
        ),
    }
}

/// The error for retrying a row a worker holds.
pub(crate) fn running(id: i64) -> InboxError {
    InboxError::new(
        InboxErrorKind::Conflict,
        format!("row {id} is running: a worker holds it; retry it once it is done or dead"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job_at(attempt: u32) -> LeasedEntry {
        LeasedEntry {
            id: 1,
            token: ClaimToken::random(),
            attempt,
            dedupe_key: String::new(),
            headers: Vec::new(),
            body: Bytes::new(),
            received_at_ms: 0,
            leased_at_ms: 0,
        }
    }

    #[test]
    fn a_settlement_already_in_place_under_the_same_lease_is_recorded() {
        let job = job_at(2);
        let token = job.token.to_hex();
        let done = SettleParams::new(&job, Settlement::Done, 5, false);
        let row =
            |t: &str, state: &str, attempts| Some((Some(t.to_owned()), state.to_owned(), attempts));
        assert_eq!(
            done.judge(&token, row(&token, "done", 2)),
            Completion::Recorded
        );
        assert_eq!(
            done.judge(&token, row("other", "done", 2)),
            Completion::Overtaken
        );
        assert_eq!(
            done.judge(&token, row(&token, "pending", 0)),
            Completion::Overtaken
        );
        assert_eq!(done.judge(&token, None), Completion::Overtaken);
        let release = SettleParams::new(&job, Settlement::Release, 5, false);
        assert_eq!(
            release.judge(&token, row(&token, "pending", 1)),
            Completion::Recorded
        );
        assert_eq!(
            release.judge(&token, row(&token, "pending", 2)),
            Completion::Overtaken
        );
    }
}
