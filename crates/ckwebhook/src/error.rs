//! How a command fails: a kind, which decides the exit status, and a
//! message that names the cause.

use std::error::Error;
use std::fmt;
use std::process::ExitCode;

/// What a command returns: `Ok` exits 0.
pub(crate) type CliResult = Result<(), CliError>;

/// Why a command did not succeed. Each kind has its exit status: the ones
/// documented in `--help` (1 not delivered or not valid, 2 bad input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// The command line or an input file is wrong: exit status 2.
    BadInput,
    /// The event was not delivered: exit status 1.
    NotDelivered,
    /// The request checked is not valid: exit status 1.
    NotValid,
    /// What the command works on did not answer or is not there (an inbox,
    /// one of its rows): exit status 1.
    Unavailable,
    /// The system refused what the command needs to run (threads, random
    /// bytes, a TLS setup, a server that stopped): exit status 2, as these
    /// have always ended.
    System,
}

impl ErrorKind {
    fn exit_status(self) -> u8 {
        match self {
            ErrorKind::BadInput | ErrorKind::System => 2,
            ErrorKind::NotDelivered | ErrorKind::NotValid | ErrorKind::Unavailable => 1,
        }
    }
}

/// A failed command: its kind, the message printed as `error: <message>`
/// (none when the command's own output already said why), and the error
/// that caused it, if any.
#[derive(Debug)]
pub(crate) struct CliError {
    kind: ErrorKind,
    message: Option<String>,
    source: Option<Box<dyn Error + Send + Sync>>,
}

impl CliError {
    /// A failure of `kind`, explained by `message`.
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> CliError {
        CliError {
            kind,
            message: Some(message.into()),
            source: None,
        }
    }

    /// Bad input, explained by `message`.
    pub(crate) fn bad_input(message: impl Into<String>) -> CliError {
        CliError::new(ErrorKind::BadInput, message)
    }

    /// The system refused something, explained by `message`.
    pub(crate) fn system(message: impl fmt::Display) -> CliError {
        CliError::new(ErrorKind::System, message.to_string())
    }

    /// A failure of `kind` the command has already reported on its output
    /// (the attempts of `send`, the verdict of `verify`): only the exit
    /// status is left to give.
    pub(crate) fn reported(kind: ErrorKind) -> CliError {
        CliError {
            kind,
            message: None,
            source: None,
        }
    }

    /// The same failure, caused by `source`.
    pub(crate) fn with_source(mut self, source: impl Error + Send + Sync + 'static) -> CliError {
        self.source = Some(Box::new(source));
        self
    }

    /// What to print, when the command has not said it already (tests read
    /// it; `main` prints [`CliError::full_message`]).
    #[cfg(test)]
    pub(crate) fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// What `main` prints after `error: `: the message, then each cause in
    /// the source chain that the text does not already say, `: `-joined,
    /// so a short message never hides the server's or the system's words.
    /// `None` when the command has already reported the failure.
    pub(crate) fn full_message(&self) -> Option<String> {
        let message = self.message.as_deref()?;
        let mut text = message.to_owned();
        let mut next = self.source.as_deref().map(|s| s as &(dyn Error + 'static));
        while let Some(cause) = next {
            append_cause(&mut text, &cause.to_string());
            next = cause.source();
        }
        Some(plain(&text))
    }

    /// The process's exit status for this failure.
    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.kind.exit_status())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(message) => f.write_str(message),
            None => write!(f, "{:?} (reported above)", self.kind),
        }
    }
}

impl Error for CliError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn Error + 'static))
    }
}

/// Appends `cause` to `text` after `: `, unless the text already says it.
fn append_cause(text: &mut String, cause: &str) {
    let cause = cause.trim();
    if cause.is_empty() || text.contains(cause) {
        return;
    }
    text.push_str(": ");
    text.push_str(cause);
}

/// Wrappers that libraries put around a cause without adding to it: the
/// connection pool's "Error occurred while creating a new object: " before
/// Postgres's own error, and tokio-postgres's "db error: " before the
/// server's message. Removed where more text follows them.
const EMPTY_WRAPPERS: [&str; 2] = ["Error occurred while creating a new object: ", "db error: "];

/// `text` without the [`EMPTY_WRAPPERS`], and with a cause that repeats
/// the one before it said once.
fn plain(text: &str) -> String {
    let mut text = text.to_owned();
    for wrapper in EMPTY_WRAPPERS {
        text = text.replace(wrapper, "");
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in text.split(": ") {
        if parts.last() != Some(&part) {
            parts.push(part);
        }
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_give_the_documented_exit_statuses() {
        assert_eq!(ErrorKind::BadInput.exit_status(), 2);
        assert_eq!(ErrorKind::NotDelivered.exit_status(), 1);
        assert_eq!(ErrorKind::NotValid.exit_status(), 1);
        assert_eq!(ErrorKind::Unavailable.exit_status(), 1);
    }

    #[test]
    fn keeps_its_message_and_source() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let err = CliError::bad_input("cannot read x: gone").with_source(io);
        assert_eq!(err.message(), Some("cannot read x: gone"));
        assert_eq!(
            err.source().map(ToString::to_string).as_deref(),
            Some("gone")
        );
        assert_eq!(CliError::reported(ErrorKind::NotValid).message(), None);
    }

    #[derive(Debug)]
    struct Wrapper(std::io::Error);

    impl fmt::Display for Wrapper {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("error connecting to server")
        }
    }

    impl Error for Wrapper {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn prints_each_cause_once() {
        let refused =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let err = CliError::new(
            ErrorKind::Unavailable,
            "inbox 127.0.0.1:1: could not connect",
        )
        .with_source(Wrapper(refused));
        assert_eq!(
            err.full_message().as_deref(),
            Some("inbox 127.0.0.1:1: could not connect: error connecting to server: Connection refused")
        );
        // A cause the message already holds is not repeated.
        let io = std::io::Error::other("gone");
        let err = CliError::bad_input("cannot read x: gone").with_source(io);
        assert_eq!(err.full_message().as_deref(), Some("cannot read x: gone"));
        assert_eq!(CliError::reported(ErrorKind::NotValid).full_message(), None);
    }

    #[test]
    fn drops_wrappers_that_add_nothing() {
        let text = "Postgres inbox postgres://127.0.0.1:5432/x: could not connect: Error occurred \
            while creating a new object: db error: FATAL: database \"x\" does not exist (SQLSTATE 3D000)";
        assert_eq!(
            CliError::new(ErrorKind::Unavailable, text)
                .full_message()
                .as_deref(),
            Some(
                "Postgres inbox postgres://127.0.0.1:5432/x: could not connect: FATAL: database \
                 \"x\" does not exist (SQLSTATE 3D000)"
            )
        );
    }
}
