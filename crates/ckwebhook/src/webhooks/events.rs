//! `ckwebhook webhooks events`: the API's catalogue of event types, with
//! the guide's alias spellings `create` and `update` translate.

use costkatana_webhooks_api::EventCatalog;

use super::table::Table;
use super::text::printable;
use super::{json, Api};
use crate::commands::events::ALIASES;
use crate::error::CliResult;

pub(super) async fn run(api: &Api) -> CliResult {
    let catalog = api.client.events().await.map_err(|err| api.fail(err))?;
    if api.json {
        return json::print(&catalog);
    }
    for line in lines(&catalog) {
        outln!("{line}");
    }
    outln!();
    outln!(
        "{} event types in {} categories, as {} accepts them. Also accepted here, and sent \
         as the API spells them: {}.",
        catalog.events.len(),
        catalog.categories.len(),
        api.client.base_url(),
        ALIASES
            .iter()
            .map(|(alias, canonical)| format!("{alias} (= {canonical})"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

/// One line per type: how it is sent, its category, the backend's name.
fn lines(catalog: &EventCatalog) -> Vec<String> {
    let mut table = Table::new(&["TYPE", "CATEGORY", "KEY", "ALIAS"]);
    for event in &catalog.events {
        let alias = ALIASES
            .iter()
            .find(|(_, canonical)| *canonical == event.value)
            .map_or("", |(alias, _)| alias);
        table.row(vec![
            printable(&event.value, false),
            printable(&event.category, false),
            printable(&event.key, false),
            alias.to_owned(),
        ]);
    }
    table.lines()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_sit_beside_their_type() {
        let catalog: EventCatalog = serde_json::from_value(serde_json::json!({
            "events": [
                {"key": "USAGE_SPIKE", "value": "usage.spike", "category": "usage", "name": "spike"},
                {"key": "COST_ALERT", "value": "cost.alert", "category": "cost", "name": "alert"}
            ],
            "categories": ["usage", "cost"], "total": 2
        }))
        .unwrap();
        assert_eq!(
            lines(&catalog),
            [
                "TYPE         CATEGORY  KEY          ALIAS",
                "usage.spike  usage     USAGE_SPIKE  usage.spike_detected",
                "cost.alert   cost      COST_ALERT",
            ]
        );
    }
}
