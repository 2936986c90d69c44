//! The 57 event types as the live API lists and accepts them: in the order
//! of its own enum (which differs from the protocol's list in one place),
//! exact spellings only (the docs' aliases are refused).

use costkatana_webhooks::EventType;
use serde_json::{json, Value};

/// Every type the API accepts, in the order its enum declares them: the
/// two budget types come right after the first two cost types.
pub(crate) fn api_order() -> Vec<EventType> {
    let is_budget =
        |ty: &&EventType| matches!(ty, EventType::BudgetWarning | EventType::BudgetExceeded);
    let known = EventType::KNOWN;
    let mut order = Vec::with_capacity(known.len());
    order.extend_from_slice(&known[..2]);
    order.extend(known.iter().filter(is_budget).cloned());
    order.extend(known[2..].iter().filter(|ty| !is_budget(ty)).cloned());
    order
}

/// The type called exactly `name`, when the API accepts it.
pub(crate) fn accepted(name: &str) -> Option<EventType> {
    let ty = EventType::from(name);
    (!matches!(ty, EventType::Other(_)) && ty.as_str() == name).then_some(ty)
}

/// The names the API accepts, in its order: what a validation message
/// lists.
pub(crate) fn names() -> Vec<String> {
    api_order()
        .iter()
        .map(|ty| ty.as_str().to_owned())
        .collect()
}

/// The body of `GET /api/webhooks/events`: each type's enum key
/// (`COST_ALERT`), value, category and readable name (`threshold
/// exceeded`), the categories in order of first appearance, the count.
pub(crate) fn listing() -> Value {
    let order = api_order();
    let mut categories: Vec<String> = Vec::new();
    let events: Vec<Value> = order
        .iter()
        .map(|ty| {
            let value = ty.as_str();
            let (category, rest) = value.split_once('.').unwrap_or((value, ""));
            if !categories.iter().any(|known| known == category) {
                categories.push(category.to_owned());
            }
            json!({
                "key": value.replace('.', "_").to_uppercase(),
                "value": value,
                "category": category,
                "name": rest.replace('_', " "),
            })
        })
        .collect();
    json!({ "events": events, "categories": categories, "total": events.len() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_order_holds_every_known_type_once() {
        let order = api_order();
        assert_eq!(order.len(), 57);
        for ty in EventType::KNOWN {
            assert_eq!(order.iter().filter(|t| **t == ty).count(), 1, "{ty}");
        }
        let first: Vec<&str> = order[..6].iter().map(EventType::as_str).collect();
        assert_eq!(
            first,
            [
                "cost.alert",
                "cost.threshold_exceeded",
                "budget.warning",
                "budget.exceeded",
                "cost.spike_detected",
                "cost.anomaly_detected"
            ]
        );
    }

    #[test]
    fn only_exact_spellings_are_accepted() {
        assert_eq!(accepted("usage.spike"), Some(EventType::UsageSpike));
        assert_eq!(accepted("usage.spike_detected"), None);
        assert_eq!(accepted("savings.milestone_reached"), None);
        assert_eq!(accepted("cost.forecast"), None);
        assert_eq!(accepted("COST.ALERT"), None);
    }

    #[test]
    fn listing_names_keys_and_categories() {
        let listing = listing();
        assert_eq!(listing["total"], 57);
        assert_eq!(
            listing["events"][1],
            json!({"key": "COST_THRESHOLD_EXCEEDED", "value": "cost.threshold_exceeded",
                   "category": "cost", "name": "threshold exceeded"})
        );
        assert_eq!(listing["categories"][0], "cost");
        assert_eq!(listing["categories"][1], "budget");
        assert_eq!(listing["categories"].as_array().unwrap().len(), 21);
    }
}
