//! `ckwebhook verify`: check a captured request and explain what is wrong.

use std::path::PathBuf;

use clap::Args;
use costkatana_webhooks::diagnose::SignatureHeaders;
use costkatana_webhooks::{Secret, Verifier};

use crate::error::{CliError, CliResult, ErrorKind};
use crate::util::{now_ms, parse_epoch, require_secret};
use crate::verify::{explain, input};

#[derive(Debug, Args)]
#[command(
    about = "Check a captured request and explain what is wrong with it",
    long_about = "Check a captured request and explain what is wrong with it.\n\n\
        Reports the scheme the headers look like, the timestamp's age against the 300 s \
        default tolerance, and, when the signature does not match, whether it WOULD match \
        with a common mistake: a re-serialised body, a trailing newline added or removed, \
        whitespace in the secret, a hex- or base64-decoded secret, or the `whsec_` prefix \
        stripped. Exits 0 when the request is valid, 1 otherwise.",
    group = clap::ArgGroup::new("input").required(true).args(["request", "headers"])
)]
pub(crate) struct VerifyArgs {
    /// The webhook secret you expect the request to be signed with
    #[arg(
        long,
        value_name = "SECRET",
        env = "COSTKATANA_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    secret: String,
    /// A raw HTTP/1.1 request: request line, headers, a blank line, the body
    #[arg(long, value_name = "FILE", conflicts_with_all = ["headers", "body"])]
    request: Option<PathBuf>,
    /// A file of `Name: value` header lines (use with --body)
    #[arg(long, value_name = "FILE", requires = "body")]
    headers: Option<PathBuf>,
    /// The raw body file (use with --headers)
    #[arg(long, value_name = "FILE", requires = "headers")]
    body: Option<PathBuf>,
    /// Check as of this time: seconds or milliseconds since the epoch (told apart by length, or an s/ms suffix), or `now` [default: now]
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
}

pub(crate) fn exec(args: VerifyArgs) -> CliResult {
    require_secret(&args.secret)?;
    let at_ms = match args.at.as_deref() {
        None | Some("now") => now_ms(),
        Some(text) => {
            parse_epoch(text).map_err(|err| CliError::bad_input(format!("--at: {err}")))?
        }
    };
    let captured = match (&args.request, &args.headers, &args.body) {
        (Some(request), _, _) => input::read_request(request)?,
        (None, Some(headers), Some(body)) => input::read_split(headers, body)?,
        _ => {
            return Err(CliError::bad_input(
                "pass --request FILE, or --headers FILE with --body FILE",
            ))
        }
    };
    // The verdict comes from the core verifier; the rest explains it.
    let invalid_secret = |err: costkatana_webhooks::ConfigError| {
        CliError::bad_input(format!("invalid secret: {err}"))
    };
    let secret = Secret::with_surrounding_whitespace(&args.secret).map_err(invalid_secret)?;
    let verifier = Verifier::builder()
        .secrets([secret])
        .build()
        .map_err(invalid_secret)?;
    let verdict = verifier.verify_at(&captured.headers, captured.body.clone(), at_ms);

    outln!("body: {} bytes", captured.body.len());
    if args.secret.trim() != args.secret {
        outln!(
            "note: the secret you passed has leading or trailing whitespace; it is used as given"
        );
    }
    match SignatureHeaders::read(&captured.headers) {
        None => outln!(
            "scheme: none: no X-Webhook-Signature or X-CostKatana-Signature header (header names found: {})",
            captured.headers.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
        ),
        Some(found) => explain::explain(&found, &args.secret, &captured.body, at_ms),
    }
    match verdict {
        Ok(verified) => {
            outln!("result: valid ({} scheme)", verified.scheme());
            Ok(())
        }
        Err(err) => {
            // The verdict is the report: nothing more to print.
            outln!("result: INVALID, {err}");
            Err(CliError::reported(ErrorKind::NotValid))
        }
    }
}
