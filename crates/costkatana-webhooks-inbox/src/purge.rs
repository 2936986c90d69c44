//! What a purge may delete, and how much at a time: done or dead entries
//! only (a pending or running entry is work not done yet), a page at a
//! time, so the deletes never hold the writer (SQLite's one writer thread,
//! or Postgres's row locks) for longer than one page takes.

use costkatana_webhooks::inbox::{EntryQuery, EntryState};

use crate::error::{InboxError, InboxErrorKind};

/// The most entries one page of a purge reads and deletes.
pub(crate) const PAGE: usize = 500;

/// The states a purge of `query` deletes in: its state, which must be done
/// or dead, or both when it names none.
pub(crate) fn states(query: &EntryQuery) -> Result<Vec<EntryState>, InboxError> {
    match query.state {
        None => Ok(vec![EntryState::Done, EntryState::Dead]),
        Some(state @ (EntryState::Done | EntryState::Dead)) => Ok(vec![state]),
        Some(state) => Err(InboxError::new(
            InboxErrorKind::Invalid,
            format!("only done or dead entries can be purged, not {state} ones"),
        )),
    }
}
