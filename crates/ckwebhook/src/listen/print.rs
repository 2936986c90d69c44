//! One readable line (or two) per request, coloured only on a terminal.

use std::io::IsTerminal;

use costkatana_webhooks::{Event, Outcome, Payload, Severity, Verified};

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

pub(super) fn print_outcome(
    style: &Style,
    path: &str,
    outcome: &Outcome,
    verified: Option<&Verified>,
) {
    let time = &iso8601(now_ms())[11..19];
    let answer = outcome.response();
    let status = answer.status;
    let head = match outcome {
        Outcome::Processed { .. } => style.paint("32", &format!("{status} received")),
        Outcome::Duplicate { .. } => style.paint("36", &format!("{status} duplicate")),
        Outcome::Failed(err) => style.paint("31", &format!("{status} {}", err.code())),
        _ => format!("{status} {}", outcome.label()),
    };
    let mut line = format!("{time} {head} POST {path}");
    if let Some(verified) = verified {
        line.push_str(&format!(" [{}]", verified.scheme()));
        match verified.payload() {
            // A duplicate was printed in full the first time: one line is enough.
            Payload::Event(event) if matches!(outcome, Outcome::Duplicate { .. }) => {
                line.push_str(&format!(
                    " {} id {}",
                    event.event_type,
                    event.id.as_deref().unwrap_or("(none)")
                ));
            }
            Payload::Event(event) => line.push_str(&describe_event(style, event)),
            Payload::Template(text) => {
                line.push_str(&format!(
                    "\n    template body ({} chars)",
                    text.chars().count()
                ));
            }
            Payload::Json(_) => line.push_str("\n    JSON body that is not an event"),
            _ => line.push_str("\n    body that is not JSON"),
        }
    } else if let Outcome::Failed(err) = outcome {
        line.push_str(&format!(": {}", err.message()));
    }
    println!("{line}");
}

fn describe_event(style: &Style, event: &Event) -> String {
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
