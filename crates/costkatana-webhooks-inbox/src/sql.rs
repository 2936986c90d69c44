//! The statements, written once with `$n` placeholders and turned into each
//! backend's dialect once ([`Statements`]), and what both backends share
//! about rows.

use bytes::Bytes;
use costkatana_webhooks::dedupe::ClaimToken;
use costkatana_webhooks::inbox::{LeasedEntry, Settlement};

use crate::InboxError;

/// The table's name, in both backends.
const TABLE: &str = "costkatana_webhook_inbox";

/// The table, with the DDL types that differ per backend filled in.
fn schema(id_column: &str, blob: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {TABLE} (
            id {id_column},
            dedupe_key TEXT NOT NULL UNIQUE,
            event_id TEXT,
            event_type TEXT,
            headers TEXT NOT NULL,
            body {blob} NOT NULL,
            received_at BIGINT NOT NULL,
            state TEXT NOT NULL,
            attempts BIGINT NOT NULL DEFAULT 0,
            run_after BIGINT NOT NULL,
            lease_token TEXT,
            lease_until BIGINT,
            settled_at BIGINT,
            last_error TEXT
        );
        CREATE INDEX IF NOT EXISTS {TABLE}_due ON {TABLE} (state, run_after);
        CREATE INDEX IF NOT EXISTS {TABLE}_lease ON {TABLE} (state, lease_until);
        CREATE INDEX IF NOT EXISTS {TABLE}_settled ON {TABLE} (state, settled_at);"
    )
}

const INSERT: &str = "INSERT INTO costkatana_webhook_inbox
    (dedupe_key, event_id, event_type, headers, body, received_at, state, run_after)
    VALUES ($1, $2, $3, $4, $5, $6, 'pending', $6)
    ON CONFLICT (dedupe_key) DO NOTHING";

const STATE_OF_KEY: &str = "SELECT state FROM costkatana_webhook_inbox WHERE dedupe_key = $1";

/// Leases rows whose lease ended (their worker stopped or crashed), or,
/// with `due`, pending rows due by `$3`, oldest first. Two statements,
/// since one with an `OR` of both would sort every due row per call
/// instead of walking its index; `{lock}` is Postgres's `FOR UPDATE SKIP
/// LOCKED` (SQLite has one writer, so nothing to skip).
fn take(due: bool, lock: &str) -> String {
    let rows = if due {
        "state = 'pending' AND run_after <= $3 ORDER BY run_after"
    } else {
        "state = 'running' AND lease_until <= $3"
    };
    format!(
        "UPDATE {TABLE} SET state = 'running', attempts = attempts + 1,
            lease_token = $1, lease_until = $2
         WHERE id IN (SELECT id FROM {TABLE} WHERE {rows} LIMIT $4 {lock})
         RETURNING id, attempts, dedupe_key, headers, body, received_at"
    )
}

/// Settles a row only while it is still the caller's lease (the token
/// changes when another worker takes it). The token stays on the row, so
/// the same settlement written again (its first reply was lost to a
/// dropped connection) matches again instead of reading as a takeover.
const SETTLE: &str = "UPDATE costkatana_webhook_inbox SET
        state = $1, run_after = COALESCE($2, run_after), attempts = $3,
        settled_at = $4, last_error = $5, lease_until = NULL
    WHERE id = $6 AND lease_token = $7";

/// Extends a running row's lease while it is still the caller's.
const RENEW: &str = "UPDATE costkatana_webhook_inbox SET lease_until = $1
    WHERE id = $2 AND lease_token = $3 AND state = 'running'";

const PURGE_DONE: &str =
    "DELETE FROM costkatana_webhook_inbox WHERE state = 'done' AND settled_at < $1";

/// Rows per state, from an index alone (no row is read).
const COUNTS: &str = "SELECT state, COUNT(*) FROM costkatana_webhook_inbox GROUP BY state";

/// The oldest pending arrival; reads only pending rows.
const OLDEST_PENDING: &str =
    "SELECT MIN(received_at) FROM costkatana_webhook_inbox WHERE state = 'pending'";

const COLUMNS: &str = "id, state, attempts, dedupe_key, event_id, event_type, headers, body,
    received_at, run_after, settled_at, last_error";

/// Newest first; `$1` is a state or NULL for all, `$2` the limit.
fn list() -> String {
    format!(
        "SELECT {COLUMNS} FROM {TABLE} WHERE (CAST($1 AS TEXT) IS NULL OR state = $1) ORDER BY id DESC LIMIT $2"
    )
}

fn get() -> String {
    format!("SELECT {COLUMNS} FROM {TABLE} WHERE id = $1")
}

/// Back to pending now, attempts from zero; never a running row (its
/// worker may still settle it).
const RETRY_ONE: &str = "UPDATE costkatana_webhook_inbox SET
        state = 'pending', run_after = $1, attempts = 0, settled_at = NULL
    WHERE id = $2 AND state <> 'running'";

const RETRY_DEAD: &str = "UPDATE costkatana_webhook_inbox SET
        state = 'pending', run_after = $1, attempts = 0, settled_at = NULL
    WHERE state = 'dead'";

/// Every statement in one backend's dialect, made once per process.
pub(crate) struct Statements {
    pub(crate) schema: String,
    pub(crate) insert: String,
    pub(crate) state_of_key: String,
    pub(crate) take_expired: String,
    pub(crate) take_due: String,
    pub(crate) settle: String,
    pub(crate) renew: String,
    pub(crate) purge_done: String,
    pub(crate) counts: String,
    pub(crate) oldest_pending: String,
    pub(crate) list: String,
    pub(crate) get: String,
    pub(crate) retry_one: String,
    pub(crate) retry_dead: String,
}

impl Statements {
    /// SQLite's: `?n` placeholders (SQLite reads `$1` as a name, numbered
    /// by first appearance), and no row locks (one writer).
    pub(crate) fn sqlite() -> Self {
        let schema = schema("INTEGER PRIMARY KEY AUTOINCREMENT", "BLOB");
        Statements::new(schema, "", |statement| statement.replace('$', "?"))
    }

    /// Postgres's: leases skip rows another worker has locked.
    pub(crate) fn postgres() -> Self {
        let schema = schema("BIGSERIAL PRIMARY KEY", "BYTEA");
        Statements::new(schema, "FOR UPDATE SKIP LOCKED", str::to_owned)
    }

    fn new(schema: String, lock: &str, dialect: fn(&str) -> String) -> Self {
        Statements {
            schema,
            insert: dialect(INSERT),
            state_of_key: dialect(STATE_OF_KEY),
            take_expired: dialect(&take(false, lock)),
            take_due: dialect(&take(true, lock)),
            settle: dialect(SETTLE),
            renew: dialect(RENEW),
            purge_done: dialect(PURGE_DONE),
            counts: dialect(COUNTS),
            oldest_pending: dialect(OLDEST_PENDING),
            list: dialect(&list()),
            get: dialect(&get()),
            retry_one: dialect(RETRY_ONE),
            retry_dead: dialect(RETRY_DEAD),
        }
    }

    /// The lease statement for rows whose lease ended, or, with `due`, for
    /// pending rows that are due.
    pub(crate) fn take(&self, due: bool) -> &str {
        if due {
            &self.take_due
        } else {
            &self.take_expired
        }
    }
}

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
    serde_json::from_str(json)
        .map_err(|err| InboxError::caused_by("a stored row's headers are not valid", err))
}
