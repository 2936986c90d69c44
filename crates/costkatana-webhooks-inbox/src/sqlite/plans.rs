//! What SQLite does with each statement, from `EXPLAIN QUERY PLAN`: no
//! stall of the writer that grows with the table. Every statement the
//! writer thread runs (the acknowledgement's insert and duplicate check,
//! leases, settlements, renewals, retries, the probe, a purge page's
//! delete) finds its rows through an index; the reads run on the read
//! connection, off the writer, and the periodic and CLI ones walk an
//! index (or read the four counters) and never sort the table: a read
//! that lasts keeps the log from starting over, and the writer then
//! checkpoints itself.

use std::sync::Arc;

use costkatana_webhooks::clock::SystemClock;
use costkatana_webhooks::inbox::{EntryQuery, EntryState};

use super::{schema, Sqlite};
use crate::listing::{counting, listing, purge_delete, purge_page};
use crate::options::Options;
use crate::sql::{Dialect, Statements};
use crate::table::Table;
use crate::Durability;

/// The plan's lines for `statement`.
fn plan(conn: &rusqlite::Connection, statement: &str) -> Vec<String> {
    let mut explain = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {statement}"))
        .unwrap_or_else(|err| panic!("{statement}: {err}"));
    // The plan does not depend on the values: NULL for every parameter.
    let nulls = vec![rusqlite::types::Value::Null; explain.parameter_count()];
    explain
        .query_map(rusqlite::params_from_iter(nulls), |row| {
            row.get::<_, String>(3)
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Every access to the inbox table in `lines` is a search of an index or
/// of the primary key.
fn searches(lines: &[String], statement: &str) {
    let table_lines: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains("costkatana_webhook_inbox"))
        .collect();
    assert!(!table_lines.is_empty(), "{statement}: {lines:?}");
    for line in table_lines {
        assert!(
            line.starts_with("SEARCH "),
            "{statement}\nwalks the table: {line}\n{lines:?}"
        );
    }
    assert!(
        !lines.iter().any(|line| line.contains("TEMP B-TREE")),
        "{statement}\nsorts: {lines:?}"
    );
}

/// Deletes the test's directory when dropped.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn the_writers_statements_search_and_the_reads_walk_indexes() {
    let dir = std::env::temp_dir().join(format!("ckw-inbox-plans-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let _guard = TempDir(dir.clone());
    let path = dir.join("inbox.db");
    let table = Table::default();
    let sqlite = Sqlite::open(
        &path,
        Durability::default(),
        table.clone(),
        Arc::new(SystemClock),
        true,
        Options::default(),
    )
    .await
    .unwrap();
    drop(sqlite);
    let conn = schema::open_writer(&path, false).unwrap();
    let sql = Statements::new(Dialect::Sqlite, &table);

    // The writer thread's statements.
    let delete = purge_delete(
        Dialect::Sqlite,
        &table,
        &[1, 2, 3],
        EntryState::Dead,
        Some(5),
    )
    .sql;
    for statement in [
        &sql.insert,
        &sql.state_of_key,
        &sql.take_due,
        &sql.take_expired,
        &sql.settle,
        &sql.settled,
        &sql.renew,
        &sql.state_of_id,
        &sql.retry_one,
        &sql.retry_dead,
        &delete,
    ] {
        let lines = plan(&conn, statement);
        if statement.starts_with("INSERT") {
            // An insert reads nothing; its ON CONFLICT uses the key's index.
            assert!(
                lines.is_empty() || lines.iter().all(|l| !l.starts_with("SCAN")),
                "{lines:?}"
            );
        } else {
            searches(&lines, statement);
        }
    }

    // The depth gauge, every 5 s, and the CLI: the oldest pending arrival
    // from its index alone; the counts per state from the counters the
    // triggers keep.
    let oldest = plan(&conn, &sql.oldest_pending);
    searches(&oldest, &sql.oldest_pending);
    assert!(
        oldest
            .iter()
            .any(|l| l.contains("COVERING INDEX costkatana_webhook_inbox_arrival")),
        "{oldest:?}"
    );
    assert_eq!(
        plan(&conn, &sql.counts),
        ["SCAN costkatana_webhook_inbox_counts"],
        "four counters, not the table"
    );

    // The CLI's `list` and `list --state`, and a type's: newest first, a
    // page, no sort.
    let mut queries = vec![EntryQuery::new()];
    queries.extend(EntryState::ALL.map(|state| EntryQuery::new().state(state)));
    queries.push(EntryQuery::new().event_type("cost.alert"));
    for query in &queries {
        let statement = listing(Dialect::Sqlite, &table, query).sql;
        let lines = plan(&conn, &statement);
        if query.state.is_some() || query.event_type.is_some() {
            searches(&lines, &statement);
        } else {
            // The primary key, newest first, up to the limit.
            assert_eq!(lines, ["SCAN costkatana_webhook_inbox"], "{statement}");
        }
    }
    // An id prefix: the ids in its range, sorted (on the read connection).
    let prefix = listing(
        Dialect::Sqlite,
        &table,
        &EntryQuery::new().event_id_prefix("evt_"),
    )
    .sql;
    let lines = plan(&conn, &prefix);
    assert!(
        lines[0].starts_with(
            "SEARCH costkatana_webhook_inbox USING INDEX costkatana_webhook_inbox_event_id"
        ),
        "{lines:?}"
    );

    // A purge's pages and the CLI's dry run.
    let dead = EntryQuery::new()
        .state(EntryState::Dead)
        .event_type("cost.alert")
        .settled_before(5);
    for statement in [
        purge_page(Dialect::Sqlite, &table, &dead, EntryState::Dead, None, 500).sql,
        purge_page(
            Dialect::Sqlite,
            &table,
            &dead,
            EntryState::Dead,
            Some((1, 2)),
            500,
        )
        .sql,
        counting(Dialect::Sqlite, &table, &dead).sql,
    ] {
        searches(&plan(&conn, &statement), &statement);
    }
}
