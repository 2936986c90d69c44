//! `ckwebhook`: sign, send, receive and check Cost Katana webhooks locally,
//! and inspect and replay a durable inbox.
//!
//! Exit codes: 0 success, 1 not delivered / not valid, 2 bad input.

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

mod cli;
mod duration;
mod events;
mod inbox;
mod listen;
mod send;
mod sign;
mod util;
mod verify;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// How a command ended, when its input was fine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Delivered, valid, done.
    Success,
    /// Not delivered or not valid (the output says why).
    Failure,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Events => {
            events::run();
            Ok(Exit::Success)
        }
        Command::Sign(args) => sign::run(args).map(|()| Exit::Success),
        Command::Send(args) => send::run(args),
        Command::Listen(args) => listen::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Inbox(args) => inbox::run(args),
    };
    match result {
        Ok(Exit::Success) => ExitCode::SUCCESS,
        Ok(Exit::Failure) => ExitCode::from(1),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// A multi-threaded tokio runtime for the network commands.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the async runtime: {err}"))
}
