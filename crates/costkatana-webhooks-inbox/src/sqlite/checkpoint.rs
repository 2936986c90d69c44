//! Checkpoints, off the writer thread. In WAL mode committed pages are
//! appended to the `-wal` file and copied back into the database file by a
//! checkpoint, which also waits for the disk (`fsync`). SQLite runs it by
//! default inside the commit that crosses 1,000 pages, on the committing
//! connection: here the writer thread, so every few thousand deliveries one
//! acknowledgement waited for the copy and the flush (tens of ms on a busy
//! disk). This thread runs a passive checkpoint on a connection of its own
//! after commits, at most every [`EVERY`], which never blocks the writer;
//! the writer's next transaction then starts the log over. Under writes
//! without a pause the log cannot start over (the writer is always past
//! the checkpoint): the writer checkpoints itself once the log reaches
//! 16 MiB (`wal_autocheckpoint`, see `schema::configure`), copying what
//! this thread had not, so the log stays bounded.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::Connection;

use crate::error::{InboxError, InboxErrorKind};

/// The least time between two checkpoints: enough to coalesce the commits
/// of a burst, short enough that the log stays small and a pass often
/// ends between two commits, so the writer's next transaction starts the
/// log over instead of the writer checkpointing itself (the stall bench:
/// every 250 ms gave an acknowledgement p99 of 3.6–4.9 ms at 1 M rows,
/// every 50 ms 0.9–1.8 ms).
const EVERY: Duration = Duration::from_millis(50);

/// A handle on the checkpoint thread; the thread ends with the last one.
#[derive(Clone)]
pub(super) struct Checkpointer {
    wake: mpsc::SyncSender<()>,
}

impl Checkpointer {
    /// Starts the thread, with `conn` (a read-write connection to the
    /// file) its own.
    pub(super) fn start(conn: Connection, shown: &str) -> Result<Checkpointer, InboxError> {
        let (wake, woken) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("inbox-checkpt".to_owned())
            .spawn(move || run(&conn, &woken))
            .map_err(|err| {
                InboxError::caused_by(
                    InboxErrorKind::Unavailable,
                    format!("{shown}: could not start the checkpoint thread"),
                    err,
                )
            })?;
        Ok(Checkpointer { wake })
    }

    /// Says that something was committed (never waits: a checkpoint
    /// already asked for covers this commit too).
    pub(super) fn committed(&self) {
        let _ = self.wake.try_send(());
    }
}

fn run(conn: &Connection, woken: &mpsc::Receiver<()>) {
    while woken.recv().is_ok() {
        // Passive: copies what no reader still needs, waits for no lock;
        // what it could not copy is copied by a later one. A failure (a
        // full disk) leaves the pages in the log, where they are safe.
        if let Err(err) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %err, "SQLite inbox: a checkpoint failed; the next one retries");
        }
        std::thread::sleep(EVERY); // coalesces the commits meanwhile
    }
}

/// The checkpoint thread's connection to the database at `path`.
pub(super) fn connection(path: &Path) -> Result<Connection, InboxError> {
    super::schema::open_writer(path, false)
}
