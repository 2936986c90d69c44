//! One delivery as `ckwebhook send` shows it: a line per attempt, then
//! delivered or why not.

use std::time::{Duration, Instant};

use costkatana_webhooks_sandbox::sender::{Reply, Sender, SignedRequest};

use super::wire;
use crate::error::{CliError, CliResult, ErrorKind};

/// Delivers `request` with every attempt printed; succeeds only when it
/// was delivered.
///
/// The sender's schedule (`sender`'s retries and backoff: 5xx and
/// time-outs retried with the same bytes, anything else final). A plain
/// `http://` attempt goes through [`wire::attempt`], which reads an answer
/// that arrives while the body is still being written (a 413 for a body
/// over the receiver's limit); other URLs through the sandbox's sender.
pub(crate) async fn deliver(
    sender: &Sender,
    timeout: Duration,
    request: &SignedRequest,
    label: &str,
) -> CliResult {
    outln!(
        "POST {} ({label}, {} bytes)",
        request.endpoint(),
        request.body().len()
    );
    let mut number = 1;
    let last = loop {
        let started = Instant::now();
        let reply = if wire::handles(request) {
            wire::attempt(request, timeout).await
        } else {
            sender.exchange(request, None).await.reply
        };
        let latency = started.elapsed();
        let next_delay = (reply.is_retried() && number <= sender.retries())
            .then(|| sender.backoff().delay(number));
        outln!("{}", format_attempt(number, &reply, latency, next_delay));
        match next_delay {
            Some(delay) => tokio::time::sleep(delay).await,
            None => break reply,
        }
        number += 1;
    };
    let attempts = number;
    if last.is_delivered() {
        outln!("delivered after {attempts} attempt(s)");
        return Ok(());
    }
    let why = match &last {
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

fn format_attempt(
    number: u32,
    reply: &Reply,
    latency: Duration,
    next_delay: Option<Duration>,
) -> String {
    let latency = format_latency(latency);
    let mut line = match reply {
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
    if let Some(delay) = next_delay {
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
