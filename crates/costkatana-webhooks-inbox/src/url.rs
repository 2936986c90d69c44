//! The one parser of inbox URLs: `sqlite:<path>[?durability=…]` and
//! `postgres://…`, for the library, the receivers and the CLI alike.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::{InboxError, InboxErrorKind};

/// What a committed SQLite write survives (Postgres follows the server's
/// `synchronous_commit`, on by default: power loss).
///
/// ```
/// use costkatana_webhooks_inbox::Durability;
/// assert_eq!(Durability::default(), Durability::ProcessCrash);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Durability {
    /// A crash or `kill -9` of the process (WAL, `synchronous=NORMAL`): the
    /// commit is in the operating system's hands before the 200. A power
    /// loss or kernel crash may lose the last commits.
    #[default]
    ProcessCrash,
    /// Also a power loss (`synchronous=FULL`): every commit waits for the
    /// disk's flush, shared by the deliveries committed together.
    PowerLoss,
}

impl Durability {
    /// The URL option's value: `process-crash` or `power-loss`.
    ///
    /// ```
    /// use costkatana_webhooks_inbox::Durability;
    /// assert_eq!(Durability::PowerLoss.as_str(), "power-loss");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Durability::ProcessCrash => "process-crash",
            Durability::PowerLoss => "power-loss",
        }
    }
}

/// Where an inbox lives, parsed and checked: a SQLite file or a Postgres
/// database.
///
/// - `sqlite:<path>` or `sqlite://<path>`, optionally with
///   `?durability=process-crash` (the default) or `?durability=power-loss`
///   (see [`Durability`]);
/// - `postgres://user:password@host:port/database` (or `postgresql://`),
///   with any option tokio-postgres knows.
///
/// `Display` and `Debug` never show a password.
///
/// ```
/// use std::path::Path;
/// use costkatana_webhooks_inbox::{Durability, InboxUrl};
///
/// let url = InboxUrl::parse("sqlite:///var/lib/app/inbox.db?durability=power-loss")?;
/// assert_eq!(url.sqlite_path(), Some(Path::new("/var/lib/app/inbox.db")));
/// assert_eq!(url.durability(), Some(Durability::PowerLoss));
///
/// let url: InboxUrl = "postgres://app:hunter2@db.internal/webhooks".parse()?;
/// assert!(!url.is_sqlite());
/// assert_eq!(url.to_string(), "postgres://db.internal:5432/webhooks");
///
/// let err = InboxUrl::parse("sqlite:inbox.db?journal=off").unwrap_err();
/// assert!(err.to_string().contains("unknown SQLite inbox option"));
/// # Ok::<(), costkatana_webhooks_inbox::InboxError>(())
/// ```
#[derive(Clone)]
pub struct InboxUrl {
    pub(crate) target: Target,
}

#[derive(Clone)]
pub(crate) enum Target {
    Sqlite {
        path: PathBuf,
        durability: Durability,
    },
    Postgres {
        config: Box<tokio_postgres::Config>,
    },
}

