//! `ckwebhook sign`: the headers to send with a body.

use std::path::PathBuf;

use clap::Args;
use costkatana_webhooks::signing::sign;

use crate::error::{CliError, CliResult};
use crate::scheme_arg::SchemeArg;
use crate::util::{now_ms, parse_epoch, read_input, require_secret};

#[derive(Debug, Args)]
#[command(
    about = "Print the signature headers for a body",
    long_about = "Print the signature headers to send with a body, one \
        `Name: value` per line.\n\nThe body is signed exactly as read (raw bytes of FILE, \
        or of stdin with `-` or no FILE): it is never parsed or re-serialised."
)]
pub(crate) struct SignArgs {
    /// The webhook secret, used as given (UTF-8 text, never decoded)
    #[arg(
        long,
        value_name = "SECRET",
        env = "COSTKATANA_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    secret: String,
    /// The signing scheme
    #[arg(long, value_enum, value_name = "SCHEME", default_value_t = SchemeArg::Current)]
    scheme: SchemeArg,
    /// When it was signed: seconds (10 digits) or milliseconds (13 digits) since the epoch, or with an s/ms suffix [default: now]; each scheme gets its own unit
    #[arg(long, value_name = "TIME")]
    timestamp: Option<String>,
    /// The body file; `-` or nothing reads stdin
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
}

pub(crate) fn exec(args: SignArgs) -> CliResult {
    require_secret(&args.secret)?;
    let body = read_input(args.file.as_deref())?;
    let timestamp = match args.timestamp.as_deref() {
        None => now_ms(),
        Some(text) => {
            parse_epoch(text).map_err(|err| CliError::bad_input(format!("--timestamp: {err}")))?
        }
    };
    for (name, value) in sign(args.scheme.into(), &args.secret, timestamp, &body) {
        outln!("{name}: {value}");
    }
    Ok(())
}
