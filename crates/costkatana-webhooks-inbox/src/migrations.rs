//! The inbox's versioned schema: numbered SQL files shipped in the crate
//! (`migrations/sqlite/`, `migrations/postgres/`), embedded here, and the
//! rules that decide, from what a database holds, whether it is usable as
//! it is, what to run next, or why it is refused.
//!
//! The files spell the default table name ([`DEFAULT_TABLE`]) literally so
//! that a migrator of one's own can run them as they are; for another
//! table name, replace it in their text (every index is named after the
//! table), as [`Migration::sql_for_table`] does.
//!
//! ```
//! use costkatana_webhooks_inbox::migrations;
//!
//! let files = migrations::sqlite();
//! assert_eq!(files[0].version, 1);
//! assert_eq!(files.last().unwrap().version, migrations::LATEST);
//! assert_eq!(files.len(), migrations::postgres().len());
//! ```
//!
//! [`DEFAULT_TABLE`]: crate::DEFAULT_TABLE

use sha2::{Digest, Sha256};

use crate::error::{InboxError, InboxErrorKind};
use crate::table::Table;

/// The schema version this code uses: the number of the last migration.
///
/// ```
/// assert_eq!(costkatana_webhooks_inbox::migrations::LATEST, 5);
/// ```
pub const LATEST: u32 = 5;

/// One numbered schema change, as shipped.
///
/// ```
/// use costkatana_webhooks_inbox::migrations;
///
/// let first = &migrations::postgres()[0];
/// assert_eq!((first.version, first.name), (1, "inbox"));
/// assert!(first.sql.contains("CREATE TABLE IF NOT EXISTS costkatana_webhook_inbox"));
/// assert_eq!(first.checksum().len(), 64);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Migration {
    /// Its number, from 1, in the order they run.
    pub version: u32,
    /// What it does, as in its file name (`0001_inbox.sql`: `inbox`).
    pub name: &'static str,
    /// The file's text, for the default table name.
    pub sql: &'static str,
    /// The relations it creates, named for the default table: a schema
    /// that holds them all (made by a migrator of one's own, or by code
    /// older than the migrations table) is taken to have run it.
    creates: &'static [&'static str],
}

impl Migration {
    /// The SHA-256 of [`sql`](Self::sql) in hex: recorded when it runs, so
    /// a file changed after it ran is noticed.
    ///
    /// ```
    /// let m = &costkatana_webhooks_inbox::migrations::sqlite()[1];
    /// assert_ne!(m.checksum(), costkatana_webhooks_inbox::migrations::sqlite()[0].checksum());
    /// ```
    pub fn checksum(&self) -> String {
        hex::encode(Sha256::digest(self.sql.as_bytes()))
    }

    /// The text for the table `table` instead of the default.
    ///
    /// # Errors
    ///
    /// [`Invalid`](crate::InboxErrorKind::Invalid) when `table` is not a
    /// plain SQL identifier (see
    /// [`InboxBuilder::table`](crate::InboxBuilder::table)).
    ///
    /// ```
    /// let m = &costkatana_webhooks_inbox::migrations::sqlite()[0];
    /// let sql = m.sql_for_table("tenant_inbox").unwrap();
    /// assert!(sql.contains("CREATE TABLE IF NOT EXISTS tenant_inbox ("));
    /// assert!(sql.contains("CREATE INDEX IF NOT EXISTS tenant_inbox_due ON tenant_inbox"));
    /// assert!(m.sql_for_table("Tenant Inbox").is_err());
    /// ```
    pub fn sql_for_table(&self, table: &str) -> Result<String, InboxError> {
        Ok(Table::new(table)?.apply(self.sql))
    }

    /// What it creates, for `table`.
    pub(crate) fn creates(&self, table: &Table) -> Vec<String> {
        self.creates.iter().map(|name| table.apply(name)).collect()
    }
}

