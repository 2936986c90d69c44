//! `ckwebhook verify`: check a captured request and explain what is wrong.

mod diagnose;
mod headers;
mod input;
pub(crate) mod reformat;

use costkatana_webhooks::{Secret, Verifier, DEFAULT_TOLERANCE};

use crate::cli::VerifyArgs;
use crate::util::{iso8601, now_ms};
use crate::Exit;

pub(crate) fn run(args: &VerifyArgs) -> Result<Exit, String> {
    if args.secret.is_empty() {
        return Err("the secret is empty: pass --secret".into());
    }
    let at_ms = match args.at.as_deref() {
        None | Some("now") => now_ms(),
        Some(text) => crate::util::parse_epoch(text).map_err(|err| format!("--at: {err}"))?,
    };
    let captured = match (&args.request, &args.headers, &args.body) {
        (Some(request), _, _) => input::read_request(request)?,
        (None, Some(headers), Some(body)) => input::read_split(headers, body)?,
        _ => return Err("pass --request FILE, or --headers FILE with --body FILE".into()),
    };
    // The verdict comes from the core verifier; the rest explains it.
    let secret = Secret::with_surrounding_whitespace(&args.secret)
        .map_err(|err| format!("invalid secret: {err}"))?;
    let verifier = Verifier::builder()
        .secrets([secret])
        .build()
        .map_err(|err| format!("invalid secret: {err}"))?;
    let verdict = verifier.verify_at(&captured.headers, captured.body.clone(), at_ms);

    outln!("body: {} bytes", captured.body.len());
    if args.secret.trim() != args.secret {
        outln!(
            "note: the secret you passed has leading or trailing whitespace; it is used as given"
        );
    }
    match headers::find(&captured.headers) {
        None => outln!(
            "scheme: none: no X-Webhook-Signature or X-CostKatana-Signature header (header names found: {})",
            captured.headers.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
        ),
        Some(found) => explain(&found, &args.secret, &captured.body, at_ms),
    }
    match verdict {
        Ok(verified) => {
            outln!("result: valid ({} scheme)", verified.scheme());
            Ok(Exit::Success)
        }
        Err(err) => {
            outln!("result: INVALID, {err}");
            Ok(Exit::Failure)
        }
    }
}

fn explain(found: &headers::Found, secret: &str, body: &[u8], at_ms: i64) {
    outln!("scheme: looks like {}: {}", found.scheme, found.because);
    let Some(timestamp) = found.timestamp.as_deref() else {
        outln!("timestamp: missing");
        return;
    };
    match found.timestamp_ms() {
        Some(ts_ms)
            if found.scheme.ms_per_timestamp_unit() == 1 && looks_like_seconds(ts_ms, at_ms) =>
        {
            outln!(
            "timestamp: {timestamp} looks like SECONDS since the epoch ({} as seconds), but the {} \
             scheme sends milliseconds ({timestamp}000): the sender's timestamp unit is wrong, \
             not the tolerance",
            iso8601(ts_ms.saturating_mul(1000)),
            found.scheme
        )
        }
        Some(ts_ms) => outln!(
            "timestamp: {timestamp} = {}, {}",
            iso8601(ts_ms),
            age(ts_ms, at_ms)
        ),
        None => outln!("timestamp: {timestamp:?} is not a whole number"),
    }
    if found.signatures.is_empty() {
        outln!("signature: missing (no v1= entry)");
        return;
    }
    let expected = diagnose::sign(secret.as_bytes(), Some(timestamp), body);
    if found.signatures.contains(&expected) {
        outln!("signature: matches the secret over the raw body");
        return;
    }
    outln!("signature: does not match the secret over these raw bytes");
    let mistakes = diagnose::mistakes(secret, timestamp, body, &found.signatures);
    if mistakes.is_empty() {
        outln!(
            "  no common mistake explains it: check that the secret is the one configured for this \
             webhook on Cost Katana, and that the body is byte for byte what was sent"
        );
    }
    for (what, advice) in mistakes {
        outln!("  would match with {what}:\n    {advice}");
    }
}

fn age(ts_ms: i64, at_ms: i64) -> String {
    let tolerance = DEFAULT_TOLERANCE.as_secs();
    let age_secs = (i128::from(at_ms) - i128::from(ts_ms)) / 1000;
    if age_secs > i128::from(tolerance) {
        format!(
            "{age_secs} s old: STALE, older than the {tolerance} s default tolerance (a late sender \
             retry or a replay re-sends the original timestamp; raise the past tolerance to accept it)"
        )
    } else if -age_secs > i128::from(tolerance) {
        format!(
            "{} s in the future: beyond the {tolerance} s default tolerance (check the clocks, and \
             that a seconds timestamp was not sent where milliseconds are expected or the reverse)",
            -age_secs
        )
    } else if age_secs >= 0 {
        format!("{age_secs} s old: within the {tolerance} s default tolerance")
    } else {
        format!(
            "{} s in the future: within the {tolerance} s default tolerance",
            -age_secs
        )
    }
}

/// A millisecond value that, read as seconds, is within a day of `at_ms`.
fn looks_like_seconds(ts_ms: i64, at_ms: i64) -> bool {
    (ts_ms.saturating_mul(1000) - at_ms).abs() < 86_400_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_seconds_from_milliseconds() {
        let now = 1_796_110_963_000;
        assert!(looks_like_seconds(1_796_110_963, now));
        assert!(!looks_like_seconds(now, now));
    }

    #[test]
    fn describes_age() {
        assert!(age(0, 301_000).contains("STALE"));
        assert!(age(0, 10_000).contains("10 s old: within"));
        assert!(age(400_000, 0).contains("in the future: beyond"));
    }
}
