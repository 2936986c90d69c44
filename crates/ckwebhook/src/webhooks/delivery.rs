//! `ckwebhook webhooks delivery`: one delivery record in full, its
//! signature and credentials redacted (in `--json` too: with the body they
//! would let anyone re-send the request within a receiver's window).

use costkatana_webhooks::is_sensitive_header;
use costkatana_webhooks_api::Delivery;
use serde_json::Value;

use super::table::fields;
use super::text::{body, inline, or_dash, printable, response_ms};
use super::{json, Api};
use crate::error::CliResult;

/// What a redacted value reads.
const REDACTED: &str = "[redacted]";

pub(super) async fn run(api: &Api, id: &str) -> CliResult {
    let record = api.client.delivery(id).await.map_err(|err| api.fail(err))?;
    let record = redacted(&record);
    if api.json {
        return json::print(&record);
    }
    for line in describe(&record) {
        outln!("{line}");
    }
    Ok(())
}

/// The record with its signature, and the values of its signature and
/// credential headers, replaced by `[redacted]`.
pub(super) fn redacted(record: &Delivery) -> Delivery {
    let mut record = record.clone();
    if record.signature.is_some() {
        record.signature = Some(REDACTED.to_owned());
    }
    if let Some(request) = &mut record.request {
        for (name, value) in &mut request.headers {
            if is_sensitive_header(name) {
                *value = Value::from(REDACTED);
            }
        }
    }
    record
}

/// How an attempt failed, on one line: `network_error ECONNREFUSED`,
/// `http_error 400`, or `-`.
pub(super) fn failure(record: &Delivery) -> String {
    match &record.error {
        Some(error) => {
            let mut text = printable(&error.kind, false);
            if let Some(code) = &error.code {
                text.push(' ');
                text.push_str(&printable(code, false));
            }
            text
        }
        None => "-".to_owned(),
    }
}

/// Every field, the headers (already redacted), then the body.
fn describe(record: &Delivery) -> Vec<String> {
    let mut pairs = vec![
        ("id", printable(&record.id, false)),
        ("webhook", or_dash(Some(&record.webhook_id))),
        ("event id", or_dash(Some(&record.event_id))),
        ("event type", or_dash(Some(&record.event_type))),
        ("attempt", record.attempt.to_string()),
        ("status", printable(record.status.as_str(), false)),
    ];
    if let Some(error) = &record.error {
        let message = error
            .message
            .as_deref()
            .map_or_else(String::new, |m| format!(": {}", printable(m, false)));
        pairs.push(("failure", format!("{}{message}", failure(record))));
    }
    if let Some(response) = &record.response {
        let status = response
            .status_code
            .map_or_else(|| "-".to_owned(), |s| s.to_string());
        pairs.push((
            "answer",
            format!("HTTP {status} in {}", response_ms(response.response_time)),
        ));
        if let Some(text) = response.body.as_deref().filter(|b| !b.is_empty()) {
            pairs.push(("answer body", printable(text, false)));
        }
    }
    if let Some(next) = &record.next_retry_at {
        pairs.push(("next retry", printable(next, false)));
    }
    if let Some(left) = record.retries_left {
        pairs.push(("retries left", left.to_string()));
    }
    if let Some(metadata) = &record.metadata {
        if let Some(original) = metadata.get("originalDeliveryId") {
            pairs.push(("replay of", inline(original)));
        }
        if metadata.as_object().is_some_and(|m| !m.is_empty()) {
            pairs.push(("metadata", inline(metadata)));
        }
    }
    pairs.push(("created", or_dash(record.created_at.as_deref())));
    pairs.push(("updated", or_dash(record.updated_at.as_deref())));
    if let Some(signature) = &record.signature {
        pairs.push(("signature", printable(signature, false)));
    }
    let mut lines = Vec::new();
    let Some(request) = &record.request else {
        lines.extend(fields(&pairs));
        lines.push("request     (not in this answer)".to_owned());
        return lines;
    };
    pairs.push((
        "request",
        format!(
            "{} {}",
            printable(&request.method, false),
            printable(&request.url, false)
        ),
    ));
    pairs.push(("timestamp", inline(&request.timestamp)));
    lines.extend(fields(&pairs));
    lines.push("headers".to_owned());
    lines.extend(
        request
            .headers
            .iter()
            .map(|(name, value)| format!("  {}: {}", printable(name, false), inline(value))),
    );
    let size = match &request.body {
        Value::String(text) => format!(" ({} bytes)", text.len()),
        _ => String::new(),
    };
    lines.push(format!("body{size}"));
    lines.push(body(&request.body));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_and_credentials_are_redacted() {
        let record: Delivery = serde_json::from_value(serde_json::json!({
            "id": "65f0c0ffee0000000000d00d", "webhookId": "65f0c0ffee0000000000beef",
            "eventId": "cost_alert_1", "eventType": "cost.alert", "attempt": 2,
            "status": "failed", "retriesLeft": 1,
            "error": {"type": "http_error", "message": "Request failed with status code 503", "code": 503},
            "response": {"statusCode": 503, "responseTime": 12, "body": "down"},
            "request": {"url": "http://127.0.0.1:3000/hook", "method": "POST",
                "timestamp": 1777377600000_i64,
                "headers": {"X-Webhook-Signature": "abc123", "Authorization": "Bearer t0ken",
                            "X-Webhook-Timestamp": "1777377600000"},
                "body": "{\"eventId\":\"cost_alert_1\",\"data\":{}}"},
            "signature": "abc123",
            "metadata": {"originalDeliveryId": "65f0c0ffee0000000000aaaa"}
        }))
        .unwrap();
        let record = redacted(&record);
        let text = describe(&record).join("\n");
        assert!(
            !text.contains("abc123") && !text.contains("t0ken"),
            "{text}"
        );
        assert!(text.contains("  X-Webhook-Signature: [redacted]"), "{text}");
        assert!(
            text.contains("  X-Webhook-Timestamp: 1777377600000"),
            "{text}"
        );
        assert!(
            text.contains("failure       http_error 503: Request failed with status code 503"),
            "{text}"
        );
        assert!(
            text.contains("replay of     65f0c0ffee0000000000aaaa"),
            "{text}"
        );
        assert!(text.contains("answer        HTTP 503 in 12 ms"), "{text}");
        assert!(text.ends_with("{\n  \"eventId\": \"cost_alert_1\",\n  \"data\": {}\n}"));
        let json = serde_json::to_string(&record).unwrap();
        assert!(
            !json.contains("abc123") && !json.contains("t0ken"),
            "{json}"
        );
    }
}
