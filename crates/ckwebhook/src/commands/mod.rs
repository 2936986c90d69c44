//! The registry of commands: the command line ([`Cli`]), the list of
//! commands ([`Command`]), and one module per command holding its arguments
//! (with their help text) and its `exec`.
//!
//! A new command is a module here with an `Args` struct and
//! `exec(args) -> CliResult`, plus one variant and one match arm below.

pub(crate) mod events;
pub(crate) mod inbox;
pub(crate) mod listen;
pub(crate) mod sandbox;
pub(crate) mod send;
pub(crate) mod sign;
pub(crate) mod verify;
pub(crate) mod webhooks;

use clap::{Parser, Subcommand};

use crate::error::CliResult;

/// Sign, send, receive and check Cost Katana webhooks on your machine.
#[derive(Debug, Parser)]
#[command(
    name = "ckwebhook",
    version,
    about = "Sign, send, receive and check Cost Katana webhooks locally",
    long_about = "Sign, send, receive and check Cost Katana webhooks locally.\n\n\
        `send` behaves like the real Cost Katana sender (same headers, same retries), \
        `listen` is a verifying receiver that prints every event, `verify` explains why a \
        captured request does not verify, `sign` prints the headers for a body, `inbox` \
        inspects and replays a durable inbox, `webhooks` drives the Cost Katana management \
        API (and catches up on missed events), `sandbox` runs a local Cost Katana, and \
        `events` lists every event type.",
    after_help = "Try it: `ckwebhook listen --secret s3cret` in one terminal, then \
        `ckwebhook send budget.exceeded --url http://127.0.0.1:3000/webhooks/costkatana --secret s3cret` \
        in another.\n\nExit status: 0 success, 1 not delivered or not valid, 2 bad input."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Every command, in the order `--help` lists them. Each one's help text
/// is on its `Args` struct.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    Events(events::EventsArgs),
    Sign(sign::SignArgs),
    Send(send::SendArgs),
    Listen(listen::ListenArgs),
    Verify(verify::VerifyArgs),
    Inbox(inbox::InboxArgs),
    Sandbox(sandbox::SandboxArgs),
    Webhooks(webhooks::WebhooksArgs),
}

impl Command {
    /// Runs the command.
    pub(crate) fn exec(self) -> CliResult {
        match self {
            Command::Events(args) => events::exec(args),
            Command::Sign(args) => sign::exec(args),
            Command::Send(args) => send::exec(args),
            Command::Listen(args) => listen::exec(args),
            Command::Verify(args) => verify::exec(args),
            Command::Inbox(args) => inbox::exec(args),
            Command::Sandbox(args) => sandbox::exec(args),
            Command::Webhooks(args) => webhooks::exec(args),
        }
    }
}
