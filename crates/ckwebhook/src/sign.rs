//! `ckwebhook sign`: the headers to send with a body.

use costkatana_webhooks::signing::sign;

use crate::cli::SignArgs;
use crate::util::{now_ms, parse_epoch, read_input};

pub(crate) fn run(args: &SignArgs) -> Result<(), String> {
    if args.secret.is_empty() {
        return Err("the secret is empty: pass --secret".into());
    }
    let body = read_input(args.file.as_deref())?;
    let timestamp = match args.timestamp.as_deref() {
        None => now_ms(),
        Some(text) => parse_epoch(text).map_err(|err| format!("--timestamp: {err}"))?,
    };
    for (name, value) in sign(args.scheme.into(), &args.secret, timestamp, &body) {
        outln!("{name}: {value}");
    }
    Ok(())
}
