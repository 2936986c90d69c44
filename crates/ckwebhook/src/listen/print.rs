//! One readable line (or two) per request, coloured only on a terminal.

use std::io::IsTerminal;

use costkatana_webhooks::{Event, Outcome, Payload, Scheme, Severity};

use crate::util::{iso8601, now_ms};

/// Whether to colour output.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    colour: bool,
}

impl Style {
    pub(crate) fn for_stdout() -> Self {
        Style {
            colour: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// One line per request: the time, the answer, the request, and what the
/// handler saw of a processed delivery (see [`describe`]).
pub(super) fn print_outcome(
    style: Style,
    method: &str,
    path: &str,
    outcome: &Outcome,
    seen: Option<&str>,
) {
    let time = &iso8601(now_ms())[11..19];
    let status = outcome.answer().status;
    let head = match outcome {
        Outcome::Processed { .. } => style.paint("32", &format!("{status} received")),
        Outcome::Duplicate { .. } => style.paint("36", &format!("{status} duplicate")),
        Outcome::Failed(err) => style.paint("31", &format!("{status} {}", err.code())),
        _ => format!("{status} {}", outcome.label()),
    };
    let mut line = format!("{time} {head} {method} {path}");
    match (outcome, seen) {
        (_, Some(seen)) => line.push_str(seen),
        // A duplicate was printed in full the first time: its id is enough.
        (Outcome::Duplicate { event_id }, None) => {
            line.push_str(&format!(" id {}", event_id.as_deref().unwrap_or("(none)")));
        }
        (Outcome::Failed(err), None) => line.push_str(&format!(": {}", err.message())),
        _ => {}
    }
    outln!("{line}");
}

/// The scheme and a readable summary of a verified payload.
pub(super) fn describe(style: Style, payload: &Payload, scheme: Scheme) -> String {
    let mut text = format!(" [{scheme}]");
    match payload {
        Payload::Event(event) => text.push_str(&describe_event(style, event)),
        Payload::Template(body) => {
            text.push_str(&format!(
                "\n    template body ({} chars)",
                body.chars().count()
            ));
        }
        Payload::Json(_) => text.push_str("\n    JSON body that is not an event"),
        _ => text.push_str("\n    body that is not JSON"),
    }
    text
}

fn describe_event(style: Style, event: &Event) -> String {
    let severity = event.severity.as_ref().map_or_else(
        || "-".to_owned(),
        |s| {
            let code = match s {
                Severity::Critical => "1;31",
                Severity::High => "31",
                Severity::Medium => "33",
                Severity::Low => "32",
                _ => "0",
            };
            style.paint(code, s.as_str())
        },
    );
    let mut text = format!(
        "\n    {} {severity} {:?}",
        style.paint("1", event.event_type.as_str()),
        event.title.as_deref().unwrap_or("(no title)")
    );
    text.push_str(&format!(
        "\n    id {}",
        event.id.as_deref().unwrap_or("(none)")
    ));
    if let Some(cost) = event.data.cost() {
        if let Some(amount) = cost.amount {
            text.push_str(&format!(
                ", cost {amount:.2} {}{}",
                cost.currency.as_deref().unwrap_or(""),
                cost.period.map(|p| format!(" ({p})")).unwrap_or_default()
            ));
        }
    }
    if let Some(budget) = event.data.budget() {
        if let (Some(spent), Some(amount)) = (budget.spent, budget.amount) {
            text.push_str(&format!(
                ", budget {spent:.2} of {amount:.2} {}",
                budget.currency.as_deref().unwrap_or("")
            ));
        }
    }
    if let Some(change) = event.data.metrics().and_then(|m| m.change_percentage) {
        text.push_str(&format!(", change {change:+.1}%"));
    }
    if let Some(savings) = event
        .data
        .get("optimization")
        .and_then(|o| o.get("potentialSavings"))
        .and_then(serde_json::Value::as_f64)
    {
        text.push_str(&format!(", potential savings {savings:.2}"));
    }
    text
}
