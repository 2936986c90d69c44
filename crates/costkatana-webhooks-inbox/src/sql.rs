//! The statements, written once for the default table with `$n`
//! placeholders, and turned into one inbox's dialect and table name once,
//! when it opens ([`Statements`]).

use crate::table::Table;

/// Which database a statement is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `statement` (written with `$n` placeholders) in this dialect: SQLite
    /// numbers its placeholders `?n` (it reads `$1` as a name, numbered by
    /// first appearance, so `$2 … $1` would swap). Only a `$` followed by a
    /// digit outside a quoted literal or identifier is a placeholder.
    pub(crate) fn placeholders(self, statement: &str) -> String {
        match self {
            Dialect::Postgres => statement.to_owned(),
            Dialect::Sqlite => numbered_question_marks(statement),
        }
    }

    /// The `n`th placeholder (from 1).
    pub(crate) fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Postgres => format!("${n}"),
            Dialect::Sqlite => format!("?{n}"),
        }
    }
}

/// `$n` to `?n`, leaving `'…'` literals and `"…"` identifiers alone (a
/// doubled quote inside one is part of it, and so stays inside).
fn numbered_question_marks(statement: &str) -> String {
    let mut out = String::with_capacity(statement.len());
    let mut quote: Option<char> = None;
    let mut chars = statement.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(open) if c == open => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => {
                out.push('?');
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    out
}

/// Stores a delivery unless its key is there. SQLite keys rows by the
/// dedupe key itself; Postgres by its SHA-256 (`$7`), since a btree entry
/// holds at most about 2.7 KB and an event id may be longer.
fn insert(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => {
            "INSERT INTO costkatana_webhook_inbox
            (dedupe_key, event_id, event_type, headers, body, received_at, state, run_after)
            VALUES ($1, $2, $3, $4, $5, $6, 'pending', $6)
            ON CONFLICT (dedupe_key) DO NOTHING"
        }
        Dialect::Postgres => {
            "INSERT INTO costkatana_webhook_inbox
            (dedupe_key, event_id, event_type, headers, body, received_at, state, run_after,
             key_digest)
            VALUES ($1, $2, $3, $4, $5, $6, 'pending', $6, $7)
            ON CONFLICT (key_digest) DO NOTHING"
        }
    }
}

/// The state of the row holding a key (its digest, on Postgres).
fn state_of_key(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "SELECT state FROM costkatana_webhook_inbox WHERE dedupe_key = $1",
        Dialect::Postgres => "SELECT state FROM costkatana_webhook_inbox WHERE key_digest = $1",
    }
}

/// A done row whose body and headers were dropped (the inbox keeps done
/// rows' bodies only when told to): it cannot run again.
const DROPPED: &str = "(state = 'done' AND headers = '[]')";

/// A row's state and whether its body was dropped.
const STATE_OF_ID: &str = "SELECT state, (state = 'done' AND headers = '[]')
    FROM costkatana_webhook_inbox WHERE id = $1";

/// Postgres's clock, in ms since the epoch: the one clock leases are
/// judged by, whatever the clocks of the replicas sharing the table.
const DATABASE_NOW_MS: &str = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

/// Leases rows whose lease ended (their worker stopped or crashed), or,
/// with `due`, pending rows due by the caller's now, oldest first. Two
/// statements, since one with an `OR` of both would sort every due row
/// per call instead of walking its index.
///
/// SQLite (one process, one clock): `$1` token, `$2` lease end, `$3` now,
/// `$4` limit. Postgres leases by its own clock and keeps the lease's
/// length for renewals: `$1` token, `$2` lease in ms, then the due
/// statement's `$3` now and `$4` limit, or the expired one's `$3` limit;
/// `FOR UPDATE SKIP LOCKED` skips rows another replica is leasing.
fn take(dialect: Dialect, due: bool) -> String {
    let (lease, rows, limit, lock) = match (dialect, due) {
        (Dialect::Sqlite, true) => (
            "lease_until = $2".to_owned(),
            "state = 'pending' AND run_after <= $3 ORDER BY run_after".to_owned(),
            "$4",
            "",
        ),
        (Dialect::Sqlite, false) => (
            "lease_until = $2".to_owned(),
            "state = 'running' AND lease_until <= $3".to_owned(),
            "$4",
            "",
        ),
        (Dialect::Postgres, true) => (
            format!("lease_until = {DATABASE_NOW_MS} + $2, lease_ms = $2"),
            "state = 'pending' AND run_after <= $3 ORDER BY run_after".to_owned(),
            "$4",
            "FOR UPDATE SKIP LOCKED",
        ),
        (Dialect::Postgres, false) => (
            format!("lease_until = {DATABASE_NOW_MS} + $2, lease_ms = $2"),
            format!("state = 'running' AND lease_until <= {DATABASE_NOW_MS}"),
            "$3",
            "FOR UPDATE SKIP LOCKED",
        ),
    };
    format!(
        "UPDATE costkatana_webhook_inbox SET state = 'running', attempts = attempts + 1,
            lease_token = $1, {lease}
         WHERE id IN (SELECT id FROM costkatana_webhook_inbox WHERE {rows} LIMIT {limit} {lock})
         RETURNING id, attempts, dedupe_key, headers, body, received_at"
    )
}

