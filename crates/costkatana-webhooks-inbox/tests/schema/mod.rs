//! The schema's versions, the same on every backend: each check takes a
//! database nothing has touched yet.

#![allow(dead_code, unreachable_pub)]

pub mod db;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use costkatana_webhooks::dedupe::Completion;
use costkatana_webhooks::inbox::{EntryQuery, EntryState, InboxStore, NewEntry, Settlement};
use costkatana_webhooks::ManualClock;
use costkatana_webhooks_inbox::{migrations, Inbox, InboxErrorKind};
use db::{Db, OldRow, OLD_BODY};

/// "Now" for rows written by hand.
pub const NOW: i64 = 1_777_377_600_000;

const INDEXES_OF_2: [&str; 3] = [
    "costkatana_webhook_inbox_event_id",
    "costkatana_webhook_inbox_state_id",
    "costkatana_webhook_inbox_type_id",
];

/// One row per state, oldest first: a due pending row, a running row
/// whose worker died (its lease ended), a done row, a dead letter.
fn old_rows() -> [OldRow; 4] {
    let row = |event_id, state| OldRow {
        dedupe_key: event_id,
        event_id,
        state,
        attempts: 1,
        received_at: NOW - 60_000,
        run_after: NOW - 60_000,
        lease_token: None,
        lease_until: None,
        settled_at: None,
        last_error: None,
    };
    [
        OldRow {
            attempts: 0,
            ..row("evt_pending", "pending")
        },
        OldRow {
            lease_token: Some("0123456789abcdef0123456789abcdef"),
            lease_until: Some(NOW - 1_000),
            ..row("evt_stuck", "running")
        },
        OldRow {
            settled_at: Some(NOW - 30_000),
            ..row("evt_done", "done")
        },
        OldRow {
            attempts: 8,
            settled_at: Some(NOW - 30_000),
            last_error: Some("slack answered 500"),
            ..row("evt_dead", "dead")
        },
    ]
}

fn entry(event_id: &str) -> NewEntry {
    NewEntry {
        dedupe_key: format!("2:ns:event:{event_id}"),
        event_id: Some(event_id.to_owned()),
        event_type: Some("cost.alert".to_owned()),
        headers: vec![("x-webhook-timestamp".to_owned(), NOW.to_string())],
        body: Bytes::from_static(b"{}"),
        received_at_ms: NOW,
    }
}

async fn versions(db: &Db, table: &str) -> Vec<String> {
    db.strings(&format!(
        "SELECT version FROM {table}_migrations ORDER BY version"
    ))
    .await
}

/// Both ways in are refused, as a schema problem, saying `why`.
async fn refused(db: &Db, why: &str) {
    let url = db.url();
    for err in [
        Inbox::open(&url).await.unwrap_err(),
        Inbox::connect(&url).await.unwrap_err(),
    ] {
        assert_eq!(err.kind(), InboxErrorKind::Schema, "{err}");
        assert!(err.to_string().contains(why), "{why:?} in {err}");
    }
}

