//! The inbox table's name: a setting, checked once, then written into
//! every statement and migration in place of the default.

use std::fmt;
use std::sync::Arc;

use crate::error::{InboxError, InboxErrorKind};

/// The table's name unless [`InboxBuilder::table`](crate::InboxBuilder::table)
/// sets another; the migration files spell it literally.
///
/// ```
/// assert_eq!(costkatana_webhooks_inbox::DEFAULT_TABLE, "costkatana_webhook_inbox");
/// ```
pub const DEFAULT_TABLE: &str = "costkatana_webhook_inbox";

/// The longest name accepted: with the longest suffix added
/// (`_migrations`), a name stays within Postgres's 63 bytes.
const MAX_LEN: usize = 48;

/// A checked table name: a plain SQL identifier, so it can be written into
/// statements as it is, in either database, with no quoting.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Table(Arc<str>);

impl Table {
    pub(crate) fn new(name: &str) -> Result<Table, InboxError> {
        let mut chars = name.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
        let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if first_ok && rest_ok && name.len() <= MAX_LEN {
            return Ok(Table(name.into()));
        }
        Err(InboxError::new(
            InboxErrorKind::Invalid,
            format!(
                "the inbox table name {name:?} is not a plain SQL identifier: use lowercase \
                 ASCII letters, digits and _, starting with a letter or _, at most {MAX_LEN} \
                 characters"
            ),
        ))
    }

    pub(crate) fn name(&self) -> &str {
        &self.0
    }

    /// `text` (a statement or a migration written for [`DEFAULT_TABLE`])
    /// for this table: every name derived from the default (its indexes,
    /// its migrations table) follows.
    pub(crate) fn apply(&self, text: &str) -> String {
        text.replace(DEFAULT_TABLE, &self.0)
    }

    /// The table recording applied migrations.
    pub(crate) fn migrations(&self) -> String {
        format!("{}_migrations", self.0)
    }
}

/// The suffixes of the tables an inbox keeps beside its own
/// (`<table>_counts`, …), the migrations' table aside.
pub(crate) const BESIDE: [&str; 4] = ["counts", "attempts", "activity", "replays"];

impl Default for Table {
    fn default() -> Self {
        Table(DEFAULT_TABLE.into())
    }
}

impl fmt::Debug for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_identifiers_only() {
        for good in ["inbox", "_inbox", "tenant_7_inbox", &"a".repeat(48)] {
            assert_eq!(Table::new(good).unwrap().name(), good);
        }
        for bad in [
            "",
            "7inbox",
            "Inbox",
            "in-box",
            "inbox;drop",
            "\"inbox\"",
            "inbøx",
            &"a".repeat(49),
        ] {
            let err = Table::new(bad).unwrap_err();
            assert_eq!(err.kind(), InboxErrorKind::Invalid, "{bad}");
            assert!(err.to_string().contains("lowercase ASCII letters"), "{err}");
        }
    }

    #[test]
    fn renames_the_table_and_what_is_named_after_it() {
        let table = Table::new("hooks").unwrap();
        assert_eq!(
            table
                .apply("CREATE INDEX costkatana_webhook_inbox_due ON costkatana_webhook_inbox (x)"),
            "CREATE INDEX hooks_due ON hooks (x)"
        );
        assert_eq!(table.migrations(), "hooks_migrations");
    }
}
