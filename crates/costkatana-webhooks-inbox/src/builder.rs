//! How an [`Inbox`] is set up: where it is, its table's name, its clock,
//! and whether connecting may create and migrate the schema.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use costkatana_webhooks::clock::{Clock, SystemClock};

use crate::error::InboxError;
use crate::inbox::{Backend, Inbox};
use crate::options::Options;
use crate::postgres::Postgres;
use crate::sqlite::Sqlite;
use crate::table::Table;
use crate::url::{Durability, InboxUrl, Target};

/// Settings for an [`Inbox`]; made by [`Inbox::builder`], finished by
/// [`connect`](Self::connect) (the schema must be in place) or
/// [`open`](Self::open) (create and migrate it as needed).
///
/// ```no_run
/// # async fn run() -> Result<(), costkatana_webhooks_inbox::InboxError> {
/// use std::sync::Arc;
/// use costkatana_webhooks::SystemClock;
/// use costkatana_webhooks_inbox::Inbox;
///
/// let inbox = Inbox::builder("postgres://app@db.internal/webhooks")
///     .table("tenant_a_inbox")
///     .clock(Arc::new(SystemClock))
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
pub struct InboxBuilder {
    url: Result<InboxUrl, InboxError>,
    table: Option<String>,
    clock: Arc<dyn Clock>,
    options: Options,
}

impl InboxBuilder {
    /// Settings for the inbox at `url`, with the defaults: the table
    /// [`DEFAULT_TABLE`](crate::DEFAULT_TABLE), the system clock.
    ///
    /// ```
    /// use costkatana_webhooks_inbox::{Durability, InboxBuilder, InboxUrl};
    /// let builder = InboxBuilder::new(InboxUrl::sqlite("inbox.db", Durability::PowerLoss));
    /// # let _ = builder;
    /// ```
    pub fn new(url: InboxUrl) -> Self {
        InboxBuilder::parsed(Ok(url))
    }

    pub(crate) fn parsed(url: Result<InboxUrl, InboxError>) -> Self {
        InboxBuilder {
            url,
            table: None,
            clock: Arc::new(SystemClock),
            options: Options::default(),
        }
    }

    /// The table's name, instead of
    /// [`DEFAULT_TABLE`](crate::DEFAULT_TABLE): several inboxes can share
    /// one database. Its indexes and its migrations table
    /// (`<name>_migrations`) are named after it.
    ///
    /// It must be a plain SQL identifier: lowercase ASCII letters, digits
    /// and `_`, starting with a letter or `_`, at most 48 characters;
    /// another is refused by [`connect`](Self::connect) and
    /// [`open`](Self::open) as [`Invalid`](crate::InboxErrorKind::Invalid).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use costkatana_webhooks_inbox::{Inbox, InboxErrorKind};
    ///
    /// let dir = std::env::temp_dir().join(format!("inbox-doc-table-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let url = format!("sqlite:{}", dir.join("inbox.db").display());
    /// let inbox = Inbox::builder(&url).table("billing_inbox").open().await.unwrap();
    /// assert_eq!(inbox.stats().await.unwrap().pending, 0);
    ///
    /// let err = Inbox::builder(&url).table("billing-inbox").open().await.unwrap_err();
    /// assert_eq!(err.kind(), InboxErrorKind::Invalid);
    /// # drop(inbox);
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # });
    /// ```
    #[must_use]
    pub fn table(mut self, name: impl Into<String>) -> Self {
        self.table = Some(name.into());
        self
    }

    /// The clock the inbox reads "now" from (when [`Inbox::retry`] makes a
    /// row due, when a migration is recorded); the system's by default.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use costkatana_webhooks::ManualClock;
    /// use costkatana_webhooks_inbox::Inbox;
    ///
    /// let clock = Arc::new(ManualClock::new(1_777_377_600_000));
    /// let builder = Inbox::builder("sqlite:inbox.db").clock(clock.clone());
    /// # let _ = builder;
    /// ```
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Whether done rows keep their body and headers, for inspection
    /// (`ckwebhook inbox show`, [`Inbox::get`]) and for running them
    /// again ([`Inbox::retry`]). Off by default: once its handler has
    /// succeeded, a row keeps only what dedupe needs (its key, event id
    /// and type, and its times), so the bodies and the headers that
    /// verify them are not kept at rest for the dedupe TTL. Dead rows
    /// always keep theirs, to be retried.
    ///
    /// The setting applies to rows settled through this inbox: set it on
    /// the inbox a receiver runs.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use costkatana_webhooks_inbox::Inbox;
    ///
    /// let dir = std::env::temp_dir().join(format!("inbox-doc-keep-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let url = format!("sqlite:{}", dir.join("inbox.db").display());
    /// let inbox = Inbox::builder(&url).keep_done_bodies(true).open().await.unwrap();
    /// # drop(inbox);
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # });
    /// ```
    #[must_use]
    pub fn keep_done_bodies(mut self, keep: bool) -> Self {
        self.options.keep_done_bodies = keep;
        self
    }

