//! What can go wrong building a console.

use std::fmt;

/// Why [`ConsoleBuilder::build`](crate::ConsoleBuilder::build) refused its
/// settings. The message says which setting and what to do.
///
/// ```
/// use costkatana_webhooks_console::{Console, ConsoleErrorKind};
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// # let dir = std::env::temp_dir().join(format!("console-doc-err-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let inbox = costkatana_webhooks_inbox::Inbox::open(&format!("sqlite:{}", dir.join("i.db").display())).await.unwrap();
/// let err = Console::builder(inbox).token("short").build().unwrap_err();
/// assert_eq!(err.kind(), ConsoleErrorKind::WeakToken);
/// assert!(err.to_string().contains("at least 16"));
/// # std::fs::remove_dir_all(dir).unwrap();
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleError {
    kind: ConsoleErrorKind,
    message: String,
}

/// The kinds of [`ConsoleError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConsoleErrorKind {
    /// No token was given: a console without one would be open to anyone
    /// who reaches it.
    NoToken,
    /// The token is too short, or has whitespace at an end (a newline from
    /// a file or `.env` would make it one nobody can type).
    WeakToken,
    /// Another setting cannot be used (a mount path, an origin, a limit).
    InvalidSetting,
}

impl ConsoleError {
    pub(crate) fn new(kind: ConsoleErrorKind, message: impl Into<String>) -> Self {
        ConsoleError {
            kind,
            message: message.into(),
        }
    }

    /// What kind of mistake it is.
    ///
    /// ```
    /// # use costkatana_webhooks_console::{Console, ConsoleErrorKind};
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let dir = std::env::temp_dir().join(format!("console-doc-kind-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let inbox = costkatana_webhooks_inbox::Inbox::open(&format!("sqlite:{}", dir.join("i.db").display())).await.unwrap();
    /// let err = Console::builder(inbox).build().unwrap_err();
    /// assert_eq!(err.kind(), ConsoleErrorKind::NoToken);
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # });
    /// ```
    pub fn kind(&self) -> ConsoleErrorKind {
        self.kind
    }
}

impl fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConsoleError {}
