//! Where the alerts go, read from the environment.

use std::fmt;
use std::time::Duration;

/// The PagerDuty Events API v2 endpoint, where `PAGERDUTY_URL` points by
/// default.
pub const DEFAULT_PAGERDUTY_URL: &str = "https://events.pagerduty.com/v2/enqueue";

/// The default bound on each downstream call: 10 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The downstream services. Each use is enabled by its setting; an event
/// whose use is not configured is logged and acknowledged.
///
/// `Debug` hides the Slack URL and the routing key: both are credentials.
///
/// ```
/// use example_alerts::AlertsConfig;
///
/// let config = AlertsConfig {
///     slack_webhook_url: Some("https://hooks.slack.com/services/T0/B0/XXXX".into()),
///     ..AlertsConfig::default()
/// };
/// assert_eq!(config.pagerduty_url, "https://events.pagerduty.com/v2/enqueue");
/// assert!(!format!("{config:?}").contains("XXXX"));
/// ```
#[derive(Clone)]
pub struct AlertsConfig {
    /// `SLACK_WEBHOOK_URL`: a Slack incoming webhook, for `budget.exceeded`
    /// (and the urgent note when throttling starts).
    pub slack_webhook_url: Option<String>,
    /// `PAGERDUTY_URL` (a local stand-in in tests), default
    /// [`DEFAULT_PAGERDUTY_URL`].
    pub pagerduty_url: String,
    /// `PAGERDUTY_ROUTING_KEY`: enables PagerDuty triggers on `security.alert`.
    pub pagerduty_routing_key: Option<String>,
    /// `THROTTLE_URL`: receives `{"rate":0.5}` on a `cost.spike_detected`
    /// above 500 %.
    pub throttle_url: Option<String>,
    /// `NOTIFY_URL`: receives `optimization.suggested` savings.
    pub notify_url: Option<String>,
    /// The bound on each downstream call, default [`DEFAULT_TIMEOUT`].
    pub timeout: Duration,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            slack_webhook_url: None,
            pagerduty_url: DEFAULT_PAGERDUTY_URL.to_owned(),
            pagerduty_routing_key: None,
            throttle_url: None,
            notify_url: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl AlertsConfig {
    /// Reads `SLACK_WEBHOOK_URL`, `PAGERDUTY_URL`,
    /// `PAGERDUTY_ROUTING_KEY`, `THROTTLE_URL` and `NOTIFY_URL`; empty
    /// values count as unset.
    ///
    /// ```
    /// let config = example_alerts::AlertsConfig::from_env();
    /// assert!(config.timeout.as_secs() > 0);
    /// ```
    pub fn from_env() -> AlertsConfig {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        AlertsConfig {
            slack_webhook_url: var("SLACK_WEBHOOK_URL"),
            pagerduty_url: var("PAGERDUTY_URL").unwrap_or_else(|| DEFAULT_PAGERDUTY_URL.to_owned()),
            pagerduty_routing_key: var("PAGERDUTY_ROUTING_KEY"),
            throttle_url: var("THROTTLE_URL"),
            notify_url: var("NOTIFY_URL"),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl fmt::Debug for AlertsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |value: &Option<String>| if value.is_some() { "<set>" } else { "<unset>" };
        f.debug_struct("AlertsConfig")
            .field("slack_webhook_url", &set(&self.slack_webhook_url))
            .field("pagerduty_url", &self.pagerduty_url)
            .field("pagerduty_routing_key", &set(&self.pagerduty_routing_key))
            .field("throttle_url", &self.throttle_url)
            .field("notify_url", &self.notify_url)
            .field("timeout", &self.timeout)
            .finish()
    }
}