const SQLITE: [Migration; LATEST as usize] = [
    Migration {
        version: 1,
        name: "inbox",
        sql: include_str!("../migrations/sqlite/0001_inbox.sql"),
        creates: FIRST_CREATES,
    },
    Migration {
        version: 2,
        name: "listing_indexes",
        sql: include_str!("../migrations/sqlite/0002_listing_indexes.sql"),
        creates: SECOND_CREATES,
    },
    Migration {
        version: 3,
        name: "hardening",
        sql: include_str!("../migrations/sqlite/0003_hardening.sql"),
        creates: &[
            "costkatana_webhook_inbox_arrival",
            "costkatana_webhook_inbox_counts",
            "costkatana_webhook_inbox_count_insert",
            "costkatana_webhook_inbox_count_update",
            "costkatana_webhook_inbox_count_delete",
        ],
    },
    Migration {
        version: 4,
        name: "history",
        sql: include_str!("../migrations/sqlite/0004_history.sql"),
        creates: HISTORY_CREATES,
    },
    Migration {
        version: 5,
        name: "activity_kinds",
        sql: include_str!("../migrations/sqlite/0005_activity_kinds.sql"),
        // Rows only: a schema holding version 4's relations may hold either
        // kind of activity row, and the activity read counts both.
        creates: &[],
    },
];

const POSTGRES: [Migration; LATEST as usize] = [
    Migration {
        version: 1,
        name: "inbox",
        sql: include_str!("../migrations/postgres/0001_inbox.sql"),
        creates: FIRST_CREATES,
    },
    Migration {
        version: 2,
        name: "listing_indexes",
        sql: include_str!("../migrations/postgres/0002_listing_indexes.sql"),
        creates: SECOND_CREATES,
    },
    Migration {
        version: 3,
        name: "hardening",
        sql: include_str!("../migrations/postgres/0003_hardening.sql"),
        creates: &[
            "costkatana_webhook_inbox_key",
            "costkatana_webhook_inbox_arrival",
        ],
    },
    Migration {
        version: 4,
        name: "history",
        sql: include_str!("../migrations/postgres/0004_history.sql"),
        creates: &[
            "costkatana_webhook_inbox_attempts",
            "costkatana_webhook_inbox_activity",
            "costkatana_webhook_inbox_replays",
            "costkatana_webhook_inbox_counts",
        ],
    },
    Migration {
        version: 5,
        name: "activity_kinds",
        sql: include_str!("../migrations/postgres/0005_activity_kinds.sql"),
        // Rows only: a schema holding version 4's relations may hold either
        // kind of activity row, and the activity read counts both.
        creates: &[],
    },
];

const HISTORY_CREATES: &[&str] = &[
    "costkatana_webhook_inbox_attempts",
    "costkatana_webhook_inbox_activity",
    "costkatana_webhook_inbox_replays",
];

const FIRST_CREATES: &[&str] = &[
    "costkatana_webhook_inbox",
    "costkatana_webhook_inbox_due",
    "costkatana_webhook_inbox_lease",
    "costkatana_webhook_inbox_settled",
];

const SECOND_CREATES: &[&str] = &[
    "costkatana_webhook_inbox_state_id",
    "costkatana_webhook_inbox_type_id",
    "costkatana_webhook_inbox_event_id",
];

/// The SQLite migrations, in order.
///
/// ```
/// assert!(costkatana_webhooks_inbox::migrations::sqlite()[0].sql.contains("AUTOINCREMENT"));
/// ```
pub fn sqlite() -> &'static [Migration] {
    &SQLITE
}

/// The Postgres migrations, in order.
///
/// ```
/// assert!(costkatana_webhooks_inbox::migrations::postgres()[0].sql.contains("BIGSERIAL"));
/// ```
pub fn postgres() -> &'static [Migration] {
    &POSTGRES
}

/// The columns the inbox table had before migrations were recorded, and
/// still has: a table without them is not one this code can adopt.
pub(crate) const COLUMNS: [&str; 14] = [
    "id",
    "dedupe_key",
    "event_id",
    "event_type",
    "headers",
    "body",
    "received_at",
    "state",
    "attempts",
    "run_after",
    "lease_token",
    "lease_until",
    "settled_at",
    "last_error",
];

/// The migrations table, for `table`: the same text in both databases
/// (SQLite stores the boolean as an integer).
pub(crate) fn migrations_table_ddl(table: &Table) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {} (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            checksum TEXT NOT NULL,
            applied_at BIGINT NOT NULL,
            dirty BOOLEAN NOT NULL
        )",
        table.migrations()
    )
}

/// One row of the migrations table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Applied {
    pub(crate) version: i64,
    pub(crate) name: String,
    pub(crate) checksum: String,
    pub(crate) dirty: bool,
}

/// What a database holds, as far as the schema goes.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// The migrations table's rows (none when it does not exist).
    pub(crate) applied: Vec<Applied>,
    /// The inbox table's columns (none when it does not exist).
    pub(crate) columns: Vec<String>,
    /// Per shipped migration, whether everything it creates exists.
    pub(crate) created: Vec<bool>,
}

