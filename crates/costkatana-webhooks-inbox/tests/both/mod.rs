//! Runs each check of a test file on a SQLite file of its own and on a
//! database of its own on one real Postgres server: `on_both!(a, b, …)`
//! beside `#[path = "schema/db.rs"] mod db;`.

#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

/// A directory of the test's own, deleted when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("ckw-inbox-both-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Each check as a SQLite test, and all of them in one Postgres test.
#[macro_export]
macro_rules! on_both {
    ($($check:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let dir = $crate::both::TempDir::new(stringify!($check));
                    let db = $crate::db::Db::Sqlite(dir.0.join("inbox.db"));
                    super::$check(&db).await;
                }
            )*
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn postgres() {
            let Some(server) = costkatana_webhooks_inbox::testing::PostgresServer::start() else {
                return;
            };
            $(
                let db = $crate::db::Db::Postgres(server.create_database(stringify!($check)));
                $check(&db).await;
            )*
        }
    };
}
