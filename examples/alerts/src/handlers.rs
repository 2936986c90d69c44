//! The four uses from the Cost Katana README's "Real-World Use Cases", one
//! handler each. A handler returns an error when its downstream call fails,
//! so the delivery is answered 500 and the sender's retry runs it again;
//! once it succeeds the receiver's dedupe keeps a retry from repeating it.

use costkatana_webhooks::{Delivery, Event, HandlerResult, Severity, Shared};
use serde_json::{json, Value};

use crate::downstream::Downstream;
use crate::AlertsConfig;

/// A spike above this change, in percent, switches throttling on.
pub const THROTTLE_ABOVE_PERCENT: f64 = 500.0;

/// The rate the throttling switch is set to.
pub const THROTTLE_RATE: f64 = 0.5;

/// What the handlers share, as the receiver's state (cheap to clone: the
/// HTTP client is a handle).
#[derive(Debug, Clone)]
pub(crate) struct Alerts {
    pub(crate) config: AlertsConfig,
    pub(crate) downstream: Downstream,
}

/// The dedupe key of the delivery: the event id, else the signature. Used as
/// PagerDuty's `dedup_key` so PagerDuty dedupes a retry too.
fn event_key(event: &Event, delivery: &Delivery) -> String {
    event
        .id
        .clone()
        .unwrap_or_else(|| delivery.dedupe_key().to_owned())
}

/// `budget.exceeded` -> a Slack incoming-webhook message.
pub(crate) async fn budget_exceeded(Shared(alerts): Shared<Alerts>, event: Event) -> HandlerResult {
    let Some(url) = &alerts.config.slack_webhook_url else {
        tracing::info!(event_type = %event.event_type, "SLACK_WEBHOOK_URL unset; not alerting");
        return Ok(());
    };
    let mut text = format!(
        "🚨 Budget exceeded: {}",
        event.title.as_deref().unwrap_or("a budget")
    );
    if let Some(budget) = event.data.budget() {
        if let (Some(spent), Some(amount)) = (budget.spent, budget.amount) {
            let currency = budget.currency.as_deref().unwrap_or("USD");
            text.push_str(&format!(" ({spent:.2} of {amount:.2} {currency} spent)"));
        }
    }
    if let Some(description) = &event.description {
        text.push('\n');
        text.push_str(description);
    }
    alerts
        .downstream
        .post("Slack", url, &json!({ "text": text }))
        .await
}

/// `security.alert` -> a PagerDuty Events API v2 trigger.
pub(crate) async fn security_alert(
    Shared(alerts): Shared<Alerts>,
    event: Event,
    delivery: Delivery,
) -> HandlerResult {
    let Some(routing_key) = &alerts.config.pagerduty_routing_key else {
        tracing::info!(event_type = %event.event_type, "PAGERDUTY_ROUTING_KEY unset; not paging");
        return Ok(());
    };
    let trigger = json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": event_key(&event, &delivery),
        "payload": {
            "summary": event.title.as_deref().unwrap_or("Cost Katana security alert"),
            "severity": pagerduty_severity(event.severity.as_ref()),
            "source": "cost-katana",
            "custom_details": {
                "event_type": event.event_type.as_str(),
                "description": event.description,
                "occurred_at": event.occurred_at,
            },
        },
    });
    alerts
        .downstream
        .post("PagerDuty", &alerts.config.pagerduty_url, &trigger)
        .await
}

/// PagerDuty knows `critical`, `error`, `warning`, `info`; an unknown or
/// missing severity pages as critical, as the README's example does.
fn pagerduty_severity(severity: Option<&Severity>) -> &'static str {
    match severity {
        Some(Severity::High) => "error",
        Some(Severity::Medium) => "warning",
        Some(Severity::Low) => "info",
        _ => "critical",
    }
}

/// `cost.spike_detected` above 500 % -> the throttling switch, then an
/// urgent Slack note (when Slack is configured).
pub(crate) async fn cost_spike(Shared(alerts): Shared<Alerts>, event: Event) -> HandlerResult {
    // `metrics()` reads `data.metrics`, else the documented `data.spike`.
    let change = event.data.metrics().and_then(|m| m.change_percentage);
    let Some(change) = change.filter(|c| *c > THROTTLE_ABOVE_PERCENT) else {
        tracing::info!(?change, "cost spike below the throttling threshold");
        return Ok(());
    };
    let Some(url) = &alerts.config.throttle_url else {
        tracing::info!(change, "THROTTLE_URL unset; not throttling");
        return Ok(());
    };
    // Setting the rate is idempotent, so a retry after a failed Slack note
    // may safely set it again.
    alerts
        .downstream
        .post(
            "the throttling switch",
            url,
            &json!({ "rate": THROTTLE_RATE }),
        )
        .await?;
    if let Some(slack) = &alerts.config.slack_webhook_url {
        let text = format!("Cost spike of {change:.0}% (>500%), throttling enabled");
        alerts
            .downstream
            .post("Slack", slack, &json!({ "text": text }))
            .await?;
    }
    Ok(())
}

/// `optimization.suggested` -> a notification with the potential savings.
pub(crate) async fn optimization_suggested(
    Shared(alerts): Shared<Alerts>,
    event: Event,
) -> HandlerResult {
    let Some(url) = &alerts.config.notify_url else {
        tracing::info!(event_type = %event.event_type, "NOTIFY_URL unset; not notifying");
        return Ok(());
    };
    let optimization = event.data.get("optimization");
    let savings = optimization
        .and_then(|o| {
            o.get("potentialSavings")
                .or_else(|| o.get("potential_savings"))
        })
        .and_then(Value::as_f64);
    let currency = optimization
        .and_then(|o| o.get("currency"))
        .and_then(Value::as_str)
        .unwrap_or("USD");
    let recommendation = event
        .data
        .get("recommendation")
        .and_then(Value::as_str)
        .or(event.description.as_deref());
    let subject = match savings {
        Some(savings) => format!("💰 Save {savings:.2} {currency}/month"),
        None => "💰 A cost optimization is suggested".to_owned(),
    };
    let notification = json!({
        "subject": subject,
        "body": recommendation,
        "potential_savings": savings,
        "currency": currency,
        "event_id": event.id,
    });
    alerts
        .downstream
        .post("the notifier", url, &notification)
        .await
}