/// What the schema needs.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Nothing: it is at the latest version.
    Nothing,
    /// These migrations are in the schema but not recorded: record them
    /// without running them.
    Adopt(Vec<Migration>),
    /// Run this migration, then record it.
    Run(Migration),
}

/// Where a schema stands.
pub(crate) struct Schema<'a> {
    pub(crate) shipped: &'static [Migration],
    pub(crate) table: &'a Table,
    /// The database, for messages (`SQLite inbox x.db`).
    pub(crate) shown: &'a str,
}

impl Schema<'_> {
    /// The version `found` is at, after the checks every use makes: no
    /// migration stopped part-way, none changed since it ran, none newer
    /// than this code.
    pub(crate) fn version(&self, found: &Found) -> Result<u32, InboxError> {
        if found.applied.is_empty() {
            return self.inferred(found);
        }
        for applied in &found.applied {
            if applied.dirty {
                return Err(self.error(format!(
                    "migration {} ({}) stopped part-way and may be half applied: fix by hand \
                     (finish or undo its changes, then set dirty = false on its row of {})",
                    applied.version,
                    applied.name,
                    self.table.migrations()
                )));
            }
        }
        let newest = found.applied.iter().map(|a| a.version).max().unwrap_or(0);
        if newest > i64::from(LATEST) {
            return Err(self.error(format!(
                "the inbox schema is at version {newest}, newer than this code's {LATEST}: \
                 upgrade costkatana-webhooks-inbox"
            )));
        }
        for applied in &found.applied {
            let shipped = self
                .shipped
                .iter()
                .find(|m| i64::from(m.version) == applied.version);
            if let Some(shipped) = shipped {
                if shipped.checksum() != applied.checksum {
                    return Err(self.error(format!(
                        "migration {} was changed after it ran ({}: recorded checksum {}, this \
                         code's {}): put back the file as it ran, or reconcile the schema by \
                         hand and update its row of {}",
                        applied.version,
                        applied.name,
                        applied.checksum,
                        shipped.checksum(),
                        self.table.migrations()
                    )));
                }
            }
        }
        // Applied in order, each in its own transaction: the count is the
        // version (the newest is at most LATEST, so it fits).
        Ok(u32::try_from(newest).unwrap_or(0))
    }

    /// With nothing recorded: 0 for no inbox table, else the last of the
    /// leading migrations whose relations all exist (a schema made by
    /// older code, or by a migrator of one's own from the shipped files).
    fn inferred(&self, found: &Found) -> Result<u32, InboxError> {
        if found.columns.is_empty() {
            return Ok(0);
        }
        let missing: Vec<&str> = COLUMNS
            .iter()
            .copied()
            .filter(|c| !found.columns.iter().any(|have| have == c))
            .collect();
        if !missing.is_empty() {
            return Err(self.error(format!(
                "the table {} is not an inbox table this code knows: it has no column {}",
                self.table,
                missing.join(", ")
            )));
        }
        let created = found.created.iter().take_while(|made| **made).count();
        Ok(u32::try_from(created).unwrap_or(0))
    }

    /// What to do next to bring `found` to [`LATEST`].
    pub(crate) fn next(&self, found: &Found) -> Result<Next, InboxError> {
        let version = self.version(found)?;
        if found.applied.is_empty() && version > 0 {
            let adopted = self.shipped[..version as usize].to_vec();
            return Ok(Next::Adopt(adopted));
        }
        match self.shipped.get(version as usize) {
            Some(migration) => Ok(Next::Run(*migration)),
            None => Ok(Next::Nothing),
        }
    }

    /// The version, if `found` is usable as it is, for a connection that
    /// must not change the schema.
    pub(crate) fn current(&self, found: &Found) -> Result<u32, InboxError> {
        let version = self.version(found)?;
        if version == 0 {
            return Err(InboxError::new(
                InboxErrorKind::Schema,
                format!(
                    "{} has no inbox table: start a receiver on it or call \
                     Inbox::migrate/open (looked for the table {})",
                    self.shown, self.table
                ),
            ));
        }
        if version < LATEST {
            return Err(self.error(format!(
                "the inbox schema is at version {version}, older than this code's {LATEST}: \
                 migrate it with Inbox::migrate or Inbox::open (a receiver does at start)"
            )));
        }
        Ok(version)
    }

    fn error(&self, message: String) -> InboxError {
        InboxError::new(InboxErrorKind::Schema, format!("{}: {message}", self.shown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(table: &Table) -> Schema<'_> {
        Schema {
            shipped: sqlite(),
            table,
            shown: "SQLite inbox x.db",
        }
    }

    fn applied(version: i64) -> Applied {
        let shipped = &sqlite()[version as usize - 1];
        Applied {
            version,
            name: shipped.name.to_owned(),
            checksum: shipped.checksum(),
            dirty: false,
        }
    }

    fn columns() -> Vec<String> {
        COLUMNS.iter().map(|c| (*c).to_owned()).collect()
    }

    #[test]
    fn an_empty_database_runs_every_migration_in_order() {
        let table = Table::default();
        let found = Found::default();
        assert_eq!(schema(&table).next(&found).unwrap(), Next::Run(sqlite()[0]));
        let found = Found {
            applied: vec![applied(1)],
            columns: columns(),
            created: vec![true, false],
        };
        assert_eq!(schema(&table).next(&found).unwrap(), Next::Run(sqlite()[1]));
        let found = Found {
            applied: vec![applied(1), applied(2)],
            ..found
        };
        assert_eq!(schema(&table).next(&found).unwrap(), Next::Run(sqlite()[2]));
        let found = Found {
            applied: vec![applied(1), applied(2), applied(3)],
            ..found
        };
        assert_eq!(schema(&table).next(&found).unwrap(), Next::Run(sqlite()[3]));
        let found = Found {
            applied: vec![applied(1), applied(2), applied(3), applied(4)],
            ..found
        };
        assert_eq!(schema(&table).next(&found).unwrap(), Next::Run(sqlite()[4]));
        let found = Found {
            applied: (1..=5).map(applied).collect(),
            ..found
        };
        assert_eq!(schema(&table).next(&found).unwrap(), Next::Nothing);
        assert_eq!(schema(&table).current(&found).unwrap(), LATEST);
    }

    #[test]
    fn an_unrecorded_table_is_adopted_as_far_as_its_relations_go() {
        let table = Table::default();
        let found = Found {
            columns: columns(),
            created: vec![true, false],
            ..Found::default()
        };
        assert_eq!(
            schema(&table).next(&found).unwrap(),
            Next::Adopt(vec![sqlite()[0]])
        );
        let err = schema(&table).current(&found).unwrap_err().to_string();
        assert!(
            err.contains("at version 1, older than this code's 5"),
            "{err}"
        );
        let missing = Found {
            columns: vec!["id".into(), "body".into()],
            ..found
        };
        let err = schema(&table).next(&missing).unwrap_err().to_string();
        assert!(
            err.contains("it has no column dedupe_key, event_id"),
            "{err}"
        );
    }

    #[test]
    fn refusals_name_what_is_wrong() {
        let table = Table::default();
        let mut dirty = applied(2);
        dirty.dirty = true;
        let mut changed = applied(2);
        changed.checksum = "0".repeat(64);
        let mut newer = applied(2);
        newer.version = i64::from(LATEST) + 1;
        for (row, why) in [
            (dirty, "migration 2 (listing_indexes) stopped part-way"),
            (changed, "migration 2 was changed after it ran"),
            (
                newer,
                "the inbox schema is at version 6, newer than this code's 5: upgrade \
                 costkatana-webhooks-inbox",
            ),
        ] {
            let found = Found {
                applied: vec![applied(1), row],
                columns: columns(),
                created: vec![true, true],
            };
            for err in [
                schema(&table).next(&found).unwrap_err(),
                schema(&table).current(&found).unwrap_err(),
            ] {
                assert!(err.to_string().contains(why), "{err}");
                assert!(err.to_string().starts_with("SQLite inbox x.db: "), "{err}");
                assert_eq!(err.kind(), InboxErrorKind::Schema);
            }
        }
        let err = schema(&table).current(&Found::default()).unwrap_err();
        assert!(
            err.to_string()
                .contains("SQLite inbox x.db has no inbox table: start a receiver on it"),
            "{err}"
        );
    }

    #[test]
    fn the_files_name_the_default_table_only() {
        for migration in sqlite().iter().chain(postgres()) {
            let renamed = migration.sql_for_table("t").unwrap();
            assert!(!renamed.contains("costkatana"), "{}", migration.name);
            for relation in migration.creates(&Table::default()) {
                assert!(migration.sql.contains(&relation), "{relation}");
            }
        }
    }
}
