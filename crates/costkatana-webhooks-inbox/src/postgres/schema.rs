//! A Postgres inbox's schema: reading what the database holds, and
//! migrating it with replicas that start together taking turns.

use costkatana_webhooks::clock::Clock;
use sha2::{Digest, Sha256};
use tokio_postgres::GenericClient;

use crate::error::{InboxError, InboxErrorKind};
use crate::migrations::{self, Applied, Found, Next, Schema};
use crate::table::Table;

/// A key for `pg_advisory_lock` and friends, the same in every process
/// and version: `purpose` for `table` (two inboxes in one database, or one
/// inbox's migration and its leadership, never share one).
pub(super) fn lock_key(purpose: &str, table: &Table) -> i64 {
    let digest = Sha256::digest(format!("costkatana-webhooks-inbox\0{purpose}\0{table}"));
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// What the database holds, schema-wise (names resolve through the
/// connection's `search_path`, as the statements' do).
pub(super) async fn inspect<C: GenericClient + Sync>(
    client: &C,
    table: &Table,
) -> Result<Found, tokio_postgres::Error> {
    let exists = |name: String| async move {
        let row = client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&name])
            .await?;
        Ok::<bool, tokio_postgres::Error>(row.get(0))
    };
    let mut found = Found::default();
    if exists(table.migrations()).await? {
        let rows = client
            .query(
                &format!(
                    "SELECT version, name, checksum, dirty FROM {} ORDER BY version",
                    table.migrations()
                ),
                &[],
            )
            .await?;
        found.applied = rows
            .iter()
            .map(|row| Applied {
                version: row.get(0),
                name: row.get(1),
                checksum: row.get(2),
                dirty: row.get(3),
            })
            .collect();
    }
    found.columns = client
        .query(
            "SELECT attname::text FROM pg_attribute
             WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped",
            &[&table.name()],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    for migration in migrations::postgres() {
        let mut all = true;
        for relation in migration.creates(table) {
            all &= exists(relation).await?;
        }
        found.created.push(all);
    }
    Ok(found)
}

/// How a schema is judged, for this database.
pub(super) fn schema<'a>(table: &'a Table, shown: &'a str) -> Schema<'a> {
    Schema {
        shipped: migrations::postgres(),
        table,
        shown,
    }
}

fn failed(shown: &str, what: &str, err: tokio_postgres::Error) -> InboxError {
    InboxError::caused_by(
        InboxErrorKind::Unavailable,
        format!("{shown}: could not {what}"),
        err,
    )
}

/// The version the database is at, refusing one this code cannot use as
/// it is. Reads only.
pub(super) async fn current(
    client: &tokio_postgres::Client,
    table: &Table,
    shown: &str,
) -> Result<u32, InboxError> {
    let found = inspect(client, table)
        .await
        .map_err(|e| failed(shown, "read the schema", e))?;
    schema(table, shown).current(&found)
}

/// The version the database is at (refusing a dirty, changed or newer
/// schema).
pub(super) async fn version(
    client: &tokio_postgres::Client,
    table: &Table,
    shown: &str,
) -> Result<u32, InboxError> {
    let found = inspect(client, table)
        .await
        .map_err(|e| failed(shown, "read the schema", e))?;
    schema(table, shown).version(&found)
}

/// Brings the database to the latest version: each pending migration in
/// its own transaction under a transaction-level advisory lock, so that
/// replicas starting together take turns (the later ones then find
/// nothing left to do), recorded in the migrations table. Returns the
/// versions it ran or adopted.
pub(super) async fn migrate(
    client: &mut tokio_postgres::Client,
    table: &Table,
    clock: &dyn Clock,
    shown: &str,
) -> Result<Vec<u32>, InboxError> {
    let schema = schema(table, shown);
    // Nothing to do is found without a lock or any DDL (which a role
    // without CREATE rights could not run).
    let found = inspect(&*client, table)
        .await
        .map_err(|e| failed(shown, "read the schema", e))?;
    if schema.next(&found)? == Next::Nothing {
        return Ok(Vec::new());
    }
    let key = lock_key("migrate", table);
    let mut done = Vec::new();
    loop {
        let tx = client
            .transaction()
            .await
            .map_err(|e| failed(shown, "begin a migration", e))?;
        // A migration may rewrite a large table, and replicas wait for the
        // one migrating: the inbox's statement and lock time-outs (made
        // for deliveries) do not apply here.
        tx.batch_execute("SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0")
            .await
            .map_err(|e| failed(shown, "begin a migration", e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&key])
            .await
            .map_err(|e| failed(shown, "lock the schema", e))?;
        tx.batch_execute(&migrations::migrations_table_ddl(table))
            .await
            .map_err(|e| failed(shown, "create the migrations table", e))?;
        let found = inspect(&tx, table)
            .await
            .map_err(|e| failed(shown, "read the schema", e))?;
        let (ran, recorded) = match schema.next(&found)? {
            Next::Nothing => return Ok(done),
            Next::Adopt(adopted) => (None, adopted),
            Next::Run(migration) => (Some(migration), vec![migration]),
        };
        if let Some(migration) = ran {
            tx.batch_execute(&table.apply(migration.sql))
                .await
                .map_err(|e| {
                    InboxError::caused_by(
                        InboxErrorKind::Schema,
                        format!(
                            "{shown}: migration {} ({}) failed and was rolled back",
                            migration.version, migration.name
                        ),
                        e,
                    )
                })?;
        }
        let insert = format!(
            "INSERT INTO {} (version, name, checksum, applied_at, dirty)
             VALUES ($1, $2, $3, $4, FALSE)",
            table.migrations()
        );
        for migration in &recorded {
            tx.execute(
                &insert,
                &[
                    &i64::from(migration.version),
                    &migration.name,
                    &migration.checksum(),
                    &clock.now_ms(),
                ],
            )
            .await
            .map_err(|e| failed(shown, "record a migration", e))?;
        }
        tx.commit()
            .await
            .map_err(|e| failed(shown, "commit a migration", e))?;
        done.extend(recorded.iter().map(|m| m.version));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_differ_per_table_and_purpose() {
        let inbox = Table::default();
        let other = Table::new("other_inbox").unwrap();
        assert_eq!(
            lock_key("lead purge", &inbox),
            lock_key("lead purge", &inbox)
        );
        assert_ne!(
            lock_key("lead purge", &inbox),
            lock_key("lead purge", &other)
        );
        assert_ne!(lock_key("lead purge", &inbox), lock_key("migrate", &inbox));
    }
}
