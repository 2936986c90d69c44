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

const INSERT: &str = "INSERT INTO costkatana_webhook_inbox
    (dedupe_key, event_id, event_type, headers, body, received_at, state, run_after)
    VALUES ($1, $2, $3, $4, $5, $6, 'pending', $6)
    ON CONFLICT (dedupe_key) DO NOTHING";

const STATE_OF_KEY: &str = "SELECT state FROM costkatana_webhook_inbox WHERE dedupe_key = $1";

const STATE_OF_ID: &str = "SELECT state FROM costkatana_webhook_inbox WHERE id = $1";

/// Leases rows whose lease ended (their worker stopped or crashed), or,
/// with `due`, pending rows due by `$3`, oldest first. Two statements,
/// since one with an `OR` of both would sort every due row per call
/// instead of walking its index; `lock` is Postgres's `FOR UPDATE SKIP
/// LOCKED` (SQLite has one writer, so nothing to skip).
fn take(due: bool, lock: &str) -> String {
    let rows = if due {
        "state = 'pending' AND run_after <= $3 ORDER BY run_after"
    } else {
        "state = 'running' AND lease_until <= $3"
    };
    format!(
        "UPDATE costkatana_webhook_inbox SET state = 'running', attempts = attempts + 1,
            lease_token = $1, lease_until = $2
         WHERE id IN (SELECT id FROM costkatana_webhook_inbox WHERE {rows} LIMIT $4 {lock})
         RETURNING id, attempts, dedupe_key, headers, body, received_at"
    )
}

/// Settles a running row only while it is still the caller's lease (the
/// token changes when another worker takes it). The token stays on the
/// row: when no row changes, [`SETTLED`] tells a settlement already
/// written (its first reply lost to a dropped connection) from a takeover.
const SETTLE: &str = "UPDATE costkatana_webhook_inbox SET
        state = $1, run_after = COALESCE($2, run_after), attempts = $3,
        settled_at = $4, last_error = $5, lease_until = NULL
    WHERE id = $6 AND lease_token = $7 AND state = 'running'";

/// A row's lease token, state and attempts, read when a settlement
/// changed nothing.
const SETTLED: &str =
    "SELECT lease_token, state, attempts FROM costkatana_webhook_inbox WHERE id = $1";

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

/// Every column of a row, in the order [`crate::rows`] reads them.
const GET: &str = "SELECT id, state, attempts, dedupe_key, event_id, event_type, headers, body,
    received_at, run_after, settled_at, last_error
    FROM costkatana_webhook_inbox WHERE id = $1";

/// Back to pending now, attempts from zero; never a running row (its
/// worker may still settle it). SQLite has one writer, so the state read
/// just before it in the same transaction ([`STATE_OF_ID`]) is still the
/// state it changes.
const RETRY_ONE: &str = "UPDATE costkatana_webhook_inbox SET
        state = 'pending', run_after = $1, attempts = 0, settled_at = NULL
    WHERE id = $2 AND state <> 'running'";

/// [`RETRY_ONE`] for Postgres, answering the state the row was in: the
/// row is locked as it is read, so no other transaction changes it in
/// between (a read committed `UPDATE … RETURNING` only sees the new
/// state).
const RETRY_ONE_RETURNING: &str = "WITH old AS (
        SELECT id, state FROM costkatana_webhook_inbox
        WHERE id = $2 AND state <> 'running' FOR UPDATE
    )
    UPDATE costkatana_webhook_inbox SET
        state = 'pending', run_after = $1, attempts = 0, settled_at = NULL
    FROM old WHERE costkatana_webhook_inbox.id = old.id
    RETURNING old.state";

const RETRY_DEAD: &str = "UPDATE costkatana_webhook_inbox SET
        state = 'pending', run_after = $1, attempts = 0, settled_at = NULL
    WHERE state = 'dead'";

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
    pub(crate) purge_done: String,
    pub(crate) counts: String,
    pub(crate) oldest_pending: String,
    pub(crate) get: String,
    pub(crate) retry_one: String,
    pub(crate) retry_dead: String,
}

impl Statements {
    pub(crate) fn new(dialect: Dialect, table: &Table) -> Self {
        let make = |statement: &str| dialect.placeholders(&table.apply(statement));
        let (lock, retry_one) = match dialect {
            Dialect::Sqlite => ("", RETRY_ONE),
            Dialect::Postgres => ("FOR UPDATE SKIP LOCKED", RETRY_ONE_RETURNING),
        };
        Statements {
            dialect,
            table: table.clone(),
            insert: make(INSERT),
            state_of_key: make(STATE_OF_KEY),
            state_of_id: make(STATE_OF_ID),
            take_expired: make(&take(false, lock)),
            take_due: make(&take(true, lock)),
            settle: make(SETTLE),
            settled: make(SETTLED),
            renew: make(RENEW),
            purge_done: make(PURGE_DONE),
            counts: make(COUNTS),
            oldest_pending: make(OLDEST_PENDING),
            get: make(GET),
            retry_one: make(retry_one),
            retry_dead: make(RETRY_DEAD),
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