pub async fn a_database_made_before_migrations_is_adopted_rows_and_all(db: &Db) {
    db.execute(db.before_migrations()).await;
    for row in old_rows() {
        db.insert_old(&row).await;
    }
    let inbox = Inbox::open(&db.url()).await.unwrap();
    assert_eq!(inbox.schema_version().await.unwrap(), migrations::LATEST);
    assert_eq!(
        versions(db, "costkatana_webhook_inbox").await,
        ["1", "2", "3", "4", "5"]
    );
    let relations = db.relations().await;
    for index in INDEXES_OF_2 {
        assert!(
            relations.iter().any(|r| r == index),
            "{index} in {relations:?}"
        );
    }

    // Every row as it was, newest first.
    let listed = inbox.list(&EntryQuery::new()).await.unwrap();
    let states: Vec<(&str, EntryState)> = listed
        .iter()
        .map(|e| (e.event_id.as_deref().unwrap(), e.state))
        .collect();
    assert_eq!(
        states,
        [
            ("evt_dead", EntryState::Dead),
            ("evt_done", EntryState::Done),
            ("evt_stuck", EntryState::Running),
            ("evt_pending", EntryState::Pending),
        ]
    );
    let dead = inbox.get(listed[0].id).await.unwrap();
    assert_eq!(dead.body, OLD_BODY);
    assert_eq!(dead.attempts, 8);
    assert_eq!(dead.last_error.as_deref(), Some("slack answered 500"));
    assert_eq!(
        dead.headers,
        [
            ("x-webhook-signature".to_owned(), "v1=abc".to_owned()),
            ("x-webhook-timestamp".to_owned(), "1777377600000".to_owned()),
        ]
    );

    // Workers take the due row and the one whose lease ended, and settle them.
    let jobs = inbox.take(NOW, Duration::from_secs(60), 10).await.unwrap();
    let mut taken: Vec<(i64, u32)> = jobs.iter().map(|j| (j.id, j.attempt)).collect();
    taken.sort_unstable();
    assert_eq!(taken, [(listed[3].id, 1), (listed[2].id, 2)]);
    for job in &jobs {
        let settled = inbox.settle(job, Settlement::Done, NOW).await.unwrap();
        assert_eq!(settled, Completion::Recorded);
    }
    let stats = inbox.stats().await.unwrap();
    assert_eq!(
        (stats.pending, stats.running, stats.done, stats.dead),
        (0, 0, 3, 1)
    );

    // Once migrated, nothing more to do.
    assert!(inbox.migrate().await.unwrap().is_empty());
    drop(Inbox::open(&db.url()).await.unwrap());
    assert_eq!(
        versions(db, "costkatana_webhook_inbox").await,
        ["1", "2", "3", "4", "5"]
    );
}

pub async fn an_empty_database_is_created_at_the_latest_version(db: &Db) {
    let inbox = Inbox::open(&db.url()).await.unwrap();
    assert_eq!(inbox.schema_version().await.unwrap(), migrations::LATEST);
    assert_eq!(
        versions(db, "costkatana_webhook_inbox").await,
        ["1", "2", "3", "4", "5"]
    );
    let shipped = if db.is_sqlite() {
        migrations::sqlite()
    } else {
        migrations::postgres()
    };
    let recorded = db
        .strings("SELECT checksum FROM costkatana_webhook_inbox_migrations ORDER BY version")
        .await;
    let expected: Vec<String> = shipped.iter().map(|m| m.checksum()).collect();
    assert_eq!(recorded, expected);
    let dirty = db
        .strings("SELECT COUNT(*) FROM costkatana_webhook_inbox_migrations WHERE dirty")
        .await;
    assert_eq!(dirty, ["0"]);
}

pub async fn a_newer_schema_is_refused(db: &Db) {
    drop(Inbox::open(&db.url()).await.unwrap());
    db.execute(
        "INSERT INTO costkatana_webhook_inbox_migrations
            (version, name, checksum, applied_at, dirty)
         VALUES (6, 'from_a_newer_release', 'abc', 0, FALSE)",
    )
    .await;
    refused(
        db,
        "the inbox schema is at version 6, newer than this code's 5: upgrade \
         costkatana-webhooks-inbox",
    )
    .await;
}

pub async fn a_migration_that_stopped_part_way_is_refused(db: &Db) {
    drop(Inbox::open(&db.url()).await.unwrap());
    db.execute("UPDATE costkatana_webhook_inbox_migrations SET dirty = TRUE WHERE version = 2")
        .await;
    refused(db, "migration 2 (listing_indexes) stopped part-way").await;
    refused(db, "fix by hand").await;
}

pub async fn a_migration_changed_after_it_ran_is_refused(db: &Db) {
    drop(Inbox::open(&db.url()).await.unwrap());
    db.execute(
        "UPDATE costkatana_webhook_inbox_migrations SET checksum = 'edited' WHERE version = 1",
    )
    .await;
    refused(db, "migration 1 was changed after it ran").await;
}

