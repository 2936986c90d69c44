//! The create and update bodies of a webhook, checked as the live API's
//! schema checks them: field by field in the schema's order, unknown keys
//! (such as `secret`) dropped.

use serde_json::{Map, Value};

use super::{join, Checker, Issue};
use crate::model::catalog;
use crate::model::webhook::{Auth, RetryConfig};

/// The sender's default time-out per attempt, in ms.
const DEFAULT_TIMEOUT_MS: f64 = 30_000.0;

const SEVERITIES: [&str; 4] = ["low", "medium", "high", "critical"];
const AUTH_TYPES: [&str; 5] = ["none", "basic", "bearer", "custom_header", "oauth2"];

/// Which body: a create fills the defaults and requires `name`, `url` and
/// `events`; an update takes any subset and fills nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Create,
    Update,
}

/// A webhook's settings as a body gave them.
#[derive(Clone, Default)]
pub(crate) struct WebhookFields {
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) url: Option<String>,
    pub(crate) events: Option<Vec<String>>,
    pub(crate) active: Option<bool>,
    pub(crate) timeout: Option<f64>,
    pub(crate) retry: Option<RetryConfig>,
    pub(crate) filters: Option<Value>,
    pub(crate) headers: Option<Vec<(String, String)>>,
    pub(crate) payload_template: Option<String>,
    pub(crate) use_default_payload: Option<bool>,
    pub(crate) auth: Option<Auth>,
}

/// Checks `body`; the settings, or every issue found.
pub(crate) fn check(body: &Value, mode: Mode) -> Result<WebhookFields, Vec<Issue>> {
    let mut checker = Checker::default();
    let Some(map) = checker.object("", Some(body)) else {
        return checker.finish(WebhookFields::default());
    };
    let creating = mode == Mode::Create;
    // `present` is what zod's `.optional()` skips: an absent key.
    let field = |key: &str| map.get(key);
    let present = |key: &str| creating || map.contains_key(key);

    let mut fields = WebhookFields::default();
    if present("name") {
        // zod checks the length before it trims: "  " passes, stored empty.
        fields.name = checker
            .string("name", field("name"), Some(1), Some(100))
            .map(|name| name.trim().to_owned());
    }
    if let Some(value) = field("description") {
        fields.description = checker
            .string("description", Some(value), None, Some(500))
            .map(|text| text.trim().to_owned());
    }
    if present("url") {
        fields.url = checker.url("url", field("url"));
    }
    if present("events") {
        fields.events = events(&mut checker, field("events"));
    }
    fields.active = with_default(
        &mut checker,
        creating,
        field("active"),
        true,
        Checker::boolean,
        "active",
    );
    fields.timeout = match field("timeout") {
        None if creating => Some(DEFAULT_TIMEOUT_MS),
        None => None,
        value => checker.number("timeout", value, Some(5000.0), Some(120_000.0), None),
    };
    if let Some(value) = field("retryConfig") {
        fields.retry = retry_config(&mut checker, value);
    }
    if let Some(value) = field("filters") {
        fields.filters = filters(&mut checker, value);
    }
    if let Some(value) = field("headers") {
        fields.headers = checker.string_record("headers", Some(value));
    }
    if let Some(value) = field("payloadTemplate") {
        fields.payload_template = checker.string("payloadTemplate", Some(value), None, None);
    }
    fields.use_default_payload = with_default(
        &mut checker,
        creating,
        field("useDefaultPayload"),
        true,
        Checker::boolean,
        "useDefaultPayload",
    );
    if let Some(value) = field("auth") {
        fields.auth = auth(&mut checker, value);
    }
    checker.finish(fields)
}

/// zod's `.default(x)`: an absent value is `x` (on a create; an update's
/// partial schema leaves it absent).
fn with_default<T>(
    checker: &mut Checker,
    creating: bool,
    value: Option<&Value>,
    default: T,
    check: impl FnOnce(&mut Checker, &str, Option<&Value>) -> Option<T>,
    field: &str,
) -> Option<T> {
    match value {
        None if creating => Some(default),
        None => None,
        value => check(checker, field, value),
    }
}

