//! `ckwebhook inbox`: inspect and replay a durable inbox.
//!
//! Everything goes through the library's [`Inbox`](costkatana_webhooks_inbox::Inbox), the API a receiver's
//! inbox is built on, so the CLI sees and changes exactly what the workers
//! do. Header values that are credentials are only ever shown redacted.

mod console;
mod replay;
mod show;
mod table;
mod text;

use costkatana_webhooks_inbox::{InboxBuilder, InboxError, InboxErrorKind, InboxUrl};

use crate::commands::inbox::{InboxArgs, InboxCommand};
use crate::error::{CliError, CliResult, ErrorKind};

/// Runs an inbox subcommand on an inbox opened without any DDL (the CLI
/// never creates or migrates a schema: a receiver does).
pub(crate) fn run(args: &InboxArgs) -> CliResult {
    let url = args.url.as_deref().ok_or_else(|| {
        CliError::bad_input(
            "the inbox URL is missing: pass --url <sqlite:path | postgres://...> or set INBOX_URL",
        )
    })?;
    let url = InboxUrl::parse(url.trim()).map_err(CliError::from)?;
    check_sqlite_file(&url)?;
    crate::runtime()?.block_on(async {
        let inbox = InboxBuilder::new(url).connect().await?;
        match &args.command {
            InboxCommand::List(list) => table::run(&inbox, list).await,
            InboxCommand::Show(show) => show::run(&inbox, show.id).await,
            InboxCommand::Retry(retry) => replay::retry(&inbox, retry).await,
            InboxCommand::Purge(purge) => replay::purge(&inbox, purge).await,
            InboxCommand::Console(console) => console::run(inbox, console).await,
        }
    })
}

/// A setting the inbox refuses is bad input (exit status 2); anything else
/// is an inbox that could not answer as asked (1).
impl From<InboxError> for CliError {
    fn from(err: InboxError) -> Self {
        let kind = match err.kind() {
            InboxErrorKind::Invalid => ErrorKind::BadInput,
            _ => ErrorKind::Unavailable,
        };
        CliError::new(kind, err.to_string()).with_source(err)
    }
}

/// A row that is not there; exit status 1.
fn no_row(id: i64) -> CliError {
    CliError::new(
        ErrorKind::Unavailable,
        format!("there is no inbox row with id {id} (see `ckwebhook inbox list`)"),
    )
}

/// A SQLite inbox is created by the receiver that opens it: here a typo
/// would find no inbox, so a missing file is named as such.
fn check_sqlite_file(url: &InboxUrl) -> CliResult {
    match url.sqlite_path() {
        Some(path) if !path.is_file() => Err(CliError::bad_input(format!(
            "there is no inbox file at {} (a receiver creates it when it starts)",
            path.display()
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_and_sqlite_paths() {
        assert!(InboxUrl::parse("sqlite:inbox.db").is_ok());
        assert!(InboxUrl::parse("postgresql://db/inbox").is_ok());
        assert!(InboxUrl::parse("mysql://db/inbox").is_err());
        let postgres = InboxUrl::parse("postgres://db/inbox").unwrap();
        assert!(check_sqlite_file(&postgres).is_ok());
        assert!(InboxUrl::parse("sqlite:").is_err());
        let url = "sqlite:///no/such/dir/inbox.db?durability=power-loss";
        let missing = check_sqlite_file(&InboxUrl::parse(url).unwrap());
        let message = missing.unwrap_err().to_string();
        assert!(message.contains("/no/such/dir/inbox.db"), "{message}");
    }
}
