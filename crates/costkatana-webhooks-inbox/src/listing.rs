//! A listing's statement, built from the filters that are set: each one a
//! condition an index can serve (never `(? IS NULL OR …)`, which hides
//! the column from the planner), newest first, bodies and headers left
//! unread.

use costkatana_webhooks::inbox::{EntryQuery, MAX_LIST};

use crate::sql::Dialect;
use crate::table::Table;

/// The columns of an [`EntrySummary`](costkatana_webhooks::inbox::EntrySummary),
/// in the order the backends read them.
const SUMMARY: &str =
    "id, state, attempts, event_id, event_type, received_at, run_after, settled_at, last_error";

/// A listing's parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Param {
    Text(String),
    Int(i64),
}

/// A statement and its parameters, `$1`/`?1` onwards in order.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Listing {
    pub(crate) sql: String,
    pub(crate) params: Vec<Param>,
}

pub(crate) fn listing(dialect: Dialect, table: &Table, query: &EntryQuery) -> Listing {
    let mut conditions = Vec::new();
    let mut params = Vec::new();
    let mut bind = |condition: &str, param: Param| {
        params.push(param);
        conditions.push(condition.replace('#', &dialect.placeholder(params.len())));
    };
    if let Some(state) = query.state {
        bind("state = #", Param::Text(state.as_str().to_owned()));
    }
    if let Some(event_type) = &query.event_type {
        bind("event_type = #", Param::Text(event_type.clone()));
    }
    if let Some(since) = query.received_since_ms {
        bind("received_at >= #", Param::Int(since));
    }
    if let Some(before) = query.received_before_ms {
        bind("received_at < #", Param::Int(before));
    }
    if let Some(prefix) = &query.event_id_prefix {
        // A range the event_id index walks, compared byte by byte (Postgres
        // would otherwise compare in the database's collation, where the
        // ids that start with a prefix need not sort together).
        let column = match dialect {
            Dialect::Sqlite => "event_id",
            Dialect::Postgres => "event_id COLLATE \"C\"",
        };
        bind(&format!("{column} >= #"), Param::Text(prefix.clone()));
        if let Some(end) = prefix_end(prefix) {
            bind(&format!("{column} < #"), Param::Text(end));
        }
    }
    if let Some(before_id) = query.before_id {
        bind("id < #", Param::Int(before_id));
    }
    let limit = query.limit.clamp(1, MAX_LIST);
    params.push(Param::Int(i64::try_from(limit).unwrap_or(50)));
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    Listing {
        sql: format!(
            "SELECT {SUMMARY} FROM {table}{filter} ORDER BY id DESC LIMIT {}",
            dialect.placeholder(params.len())
        ),
        params,
    }
}

/// The smallest text greater than every text that starts with `prefix`,
/// in code point order (which is UTF-8's byte order): `prefix` with its
/// last character moved one up, dropping characters that cannot move.
/// `None` when nothing is greater (every character is the last one).
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            // The surrogates are not characters: skip over them.
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(u32::from(c) + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use costkatana_webhooks::inbox::EntryState;

    use super::*;

    #[test]
    fn only_the_filters_given_are_in_the_statement() {
        let table = Table::default();
        let all = listing(Dialect::Sqlite, &table, &EntryQuery::new());
        assert_eq!(
            all.sql,
            format!("SELECT {SUMMARY} FROM costkatana_webhook_inbox ORDER BY id DESC LIMIT ?1")
        );
        assert_eq!(all.params, [Param::Int(50)]);
        let query = EntryQuery::new()
            .state(EntryState::Dead)
            .event_id_prefix("evt_")
            .before_id(9)
            .limit(5);
        let some = listing(Dialect::Postgres, &table, &query);
        assert_eq!(
            some.sql,
            format!(
                "SELECT {SUMMARY} FROM costkatana_webhook_inbox WHERE state = $1 AND \
                 event_id COLLATE \"C\" >= $2 AND event_id COLLATE \"C\" < $3 AND id < $4 \
                 ORDER BY id DESC LIMIT $5"
            )
        );
        assert_eq!(
            some.params,
            [
                Param::Text("dead".into()),
                Param::Text("evt_".into()),
                Param::Text("evt`".into()),
                Param::Int(9),
                Param::Int(5),
            ]
        );
    }

    #[test]
    fn a_limit_set_by_hand_is_still_capped() {
        let mut query = EntryQuery::new();
        query.limit = 1_000_000;
        let capped = listing(Dialect::Sqlite, &Table::default(), &query);
        assert_eq!(capped.params, [Param::Int(MAX_LIST as i64)]);
    }

    #[test]
    fn prefix_ends() {
        assert_eq!(prefix_end("abc").as_deref(), Some("abd"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_end("é").as_deref(), Some("ê"));
        assert_eq!(prefix_end("\u{10FFFF}"), None);
        assert_eq!(prefix_end(""), None);
    }
}
