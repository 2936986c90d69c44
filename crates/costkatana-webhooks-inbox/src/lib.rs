//! A durable inbox for [`costkatana-webhooks`](costkatana_webhooks): the
//! receiver answers 200 only after the delivery is committed to a table,
//! and workers run the handlers from there, with retries, leases and a
//! dead-letter state. The table is also the dedupe store, so dedupe
//! survives restarts.
//!
//! Two backends, one API:
//!
//! - **SQLite** (`sqlite:<path>`), embedded and the default: one file, no
//!   server, the library compiled in. One process writes it at a time
//!   (others, like the `ckwebhook inbox` CLI, wait their turn); reads
//!   (listings, counts) run beside the writes.
//! - **Postgres** (`postgres://…`), for many replicas sharing one inbox.
//!
//! # Opening: what a receiver does
//!
//! [`Inbox::open`] creates what is missing (the SQLite file, the table)
//! and migrates an older schema to this code's version:
//!
//! ```no_run
//! use costkatana_webhooks::{Event, HandlerResult, Payload, Receiver};
//! use costkatana_webhooks_inbox::Inbox;
//!
//! async fn on_budget(event: Event) -> HandlerResult {
//!     println!("budget exceeded: {:?}", event.title);
//!     Ok(())
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let receiver = Receiver::builder()
//!     .secret("whsec_...")
//!     .inbox(Inbox::open("sqlite:inbox.db").await?)
//!     .on("budget.exceeded", on_budget)
//!     .fallback(|_: Payload| async { Ok(()) })
//!     .build()?;
//! receiver.start().await?; // the workers
//! // Serve `receiver` with an adapter; on exit:
//! receiver.shutdown(std::time::Duration::from_secs(30)).await;
//! # Ok(()) }
//! ```
//!
//! # Connecting without changing the schema
//!
//! [`Inbox::connect`] runs no DDL at all and creates no file: the inbox
//! must be there, at this code's schema version. Use it for tools that
//! inspect an inbox, and for processes whose database role may not change
//! the schema. The same [`Inbox`] inspects and replays: [`Inbox::list`]
//! (filters and a keyset cursor, see [`EntryQuery`]), [`Inbox::get`],
//! [`Inbox::retry`], [`Inbox::retry_dead`], [`Inbox::count`] and
//! [`Inbox::purge`] (the `ckwebhook inbox` subcommands).
//!
//! ```no_run
//! # async fn run() -> Result<(), costkatana_webhooks_inbox::InboxError> {
//! use costkatana_webhooks_inbox::{EntryQuery, EntryState, Inbox};
//!
//! let inbox = Inbox::connect("postgres://reader@db.internal/webhooks").await?;
//! let dead = inbox.list(&EntryQuery::new().state(EntryState::Dead).limit(20)).await?;
//! # Ok(()) }
//! ```
//!
//! # The schema and its migrations
//!
//! The schema is versioned: numbered SQL files shipped in this crate,
//! `migrations/sqlite/*.sql` and `migrations/postgres/*.sql` (also
//! available as [`migrations::sqlite`] and [`migrations::postgres`]).
//! [`Inbox::open`] and [`Inbox::migrate`] run the ones a database lacks,
//! each in its own transaction (on Postgres under an advisory lock, so
//! replicas starting together take turns), and record them in
//! `<table>_migrations` with each file's SHA-256. A database whose
//! schema is newer than this code, whose migration stopped part-way
//! (`dirty`), or whose recorded checksum differs from the shipped file is
//! refused with what to do. A database made before migrations were
//! recorded is adopted.
//!
//! To migrate with a migrator of your own (sqlx, refinery, Flyway, …),
//! copy the files for your database into it, in their order. They name
//! the default table, [`DEFAULT_TABLE`], literally; for another name
//! (set with [`InboxBuilder::table`]), replace `costkatana_webhook_inbox`
//! in their text, or take it from [`Migration::sql_for_table`]. Then
//! [`Inbox::connect`] with the same table name: without a
//! `<table>_migrations` table, the version is read from what the schema
//! holds (the tables and indexes each file creates).
//!
//! ```no_run
//! # async fn run() -> Result<(), costkatana_webhooks_inbox::InboxError> {
//! use costkatana_webhooks_inbox::{migrations, Inbox};
//!
//! for migration in migrations::postgres() {
//!     let sql = migration.sql_for_table("billing_inbox")?;
//!     println!("-- {:04}_{}.sql\n{sql}", migration.version, migration.name);
//! }
//! // ... once your migrator has run them:
//! let inbox = Inbox::builder("postgres://app@db.internal/webhooks")
//!     .table("billing_inbox")
//!     .connect()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! # What is kept, and for how long
//!
//! A row holds the delivery as it came (body, the headers that verify it,
//! its dedupe key, event id and type) until its handler succeeds; then it
//! keeps only what dedupe needs (key, id, type, times) for the receiver's
//! dedupe TTL, unless [`InboxBuilder::keep_done_bodies`] keeps the body
//! and headers for inspection. Dead letters keep everything and are kept
//! until purged ([`Inbox::purge`], `ckwebhook inbox purge --state dead`).
//! A SQLite file and its `-wal` and `-shm` are private to their owner
//! (mode 0600).
//!
//! # Answering in time
//!
//! [`InboxStore::probe`] writes a row in a transaction that is rolled
//! back: a receiver refuses to start, and its health is unavailable, while
//! the inbox cannot write. On Postgres every operation is bounded (server
//! and client time-outs, keepalives), so a database that is locked, slow
//! or gone is answered 503 within the sender's 30 s, never a hang.
//!
//! # Errors
//!
//! Every call fails with an [`InboxError`], whose [`kind`](InboxError::kind)
//! is one of [`InboxErrorKind`]:
//!
//! - `NotFound`: the entry asked for is not there;
//! - `Conflict`: the entry is running, so it cannot be retried now;
//! - `Unavailable`: the file or server cannot be reached, read or written;
//! - `Invalid`: a URL, a table name or an option that is not usable;
//! - `Schema`: no inbox there, or a schema this code cannot use as it is.
//!
//! Messages name the file or server (never a password) and carry the
//! database's own words.

mod builder;
mod error;
mod history;
mod inbox;
mod listing;
pub mod migrations;
mod options;
mod postgres;
mod purge;
mod rows;
mod sql;
mod sqlite;
mod store;
mod table;
#[cfg(feature = "testing")]
pub mod testing;
mod transaction;
mod url;

pub use builder::InboxBuilder;
/// The inbox's vocabulary, from the core's seam, for code that uses this
/// crate alone.
pub use costkatana_webhooks::inbox::{
    Entry, EntryQuery, EntryState, EntrySummary, InboxStats, InboxStore, RetryPolicy, MAX_LIST,
};
pub use error::{InboxError, InboxErrorKind};
pub use history::{Attempt, AttemptOutcome, MinuteActivity};
pub use inbox::Inbox;
pub use migrations::Migration;
pub use table::DEFAULT_TABLE;
pub use transaction::{InboxTransaction, SqlValue};
pub use url::{Durability, InboxUrl};
