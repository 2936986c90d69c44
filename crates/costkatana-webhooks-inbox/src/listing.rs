//! The statements that select entries by an [`EntryQuery`]: a listing,
//! a count, and a purge's pages and deletes. Each filter given is a
//! condition an index can serve (never `(? IS NULL OR …)`, which hides
//! the column from the planner); listings are newest first, and leave
//! bodies and headers unread.

use std::borrow::Cow;

use costkatana_webhooks::inbox::{EntryQuery, EntryState, MAX_LIST};

use crate::postgres::text;
use crate::sql::Dialect;
use crate::table::Table;

/// The columns of an [`EntrySummary`](costkatana_webhooks::inbox::EntrySummary),
/// in the order the backends read them.
const SUMMARY: &str =
    "id, state, attempts, event_id, event_type, received_at, run_after, settled_at, last_error";

/// Postgres indexes an id's or a type's first this many characters (at
/// most 1 KiB, within a btree entry's 2.7 KB), whatever its length.
const INDEXED_CHARS: usize = 256;

/// A statement's parameter.
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

/// Conditions and their parameters, numbered in the order they are added.
struct Filter {
    dialect: Dialect,
    conditions: Vec<String>,
    params: Vec<Param>,
}

impl Filter {
    fn new(dialect: Dialect) -> Filter {
        Filter {
            dialect,
            conditions: Vec::new(),
            params: Vec::new(),
        }
    }

    /// Adds `condition`, each `#` in it standing for `param`.
    fn bind(&mut self, condition: &str, param: Param) {
        self.params.push(param);
        let placeholder = self.dialect.placeholder(self.params.len());
        self.conditions.push(condition.replace('#', &placeholder));
    }

    /// The next placeholder, for a parameter pushed by hand.
    fn push(&mut self, param: Param) -> String {
        self.params.push(param);
        self.dialect.placeholder(self.params.len())
    }

    /// Text as the column holds it (escaped on Postgres, see
    /// [`text::encode`]).
    fn stored<'a>(&self, value: &'a str) -> Cow<'a, str> {
        match self.dialect {
            Dialect::Sqlite => Cow::Borrowed(value),
            Dialect::Postgres => text::encode(value),
        }
    }

    /// Every filter of `query` but its state (and its limit).
    fn query(&mut self, query: &EntryQuery) {
        if let Some(event_type) = &query.event_type {
            let stored = self.stored(event_type).into_owned();
            let condition = match self.dialect {
                Dialect::Sqlite => "event_type = #".to_owned(),
                // The index holds the first characters only.
                Dialect::Postgres => {
                    format!("left(event_type, {INDEXED_CHARS}) = left(#, {INDEXED_CHARS}) AND event_type = #")
                }
            };
            self.bind(&condition, Param::Text(stored));
        }
        if let Some(since) = query.received_since_ms {
            self.bind("received_at >= #", Param::Int(since));
        }
        if let Some(before) = query.received_before_ms {
            self.bind("received_at < #", Param::Int(before));
        }
        if let Some(prefix) = &query.event_id_prefix {
            let prefix = self.stored(prefix).into_owned();
            self.prefix(&prefix);
        }
        if let Some(text) = &query.text {
            self.text(text);
        }
        if let Some(before_id) = query.before_id {
            self.bind("id < #", Param::Int(before_id));
        }
        if let Some(before) = query.settled_before_ms {
            self.bind("settled_at < #", Param::Int(before));
        }
    }

    /// Ids that are `prefix` or start with it: a range the event id index
    /// walks, compared byte by byte (Postgres would otherwise compare in
    /// the database's collation, where the ids that start with a prefix
    /// need not sort together).
    fn prefix(&mut self, prefix: &str) {
        let (column, range) = match self.dialect {
            Dialect::Sqlite => ("event_id".to_owned(), prefix),
            Dialect::Postgres => {
                let column = format!("left(event_id, {INDEXED_CHARS}) COLLATE \"C\"");
                let indexed = match prefix.char_indices().nth(INDEXED_CHARS) {
                    Some((at, _)) => &prefix[..at],
                    None => prefix,
                };
                (column, indexed)
            }
        };
        self.bind(&format!("{column} >= #"), Param::Text(range.to_owned()));
        if let Some(end) = prefix_end(range) {
            self.bind(&format!("{column} < #"), Param::Text(end));
        }
        if range.len() < prefix.len() {
            // Longer than the index holds: the rest checked on the row.
            let chars = prefix.chars().count();
            self.bind(
                &format!("left(event_id, {chars}) = #"),
                Param::Text(prefix.to_owned()),
            );
        }
    }

    /// Entries whose event id, type, last error or body holds `text`:
    /// the text columns as stored, the body as the text's UTF-8 bytes.
    fn text(&mut self, text: &str) {
        let stored = self.stored(text).into_owned();
        let bytes = self.push(Param::Text(text.to_owned()));
        let condition = match self.dialect {
            Dialect::Sqlite => format!(
                "(instr(event_id, #) > 0 OR instr(event_type, #) > 0 OR instr(last_error, #) > 0 \
                 OR instr(body, CAST({bytes} AS BLOB)) > 0)"
            ),
            Dialect::Postgres => format!(
                "(strpos(event_id, #) > 0 OR strpos(event_type, #) > 0 OR strpos(last_error, #) > 0 \
                 OR position(convert_to({bytes}, 'UTF8') IN body) > 0)"
            ),
        };
        self.bind(&condition, Param::Text(stored));
    }

    fn state(&mut self, state: EntryState) {
        self.bind("state = #", Param::Text(state.as_str().to_owned()));
    }

    fn where_clause(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conditions.join(" AND "))
        }
    }
}

