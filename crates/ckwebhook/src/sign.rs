//! `ckwebhook sign`: the headers to send with a body.

use costkatana_webhooks::signing::sign;

use crate::cli::SignArgs;
use crate::util::{now_ms, read_input};

pub(crate) fn run(args: &SignArgs) -> Result<(), String> {
    if args.secret.is_empty() {
        return Err("the secret is empty: pass --secret".into());
    }
    let body = read_input(args.file.as_deref())?;
    let timestamp = args.timestamp.unwrap_or_else(now_ms);
    for (name, value) in sign(args.scheme.into(), &args.secret, timestamp, &body) {
        outln!("{name}: {value}");
    }
    Ok(())
}
