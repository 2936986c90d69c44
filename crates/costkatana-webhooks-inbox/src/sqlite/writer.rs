//! The one writer of a SQLite inbox: a thread that owns the read-write
//! connection and commits whatever is queued as one transaction (group
//! commit). Reads do not come here (see `reader.rs`).

use std::sync::{mpsc, Arc};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::checkpoint::Checkpointer;
use crate::error::{InboxError, InboxErrorKind};

/// The most operations one transaction commits.
const MAX_BATCH: usize = 512;

/// Reports an operation's result once its transaction has ended: `None`
/// when it committed, else why not.
type Finish = Box<dyn FnOnce(Option<&str>) + Send>;
/// An operation: run inside the open transaction, or told why there is none.
type Op = Box<dyn FnOnce(Result<&Connection, &str>) -> Finish + Send>;

/// A handle on the writer thread; cheap to clone. The thread ends when
/// every handle is gone.
#[derive(Clone)]
pub(super) struct Writer {
    ops: mpsc::Sender<Op>,
    shown: Arc<str>,
}

impl Writer {
    /// Starts the thread that owns `conn`; it tells `checkpointer` of
    /// each commit. `shown` names the inbox in errors (`SQLite inbox
    /// <path>`).
    pub(super) fn start(
        conn: Connection,
        checkpointer: Checkpointer,
        shown: Arc<str>,
    ) -> Result<Writer, InboxError> {
        let (ops, queue) = mpsc::channel::<Op>();
        std::thread::Builder::new()
            .name("inbox-writer".to_owned())
            .spawn(move || serve(&conn, &queue, &checkpointer))
            .map_err(|err| {
                InboxError::caused_by(
                    InboxErrorKind::Unavailable,
                    format!("{shown}: could not start the writer thread"),
                    err,
                )
            })?;
        Ok(Writer { ops, shown })
    }

    /// Runs `f` in the writer thread's next transaction; resolves after the
    /// commit (or with why it failed).
    pub(super) async fn call<T: Send + 'static>(
        &self,
        what: &'static str,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, InboxError> {
        let (reply, answer) = oneshot::channel();
        let shown = Arc::clone(&self.shown);
        let op: Op = Box::new(move |conn| {
            let result = conn.map(f).map_err(str::to_owned);
            Box::new(move |commit_error| {
                let failed = |why: &str| {
                    InboxError::new(
                        InboxErrorKind::Unavailable,
                        format!("{shown}: could not {what}: {why}"),
                    )
                };
                let outcome = match (result, commit_error) {
                    (Ok(Ok(value)), None) => Ok(value),
                    (Ok(Err(err)), _) => Err(InboxError::caused_by(
                        InboxErrorKind::Unavailable,
                        format!("{shown}: could not {what}"),
                        err,
                    )),
                    (Err(why), _) => Err(failed(&why)),
                    (Ok(Ok(_)), Some(why)) => Err(failed(why)),
                };
                let _ = reply.send(outcome);
            })
        });
        let stopped = || {
            InboxError::new(
                InboxErrorKind::Unavailable,
                format!("{}: the writer thread has stopped", self.shown),
            )
        };
        self.ops.send(op).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The writer thread: waits for an operation, gathers whatever else is
/// queued, and commits them all at once. Ends when every handle is gone.
fn serve(conn: &Connection, queue: &mpsc::Receiver<Op>, checkpointer: &Checkpointer) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        if let Err(err) = conn.execute_batch("BEGIN IMMEDIATE") {
            let why = err.to_string();
            for op in batch {
                op(Err(&why))(Some(&why));
            }
            continue;
        }
        let mut finishes = Vec::with_capacity(batch.len());
        for op in batch {
            // An I/O or disk-full error can end the transaction early; the
            // rest must not run outside it.
            if conn.is_autocommit() {
                finishes.push(op(Err("the transaction ended early after an error")));
            } else {
                finishes.push(op(Ok(conn)));
            }
        }
        let commit = if conn.is_autocommit() {
            Err("the transaction was rolled back after an error".to_owned())
        } else {
            conn.execute_batch("COMMIT").map_err(|err| {
                let _ = conn.execute_batch("ROLLBACK");
                err.to_string()
            })
        };
        let why = commit.err();
        for finish in finishes {
            finish(why.as_deref());
        }
        if why.is_none() {
            checkpointer.committed();
        }
    }
}
