//! One delivery as `ckwebhook send` shows it: a line per attempt, then
//! delivered or why not.

use std::time::Duration;

use costkatana_webhooks_sandbox::sender::{Attempt, Reply, Sender, SignedRequest};

use crate::error::{CliError, CliResult, ErrorKind};

/// Delivers `request` with every attempt printed; succeeds only when it
/// was delivered.
pub(crate) async fn deliver(sender: &Sender, request: &SignedRequest, label: &str) -> CliResult {
    outln!(
        "POST {} ({label}, {} bytes)",
        request.endpoint(),
        request.body().len()
    );
    let last = sender
        .deliver(request, |attempt| outln!("{}", format_attempt(attempt)))
        .await;
    let attempts = last.number;
    if last.reply.is_delivered() {
        outln!("delivered after {attempts} attempt(s)");
        return Ok(());
    }
    let why = match &last.reply {
        reply if reply.is_retried() => format!("retries exhausted ({})", reply.label()),
        Reply::Unreachable(_) => "permanent failure: the receiver is unreachable".into(),
        Reply::Status(status, _) => {
            format!("permanent failure: {status} is not retried by the sender")
        }
        reply => format!("permanent failure ({})", reply.label()),
    };
    eprintln!("not delivered after {attempts} attempt(s): {why}");
    Err(CliError::reported(ErrorKind::NotDelivered))
}

fn format_attempt(attempt: &Attempt) -> String {
    let latency = format_latency(attempt.latency);
    let number = attempt.number;
    let mut line = match &attempt.reply {
        Reply::Status(status, body) => {
            let reason = http::StatusCode::from_u16(*status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("");
            format!(
                "attempt {number}: {status} {reason} in {latency}: {}",
                body.trim()
            )
        }
        Reply::Timeout => format!("attempt {number}: timed out after {latency}"),
        Reply::Unreachable(err) => format!("attempt {number}: cannot connect: {err}"),
        Reply::Broken(err) => format!("attempt {number}: request failed: {err}"),
        other => format!("attempt {number}: {other:?} in {latency}"),
    };
    if let Some(delay) = attempt.next_delay {
        line.push_str(&format!(
            "\n  retrying in {} with the same headers and timestamp",
            format_latency(delay)
        ));
    }
    line
}

/// A duration at a precision worth reading: `4.2 ms`, `130 ms`, `12.5 s`.
pub(crate) fn format_latency(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 10_000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}
