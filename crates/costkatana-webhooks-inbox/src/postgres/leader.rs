//! Which replica runs fleet-wide maintenance: per task, a session-level
//! advisory lock held on a connection of its own. The lock lasts as long
//! as that session, so it goes with the process (or the connection) and
//! another replica takes it on its next try; no lease to renew, no clock.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Mutex;
use tokio_postgres::{Client, Config, NoTls};

use super::pools::{CONNECT_TIMEOUT, OP_TIMEOUT};
use super::schema::lock_key;
use crate::error::{InboxError, InboxErrorKind};
use crate::table::Table;

/// One task's session: its connection, and whether it holds the task's
/// lock.
struct Session {
    client: Client,
    leads: bool,
}

/// The sessions of one inbox, by task; dropped with the last clone of the
/// inbox, which closes them and so releases their locks.
pub(super) struct Leader {
    config: Config,
    table: Table,
    shown: Arc<str>,
    sessions: Mutex<HashMap<&'static str, Session>>,
}

impl Leader {
    pub(super) fn new(config: Config, table: Table, shown: Arc<str>) -> Leader {
        Leader {
            config,
            table,
            shown,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// Whether this inbox leads `task`: it does while its session holding
    /// the lock is alive (checked with a round trip on every call); when
    /// it does not, it tries to take the lock, on a new session if the old
    /// one is gone.
    pub(super) async fn lead(&self, task: &'static str) -> Result<bool, InboxError> {
        let key = lock_key(&format!("lead {task}"), &self.table);
        let mut sessions = self.sessions.lock().await;
        if let Some(session) = sessions.get_mut(task) {
            match tokio::time::timeout(OP_TIMEOUT, still(session, key)).await {
                Ok(Ok(leads)) => return Ok(leads),
                // The session is gone (or silent: it is closed), and with
                // it any lock it held.
                Ok(Err(_)) | Err(_) => {
                    sessions.remove(task);
                }
            }
        }
        let client = self.connect().await?;
        let leads = match tokio::time::timeout(OP_TIMEOUT, try_lock(&client, key)).await {
            Ok(leads) => leads.map_err(|err| self.failed(task, err))?,
            Err(_) => {
                return Err(InboxError::new(
                    InboxErrorKind::Unavailable,
                    format!(
                        "{}: could not ask for the lead of {task}: no answer within {} s",
                        self.shown,
                        OP_TIMEOUT.as_secs()
                    ),
                ))
            }
        };
        sessions.insert(task, Session { client, leads });
        Ok(leads)
    }

    async fn connect(&self) -> Result<Client, InboxError> {
        let mut config = self.config.clone();
        config.connect_timeout(CONNECT_TIMEOUT);
        let connected = tokio::time::timeout(CONNECT_TIMEOUT, config.connect(NoTls)).await;
        let (client, connection) = match connected {
            Ok(Ok(pair)) => pair,
            Ok(Err(err)) => {
                return Err(InboxError::caused_by(
                    InboxErrorKind::Unavailable,
                    format!("{}: could not connect for leadership", self.shown),
                    err,
                ))
            }
            Err(_) => {
                return Err(InboxError::new(
                    InboxErrorKind::Unavailable,
                    format!(
                        "{}: could not connect for leadership within {} s",
                        self.shown,
                        CONNECT_TIMEOUT.as_secs()
                    ),
                ))
            }
        };
        // Ends when the client is dropped (or the server goes): the
        // session, and its lock, end with it.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(client)
    }

    fn failed(&self, task: &str, err: tokio_postgres::Error) -> InboxError {
        InboxError::caused_by(
            InboxErrorKind::Unavailable,
            format!("{}: could not ask for the lead of {task}", self.shown),
            err,
        )
    }
}

/// A session's answer now: its lock still held if it is alive, else a
/// new try.
async fn still(session: &mut Session, key: i64) -> Result<bool, tokio_postgres::Error> {
    if session.leads {
        session.client.simple_query("SELECT 1").await?;
    } else {
        session.leads = try_lock(&session.client, key).await?;
    }
    Ok(session.leads)
}

async fn try_lock(client: &Client, key: i64) -> Result<bool, tokio_postgres::Error> {
    let row = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
        .await?;
    Ok(row.get(0))
}