/// The entries `query` asks for, newest first, at most its limit.
pub(crate) fn listing(dialect: Dialect, table: &Table, query: &EntryQuery) -> Listing {
    let mut filter = Filter::new(dialect);
    if let Some(state) = query.state {
        filter.state(state);
    }
    filter.query(query);
    let limit = query.limit.clamp(1, MAX_LIST);
    let limit = filter.push(Param::Int(i64::try_from(limit).unwrap_or(50)));
    Listing {
        sql: format!(
            "SELECT {SUMMARY} FROM {table}{} ORDER BY id DESC LIMIT {limit}",
            filter.where_clause()
        ),
        params: filter.params,
    }
}

/// How many entries `query` matches (its limit and cursor aside: the
/// cursor is a filter like the others).
pub(crate) fn counting(dialect: Dialect, table: &Table, query: &EntryQuery) -> Listing {
    let mut filter = Filter::new(dialect);
    if let Some(state) = query.state {
        filter.state(state);
    }
    filter.query(query);
    Listing {
        sql: format!("SELECT COUNT(*) FROM {table}{}", filter.where_clause()),
        params: filter.params,
    }
}

/// The next page of a purge: the ids (and settlement times) of up to
/// `page` entries in `state` that `query` matches, oldest settled first,
/// after the entry settled at `after.0` with id `after.1`. It walks the
/// `(state, settled_at, id)` order the settled index keeps, so each page
/// starts where the last ended.
pub(crate) fn purge_page(
    dialect: Dialect,
    table: &Table,
    query: &EntryQuery,
    state: EntryState,
    after: Option<(i64, i64)>,
    page: usize,
) -> Listing {
    let mut filter = Filter::new(dialect);
    filter.state(state);
    filter.query(query);
    if query.settled_before_ms.is_none() {
        // Only settled rows have a place in the walk.
        filter.conditions.push("settled_at IS NOT NULL".to_owned());
    }
    if let Some((settled_at, id)) = after {
        let settled = filter.push(Param::Int(settled_at));
        let id_after = filter.push(Param::Int(id));
        filter
            .conditions
            .push(format!("(settled_at, id) > ({settled}, {id_after})"));
    }
    let limit = filter.push(Param::Int(i64::try_from(page).unwrap_or(500)));
    Listing {
        sql: format!(
            "SELECT id, settled_at FROM {table}{} ORDER BY settled_at, id LIMIT {limit}",
            filter.where_clause()
        ),
        params: filter.params,
    }
}

/// Deletes the rows `ids` that are still in `state` and settled before
/// `before_ms` (a row retried since it was read is kept).
pub(crate) fn purge_delete(
    dialect: Dialect,
    table: &Table,
    ids: &[i64],
    state: EntryState,
    before_ms: Option<i64>,
) -> Listing {
    let mut filter = Filter::new(dialect);
    filter.state(state);
    if let Some(before) = before_ms {
        filter.bind("settled_at < #", Param::Int(before));
    }
    let placeholders: Vec<String> = ids.iter().map(|id| filter.push(Param::Int(*id))).collect();
    filter
        .conditions
        .push(format!("id IN ({})", placeholders.join(", ")));
    Listing {
        sql: format!("DELETE FROM {table}{}", filter.where_clause()),
        params: filter.params,
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
                 left(event_id, 256) COLLATE \"C\" >= $2 AND \
                 left(event_id, 256) COLLATE \"C\" < $3 AND id < $4 \
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
    fn postgres_filters_find_long_and_escaped_values() {
        let table = Table::default();
        let long = "p".repeat(300);
        let query = EntryQuery::new()
            .event_type("a\0b")
            .event_id_prefix(long.clone());
        let some = listing(Dialect::Postgres, &table, &query);
        assert_eq!(
            some.sql,
            format!(
                "SELECT {SUMMARY} FROM costkatana_webhook_inbox WHERE \
                 left(event_type, 256) = left($1, 256) AND event_type = $1 AND \
                 left(event_id, 256) COLLATE \"C\" >= $2 AND \
                 left(event_id, 256) COLLATE \"C\" < $3 AND left(event_id, 300) = $4 \
                 ORDER BY id DESC LIMIT $5"
            )
        );
        assert_eq!(some.params[0], Param::Text("\u{FFFF}a\\0b".into()));
        assert_eq!(some.params[1], Param::Text("p".repeat(256)));
        assert_eq!(some.params[3], Param::Text(long));
    }

    #[test]
    fn counts_and_purges_select_what_the_query_says() {
        let table = Table::default();
        let query = EntryQuery::new()
            .state(EntryState::Done)
            .event_type("cost.alert")
            .settled_before(100);
        let count = counting(Dialect::Sqlite, &table, &query);
        assert_eq!(
            count.sql,
            "SELECT COUNT(*) FROM costkatana_webhook_inbox WHERE state = ?1 AND \
             event_type = ?2 AND settled_at < ?3"
        );
        let page = purge_page(
            Dialect::Sqlite,
            &table,
            &query,
            EntryState::Dead,
            Some((7, 8)),
            500,
        );
        assert_eq!(
            page.sql,
            "SELECT id, settled_at FROM costkatana_webhook_inbox WHERE state = ?1 AND \
             event_type = ?2 AND settled_at < ?3 AND (settled_at, id) > (?4, ?5) \
             ORDER BY settled_at, id LIMIT ?6"
        );
        assert_eq!(page.params[0], Param::Text("dead".into()));
        let delete = purge_delete(
            Dialect::Postgres,
            &table,
            &[4, 5],
            EntryState::Done,
            Some(9),
        );
        assert_eq!(
            delete.sql,
            "DELETE FROM costkatana_webhook_inbox WHERE state = $1 AND settled_at < $2 AND \
             id IN ($3, $4)"
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
