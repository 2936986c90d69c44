//! `ckwebhook inbox console`: the inbox console (costkatana-webhooks-console)
//! served for any inbox, on loopback unless told otherwise. It has the
//! inbox only, no receiver, so its rejections page says there is none.

use std::net::SocketAddr;

use costkatana_webhooks_console::Console;
use costkatana_webhooks_inbox::Inbox;

use crate::commands::inbox::InboxConsoleArgs;
use crate::error::{CliError, CliResult};

/// The variable the token is read from.
const TOKEN_VAR: &str = "INBOX_CONSOLE_TOKEN";

pub(crate) async fn run(inbox: Inbox, args: &InboxConsoleArgs) -> CliResult {
    let (token, generated) = match std::env::var(TOKEN_VAR) {
        Ok(token) if !token.is_empty() => (token, false),
        _ => (Console::generate_token(), true),
    };
    let mut builder = Console::builder(inbox)
        .token(token.clone())
        .trust_forwarded_headers(args.trust_forwarded_headers);
    if let Some(origin) = &args.public_origin {
        builder = builder.public_origin(origin.clone());
    }
    let console = builder.build().map_err(|err| {
        CliError::bad_input(format!("{TOKEN_VAR} or a setting: {err}")).with_source(err)
    })?;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|err| {
            CliError::bad_input(format!("cannot listen on {}: {err}", args.addr)).with_source(err)
        })?;
    let addr: SocketAddr = listener
        .local_addr()
        .map_err(|err| CliError::system(format!("no local address: {err}")))?;
    // Installed before the lines that say it runs: a signal sent as soon as
    // they are read stops it cleanly.
    let stop = costkatana_webhooks_tower::shutdown_signal();
    outln!(
        "inbox console on http://{addr}{}/ ; Ctrl-C stops",
        console.mount_path()
    );
    if generated {
        outln!("token (generated; set {TOKEN_VAR} to choose one): {token}");
    } else {
        outln!("token: the one in {TOKEN_VAR}");
    }
    if !addr.ip().is_loopback() {
        outln!(
            "warning: {addr} is not a loopback address; anyone who reaches it sees the sign-in \
             form: put the console behind a TLS proxy (see the guide's console chapter, docs/guide/console.md)"
        );
    }
    // Cuts clients slow to send headers or gone idle; backs off on accept errors.
    costkatana_webhooks_tower::serve(listener, console)
        .with_graceful_shutdown(stop)
        .await
        .map_err(|err| CliError::system(format!("the server failed: {err}")))?;
    outln!("stopped");
    Ok(())
}