/// Settles a running row only while it is still the caller's lease (the
/// token changes when another worker takes it). The token stays on the
/// row: when no row changes, [`SETTLED`] tells a settlement already
/// written (its first reply lost to a dropped connection) from a takeover.
/// With `$8`, the body and headers are dropped (a done row keeps only
/// what dedupe needs); `$9` is when the attempt started.
///
/// On Postgres the statement also records a failed attempt in the same
/// statement (`$10` ended at, `$11` outcome or NULL for none, `$12` its
/// error, `$13` the worker) and answers how many rows it settled; SQLite's
/// writer records it with [`INSERT_ATTEMPT`] in the same transaction.
fn settle(dialect: Dialect) -> String {
    let update = |empty: &str| {
        format!(
            "UPDATE costkatana_webhook_inbox SET
            state = $1, run_after = COALESCE($2, run_after), attempts = $3,
            settled_at = $4, last_error = $5, lease_until = NULL, started_at = $9,
            body = CASE WHEN $8 THEN {empty} ELSE body END,
            headers = CASE WHEN $8 THEN '[]' ELSE headers END
        WHERE id = $6 AND lease_token = $7 AND state = 'running'"
        )
    };
    match dialect {
        Dialect::Sqlite => update("X''"),
        Dialect::Postgres => format!(
            "WITH settled AS ({} RETURNING id),
            recorded AS (
                INSERT INTO costkatana_webhook_inbox_attempts
                    (entry_id, attempt, started_at, ended_at, outcome, error, worker)
                SELECT id, $3, $9, $10, $11::text, $12, $13 FROM settled
                WHERE $11::text IS NOT NULL
            )
            SELECT COUNT(*) FROM settled",
            update("''::bytea")
        ),
    }
}

/// A failed attempt (SQLite): entry, attempt, started, ended, outcome,
/// error, worker.
const INSERT_ATTEMPT: &str = "INSERT INTO costkatana_webhook_inbox_attempts
    (entry_id, attempt, started_at, ended_at, outcome, error, worker)
    VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// An entry's failed attempts, oldest first (at most 1,000).
const ATTEMPTS_OF: &str = "SELECT attempt, started_at, ended_at, outcome, error, worker
    FROM costkatana_webhook_inbox_attempts WHERE entry_id = $1 ORDER BY id LIMIT 1000";

/// What a row says of its last attempt: state, attempts, started, settled.
const LAST_ATTEMPT: &str = "SELECT state, attempts, started_at, settled_at
    FROM costkatana_webhook_inbox WHERE id = $1";

/// Adds a process's count to one of a minute's rows (by outcome, or by
/// duration bucket: see `history::counted`).
const ACTIVITY_ADD: &str =
    "INSERT INTO costkatana_webhook_inbox_activity (minute, outcome, bucket, n)
    VALUES ($1, $2, $3, $4)
    ON CONFLICT (minute, outcome, bucket)
    DO UPDATE SET n = costkatana_webhook_inbox_activity.n + excluded.n";

/// The counts of the minutes in `[$1, $2)`, by minute.
const ACTIVITY_READ: &str = "SELECT minute, outcome, bucket, n
    FROM costkatana_webhook_inbox_activity WHERE minute >= $1 AND minute < $2
    ORDER BY minute";

/// Forgets the minutes before `$1`.
const ACTIVITY_TRIM: &str = "DELETE FROM costkatana_webhook_inbox_activity WHERE minute < $1";

