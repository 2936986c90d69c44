//! `ckwebhook inbox`: inspect and replay a durable inbox.
//!
//! Everything goes through the library's [`Inbox`], the API a receiver's
//! inbox is built on, so the CLI sees and changes exactly what the workers
//! do. Header values that are credentials are only ever shown redacted.

mod replay;
mod show;
mod table;
mod text;

use costkatana_webhooks_inbox::{InboxBuilder, InboxError, InboxUrl};

use crate::commands::inbox::{InboxArgs, InboxCommand};
use crate::Exit;

pub(crate) fn run(args: &InboxArgs) -> Result<Exit, String> {
    let url = InboxUrl::parse(args.url.trim()).map_err(|err| err.to_string())?;
    check_sqlite_file(&url)?;
    crate::runtime()?.block_on(async {
        let inbox = match InboxBuilder::new(url).open().await {
            Ok(inbox) => inbox,
            // The server or file did not answer: worth trying again.
            Err(err) => return Ok(failed(&err)),
        };
        let done = match &args.command {
            InboxCommand::List(list) => table::run(&inbox, list).await,
            InboxCommand::Show(show) => show::run(&inbox, show.id).await,
            InboxCommand::Retry(retry) => replay::retry(&inbox, retry).await,
            InboxCommand::Purge(purge) => replay::purge(&inbox, purge.older_than).await,
        };
        Ok(done.unwrap_or_else(|err| failed(&err)))
    })
}

/// Reports an inbox that could not answer; exit status 1.
fn failed(err: &InboxError) -> Exit {
    eprintln!("error: {err}");
    Exit::Failure
}

/// Reports a row that is not there; exit status 1.
fn no_row(id: i64) -> Exit {
    eprintln!("error: there is no inbox row with id {id} (see `ckwebhook inbox list`)");
    Exit::Failure
}

/// Opening a SQLite inbox creates the file: here a typo would inspect a
/// new, empty inbox, so a missing file is refused instead.
fn check_sqlite_file(url: &InboxUrl) -> Result<(), String> {
    match url.sqlite_path() {
        Some(path) if !path.is_file() => Err(format!(
            "there is no inbox file at {} (a receiver creates it when it starts)",
            path.display()
        )),
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
        assert!(missing.unwrap_err().contains("/no/such/dir/inbox.db"));
    }
}
