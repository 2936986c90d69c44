//! `ckwebhook inbox show`: one row in full, its credentials redacted: the
//! headers' signatures and credentials, and the dedupe key when it is a
//! signature (a body without an event id is keyed by its signature).

use costkatana_webhooks::dedupe::DedupeKey;
use costkatana_webhooks::inbox::{Entry, EntryState};
use costkatana_webhooks_inbox::{Attempt, Inbox, InboxErrorKind};

use super::text::{body, or_dash, printable};
use crate::error::CliResult;
use crate::util::iso8601;

pub(super) async fn run(inbox: &Inbox, id: i64) -> CliResult {
    let record = match inbox.get(id).await {
        Ok(record) => record,
        Err(err) if err.kind() == InboxErrorKind::NotFound => return Err(super::no_row(id)),
        Err(err) => return Err(err.into()),
    };
    let attempts = inbox.attempts(id).await?;
    for line in describe(&record, &attempts) {
        outln!("{line}");
    }
    Ok(())
}

/// One attempt: number, start, duration, outcome, worker, error.
fn attempt_line(attempt: &Attempt) -> String {
    let mut line = format!(
        "#{} {} {} ms {}",
        attempt.number,
        iso8601(attempt.started_at_ms),
        attempt.duration_ms,
        attempt.outcome
    );
    if let Some(worker) = &attempt.worker {
        line.push_str(&format!(" on {}", printable(worker, false)));
    }
    if let Some(error) = &attempt.error {
        line.push_str(&format!(": {}", printable(error, false)));
    }
    line
}

/// What a done row whose body and headers were dropped shows instead.
const NOT_KEPT: &str = "not kept: a done row keeps only what dedupe needs (the inbox's \
     keep_done_bodies setting keeps it)";

/// Every field, the attempts, the headers as [`Entry::redacted_headers`]
/// shows them (never the raw values), then the body.
fn describe(record: &Entry, attempts: &[Attempt]) -> Vec<String> {
    let fields = [
        ("id", record.id.to_string()),
        ("state", record.state.to_string()),
        ("attempts", record.attempts.to_string()),
        ("event type", or_dash(record.event_type.as_deref())),
        ("event id", or_dash(record.event_id.as_deref())),
        (
            "dedupe key",
            printable(&shown_key(&record.dedupe_key), false),
        ),
        ("received", iso8601(record.received_at_ms)),
        ("run after", iso8601(record.run_after_ms)),
        (
            "settled",
            record.settled_at_ms.map_or_else(|| "-".to_owned(), iso8601),
        ),
        ("last error", or_dash(record.last_error.as_deref())),
    ];
    let mut lines: Vec<String> = fields
        .iter()
        .map(|(name, value)| format!("{name:<11} {value}"))
        .collect();
    lines.push(format!("attempts ({})", attempts.len()));
    lines.extend(attempts.iter().map(|a| format!("  {}", attempt_line(a))));
    // A delivery always stores the headers that verify it: none left
    // means a done row's were dropped, with its body.
    if record.state == EntryState::Done && record.headers.is_empty() {
        lines.push(format!("headers     ({NOT_KEPT})"));
        lines.push(format!("body        ({NOT_KEPT})"));
        return lines;
    }
    lines.push("headers".to_owned());
    lines.extend(
        record.redacted_headers().iter().map(|(name, value)| {
            format!("  {}: {}", printable(name, false), printable(value, false))
        }),
    );
    lines.push(format!("body ({} bytes)", record.body.len()));
    lines.push(body(&record.body));
    lines
}

/// The dedupe key as shown: a key that is a delivery's signature
/// (`<n>:<namespace>:signature:<hex>`, the core's format) shows
/// `[redacted]` for the signature; an event id key shows whole.
fn shown_key(key: &str) -> String {
    match DedupeKey::parse(key) {
        Some(parts) if parts.kind == DedupeKey::SIGNATURE => parts.redacted(),
        _ => key.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_fields_and_redacts_credentials() {
        let record = Entry {
            id: 7,
            state: EntryState::Dead,
            attempts: 2,
            dedupe_key: "16:ns:event:evt_1".into(),
            event_id: Some("evt_1".into()),
            event_type: Some("cost.alert".into()),
            headers: vec![
                ("authorization".into(), "Bearer t0ken".into()),
                ("x-webhook-signature".into(), "abc123".into()),
                ("x-webhook-timestamp".into(), "1777377600000".into()),
            ],
            body: bytes::Bytes::from_static(br#"{"eventId":"evt_1"}"#),
            received_at_ms: 1_777_377_600_000,
            run_after_ms: 1_777_377_600_000,
            settled_at_ms: None,
            last_error: Some("refused: not for us".into()),
        };
        let text = describe(&record, &[]).join("\n");
        assert!(
            !text.contains("t0ken") && !text.contains("abc123"),
            "{text}"
        );
        assert!(text.contains("  authorization: [redacted]"), "{text}");
        assert!(
            text.contains("  x-webhook-timestamp: 1777377600000"),
            "{text}"
        );
        assert!(
            text.contains("received    2026-04-28T12:00:00.000Z"),
            "{text}"
        );
        assert!(text.contains("settled     -"), "{text}");
        assert!(text.ends_with("{\n  \"eventId\": \"evt_1\"\n}"), "{text}");
    }

    #[test]
    fn a_signature_key_is_redacted_and_an_event_key_is_not() {
        let hex = "9f".repeat(32);
        assert_eq!(
            shown_key(&format!("7:tenant1:signature:{hex}")),
            "7:tenant1:signature:[redacted]"
        );
        // A namespace holding colons and the word itself is read by length.
        assert_eq!(
            shown_key(&format!("13:a:signature:b:signature:{hex}")),
            "13:a:signature:b:signature:[redacted]"
        );
        assert_eq!(
            shown_key("7:tenant1:event:evt_signature:1"),
            "7:tenant1:event:evt_signature:1"
        );
        assert_eq!(shown_key("not:a:core:key"), "not:a:core:key");
    }

    #[test]
    fn a_done_row_without_its_body_says_it_was_not_kept() {
        let record = Entry {
            id: 9,
            state: EntryState::Done,
            attempts: 1,
            dedupe_key: format!("3:abc:signature:{}", "0a".repeat(32)),
            event_id: None,
            event_type: None,
            headers: Vec::new(),
            body: bytes::Bytes::new(),
            received_at_ms: 1_777_377_600_000,
            run_after_ms: 1_777_377_600_000,
            settled_at_ms: Some(1_777_377_600_500),
            last_error: None,
        };
        let text = describe(&record, &[]).join("\n");
        assert!(
            text.contains("dedupe key  3:abc:signature:[redacted]"),
            "{text}"
        );
        assert!(!text.contains("0a0a"), "{text}");
        assert!(text.ends_with("body        (not kept: a done row keeps only what dedupe needs (the inbox's keep_done_bodies setting keeps it))"), "{text}");
    }
}