/// Records that a replay of a key (its digest, on Postgres) is expected
/// until `$2`, unless a record that has not ended by `$3` is there: one
/// row changed when recorded now.
fn replay_expect(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => {
            "INSERT INTO costkatana_webhook_inbox_replays (dedupe_key, until_ms) VALUES ($1, $2)
            ON CONFLICT (dedupe_key) DO UPDATE SET until_ms = excluded.until_ms
            WHERE costkatana_webhook_inbox_replays.until_ms <= $3"
        }
        Dialect::Postgres => {
            "INSERT INTO costkatana_webhook_inbox_replays (key_digest, until_ms) VALUES ($1, $2)
            ON CONFLICT (key_digest) DO UPDATE SET until_ms = excluded.until_ms
            WHERE costkatana_webhook_inbox_replays.until_ms <= $3"
        }
    }
}

/// A row when a replay of the key is expected after `$2`.
fn replay_expected(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => {
            "SELECT 1 FROM costkatana_webhook_inbox_replays WHERE dedupe_key = $1 AND until_ms > $2"
        }
        Dialect::Postgres => {
            "SELECT 1 FROM costkatana_webhook_inbox_replays WHERE key_digest = $1 AND until_ms > $2"
        }
    }
}

/// Forgets the replay records that ended by `$1`.
const REPLAYS_TRIM: &str = "DELETE FROM costkatana_webhook_inbox_replays WHERE until_ms <= $1";

/// Deletes one done or dead row, answering its state.
const DELETE_ONE: &str = "DELETE FROM costkatana_webhook_inbox
    WHERE id = $1 AND state IN ('done', 'dead') RETURNING state";

/// A row's lease token, state and attempts, read when a settlement
/// changed nothing.
const SETTLED: &str =
    "SELECT lease_token, state, attempts FROM costkatana_webhook_inbox WHERE id = $1";

/// Extends a running row's lease while it is still the caller's: to `$1`
/// on SQLite; on Postgres by the lease's length from the database's
/// clock (`$1` only for a row leased before the length was kept).
fn renew(dialect: Dialect) -> String {
    let until = match dialect {
        Dialect::Sqlite => "$1".to_owned(),
        Dialect::Postgres => format!("COALESCE({DATABASE_NOW_MS} + lease_ms, $1)"),
    };
    format!(
        "UPDATE costkatana_webhook_inbox SET lease_until = {until}
        WHERE id = $2 AND lease_token = $3 AND state = 'running'"
    )
}

/// Rows per state, from the counters triggers keep (a read as short
/// however large the table): four on SQLite, four per shard on Postgres.
fn counts(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "SELECT state, n FROM costkatana_webhook_inbox_counts",
        Dialect::Postgres => {
            "SELECT state, SUM(n)::BIGINT FROM costkatana_webhook_inbox_counts GROUP BY state"
        }
    }
}

/// The oldest pending arrival, from the arrival index alone.
const OLDEST_PENDING: &str =
    "SELECT MIN(received_at) FROM costkatana_webhook_inbox WHERE state = 'pending'";

/// Every column of a row, in the order [`crate::rows`] reads them.
const GET: &str = "SELECT id, state, attempts, dedupe_key, event_id, event_type, headers, body,
    received_at, run_after, settled_at, last_error
    FROM costkatana_webhook_inbox WHERE id = $1";

/// Back to pending now, attempts from zero; never a running row (its
/// worker may still settle it) nor a done row whose body was dropped.
/// SQLite has one writer, so the state read just before it in the same
/// transaction ([`STATE_OF_ID`]) is still the state it changes.
fn retry_one() -> String {
    format!(
        "UPDATE costkatana_webhook_inbox SET
            state = 'pending', run_after = $1, attempts = 0, settled_at = NULL
        WHERE id = $2 AND state <> 'running' AND NOT {DROPPED}"
    )
}

/// [`retry_one`] for Postgres, answering the state the row was in: the
/// row is locked as it is read, so no other transaction changes it in
/// between (a read committed `UPDATE … RETURNING` only sees the new
/// state).
fn retry_one_returning() -> String {
    format!(
        "WITH old AS (
            SELECT id, state FROM costkatana_webhook_inbox
            WHERE id = $2 AND state <> 'running' AND NOT {DROPPED} FOR UPDATE
        )
        UPDATE costkatana_webhook_inbox SET
            state = 'pending', run_after = $1, attempts = 0, settled_at = NULL
        FROM old WHERE costkatana_webhook_inbox.id = old.id
        RETURNING old.state"
    )
}

const RETRY_DEAD: &str = "UPDATE costkatana_webhook_inbox SET
        state = 'pending', run_after = $1, attempts = 0, settled_at = NULL
    WHERE state = 'dead'";