/// 1 to 50 of the 57 types, exact spellings.
fn events(checker: &mut Checker, value: Option<&Value>) -> Option<Vec<String>> {
    let mark = checker.mark();
    let items = checker.array("events", value, Some(1), Some(50))?;
    let names = catalog::names();
    let events: Vec<String> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| checker.native_one_of(&join("events", i), Some(item), &names))
        .collect();
    (!checker.failed_since(mark)).then_some(events)
}

fn retry_config(checker: &mut Checker, value: &Value) -> Option<RetryConfig> {
    let mark = checker.mark();
    let map = checker.object("retryConfig", Some(value))?;
    let defaults = RetryConfig::default();
    let mut number = |key: &str, default: f64, min: f64, max: f64| match map.get(key) {
        None => Some(default),
        value => checker.number(&join("retryConfig", key), value, Some(min), Some(max), None),
    };
    let config = RetryConfig {
        max_retries: number("maxRetries", defaults.max_retries, 0.0, 10.0).unwrap_or_default(),
        backoff_multiplier: number("backoffMultiplier", defaults.backoff_multiplier, 1.0, 5.0)
            .unwrap_or_default(),
        initial_delay: number("initialDelay", defaults.initial_delay, 1000.0, 60_000.0)
            .unwrap_or_default(),
    };
    (!checker.failed_since(mark)).then_some(config)
}

/// The filters are checked and kept (known keys only); the sandbox does not
/// apply them.
fn filters(checker: &mut Checker, value: &Value) -> Option<Value> {
    let mark = checker.mark();
    let map = checker.object("filters", Some(value))?;
    let mut kept = Map::new();
    if let Some(value) = map.get("severity") {
        if let Some(items) = checker.array("filters.severity", Some(value), None, None) {
            for (i, item) in items.iter().enumerate() {
                checker.one_of(&join("filters.severity", i), Some(item), &SEVERITIES);
            }
            kept.insert("severity".into(), value.clone());
        }
    }
    for key in ["tags", "projects", "models"] {
        if let Some(value) = map.get(key) {
            if let Some(strings) = checker.strings(&join("filters", key), Some(value)) {
                kept.insert(key.into(), strings.into());
            }
        }
    }
    if let Some(value) = map.get("minCost") {
        if let Some(min) = checker.number("filters.minCost", Some(value), None, None, Some(0.0)) {
            kept.insert("minCost".into(), crate::js::number(min));
        }
    }
    if let Some(value) = map.get("customQuery") {
        if let Some(query) = checker.object("filters.customQuery", Some(value)) {
            kept.insert("customQuery".into(), query.clone().into());
        }
    }
    (!checker.failed_since(mark)).then_some(kept.into())
}

fn auth(checker: &mut Checker, value: &Value) -> Option<Auth> {
    let mark = checker.mark();
    let map = checker.object("auth", Some(value))?;
    let kind = checker.one_of("auth.type", map.get("type"), &AUTH_TYPES);
    let credentials = map
        .get("credentials")
        .and_then(|value| credentials(checker, value));
    let kind = kind?;
    (!checker.failed_since(mark)).then_some(Auth { kind, credentials })
}

