//! `ckwebhook webhooks get`: one webhook's settings and counters, as
//! `create` and `update` also print what the API answered.

use costkatana_webhooks::is_sensitive_header;
use costkatana_webhooks_api::Webhook;

use super::table::print_fields;
use super::text::{inline, ms, or_dash, printable, response_ms};
use super::{json, Api};
use crate::error::CliResult;

pub(super) async fn get(api: &Api, id: &str) -> CliResult {
    let webhook = api.client.webhook(id).await.map_err(|err| api.fail(err))?;
    if api.json {
        return json::print(&redacted(&webhook));
    }
    print_webhook(&webhook);
    Ok(())
}

/// Every field the answer carries (`create` and `update` answer fewer than
/// `get`), one per line.
pub(super) fn print_webhook(webhook: &Webhook) {
    print_fields(&describe(webhook));
}

fn describe(webhook: &Webhook) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("id", printable(&webhook.id, false)),
        ("name", printable(&webhook.name, false)),
    ];
    if let Some(description) = &webhook.description {
        fields.push(("description", printable(description, false)));
    }
    fields.push(("url", printable(&webhook.url, false)));
    fields.push((
        "active",
        if webhook.active { "yes" } else { "no" }.to_owned(),
    ));
    fields.push(("events", printable(&webhook.events.join(", "), false)));
    if let Some(secret) = &webhook.secret {
        fields.push((
            "secret",
            format!("{} (masked by the API)", printable(secret, false)),
        ));
    }
    if let Some(timeout) = webhook.timeout {
        fields.push(("timeout", ms(timeout)));
    }
    if let Some(retry) = &webhook.retry_config {
        fields.push((
            "retries",
            format!(
                "{} after {}, times {}",
                retry.max_retries,
                ms(retry.initial_delay),
                retry.backoff_multiplier
            ),
        ));
    }
    if let Some(auth) = &webhook.auth {
        let credentials = if auth.has_credentials {
            "credentials set"
        } else {
            "no credentials"
        };
        fields.push((
            "auth",
            format!("{} ({credentials})", printable(&auth.kind, false)),
        ));
    }
    if let Some(headers) = webhook.headers.as_ref().filter(|h| !h.is_empty()) {
        let shown: Vec<String> = headers
            .iter()
            .map(|(name, value)| {
                let value = if is_sensitive_header(name) {
                    "[redacted]"
                } else {
                    value
                };
                format!("{}: {}", printable(name, false), printable(value, false))
            })
            .collect();
        fields.push(("headers", shown.join("; ")));
    }
    if let Some(filters) = webhook.filters.as_ref().filter(|f| !is_empty(f)) {
        fields.push(("filters", inline(filters)));
    }
    if webhook.uses_template() {
        fields.push(("payload", "a template, not the default body".to_owned()));
    }
    if let Some(stats) = &webhook.stats {
        fields.push((
            "deliveries",
            format!(
                "{} ({} delivered, {} failed)",
                stats.total_deliveries, stats.successful_deliveries, stats.failed_deliveries
            ),
        ));
        fields.push(("last delivery", or_dash(stats.last_delivery_at.as_deref())));
        fields.push(("last success", or_dash(stats.last_success_at.as_deref())));
        fields.push(("last failure", or_dash(stats.last_failure_at.as_deref())));
        if stats.average_response_time.is_some() {
            fields.push((
                "last answer",
                format!(
                    "{} (the last success's time)",
                    response_ms(stats.average_response_time)
                ),
            ));
        }
    }
    if let Some(created) = &webhook.created_at {
        fields.push(("created", printable(created, false)));
    }
    if let Some(updated) = &webhook.updated_at {
        fields.push(("updated", printable(updated, false)));
    }
    fields
}

/// The webhook as `--json` prints it: the API's object, with the values of
/// custom headers that are credentials redacted, as everywhere else.
pub(super) fn redacted(webhook: &Webhook) -> Webhook {
    let mut webhook = webhook.clone();
    if let Some(headers) = &mut webhook.headers {
        for (name, value) in headers.iter_mut() {
            if is_sensitive_header(name) {
                "[redacted]".clone_into(value);
            }
        }
    }
    webhook
}

/// `{}`, `[]` and `null` say nothing.
fn is_empty(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null => true,
        serde_json::Value::Object(map) => map.is_empty(),
        serde_json::Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_custom_headers_are_redacted() {
        let webhook: Webhook = serde_json::from_value(serde_json::json!({
            "id": "65f0c0ffee0000000000beef", "name": "Alerts", "url": "https://example.com/hook",
            "events": ["cost.alert", "usage.spike"], "active": false, "secret": "****1a2b",
            "timeout": 30000,
            "retryConfig": {"maxRetries": 3, "backoffMultiplier": 2, "initialDelay": 5000},
            "headers": {"Authorization": "Bearer t0ken", "X-Team": "billing"},
            "stats": {"totalDeliveries": 3, "successfulDeliveries": 2, "failedDeliveries": 1}
        }))
        .unwrap();
        let text = describe(&webhook)
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(!text.contains("t0ken"), "{text}");
        assert!(
            text.contains("Authorization: [redacted]; X-Team: billing"),
            "{text}"
        );
        assert!(text.contains("active=no"), "{text}");
        assert!(text.contains("timeout=30000 ms (30s)"), "{text}");
        assert!(
            text.contains("retries=3 after 5000 ms (5s), times 2"),
            "{text}"
        );
        assert!(
            text.contains("deliveries=3 (2 delivered, 1 failed)"),
            "{text}"
        );
    }
}