/// A row that is never committed: the health probe's write (its id is
/// negative, so no real row's; its key random, so no replica's probe
/// waits for another's).
fn probe(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => {
            "INSERT INTO costkatana_webhook_inbox
            (id, dedupe_key, headers, body, received_at, state, run_after)
            VALUES ($1, $2, '[]', X'', 0, 'done', 0)"
        }
        Dialect::Postgres => {
            "INSERT INTO costkatana_webhook_inbox
            (id, dedupe_key, key_digest, headers, body, received_at, state, run_after)
            VALUES ($1, $2, $3, '[]', ''::bytea, 0, 'done', 0)"
        }
    }
}

/// Every statement in one inbox's dialect and table, made once per open.
#[derive(Debug)]
pub(crate) struct Statements {
    pub(crate) dialect: Dialect,
    pub(crate) table: Table,
    pub(crate) insert: String,
    pub(crate) state_of_key: String,
    pub(crate) state_of_id: String,
    pub(crate) take_expired: String,
    pub(crate) take_due: String,
    pub(crate) settle: String,
    pub(crate) settled: String,
    pub(crate) renew: String,
    pub(crate) counts: String,
    pub(crate) oldest_pending: String,
    pub(crate) get: String,
    pub(crate) retry_one: String,
    pub(crate) retry_dead: String,
    pub(crate) probe: String,
    pub(crate) insert_attempt: String,
    pub(crate) attempts_of: String,
    pub(crate) last_attempt: String,
    pub(crate) activity_add: String,
    pub(crate) activity_read: String,
    pub(crate) activity_trim: String,
    pub(crate) replay_expect: String,
    pub(crate) replay_expected: String,
    pub(crate) replays_trim: String,
    pub(crate) delete_one: String,
}

impl Statements {
    pub(crate) fn new(dialect: Dialect, table: &Table) -> Self {
        let make = |statement: &str| dialect.placeholders(&table.apply(statement));
        let retry_one = match dialect {
            Dialect::Sqlite => retry_one(),
            Dialect::Postgres => retry_one_returning(),
        };
        Statements {
            dialect,
            table: table.clone(),
            insert: make(insert(dialect)),
            state_of_key: make(state_of_key(dialect)),
            state_of_id: make(STATE_OF_ID),
            take_expired: make(&take(dialect, false)),
            take_due: make(&take(dialect, true)),
            settle: make(&settle(dialect)),
            settled: make(SETTLED),
            renew: make(&renew(dialect)),
            counts: make(counts(dialect)),
            oldest_pending: make(OLDEST_PENDING),
            get: make(GET),
            retry_one: make(&retry_one),
            retry_dead: make(RETRY_DEAD),
            probe: make(probe(dialect)),
            insert_attempt: make(INSERT_ATTEMPT),
            attempts_of: make(ATTEMPTS_OF),
            last_attempt: make(LAST_ATTEMPT),
            activity_add: make(ACTIVITY_ADD),
            activity_read: make(ACTIVITY_READ),
            activity_trim: make(ACTIVITY_TRIM),
            replay_expect: make(replay_expect(dialect)),
            replay_expected: make(replay_expected(dialect)),
            replays_trim: make(REPLAYS_TRIM),
            delete_one: make(DELETE_ONE),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_placeholders_become_question_marks() {
        let statement =
            "SELECT '$1', \"a$2\", 'it''s $3' || $4 FROM t WHERE price = '$' AND x = $12 AND y = $";
        assert_eq!(
            Dialect::Sqlite.placeholders(statement),
            "SELECT '$1', \"a$2\", 'it''s $3' || ?4 FROM t WHERE price = '$' AND x = ?12 AND y = $"
        );
        assert_eq!(Dialect::Postgres.placeholders(statement), statement);
    }

    #[test]
    fn every_statement_names_the_configured_table() {
        let table = Table::new("hooks").unwrap();
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let s = Statements::new(dialect, &table);
            for text in [&s.insert, &s.take_due, &s.settle, &s.get, &s.retry_one] {
                assert!(text.contains("hooks"), "{text}");
                assert!(!text.contains("costkatana"), "{text}");
            }
        }
        let sqlite = Statements::new(Dialect::Sqlite, &table);
        assert!(sqlite.settle.contains("id = ?6 AND lease_token = ?7"));
        assert!(!sqlite.take_due.contains('$'));
    }
}
