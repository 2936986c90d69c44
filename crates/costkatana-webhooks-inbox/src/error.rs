//! One error type for opening and operating an inbox, with a kind to match on.

use std::fmt;

use costkatana_webhooks::dedupe::StoreError;

/// What kind of failure an [`InboxError`] is, for code that reacts to some
/// of them (a CLI that says "no such row", a console that answers 404 or
/// 409, a retry loop that only retries [`Unavailable`](Self::Unavailable)).
///
/// ```
/// use costkatana_webhooks_inbox::{InboxError, InboxErrorKind};
///
/// fn status(err: &InboxError) -> u16 {
///     match err.kind() {
///         InboxErrorKind::NotFound => 404,
///         InboxErrorKind::Conflict => 409,
///         InboxErrorKind::Invalid => 400,
///         _ => 503,
///     }
/// }
/// # let _ = status;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InboxErrorKind {
    /// The row asked for is not there.
    NotFound,
    /// The row is in a state that forbids the change (retrying a row a
    /// worker is running).
    Conflict,
    /// The file or server could not be reached, read or written; trying
    /// again later may succeed.
    Unavailable,
    /// The caller's input is not usable: the URL, the table name, an
    /// option.
    Invalid,
    /// The database holds no inbox, or one this code cannot use as it is:
    /// no file or table, an older schema that needs migrating, a newer one,
    /// a migration that stopped part-way or was changed after it ran, a row
    /// that does not have the shape this code expects.
    Schema,
}

impl InboxErrorKind {
    /// A short name for logs: `not_found`, `conflict`, `unavailable`,
    /// `invalid`, `schema`.
    ///
    /// ```
    /// use costkatana_webhooks_inbox::InboxErrorKind;
    /// assert_eq!(InboxErrorKind::NotFound.as_str(), "not_found");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            InboxErrorKind::NotFound => "not_found",
            InboxErrorKind::Conflict => "conflict",
            InboxErrorKind::Unavailable => "unavailable",
            InboxErrorKind::Invalid => "invalid",
            InboxErrorKind::Schema => "schema",
        }
    }
}

impl fmt::Display for InboxErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an inbox could not be opened or could not answer.
///
/// Its message names what failed (the file, the server, the operation) and
/// the database's own words (for Postgres, the server's message and
/// SQLSTATE code), and never holds a password: URLs are shown without
/// their credentials. [`InboxError::kind`] says what kind of failure it is.
///
/// Its [`source`](std::error::Error::source) is the cause in those same
/// words (never a driver's bare "db error"), and `Debug` shows the kind,
/// the message and the cause only: never a server's detail, which may
/// quote a row (its body, its signature).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use costkatana_webhooks_inbox::{Inbox, InboxErrorKind};
///
/// let err = Inbox::open("mysql://db/inbox").await.unwrap_err();
/// assert!(err.to_string().contains("sqlite:<path> or postgres://"));
/// assert_eq!(err.kind(), InboxErrorKind::Invalid);
/// # });
/// ```
pub struct InboxError {
    kind: InboxErrorKind,
    message: String,
    source: Option<Cause>,
}

impl InboxError {
    pub(crate) fn new(kind: InboxErrorKind, message: impl Into<String>) -> Self {
        InboxError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// An error `source` caused: kept as its text in the database's own
    /// words ([`database_text`]), not as the driver's error, whose `Debug`
    /// would show a server's detail.
    pub(crate) fn caused_by(
        kind: InboxErrorKind,
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        let source = source.into();
        InboxError {
            kind,
            message: message.into(),
            source: Some(Cause(database_text(source.as_ref()))),
        }
    }

    /// What kind of failure this is.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use costkatana_webhooks_inbox::{Inbox, InboxErrorKind};
    ///
    /// let err = Inbox::builder("sqlite:inbox.db").table("Bad-Name").open().await.unwrap_err();
    /// assert_eq!(err.kind(), InboxErrorKind::Invalid);
    /// # });
    /// ```
    pub fn kind(&self) -> InboxErrorKind {
        self.kind
    }
}

impl fmt::Display for InboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for InboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboxError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("cause", &self.source.as_ref().map(|cause| cause.0.as_str()))
            .finish()
    }
}

impl std::error::Error for InboxError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|s| s as _)
    }
}

impl From<InboxError> for StoreError {
    fn from(err: InboxError) -> Self {
        StoreError::inbox(err.to_string()).caused_by(err)
    }
}

/// What caused an [`InboxError`], in the database's own words.
struct Cause(String);

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl std::error::Error for Cause {}

/// The cause in the database's own words. tokio-postgres shows a server's
/// error as just "db error", with the server's message in a source: that
/// message and its SQLSTATE code are what says what went wrong, wherever
/// it is in the chain (under a pool's error, say). Other errors show their
/// chain of causes, so "error connecting to server" says why.
pub(crate) fn database_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = String::new();
    let mut next = Some(err);
    while let Some(current) = next {
        let server = current
            .downcast_ref::<tokio_postgres::Error>()
            .and_then(tokio_postgres::Error::as_db_error);
        let shown = match server {
            Some(db) => format!(
                "{}: {} (SQLSTATE {})",
                db.severity(),
                db.message(),
                db.code().code()
            ),
            None => current.to_string(),
        };
        // Some errors repeat their cause in their own message.
        if !text.contains(&shown) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&shown);
        }
        if server.is_some() {
            break;
        }
        next = current.source();
    }
    text
}

/// The error for an [`InboxTransaction`](crate::InboxTransaction) used
/// after its attempt ended.
pub(crate) fn attempt_ended() -> InboxError {
    InboxError::new(
        InboxErrorKind::Conflict,
        "the attempt's transaction has ended: write through the handle only while the handler runs",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("error connecting to server")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn shows_the_chain_of_causes_once() {
        let err = InboxError::caused_by(
            InboxErrorKind::Unavailable,
            "Postgres inbox postgres://db:5432/x: could not connect",
            Outer(std::io::Error::other("Connection refused")),
        );
        assert_eq!(
            err.to_string(),
            "Postgres inbox postgres://db:5432/x: could not connect: \
             error connecting to server: Connection refused"
        );
        assert_eq!(err.kind(), InboxErrorKind::Unavailable);
    }
}
