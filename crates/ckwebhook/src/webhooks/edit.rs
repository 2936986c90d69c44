//! `create`, `update` and `delete`: what is sent, checked here first
//! (event names against the 57 types, durations in ms), then the answer.

use std::time::Duration;

use costkatana_webhooks_api::{CreateWebhook, RetryConfig, UpdateWebhook, DEFAULT_BASE_URL};

use super::show::{print_webhook, redacted};
use super::text::printable;
use super::{json, Api};
use crate::commands::events::lookup;
use crate::commands::webhooks::{CreateArgs, Settings, UpdateArgs};
use crate::error::{CliError, CliResult};

/// The API's retry settings when none are sent: 3 retries, the first
/// after 5 s, doubling.
const DEFAULT_RETRY: RetryConfig = RetryConfig {
    max_retries: 3,
    backoff_multiplier: 2.0,
    initial_delay: 5000,
};

/// Where the dashboard shows a webhook's secret.
const DASHBOARD: &str = "https://costkatana.com/dashboard/webhooks";

pub(super) async fn create(api: &Api, args: CreateArgs) -> CliResult {
    let events = event_names(&args.events)?;
    let mut request = CreateWebhook::new(args.name, args.url, events);
    request.settings = settings(&args.settings, DEFAULT_RETRY);
    let webhook = api
        .client
        .create_webhook(&request)
        .await
        .map_err(|err| api.fail(err))?;
    let secret = where_is_the_secret(
        api.client.base_url(),
        &webhook.id,
        webhook.secret.as_deref(),
    );
    if api.json {
        json::print(&redacted(&webhook))?;
        // stdout stays the API's object.
        eprintln!("{secret}");
    } else {
        outln!("created webhook {}", printable(&webhook.id, false));
        print_webhook(&webhook);
        outln!();
        outln!("{secret}");
    }
    Ok(())
}

pub(super) async fn update(api: &Api, args: UpdateArgs) -> CliResult {
    let retry = &args.settings;
    let partial_retry = [
        retry.max_retries.is_some(),
        retry.initial_delay.is_some(),
        retry.backoff_multiplier.is_some(),
    ];
    // A retry setting alone keeps the other two: read them first.
    let current = if partial_retry.contains(&true) && partial_retry.contains(&false) {
        let webhook = api
            .client
            .webhook(&args.id)
            .await
            .map_err(|err| api.fail(err))?;
        webhook.retry_config.unwrap_or(DEFAULT_RETRY)
    } else {
        DEFAULT_RETRY
    };
    let mut request = settings(&args.settings, current);
    request.name = args.name;
    request.url = args.url;
    request.events = args.events.as_deref().map(event_names).transpose()?;
    if request == UpdateWebhook::default() {
        return Err(CliError::bad_input(
            "nothing to change: give at least one of --name, --url, --events, --description, \
             --timeout, --max-retries, --initial-delay, --backoff-multiplier, --active, --inactive",
        ));
    }
    let webhook = api
        .client
        .update_webhook(&args.id, &request)
        .await
        .map_err(|err| api.fail(err))?;
    if api.json {
        return json::print(&redacted(&webhook));
    }
    outln!("updated webhook {}", printable(&webhook.id, false));
    print_webhook(&webhook);
    Ok(())
}

pub(super) async fn delete(api: &Api, id: &str) -> CliResult {
    let message = api
        .client
        .delete_webhook(id)
        .await
        .map_err(|err| api.fail(err))?;
    if api.json {
        return json::print(&serde_json::json!({ "message": message }));
    }
    outln!(
        "deleted webhook {} and its delivery records ({})",
        printable(id, false),
        printable(&message, false)
    );
    Ok(())
}

/// The event types as the API spells them, in the order given, each once:
/// the guide's aliases translated, an unknown name refused with the
/// closest known ones.
pub(super) fn event_names(names: &[String]) -> Result<Vec<String>, CliError> {
    let mut spelled: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let known = lookup(name.trim()).map_err(CliError::bad_input)?;
        let name = known.as_str().to_owned();
        if !spelled.contains(&name) {
            spelled.push(name);
        }
    }
    Ok(spelled)
}

/// The optional settings as the API takes them: durations in ms, a retry
/// setting given alone completed from `retry` (the API's defaults, or the
/// webhook's current ones).
fn settings(args: &Settings, retry: RetryConfig) -> UpdateWebhook {
    let retry_given = args.max_retries.is_some()
        || args.initial_delay.is_some()
        || args.backoff_multiplier.is_some();
    UpdateWebhook {
        description: args.description.clone(),
        active: args.state(),
        timeout: args.timeout.map(millis),
        retry_config: retry_given.then(|| RetryConfig {
            max_retries: args.max_retries.unwrap_or(retry.max_retries),
            backoff_multiplier: args.backoff_multiplier.unwrap_or(retry.backoff_multiplier),
            initial_delay: args.initial_delay.map_or(retry.initial_delay, millis),
        }),
        ..UpdateWebhook::default()
    }
}

/// A duration in whole ms, as the API takes them.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Where to find the secret the API never returns.
fn where_is_the_secret(base_url: &str, id: &str, masked: Option<&str>) -> String {
    let masked = masked.map_or_else(String::new, |m| format!(" ({})", printable(m, false)));
    let mut text = format!(
        "The API never returns the secret{masked}: copy it into your receiver's \
         COSTKATANA_WEBHOOK_SECRET from the dashboard ({DASHBOARD})"
    );
    if base_url != DEFAULT_BASE_URL {
        text.push_str(&format!(
            ", or from a sandbox: curl -H \"Authorization: Bearer $COSTKATANA_API_KEY\" \
             {base_url}/sandbox/webhooks/{}/secret",
            printable(id, false)
        ));
    }
    text.push('.');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_are_sent_as_the_api_spells_them() {
        let names: Vec<String> = ["usage.spike_detected", "cost.alert", "usage.spike"]
            .map(String::from)
            .into();
        assert_eq!(event_names(&names).unwrap(), ["usage.spike", "cost.alert"]);
        let err = event_names(&["budget.exceded".to_owned()]).unwrap_err();
        let message = err.message().unwrap();
        assert!(message.contains("\"budget.exceded\""), "{message}");
        assert!(message.contains("budget.exceeded"), "{message}");
    }

    #[test]
    fn durations_go_in_ms_and_retry_settings_stay_whole() {
        let args = Settings {
            description: None,
            timeout: Some(Duration::from_secs(30)),
            max_retries: None,
            initial_delay: Some(Duration::from_secs(1)),
            backoff_multiplier: None,
            active: false,
            inactive: true,
        };
        let current = RetryConfig {
            max_retries: 7,
            backoff_multiplier: 1.5,
            initial_delay: 9000,
        };
        let sent = serde_json::to_value(settings(&args, current)).unwrap();
        assert_eq!(
            sent,
            serde_json::json!({"active": false, "timeout": 30000,
                "retryConfig": {"maxRetries": 7, "backoffMultiplier": 1.5, "initialDelay": 1000}})
        );
    }

    #[test]
    fn the_secret_is_found_in_the_dashboard_or_the_sandbox() {
        let live = where_is_the_secret(DEFAULT_BASE_URL, "abc", Some("****1a2b"));
        assert!(
            live.contains("(****1a2b)") && live.contains(DASHBOARD),
            "{live}"
        );
        assert!(!live.contains("/sandbox/"), "{live}");
        let local = where_is_the_secret("http://127.0.0.1:4000", "abc", None);
        assert!(
            local.contains("http://127.0.0.1:4000/sandbox/webhooks/abc/secret"),
            "{local}"
        );
    }
}
