//! The explanation `ckwebhook verify` prints: what the signature headers
//! look like, how old the timestamp is, and which common mistake would make
//! the signature match (from [`costkatana_webhooks::diagnose`]).

use costkatana_webhooks::diagnose::SignatureHeaders;
use costkatana_webhooks::DEFAULT_TOLERANCE;

use crate::util::iso8601;

/// The scheme, timestamp and signature lines for headers that have a
/// signature header.
pub(crate) fn explain(found: &SignatureHeaders, secret: &str, body: &[u8], at_ms: i64) {
    outln!("scheme: looks like {}: {}", found.scheme(), found.reason());
    let Some(timestamp) = found.timestamp() else {
        outln!("timestamp: missing");
        return;
    };
    match found.timestamp_ms() {
        Some(ts_ms) if found.timestamp_in_seconds(at_ms) => outln!(
            "timestamp: {timestamp} looks like SECONDS since the epoch ({} as seconds), but the {} \
             scheme sends milliseconds ({timestamp}000): the sender's timestamp unit is wrong, \
             not the tolerance",
            iso8601(ts_ms.saturating_mul(1000)),
            found.scheme()
        ),
        Some(ts_ms) => outln!(
            "timestamp: {timestamp} = {}, {}",
            iso8601(ts_ms),
            age(ts_ms, at_ms)
        ),
        None => outln!("timestamp: {timestamp:?} is not a whole number"),
    }
    if found.signatures().is_empty() {
        outln!("signature: missing (no v1= entry)");
        return;
    }
    if found.matches(secret, body) {
        outln!("signature: matches the secret over the raw body");
        return;
    }
    outln!("signature: does not match the secret over these raw bytes");
    let mistakes = found.mistakes(secret, body);
    if mistakes.is_empty() {
        outln!(
            "  no common mistake explains it: check that the secret is the one configured for this \
             webhook on Cost Katana, and that the body is byte for byte what was sent"
        );
    }
    for mistake in mistakes {
        outln!("  would match with {mistake}:\n    {}", mistake.advice());
    }
}

/// The timestamp's age against the default tolerance, and what to do
/// about it.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_age() {
        assert!(age(0, 301_000).contains("STALE"));
        assert!(age(0, 10_000).contains("10 s old: within"));
        assert!(age(400_000, 0).contains("in the future: beyond"));
    }
}
