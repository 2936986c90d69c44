//! What both backends share about rows: the columns a settlement writes,
//! how a leased row becomes a job, the stored headers' encoding, and how a
//! settlement that changed nothing is read.

use bytes::Bytes;
use costkatana_webhooks::dedupe::{ClaimToken, Completion};
use costkatana_webhooks::inbox::{EntryState, InboxStats, LeasedEntry, Settlement};

use crate::error::{InboxError, InboxErrorKind};

/// The columns a settlement writes: state, run_after, attempts (absolute,
/// so writing it twice changes nothing), settled_at, last_error.
pub(crate) struct SettleParams {
    pub(crate) state: &'static str,
    pub(crate) run_after: Option<i64>,
    pub(crate) attempts: i64,
    pub(crate) settled_at: Option<i64>,
    pub(crate) last_error: Option<String>,
}

impl SettleParams {
    pub(crate) fn new(job: &LeasedEntry, settlement: Settlement, now_ms: i64) -> Self {
        let attempts = i64::from(job.attempt);
        match settlement {
            Settlement::Done => SettleParams {
                state: "done",
                run_after: None,
                attempts,
                settled_at: Some(now_ms),
                last_error: None,
            },
            Settlement::Retry { at_ms, error } => SettleParams {
                state: "pending",
                run_after: Some(at_ms),
                attempts,
                settled_at: None,
                last_error: Some(error),
            },
            Settlement::Dead { error } => SettleParams {
                state: "dead",
                run_after: None,
                attempts,
                settled_at: Some(now_ms),
                last_error: Some(error),
            },
            Settlement::Release => SettleParams {
                state: "pending",
                run_after: Some(now_ms),
                attempts: attempts - 1,
                settled_at: None,
                last_error: None,
            },
        }
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

/// A leased row as a worker's job.
pub(crate) fn job(
    token: ClaimToken,
    id: i64,
    attempts: i64,
    dedupe_key: String,
    headers: &str,
    body: Vec<u8>,
    received_at_ms: i64,
) -> Result<LeasedEntry, InboxError> {
    Ok(LeasedEntry {
        id,
        token,
        attempt: u32::try_from(attempts).unwrap_or(u32::MAX),
        dedupe_key,
        headers: parse_headers(headers)?,
        body: Bytes::from(body),
        received_at_ms,
    })
}

pub(crate) fn headers_json(headers: &[(String, String)]) -> String {
    serde_json::to_string(headers).unwrap_or_else(|_| "[]".to_owned())
}

pub(crate) fn parse_headers(json: &str) -> Result<Vec<(String, String)>, InboxError> {
    serde_json::from_str(json).map_err(|err| {
        InboxError::caused_by(
            InboxErrorKind::Schema,
            "a stored row's headers are not valid",
            err,
        )
    })
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
        }
    }

    #[test]
    fn a_settlement_already_in_place_under_the_same_lease_is_recorded() {
        let job = job_at(2);
        let token = job.token.to_hex();
        let done = SettleParams::new(&job, Settlement::Done, 5);
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
        let release = SettleParams::new(&job, Settlement::Release, 5);
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
