//! The schema's versions on SQLite files and on a real Postgres: adopting
//! a database made before them, refusing one this code cannot use,
//! another table name, and connecting without changing anything.

mod schema;

use std::path::PathBuf;

use costkatana_webhooks_inbox::testing::PostgresServer;
use costkatana_webhooks_inbox::{Inbox, InboxErrorKind};
use schema::db::Db;

/// Deletes the test's directory when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!("ckw-inbox-schema-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

/// Each check on a SQLite file of its own (not created yet).
macro_rules! on_sqlite {
    ($($check:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let dir = super::temp_dir(stringify!($check));
                    let db = super::Db::Sqlite(dir.0.join("inbox.db"));
                    super::schema::$check(&db).await;
                }
            )*
        }
    };
}

schema_checks!(on_sqlite);

/// Each check on a database of its own, on one Postgres server.
macro_rules! on_postgres {
    ($($check:ident),* $(,)?) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn postgres() {
            let Some(server) = PostgresServer::start() else { return };
            $(
                let db = Db::Postgres(server.create_database(stringify!($check)));
                schema::$check(&db).await;
            )*
        }
    };
}

schema_checks!(on_postgres);

#[tokio::test]
async fn connect_never_creates_a_sqlite_file() {
    let dir = temp_dir("no-file");
    for path in [dir.0.join("typo.db"), dir.0.join("no/such/dir/inbox.db")] {
        let url = format!("sqlite:{}", path.display());
        let err = Inbox::connect(&url).await.unwrap_err();
        assert_eq!(err.kind(), InboxErrorKind::Schema);
        assert!(
            err.to_string()
                .contains(&format!("there is no inbox file at {}", path.display())),
            "{err}"
        );
        assert!(!path.exists());
    }
}

#[tokio::test]
async fn open_still_accepts_a_sqlite_file_holding_other_tables() {
    let dir = temp_dir("other-tables");
    let db = Db::Sqlite(dir.0.join("app.db"));
    db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
        .await;
    let inbox = Inbox::builder(&db.url())
        .allow_other_tables(true)
        .open()
        .await
        .unwrap();
    assert_eq!(inbox.stats().await.unwrap().pending, 0);
    let relations = db.relations().await;
    assert!(relations.iter().any(|r| r == "orders"), "{relations:?}");
    assert!(
        relations.iter().any(|r| r == "costkatana_webhook_inbox"),
        "{relations:?}"
    );
}
