//! `ckwebhook events`: every known event type, grouped by category.

use clap::Args;
use costkatana_webhooks::EventType;

use crate::error::CliResult;

// No arguments. (Help text in attributes: clap would read a doc comment as help.)
#[derive(Debug, Args)]
#[command(about = "List the 57 event types by category, with their alias spellings")]
pub(crate) struct EventsArgs {}

/// The docs' alternative spellings and the type each one means.
pub(crate) const ALIASES: [(&str, &str); 2] = [
    ("savings.milestone_reached", "savings.milestone"),
    ("usage.spike_detected", "usage.spike"),
];

pub(crate) fn exec(_: EventsArgs) -> CliResult {
    let mut current = String::new();
    for ty in EventType::KNOWN {
        let category = ty.category().as_str().to_owned();
        if category != current {
            if !current.is_empty() {
                outln!();
            }
            outln!("{category}");
            current = category;
        }
        match ALIASES
            .iter()
            .find(|(_, canonical)| *canonical == ty.as_str())
        {
            Some((alias, _)) => outln!("  {}  (also spelled {alias})", ty.as_str()),
            None => outln!("  {}", ty.as_str()),
        }
    }
    outln!(
        "\n{} event types. Aliases: {}.",
        EventType::KNOWN.len(),
        ALIASES
            .iter()
            .map(|(alias, canonical)| format!("{alias} -> {canonical}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

/// The known type called `name` (aliases included), or the closest names.
pub(crate) fn lookup(name: &str) -> Result<EventType, String> {
    let ty = EventType::from(name);
    if !matches!(ty, EventType::Other(_)) {
        return Ok(ty);
    }
    let names = EventType::KNOWN
        .iter()
        .map(EventType::as_str)
        .chain(ALIASES.iter().map(|(alias, _)| *alias));
    let mut scored: Vec<(usize, &str)> = names
        .map(|known| (strsim::levenshtein(name, known), known))
        .collect();
    scored.sort();
    let close: Vec<&str> = scored
        .iter()
        .filter(|(distance, _)| *distance <= scored[0].0 + 2)
        .take(3)
        .map(|(_, known)| *known)
        .collect();
    Err(format!(
        "unknown event type {name:?}; did you mean {}? (`ckwebhook events` lists all {})",
        close.join(", "),
        EventType::KNOWN.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names() {
        let err = lookup("budget.exceded").unwrap_err();
        assert!(err.contains("budget.exceeded"), "{err}");
        assert_eq!(lookup("usage.spike_detected"), Ok(EventType::UsageSpike));
    }
}