pub async fn a_table_name_of_ones_own_is_used_everywhere(db: &Db) {
    let url = db.url();
    let inbox = Inbox::builder(&url)
        .table("custom_inbox")
        .open()
        .await
        .unwrap();
    inbox.enqueue(entry("evt_custom")).await.unwrap();
    let jobs = inbox.take(NOW, Duration::from_secs(60), 10).await.unwrap();
    assert_eq!(jobs.len(), 1);
    let settled = inbox.settle(&jobs[0], Settlement::Done, NOW).await.unwrap();
    assert_eq!(settled, Completion::Recorded);
    let listed = inbox.list(&EntryQuery::new()).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].event_id.as_deref(), listed[0].state),
        (Some("evt_custom"), EntryState::Done)
    );
    assert_eq!(
        versions(db, "custom_inbox").await,
        ["1", "2", "3", "4", "5"]
    );
    let relations = db.relations().await;
    for name in ["custom_inbox", "custom_inbox_due", "custom_inbox_event_id"] {
        assert!(
            relations.iter().any(|r| r == name),
            "{name} in {relations:?}"
        );
    }
    assert!(
        !relations.iter().any(|r| r.starts_with("costkatana")),
        "the default table is absent: {relations:?}"
    );

    // The default table beside it holds its own rows.
    let default = Inbox::open(&url).await.unwrap();
    assert!(default.list(&EntryQuery::new()).await.unwrap().is_empty());
    let again = Inbox::builder(&url)
        .table("custom_inbox")
        .connect()
        .await
        .unwrap();
    assert_eq!(again.list(&EntryQuery::new()).await.unwrap(), listed);

    let err = Inbox::builder(&url)
        .table("Custom-Inbox")
        .open()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), InboxErrorKind::Invalid);
    assert!(
        err.to_string()
            .contains("lowercase ASCII letters, digits and _"),
        "{err}"
    );
}

pub async fn connect_to_an_empty_database_fails_and_leaves_it_empty(db: &Db) {
    if let Db::Sqlite(path) = db {
        std::fs::write(path, b"").unwrap();
    }
    let err = Inbox::connect(&db.url()).await.unwrap_err();
    assert_eq!(err.kind(), InboxErrorKind::Schema);
    assert!(
        err.to_string().contains(
            "has no inbox table: start a receiver on it or call Inbox::migrate/open \
             (looked for the table costkatana_webhook_inbox)"
        ),
        "{err}"
    );
    if let Db::Sqlite(path) = db {
        assert_eq!(
            std::fs::metadata(path).unwrap().len(),
            0,
            "the file is untouched"
        );
        assert!(!path.with_extension("db-wal").exists());
    }
    assert!(
        db.relations().await.is_empty(),
        "{:?}",
        db.relations().await
    );
}

pub async fn connect_refuses_an_older_schema_and_changes_nothing(db: &Db) {
    db.execute(db.before_migrations()).await;
    db.insert_old(&old_rows()[0]).await;
    let before = db.relations().await;
    let err = Inbox::connect(&db.url()).await.unwrap_err();
    assert_eq!(err.kind(), InboxErrorKind::Schema);
    assert!(
        err.to_string()
            .contains("the inbox schema is at version 1, older than this code's 5"),
        "{err}"
    );
    assert_eq!(db.relations().await, before, "no DDL");
    drop(Inbox::open(&db.url()).await.unwrap());
    let inbox = Inbox::connect(&db.url()).await.unwrap();
    assert_eq!(inbox.list(&EntryQuery::new()).await.unwrap().len(), 1);
}

pub async fn a_schema_made_by_a_migrator_of_ones_own_is_used_as_it_is(db: &Db) {
    let shipped = if db.is_sqlite() {
        migrations::sqlite()
    } else {
        migrations::postgres()
    };
    for migration in shipped {
        db.execute(&migration.sql_for_table("own_inbox").unwrap())
            .await;
    }
    let before = db.relations().await;
    let inbox = Inbox::builder(&db.url())
        .table("own_inbox")
        .connect()
        .await
        .unwrap();
    assert_eq!(inbox.schema_version().await.unwrap(), migrations::LATEST);
    inbox.enqueue(entry("evt_own")).await.unwrap();
    assert_eq!(inbox.list(&EntryQuery::new()).await.unwrap().len(), 1);
    assert_eq!(db.relations().await, before, "connect created nothing");
}

