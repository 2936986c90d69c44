//! `ckwebhook`: sign, send, receive and check Cost Katana webhooks locally,
//! and inspect and replay a durable inbox.
//!
//! Exit codes: 0 success, 1 not delivered / not valid, 2 bad input.
//!
//! [`commands`] holds the list of commands and one module per command (its
//! arguments and its `exec`); the work is in the library crates, and the
//! other modules here present it.

/// `println!` that ends the program quietly when stdout is closed (as in
/// `ckwebhook events | head`) instead of panicking.
macro_rules! outln {
    () => {
        $crate::util::print_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::util::print_line(format_args!($($arg)*))
    };
}

mod commands;
mod duration;
mod error;
mod inbox;
mod listen;
mod scheme_arg;
mod send;
mod util;
mod verify;
mod webhooks;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = commands::Cli::parse();
    match cli.command.exec() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if let Some(message) = err.full_message() {
                eprintln!("error: {message}");
            }
            err.exit_code()
        }
    }
}

/// A multi-threaded tokio runtime for the network commands. Its error is
/// text, which the inbox command's entry point passes on as it is.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, error::CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| error::CliError::system(format!("cannot start the async runtime: {err}")))
}
