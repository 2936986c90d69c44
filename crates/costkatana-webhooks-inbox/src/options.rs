//! The settings of [`InboxBuilder`](crate::InboxBuilder) that the
//! backends read when they open.

/// The settings the backends read.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Options {
    /// Done rows keep their body and headers.
    pub(crate) keep_done_bodies: bool,
    /// A SQLite file that holds other tables may get an inbox table too.
    pub(crate) allow_other_tables: bool,
}