impl InboxUrl {
    /// Parses `url`.
    ///
    /// # Errors
    ///
    /// [`Invalid`](crate::InboxErrorKind::Invalid): another scheme, a
    /// SQLite URL with no path or an unknown option, a Postgres URL
    /// tokio-postgres cannot read.
    ///
    /// ```
    /// use costkatana_webhooks_inbox::InboxUrl;
    /// assert!(InboxUrl::parse("sqlite:inbox.db").unwrap().is_sqlite());
    /// assert!(InboxUrl::parse("sqlite:").unwrap_err().to_string().contains("no path"));
    /// assert!(InboxUrl::parse("mysql://db/inbox").is_err());
    /// ```
    pub fn parse(url: &str) -> Result<InboxUrl, InboxError> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            let (path, durability) = match rest.split_once('?') {
                None => (rest, Durability::default()),
                Some((path, "durability=process-crash")) => (path, Durability::ProcessCrash),
                Some((path, "durability=power-loss")) => (path, Durability::PowerLoss),
                Some((_, query)) => {
                    return Err(invalid(format!(
                        "unknown SQLite inbox option {query:?}: use durability=process-crash \
                         or durability=power-loss"
                    )))
                }
            };
            if path.is_empty() {
                return Err(invalid("the inbox URL has no path: use sqlite:<path>"));
            }
            return Ok(InboxUrl::sqlite(path, durability));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let config: tokio_postgres::Config = url.parse().map_err(|err| {
                InboxError::caused_by(
                    InboxErrorKind::Invalid,
                    "the Postgres URL is not valid",
                    err,
                )
            })?;
            return Ok(InboxUrl {
                target: Target::Postgres {
                    config: Box::new(config),
                },
            });
        }
        Err(invalid(
            "an inbox URL is sqlite:<path> or postgres://user:password@host:port/database",
        ))
    }

    /// A SQLite inbox at `path`, which may be any path (one a URL cannot
    /// spell too).
    ///
    /// ```
    /// use costkatana_webhooks_inbox::{Durability, InboxUrl};
    /// let url = InboxUrl::sqlite("inbox.db", Durability::PowerLoss);
    /// assert_eq!(url.to_string(), "sqlite:inbox.db?durability=power-loss");
    /// ```
    pub fn sqlite(path: impl Into<PathBuf>, durability: Durability) -> InboxUrl {
        InboxUrl {
            target: Target::Sqlite {
                path: path.into(),
                durability,
            },
        }
    }

    /// Whether this is a SQLite inbox.
    ///
    /// ```
    /// use costkatana_webhooks_inbox::InboxUrl;
    /// assert!(!InboxUrl::parse("postgresql://db/inbox").unwrap().is_sqlite());
    /// ```
    pub fn is_sqlite(&self) -> bool {
        matches!(self.target, Target::Sqlite { .. })
    }

    /// The SQLite file's path; `None` for Postgres.
    ///
    /// ```
    /// use std::path::Path;
    /// use costkatana_webhooks_inbox::InboxUrl;
    /// let url = InboxUrl::parse("sqlite://data/inbox.db").unwrap();
    /// assert_eq!(url.sqlite_path(), Some(Path::new("data/inbox.db")));
    /// ```
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.target {
            Target::Sqlite { path, .. } => Some(path),
            Target::Postgres { .. } => None,
        }
    }

    /// The SQLite durability; `None` for Postgres.
    ///
    /// ```
    /// use costkatana_webhooks_inbox::{Durability, InboxUrl};
    /// let url = InboxUrl::parse("sqlite:inbox.db").unwrap();
    /// assert_eq!(url.durability(), Some(Durability::ProcessCrash));
    /// ```
    pub fn durability(&self) -> Option<Durability> {
        match &self.target {
            Target::Sqlite { durability, .. } => Some(*durability),
            Target::Postgres { .. } => None,
        }
    }
}

impl FromStr for InboxUrl {
    type Err = InboxError;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        InboxUrl::parse(url)
    }
}

impl fmt::Display for InboxUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            Target::Sqlite { path, durability } => {
                write!(f, "sqlite:{}", path.display())?;
                if *durability != Durability::default() {
                    write!(f, "?durability={}", durability.as_str())?;
                }
                Ok(())
            }
            Target::Postgres { config } => f.write_str(&describe(config)),
        }
    }
}

impl fmt::Debug for InboxUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("InboxUrl").field(&self.to_string()).finish()
    }
}

fn invalid(message: impl Into<String>) -> InboxError {
    InboxError::new(InboxErrorKind::Invalid, message)
}

/// The server and database, never the user's password.
pub(crate) fn describe(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().unwrap_or("postgres");
    format!("postgres://{host}:{port}/{db}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_in_both_spellings() {
        for text in ["sqlite:a/b.db", "sqlite://a/b.db"] {
            let url = InboxUrl::parse(text).unwrap();
            assert_eq!(url.sqlite_path(), Some(Path::new("a/b.db")), "{text}");
            assert_eq!(url.durability(), Some(Durability::ProcessCrash));
        }
        let absolute = InboxUrl::parse("sqlite:///abs/b.db?durability=process-crash").unwrap();
        assert_eq!(absolute.sqlite_path(), Some(Path::new("/abs/b.db")));
    }

    #[test]
    fn refusals_say_why() {
        for (text, why) in [
            ("sqlite:", "has no path"),
            ("sqlite://?durability=power-loss", "has no path"),
            ("sqlite:x.db?durability=fast", "unknown SQLite inbox option"),
            ("mysql://u:pw@db/inbox", "sqlite:<path> or postgres://"),
            (
                "postgres://db:notaport/inbox",
                "the Postgres URL is not valid",
            ),
        ] {
            let err = InboxUrl::parse(text).unwrap_err();
            assert!(err.to_string().contains(why), "{text}: {err}");
            assert_eq!(err.kind(), InboxErrorKind::Invalid);
            assert!(!err.to_string().contains("pw@"), "{err}");
        }
    }

    #[test]
    fn postgres_urls_never_show_the_password() {
        let url = InboxUrl::parse("postgresql://app:hunter2@10.0.0.5:6543/hooks").unwrap();
        assert_eq!(url.to_string(), "postgres://10.0.0.5:6543/hooks");
        assert!(!format!("{url:?}").contains("hunter2"));
        assert_eq!(url.sqlite_path(), None);
        assert_eq!(url.durability(), None);
    }
}