fn credentials(checker: &mut Checker, value: &Value) -> Option<Map<String, Value>> {
    let map = checker.object("auth.credentials", Some(value))?;
    let mut kept = Map::new();
    for key in ["username", "password", "token", "headerName", "headerValue"] {
        if let Some(value) = map.get(key) {
            if let Some(text) =
                checker.string(&join("auth.credentials", key), Some(value), None, None)
            {
                kept.insert(key.into(), text.into());
            }
        }
    }
    if let Some(value) = map.get("oauth2") {
        if let Some(oauth) = checker.object("auth.credentials.oauth2", Some(value)) {
            let mut kept_oauth = Map::new();
            for key in ["clientId", "clientSecret", "tokenUrl", "scope"] {
                let Some(value) = oauth.get(key) else {
                    continue;
                };
                let field = join("auth.credentials.oauth2", key);
                let text = if key == "tokenUrl" {
                    checker.url(&field, Some(value))
                } else {
                    checker.string(&field, Some(value), None, None)
                };
                if let Some(text) = text {
                    kept_oauth.insert(key.into(), text.into());
                }
            }
            kept.insert("oauth2".into(), kept_oauth.into());
        }
    }
    Some(kept)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn issues(body: Value, mode: Mode) -> Vec<(String, String, &'static str)> {
        match check(&body, mode) {
            Ok(_) => Vec::new(),
            Err(issues) => issues
                .into_iter()
                .map(|i| (i.field, i.message, i.code))
                .collect(),
        }
    }

    #[test]
    fn a_create_needs_name_url_and_events() {
        let found = issues(json!({}), Mode::Create);
        let fields: Vec<&str> = found.iter().map(|(f, _, _)| f.as_str()).collect();
        assert_eq!(fields, ["name", "url", "events"]);
        assert!(found
            .iter()
            .all(|(_, m, c)| m == "Required" && *c == "invalid_type"));
        assert!(issues(json!({}), Mode::Update).is_empty());
    }

    #[test]
    fn defaults_are_filled_on_create_only() {
        let body = json!({"name": " Alerts ", "url": "http://127.0.0.1:3000/", "events": ["cost.alert"],
                          "secret": "ignored", "retryConfig": {"maxRetries": 5}});
        let created = check(&body, Mode::Create).unwrap();
        assert_eq!(created.name.as_deref(), Some("Alerts"));
        assert_eq!(created.active, Some(true));
        assert_eq!(created.timeout, Some(30_000.0));
        assert_eq!(created.use_default_payload, Some(true));
        assert_eq!(
            created.retry,
            Some(RetryConfig {
                max_retries: 5.0,
                backoff_multiplier: 2.0,
                initial_delay: 5000.0
            })
        );
        let updated = check(&json!({"active": false}), Mode::Update).unwrap();
        assert_eq!(updated.active, Some(false));
        assert_eq!(
            (updated.timeout, updated.name, updated.use_default_payload),
            (None, None, None)
        );
    }

    #[test]
    fn every_issue_is_reported_with_its_path() {
        let body = json!({
            "name": "", "url": "nope", "events": ["cost.alert", "savings.milestone_reached", 3],
            "timeout": 1000, "retryConfig": {"maxRetries": 11, "initialDelay": "5s"},
            "filters": {"severity": ["urgent"], "minCost": 0}, "headers": {"X-A": 1},
            "auth": {"type": "digest", "credentials": {"oauth2": {"tokenUrl": "x"}}}
        });
        let found = issues(body, Mode::Create);
        let fields: Vec<(&str, &str)> = found.iter().map(|(f, _, c)| (f.as_str(), *c)).collect();
        assert_eq!(
            fields,
            [
                ("name", "too_small"),
                ("url", "invalid_string"),
                ("events.1", "invalid_enum_value"),
                ("events.2", "invalid_enum_value"),
                ("timeout", "too_small"),
                ("retryConfig.maxRetries", "too_big"),
                ("retryConfig.initialDelay", "invalid_type"),
                ("filters.severity.0", "invalid_enum_value"),
                ("filters.minCost", "too_small"),
                ("headers.X-A", "invalid_type"),
                ("auth.type", "invalid_enum_value"),
                ("auth.credentials.oauth2.tokenUrl", "invalid_string"),
            ]
        );
        assert!(found[2].1.starts_with("Invalid enum value. Expected 'cost.alert' | 'cost.threshold_exceeded' | 'budget.warning'"));
        assert!(found[2]
            .1
            .ends_with(", received 'savings.milestone_reached'"));
        assert_eq!(found[8].1, "Number must be greater than 0");
    }

    #[test]
    fn event_counts_are_bounded() {
        let many: Vec<&str> = vec!["cost.alert"; 51];
        let found = issues(json!({"events": many}), Mode::Update);
        assert_eq!(
            found,
            [(
                "events".into(),
                "Array must contain at most 50 element(s)".into(),
                "too_big"
            )]
        );
        let found = issues(json!({"events": "cost.alert"}), Mode::Update);
        assert_eq!(
            found,
            [(
                "events".into(),
                "Expected array, received string".into(),
                "invalid_type"
            )]
        );
    }

    #[test]
    fn a_body_that_is_not_an_object() {
        let found = issues(json!([1]), Mode::Create);
        assert_eq!(
            found,
            [(
                String::new(),
                "Expected object, received array".into(),
                "invalid_type"
            )]
        );
    }
}