pub async fn the_builders_clock_is_the_inboxs_now(db: &Db) {
    let clock = Arc::new(ManualClock::new(1_000_000));
    let inbox = Inbox::builder(&db.url())
        .clock(clock.clone())
        .open()
        .await
        .unwrap();
    let applied = db
        .strings("SELECT applied_at FROM costkatana_webhook_inbox_migrations")
        .await;
    assert_eq!(applied, vec!["1000000"; migrations::LATEST as usize]);

    inbox.enqueue(entry("evt_clock")).await.unwrap();
    let dead = |inbox: Inbox, now: i64| async move {
        let job = inbox
            .take(now, Duration::from_secs(60), 1)
            .await
            .unwrap()
            .remove(0);
        let error = "refused".to_owned();
        inbox
            .settle(&job, Settlement::Dead { error }, now)
            .await
            .unwrap();
        job.id
    };
    let id = dead(inbox.clone(), NOW).await;
    clock.set_ms(NOW + 2_000);
    assert_eq!(inbox.retry(id).await.unwrap(), EntryState::Dead);
    assert_eq!(inbox.get(id).await.unwrap().run_after_ms, NOW + 2_000);
    dead(inbox.clone(), NOW + 2_000).await;
    clock.set_ms(NOW + 3_000);
    assert_eq!(inbox.retry_dead().await.unwrap(), 1);
    assert_eq!(inbox.get(id).await.unwrap().run_after_ms, NOW + 3_000);
}

/// A database as the previous release left it: migrations 1 and 2 run
/// and recorded, rows in every state.
async fn at_version_2(db: &Db) {
    migrated_to(db, 2).await;
    for row in old_rows() {
        db.insert_old(&row).await;
    }
}

/// The shipped migrations up to `version` run and recorded.
async fn migrated_to(db: &Db, version: usize) {
    let shipped = if db.is_sqlite() {
        migrations::sqlite()
    } else {
        migrations::postgres()
    };
    db.execute(
        "CREATE TABLE costkatana_webhook_inbox_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            checksum TEXT NOT NULL,
            applied_at BIGINT NOT NULL,
            dirty BOOLEAN NOT NULL
        )",
    )
    .await;
    for migration in &shipped[..version] {
        db.execute(migration.sql).await;
        db.execute(&format!(
            "INSERT INTO costkatana_webhook_inbox_migrations VALUES ({}, '{}', '{}', 0, FALSE)",
            migration.version,
            migration.name,
            migration.checksum()
        ))
        .await;
    }
}

/// Activity recorded at version 4 (a row per minute, outcome and duration
/// bucket) reads the same after version 5 split it into rows by outcome
/// and rows by duration.
pub async fn activity_recorded_at_version_4_reads_the_same_after_the_upgrade(db: &Db) {
    migrated_to(db, 4).await;
    // Buckets 17, 45 and 55 hold about 10 ms, 500 ms and 2 s.
    db.execute(
        "INSERT INTO costkatana_webhook_inbox_activity (minute, outcome, bucket, n) VALUES
            (60000, 'done', 17, 98), (60000, 'retried', 45, 1), (60000, 'dead', 55, 1),
            (120000, 'done', 17, 4), (120000, 'done', 45, 1)",
    )
    .await;
    let inbox = Inbox::open(&db.url()).await.unwrap();
    assert_eq!(inbox.schema_version().await.unwrap(), 5);
    let minutes = inbox.activity(0, 180_000).await.unwrap();
    let counts: Vec<_> = minutes
        .iter()
        .map(|m| (m.minute_ms, m.handled, m.failed, m.dead))
        .collect();
    assert_eq!(counts, [(60_000, 98, 1, 1), (120_000, 5, 0, 0)]);
    let near = |got: Option<f64>, want: f64| (got.unwrap() - want).abs() / want < 0.08;
    assert!(near(minutes[0].p50_ms, 10.0), "{:?}", minutes[0]);
    assert!(near(minutes[0].p99_ms, 500.0), "{:?}", minutes[0]);
    assert!(near(minutes[1].p50_ms, 10.0), "{:?}", minutes[1]);
    assert!(near(minutes[1].p90_ms, 500.0), "{:?}", minutes[1]);
    // 3 + 3 rows for the first minute, 1 + 2 for the second.
    let rows = db
        .strings("SELECT COUNT(*) FROM costkatana_webhook_inbox_activity")
        .await;
    assert_eq!(rows, ["9"]);
}