    /// Whether [`open`](Self::open) may create the inbox in a SQLite
    /// file that already holds other tables (an application's own
    /// database). Off by default: such a file is refused, as
    /// [`Schema`](crate::InboxErrorKind::Schema), and left as it was,
    /// since a file named by mistake is more likely than one shared on
    /// purpose. Other inboxes' tables do not count. Postgres databases
    /// are shared by design and are not checked.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use costkatana_webhooks_inbox::{Inbox, InboxErrorKind};
    ///
    /// let dir = std::env::temp_dir().join(format!("inbox-doc-other-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("app.db");
    /// rusqlite::Connection::open(&path).unwrap()
    ///     .execute_batch("CREATE TABLE orders (id INTEGER PRIMARY KEY)").unwrap();
    /// let url = format!("sqlite:{}", path.display());
    /// let refused = Inbox::open(&url).await.unwrap_err();
    /// assert_eq!(refused.kind(), InboxErrorKind::Schema);
    /// let shared = Inbox::builder(&url).allow_other_tables(true).open().await.unwrap();
    /// # drop(shared);
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # });
    /// ```
    #[must_use]
    pub fn allow_other_tables(mut self, allow: bool) -> Self {
        self.options.allow_other_tables = allow;
        self
    }

    /// Connects to an inbox whose schema is in place, changing nothing:
    /// no table, index or migrations table is created, and a SQLite file
    /// must exist (it is never created; once its schema is found usable,
    /// it is put in WAL mode if it is not, which its reads beside the
    /// writes need). For a process whose database role cannot change the
    /// schema, or a tool that must not.
    ///
    /// # Errors
    ///
    /// - [`Invalid`](crate::InboxErrorKind::Invalid): the URL or the table
    ///   name;
    /// - [`Schema`](crate::InboxErrorKind::Schema): no SQLite file, no
    ///   inbox table, a schema that needs migrating (older), or that this
    ///   code cannot use (newer, a migration that stopped part-way or was
    ///   changed after it ran);
    /// - [`Unavailable`](crate::InboxErrorKind::Unavailable): the file or
    ///   server cannot be opened or reached (within 5 s).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use costkatana_webhooks_inbox::{Inbox, InboxErrorKind};
    ///
    /// let path = std::env::temp_dir().join(format!("inbox-doc-connect-{}.db", std::process::id()));
    /// let err = Inbox::builder(&format!("sqlite:{}", path.display()))
    ///     .connect()
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), InboxErrorKind::Schema);
    /// assert!(!path.exists(), "never created");
    /// # });
    /// ```
    pub async fn connect(self) -> Result<Inbox, InboxError> {
        self.finish(false).await
    }

    /// Opens the inbox, creating it (the SQLite file, the table) and
    /// migrating it to this code's version as needed: what a receiver
    /// does at start. Replicas that open one Postgres inbox together take
    /// turns; the schema is changed once.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect), except that no inbox and an older
    /// schema are not errors; a migration that fails is
    /// [`Schema`](crate::InboxErrorKind::Schema) and leaves the schema at
    /// the version before it.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use costkatana_webhooks_inbox::{migrations, Inbox};
    ///
    /// let dir = std::env::temp_dir().join(format!("inbox-doc-open-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let url = format!("sqlite:{}", dir.join("inbox.db").display());
    /// let inbox = Inbox::builder(&url).open().await.unwrap();
    /// assert_eq!(inbox.schema_version().await.unwrap(), migrations::LATEST);
    /// # drop(inbox);
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # });
    /// ```
    pub async fn open(self) -> Result<Inbox, InboxError> {
        self.finish(true).await
    }

    async fn finish(self, create: bool) -> Result<Inbox, InboxError> {
        let url = self.url?;
        let table = match &self.table {
            Some(name) => Table::new(name)?,
            None => Table::default(),
        };
        let (clock, options) = (self.clock, self.options);
        let backend = match &url.target {
            Target::Sqlite { path, durability } => Backend::Sqlite(
                Sqlite::open(
                    path,
                    *durability,
                    table,
                    Arc::clone(&clock),
                    create,
                    options,
                )
                .await?,
            ),
            Target::Postgres { config } => Backend::Postgres(
                Postgres::open(config, table, Arc::clone(&clock), create, options).await?,
            ),
        };
        Ok(Inbox::new(backend, clock))
    }
}

