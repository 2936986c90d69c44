//! `ckwebhook inbox`: inspect and replay a durable inbox.
//!
//! Everything goes through the library's [`Inbox`], the API a receiver's
//! inbox is built on, so the CLI sees and changes exactly what the workers
//! do. Header values that are credentials are only ever shown redacted.

mod replay;
mod show;
mod table;
mod text;

use std::path::Path;

use costkatana_webhooks_inbox::{Inbox, InboxError};

use crate::commands::inbox::{InboxArgs, InboxCommand};
use crate::Exit;

pub(crate) fn run(args: &InboxArgs) -> Result<Exit, String> {
    let url = args.url.trim();
    check_sqlite_file(url)?;
    crate::runtime()?.block_on(async {
        let inbox = match Inbox::open(url).await {
            Ok(inbox) => inbox,
            // The server or file did not answer: worth trying again.
            Err(err) if known_scheme(url) => return Ok(failed(&err)),
            Err(err) => return Err(err.to_string()),
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

/// Whether `url` names a backend the library knows; anything else is bad input.
fn known_scheme(url: &str) -> bool {
    ["sqlite:", "postgres://", "postgresql://"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
}

/// Opening a SQLite inbox creates the file: here a typo would inspect a
/// new, empty inbox, so a missing file is refused instead.
fn check_sqlite_file(url: &str) -> Result<(), String> {
    let Some(rest) = url.strip_prefix("sqlite:") else {
        return Ok(());
    };
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split_once('?').map_or(rest, |(path, _)| path);
    if path.is_empty() {
        return Err("the inbox URL has no path: use sqlite:<path>".into());
    }
    if !Path::new(path).is_file() {
        return Err(format!(
            "there is no inbox file at {path} (a receiver creates it when it starts)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_and_sqlite_paths() {
        assert!(known_scheme("sqlite:inbox.db"));
        assert!(known_scheme("postgresql://db/inbox"));
        assert!(!known_scheme("mysql://db/inbox"));
        assert!(check_sqlite_file("postgres://db/inbox").is_ok());
        assert!(check_sqlite_file("sqlite:").is_err());
        let missing = check_sqlite_file("sqlite:///no/such/dir/inbox.db?durability=power-loss");
        assert!(missing.unwrap_err().contains("/no/such/dir/inbox.db"));
    }
}