pub async fn a_database_at_the_previous_version_is_upgraded_in_place(db: &Db) {
    at_version_2(db).await;
    let err = Inbox::connect(&db.url()).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("at version 2, older than this code's 5"),
        "{err}"
    );
    let inbox = Inbox::open(&db.url()).await.unwrap();
    assert_eq!(inbox.schema_version().await.unwrap(), 5);
    assert_eq!(
        versions(db, "costkatana_webhook_inbox").await,
        ["1", "2", "3", "4", "5"]
    );

    // Every row as it was, and still a duplicate of itself.
    let listed = inbox.list(&EntryQuery::new()).await.unwrap();
    let states: Vec<(&str, EntryState)> = listed
        .iter()
        .map(|e| (e.event_id.as_deref().unwrap(), e.state))
        .collect();
    assert_eq!(
        states,
        [
            ("evt_dead", EntryState::Dead),
            ("evt_done", EntryState::Done),
            ("evt_stuck", EntryState::Running),
            ("evt_pending", EntryState::Pending),
        ]
    );
    let dead = inbox.get(listed[0].id).await.unwrap();
    assert_eq!((dead.body.as_ref(), dead.attempts), (OLD_BODY, 8));
    // The counters made by the upgrade hold the rows it found.
    let stats = inbox.stats().await.unwrap();
    assert_eq!(
        (stats.pending, stats.running, stats.done, stats.dead),
        (1, 1, 1, 1)
    );
    for (key, state) in [
        ("evt_done", EntryState::Done),
        ("evt_pending", EntryState::Pending),
    ] {
        let copy = NewEntry {
            dedupe_key: key.to_owned(),
            ..entry(key)
        };
        assert_eq!(
            inbox.enqueue(copy).await.unwrap(),
            costkatana_webhooks::inbox::Enqueued::Duplicate(state)
        );
    }

    // The workers go on with them, and new rows of any id are stored.
    let jobs = inbox.take(NOW, Duration::from_secs(60), 10).await.unwrap();
    assert_eq!(jobs.len(), 2);
    for job in &jobs {
        let settled = inbox.settle(job, Settlement::Done, NOW).await.unwrap();
        assert_eq!(settled, Completion::Recorded);
    }
    // Hex of digests: nothing a btree entry's compression can shrink.
    let long: String = (0..100)
        .map(|i: u32| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(i.to_be_bytes())))
        .collect();
    for id in ["evt_after\u{0}upgrade", long.as_str()] {
        let stored = inbox.enqueue(entry(id)).await.unwrap();
        assert_eq!(stored, costkatana_webhooks::inbox::Enqueued::Stored);
    }
    let stats = inbox.stats().await.unwrap();
    assert_eq!(
        (stats.pending, stats.running, stats.done, stats.dead),
        (2, 0, 3, 1)
    );
}

/// Every check, as `$each!(name)` for a backend's runner.
#[macro_export]
macro_rules! schema_checks {
    ($each:ident) => {
        $each!(
            a_database_made_before_migrations_is_adopted_rows_and_all,
            an_empty_database_is_created_at_the_latest_version,
            a_newer_schema_is_refused,
            a_migration_that_stopped_part_way_is_refused,
            a_migration_changed_after_it_ran_is_refused,
            a_table_name_of_ones_own_is_used_everywhere,
            connect_to_an_empty_database_fails_and_leaves_it_empty,
            connect_refuses_an_older_schema_and_changes_nothing,
            a_schema_made_by_a_migrator_of_ones_own_is_used_as_it_is,
            the_builders_clock_is_the_inboxs_now,
            a_database_at_the_previous_version_is_upgraded_in_place,
            activity_recorded_at_version_4_reads_the_same_after_the_upgrade,
        );
    };
}
