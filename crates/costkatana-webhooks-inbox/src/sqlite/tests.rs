//! The reads' own connection, shown against a writer held inside a
//! transaction (only this module can queue an operation that waits).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use costkatana_webhooks::clock::SystemClock;
use costkatana_webhooks::inbox::{EntryQuery, EntryState, NewEntry};
use rusqlite::params;
use tokio::sync::oneshot;

use super::Sqlite;
use crate::table::Table;
use crate::Durability;

/// Deletes the test's directory when dropped.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn entry(id: &str) -> NewEntry {
    NewEntry {
        dedupe_key: format!("ns:event:{id}"),
        event_id: Some(id.to_owned()),
        event_type: Some("cost.alert".to_owned()),
        headers: vec![("x-webhook-timestamp".to_owned(), "1".to_owned())],
        body: Bytes::from_static(b"{}"),
        received_at_ms: 1_777_377_600_000,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_answer_while_the_writer_is_inside_a_long_transaction() {
    let dir = std::env::temp_dir().join(format!("ckw-inbox-unit-{}-reads", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let _guard = TempDir(dir.clone());
    let path = dir.join("inbox.db");
    let clock = Arc::new(SystemClock);
    let options = crate::options::Options::default();
    let sqlite = Sqlite::open(
        &path,
        Durability::default(),
        Table::default(),
        clock,
        true,
        options,
    )
    .await
    .unwrap();
    sqlite.enqueue(entry("evt_committed")).await.unwrap();
    let committed = sqlite.list(&EntryQuery::new()).await.unwrap()[0].id;

    // The writer thread enters its transaction, writes a row and waits
    // there until told to go on.
    let (entered, in_transaction) = oneshot::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let writer = sqlite.clone();
    let held = tokio::spawn(async move {
        let sql = Arc::clone(&writer.sql);
        writer
            .writer
            .call("hold the writer", move |conn| {
                let row = entry("evt_uncommitted");
                conn.prepare_cached(&sql.insert)?.execute(params![
                    row.dedupe_key,
                    row.event_id,
                    row.event_type,
                    "[]",
                    row.body.as_ref(),
                    row.received_at_ms,
                ])?;
                let _ = entered.send(());
                let _ = released.recv();
                Ok(())
            })
            .await
    });
    in_transaction.await.unwrap();

    let reads = async {
        (
            sqlite.stats().await.unwrap(),
            sqlite.list(&EntryQuery::new()).await.unwrap(),
            sqlite.get(committed).await.unwrap(),
            sqlite.schema_version().await.unwrap(),
        )
    };
    let (stats, listed, got, version) = tokio::time::timeout(Duration::from_secs(10), reads)
        .await
        .expect("reads do not wait for the writer's transaction");
    // They see the last commit, not the transaction under way.
    assert_eq!(stats.pending, 1);
    assert_eq!(listed.len(), 1);
    assert_eq!(got.event_id.as_deref(), Some("evt_committed"));
    assert_eq!(version, crate::migrations::LATEST);

    release.send(()).unwrap();
    held.await.unwrap().unwrap();
    let after = sqlite
        .list(&EntryQuery::new().state(EntryState::Pending))
        .await
        .unwrap();
    assert_eq!(after.len(), 2, "committed now, and read at once");
}
