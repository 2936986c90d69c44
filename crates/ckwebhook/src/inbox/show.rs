//! `ckwebhook inbox show`: one row in full, its credentials redacted.

use costkatana_webhooks::inbox::Entry;
use costkatana_webhooks_inbox::{Inbox, InboxErrorKind};

use super::text::{body, or_dash, printable};
use crate::error::CliResult;
use crate::util::iso8601;

pub(super) async fn run(inbox: &Inbox, id: i64) -> CliResult {
    let record = match inbox.get(id).await {
        Ok(record) => record,
        Err(err) if err.kind() == InboxErrorKind::NotFound => return Err(super::no_row(id)),
        Err(err) => return Err(err.into()),
    };
    for line in describe(&record) {
        outln!("{line}");
    }
    Ok(())
}

/// Every field, the headers as [`Entry::redacted_headers`] shows
/// them (never the raw values), then the body.
fn describe(record: &Entry) -> Vec<String> {
    let fields = [
        ("id", record.id.to_string()),
        ("state", record.state.to_string()),
        ("attempts", record.attempts.to_string()),
        ("event type", or_dash(record.event_type.as_deref())),
        ("event id", or_dash(record.event_id.as_deref())),
        ("dedupe key", printable(&record.dedupe_key, false)),
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

#[cfg(test)]
mod tests {
    use costkatana_webhooks::inbox::EntryState;

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
        let text = describe(&record).join("\n");
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
}