impl fmt::Debug for InboxBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboxBuilder")
            .field("url", &self.url)
            .field("table", &self.table)
            .field("keep_done_bodies", &self.options.keep_done_bodies)
            .field("allow_other_tables", &self.options.allow_other_tables)
            .finish_non_exhaustive()
    }
}

/// The ways to make an [`Inbox`]: all through an [`InboxBuilder`].
impl Inbox {
    /// Settings for the inbox at `url` (`sqlite:<path>` or `postgres://…`,
    /// see [`InboxUrl`]): its table's name, its clock; then
    /// [`connect`](InboxBuilder::connect) or [`open`](InboxBuilder::open).
    /// A URL that does not parse is reported by those.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use costkatana_webhooks_inbox::Inbox;
    ///
    /// let dir = std::env::temp_dir().join(format!("inbox-doc-builder-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let url = format!("sqlite:{}", dir.join("inbox.db").display());
    /// let inbox = Inbox::builder(&url).table("orders_inbox").open().await.unwrap();
    /// # drop(inbox);
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # });
    /// ```
    pub fn builder(url: &str) -> InboxBuilder {
        InboxBuilder::parsed(InboxUrl::parse(url))
    }

    /// Opens the inbox at `url`, creating it and migrating its schema as
    /// needed (what receivers do): `sqlite:<path>` (add
    /// `?durability=power-loss` for [`Durability::PowerLoss`]) or
    /// `postgres://user:password@host:port/database`. The same as
    /// `Inbox::builder(url).open()`.
    ///
    /// # Errors
    ///
    /// See [`InboxBuilder::open`].
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let dir = std::env::temp_dir().join(format!("inbox-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let url = format!("sqlite:{}", dir.join("inbox.db").display());
    /// let inbox = costkatana_webhooks_inbox::Inbox::open(&url).await.unwrap();
    /// assert_eq!(inbox.stats().await.unwrap().pending, 0);
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # });
    /// ```
    pub async fn open(url: &str) -> Result<Inbox, InboxError> {
        Inbox::builder(url).open().await
    }

    /// Connects to the inbox at `url` without changing its schema: it must
    /// exist at this code's version. The same as
    /// `Inbox::builder(url).connect()`.
    ///
    /// # Errors
    ///
    /// See [`InboxBuilder::connect`].
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use costkatana_webhooks_inbox::Inbox;
    ///
    /// let dir = std::env::temp_dir().join(format!("inbox-doc-ro-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let url = format!("sqlite:{}", dir.join("inbox.db").display());
    /// assert!(Inbox::connect(&url).await.is_err(), "no file yet");
    /// drop(Inbox::open(&url).await.unwrap()); // a receiver's start
    /// let inbox = Inbox::connect(&url).await.unwrap();
    /// # drop(inbox);
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # });
    /// ```
    pub async fn connect(url: &str) -> Result<Inbox, InboxError> {
        Inbox::builder(url).connect().await
    }

    /// Opens (creating and migrating as needed) a SQLite inbox at `path`,
    /// which may be any path, even one a URL cannot spell.
    ///
    /// # Errors
    ///
    /// See [`InboxBuilder::open`].
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use costkatana_webhooks_inbox::{Durability, Inbox};
    /// let path = std::env::temp_dir().join(format!("inbox-doc-sqlite-{}.db", std::process::id()));
    /// let inbox = Inbox::sqlite(&path, Durability::PowerLoss).await.unwrap();
    /// # drop(inbox);
    /// # for suffix in ["", "-wal", "-shm"] { let _ = std::fs::remove_file(format!("{}{suffix}", path.display())); }
    /// # });
    /// ```
    pub async fn sqlite(
        path: impl AsRef<Path>,
        durability: Durability,
    ) -> Result<Inbox, InboxError> {
        InboxBuilder::new(InboxUrl::sqlite(path.as_ref(), durability))
            .open()
            .await
    }

    /// Opens (creating and migrating as needed) a Postgres inbox. Must be
    /// called inside a Tokio runtime.
    ///
    /// # Errors
    ///
    /// See [`InboxBuilder::open`].
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), costkatana_webhooks_inbox::InboxError> {
    /// let inbox = costkatana_webhooks_inbox::Inbox::postgres("postgres://app@127.0.0.1/webhooks").await?;
    /// # Ok(()) }
    /// ```
    pub async fn postgres(url: &str) -> Result<Inbox, InboxError> {
        Inbox::open(url).await
    }
}
