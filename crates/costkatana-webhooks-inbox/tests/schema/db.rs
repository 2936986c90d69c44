//! A database the schema tests reach behind the inbox's back: raw SQL in,
//! names and values out, on a SQLite file or a Postgres database.

use std::path::PathBuf;

use tokio_postgres::{NoTls, SimpleQueryMessage};

/// A row as the crate stored it before its schema had versions.
pub struct OldRow {
    pub dedupe_key: &'static str,
    pub event_id: &'static str,
    pub state: &'static str,
    pub attempts: i64,
    pub received_at: i64,
    pub run_after: i64,
    pub lease_token: Option<&'static str>,
    pub lease_until: Option<i64>,
    pub settled_at: Option<i64>,
    pub last_error: Option<&'static str>,
}

/// The headers and body every [`OldRow`] holds.
pub const OLD_HEADERS: &str =
    r#"[["x-webhook-signature","v1=abc"],["x-webhook-timestamp","1777377600000"]]"#;
pub const OLD_BODY: &[u8] = br#"{"eventId":"evt","eventType":"cost.alert"}"#;

const INSERT: &str = "INSERT INTO costkatana_webhook_inbox
    (dedupe_key, event_id, event_type, headers, body, received_at, state, attempts,
     run_after, lease_token, lease_until, settled_at, last_error)
    VALUES ($1, $2, 'cost.alert', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

pub enum Db {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Db {
    pub fn url(&self) -> String {
        match self {
            Db::Sqlite(path) => format!("sqlite:{}", path.display()),
            Db::Postgres(url) => url.clone(),
        }
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Db::Sqlite(_))
    }

    /// The schema the crate made before versions, as a test fixture.
    pub fn before_migrations(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => include_str!("../data/before_migrations.sqlite.sql"),
            Db::Postgres(_) => include_str!("../data/before_migrations.postgres.sql"),
        }
    }

    /// Runs `sql` (one statement or several).
    pub async fn execute(&self, sql: &str) {
        match self {
            Db::Sqlite(path) => rusqlite::Connection::open(path)
                .unwrap()
                .execute_batch(sql)
                .unwrap_or_else(|err| panic!("{sql}: {err}")),
            Db::Postgres(_) => self
                .postgres()
                .await
                .batch_execute(sql)
                .await
                .unwrap_or_else(|err| panic!("{sql}: {err:?}")),
        }
    }

    /// The first column of every row `sql` returns, as text (NULL as "").
    pub async fn strings(&self, sql: &str) -> Vec<String> {
        match self {
            Db::Sqlite(path) => {
                use rusqlite::types::ValueRef;
                let conn = rusqlite::Connection::open(path).unwrap();
                let mut statement = conn.prepare(sql).unwrap();
                let rows = statement
                    .query_map([], |row| {
                        Ok(match row.get_ref(0)? {
                            ValueRef::Null => String::new(),
                            ValueRef::Integer(i) => i.to_string(),
                            ValueRef::Real(r) => r.to_string(),
                            ValueRef::Text(t) | ValueRef::Blob(t) => {
                                String::from_utf8_lossy(t).into_owned()
                            }
                        })
                    })
                    .unwrap();
                rows.map(Result::unwrap).collect()
            }
            Db::Postgres(_) => self
                .postgres()
                .await
                .simple_query(sql)
                .await
                .unwrap()
                .into_iter()
                .filter_map(|message| match message {
                    SimpleQueryMessage::Row(row) => Some(row.get(0).unwrap_or("").to_owned()),
                    _ => None,
                })
                .collect(),
        }
    }

    /// The names of the tables and indexes in the database (the inbox's
    /// schema on Postgres), sorted.
    pub async fn relations(&self) -> Vec<String> {
        let sql = match self {
            Db::Sqlite(_) => {
                "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
            }
            Db::Postgres(_) => {
                "SELECT c.relname::text FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i') ORDER BY 1"
            }
        };
        self.strings(sql).await
    }

    /// Stores `row` as the crate did before versions.
    pub async fn insert_old(&self, row: &OldRow) {
        match self {
            Db::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                // `$n` to `?n`: the statement holds no other `$`.
                let insert = INSERT.replace('$', "?");
                conn.execute(
                    &insert,
                    rusqlite::params![
                        row.dedupe_key,
                        row.event_id,
                        OLD_HEADERS,
                        OLD_BODY,
                        row.received_at,
                        row.state,
                        row.attempts,
                        row.run_after,
                        row.lease_token,
                        row.lease_until,
                        row.settled_at,
                        row.last_error,
                    ],
                )
                .unwrap();
            }
            Db::Postgres(_) => {
                self.postgres()
                    .await
                    .execute(
                        INSERT,
                        &[
                            &row.dedupe_key,
                            &row.event_id,
                            &OLD_HEADERS,
                            &OLD_BODY,
                            &row.received_at,
                            &row.state,
                            &row.attempts,
                            &row.run_after,
                            &row.lease_token,
                            &row.lease_until,
                            &row.settled_at,
                            &row.last_error,
                        ],
                    )
                    .await
                    .unwrap();
            }
        }
    }

    async fn postgres(&self) -> tokio_postgres::Client {
        let Db::Postgres(url) = self else {
            unreachable!("a Postgres database")
        };
        let (client, connection) = tokio_postgres::connect(url, NoTls).await.unwrap();
        tokio::spawn(async move {
            let _ = connection.await;
        });
        client
    }
}
