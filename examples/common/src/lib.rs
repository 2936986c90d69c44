//! What every example receiver shares, so each example shows only its
//! framework's wiring.
//!
//! The fixed interface: `COSTKATANA_WEBHOOK_SECRET` (comma-separated for
//! rotation; a random secret is generated and printed once when unset),
//! `ADDR` (default `127.0.0.1:3000`), `COSTKATANA_WEBHOOK_TOLERANCE_SECS`
//! (past tolerance, default 300), `REDIS_URL` (the Redis dedupe store when
//! set, memory otherwise).
//!
//! Inbox mode: `INBOX_URL` (`sqlite:<path>` or `postgres://…`) stores every
//! verified delivery in a durable inbox before answering 200 and runs the
//! handlers from there, with retries; the inbox is then the dedupe store and
//! `REDIS_URL` is not used. With it, `INBOX_RETRY_DELAY_MS` (whole ms, the
//! delay after a first failed attempt, doubling; default 1000) and
//! `INBOX_LEASE_SECS` (whole seconds a running row is leased, after which a
//! crashed worker's row is taken again; default 60) and `INBOX_MAX_ATTEMPTS`
//! (the attempts before a delivery is dead-lettered; default 8).
//!
//! The inbox console: with `INBOX_CONSOLE_TOKEN` set (inbox mode only; at
//! least 16 characters), the example serves the console at `/console/`,
//! where one signs in with that token ([`Config::console`]).
//!
//! Catch-up (recovering the events the sender dropped while the receiver was
//! down), with any store: on when `COSTKATANA_API_KEY` and
//! `COSTKATANA_WEBHOOK_ID` are both set; `COSTKATANA_API_URL` (default the
//! guide's API) and `COSTKATANA_CATCH_UP_SECS` (whole seconds between passes,
//! default 60) tune it.

use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::dedupe::{DedupeStore, MemoryStore};
use costkatana_webhooks::inbox::RetryPolicy;
use costkatana_webhooks::{
    Category, Delivery, Event, HandlerResult, Payload, Receiver, ReceiverBuilder, Secret,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// The path deliveries are posted to.
pub const WEBHOOK_PATH: &str = "/webhooks/costkatana";

/// How long in-flight deliveries may take to finish after SIGINT/SIGTERM.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// An example receiver's settings, read from the environment.
#[derive(Debug)]
pub struct Config {
    /// Where to listen.
    pub addr: String,
    /// The secrets, newest first.
    pub secrets: Vec<Secret>,
    /// How old a delivery's timestamp may be.
    pub past_tolerance: Duration,
    /// The Redis URL, when deliveries are deduplicated across replicas.
    pub redis_url: Option<String>,
    /// The inbox URL (`sqlite:<path>` or `postgres://…`): inbox mode when set.
    pub inbox_url: Option<String>,
    /// The inbox's delay after a first failed attempt (default 1 s).
    pub inbox_retry_delay: Option<Duration>,
    /// How long the inbox leases a running row (default 60 s).
    pub inbox_lease: Option<Duration>,
    /// The attempts before a delivery is dead-lettered (default 8).
    pub inbox_max_attempts: Option<u32>,
    /// The inbox console's token: the console is served when set.
    pub console_token: Option<ConsoleToken>,
    /// The inbox [`Config::receiver_builder`] opened, for the console.
    opened_inbox: std::sync::OnceLock<costkatana_webhooks_inbox::Inbox>,
    /// Catch-up's settings, when it is on.
    pub catch_up: Option<CatchUpConfig>,
}

/// The console's token; `Debug` does not show it.
#[derive(Clone)]
pub struct ConsoleToken(pub String);

impl std::fmt::Debug for ConsoleToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsoleToken([redacted])")
    }
}

/// Catch-up's settings, from `COSTKATANA_API_KEY`, `COSTKATANA_WEBHOOK_ID`,
/// `COSTKATANA_API_URL` and `COSTKATANA_CATCH_UP_SECS`.
#[derive(Debug)]
pub struct CatchUpConfig {
    /// The API key (shown by its prefix only).
    pub api_key: costkatana_webhooks_api::ApiKey,
    /// The webhook whose deliveries to recover.
    pub webhook_id: String,
    /// The API's base URL, when not the guide's.
    pub api_url: Option<String>,
    /// The time between passes, when not 60 s.
    pub every: Option<Duration>,
}

impl CatchUpConfig {
    fn from_env() -> Result<Option<CatchUpConfig>, String> {
        let (key, webhook_id) = match (
            non_empty_var("COSTKATANA_API_KEY"),
            non_empty_var("COSTKATANA_WEBHOOK_ID"),
        ) {
            (Some(key), Some(id)) => (key, id),
            (None, None) => return Ok(None),
            (Some(_), None) => return Err(
                "COSTKATANA_API_KEY is set but COSTKATANA_WEBHOOK_ID is not: catch-up needs both"
                    .to_owned(),
            ),
            (None, Some(_)) => return Err(
                "COSTKATANA_WEBHOOK_ID is set but COSTKATANA_API_KEY is not: catch-up needs both"
                    .to_owned(),
            ),
        };
        let every = match whole_number("COSTKATANA_CATCH_UP_SECS", "seconds")? {
            Some(0) => return Err("COSTKATANA_CATCH_UP_SECS must be at least 1".to_owned()),
            secs => secs.map(Duration::from_secs),
        };
        Ok(Some(CatchUpConfig {
            api_key: key.into(),
            webhook_id,
            api_url: non_empty_var("COSTKATANA_API_URL"),
            every,
        }))
    }

    /// The background task.
    fn task(&self) -> Result<costkatana_webhooks_api::CatchUp, String> {
        let mut client = costkatana_webhooks_api::Client::builder().api_key(self.api_key.clone());
        if let Some(url) = &self.api_url {
            client = client.base_url(url.clone());
        }
        let client = client
            .build()
            .map_err(|e| format!("COSTKATANA_API_URL: {e}"))?;
        let mut catch_up = costkatana_webhooks_api::CatchUp::new(client, self.webhook_id.clone());
        if let Some(every) = self.every {
            catch_up = catch_up.every(every);
        }
        Ok(catch_up)
    }
}

impl Config {
    /// Reads the environment; prints a generated secret when none is set.
    ///
    /// # Errors
    ///
    /// A malformed secret list, tolerance, inbox retry delay or lease.
    pub fn from_env() -> Result<Config, String> {
        let secrets = match std::env::var("COSTKATANA_WEBHOOK_SECRET") {
            Ok(list) => {
                Secret::parse_list(&list).map_err(|e| format!("COSTKATANA_WEBHOOK_SECRET: {e}"))?
            }
            Err(_) => {
                let secret = random_secret();
                println!(
                    "COSTKATANA_WEBHOOK_SECRET is not set; using the generated secret {secret}"
                );
                vec![Secret::new(secret).map_err(|e| e.to_string())?]
            }
        };
        let past_tolerance = match std::env::var("COSTKATANA_WEBHOOK_TOLERANCE_SECS") {
            Ok(secs) => Duration::from_secs(secs.trim().parse().map_err(|_| {
                format!("COSTKATANA_WEBHOOK_TOLERANCE_SECS must be a whole number of seconds, not {secs:?}")
            })?),
            Err(_) => costkatana_webhooks::DEFAULT_TOLERANCE,
        };
        let inbox_url = non_empty_var("INBOX_URL");
        let console_token = non_empty_var("INBOX_CONSOLE_TOKEN").map(ConsoleToken);
        if console_token.is_some() && inbox_url.is_none() {
            return Err(
                "INBOX_CONSOLE_TOKEN is set but INBOX_URL is not: the console shows the \
                 inbox, so it is served in inbox mode only (set INBOX_URL, or unset \
                 INBOX_CONSOLE_TOKEN)"
                    .to_owned(),
            );
        }
        let inbox_max_attempts = match whole_number("INBOX_MAX_ATTEMPTS", "attempts")? {
            Some(0) => return Err("INBOX_MAX_ATTEMPTS must be at least 1".to_owned()),
            Some(n) => Some(
                u32::try_from(n).map_err(|_| format!("INBOX_MAX_ATTEMPTS is too large: {n}"))?,
            ),
            None => None,
        };
        Ok(Config {
            inbox_max_attempts,
            console_token,
            opened_inbox: std::sync::OnceLock::new(),
            addr: std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned()),
            secrets,
            past_tolerance,
            redis_url: non_empty_var("REDIS_URL"),
            inbox_url,
            inbox_retry_delay: whole_number("INBOX_RETRY_DELAY_MS", "milliseconds")?
                .map(Duration::from_millis),
            inbox_lease: match whole_number("INBOX_LEASE_SECS", "seconds")? {
                Some(0) => return Err("INBOX_LEASE_SECS must be at least 1".to_owned()),
                secs => secs.map(Duration::from_secs),
            },
            catch_up: CatchUpConfig::from_env()?,
        })
    }

    /// The receiver builder: the configured secrets, tolerance and store
    /// (or inbox), with no handlers yet. With an inbox, build it inside the
    /// Tokio runtime (its workers start there) and call
    /// [`Receiver::shutdown`] on exit.
    ///
    /// # Errors
    ///
    /// A Redis server or an inbox that cannot be reached or opened.
    pub async fn receiver_builder(&self) -> Result<ReceiverBuilder, String> {
        let mut builder = Receiver::builder()
            .secrets(self.secrets.iter().cloned())
            .past_tolerance(self.past_tolerance);
        if let Some(catch_up) = &self.catch_up {
            tracing::info!(webhook = %catch_up.webhook_id, key = %catch_up.api_key.shown(), "catch-up on: missed events are recovered through the Cost Katana API");
            builder = builder.background(catch_up.task()?);
        }
        let Some(url) = &self.inbox_url else {
            if self.inbox_retry_delay.is_some()
                || self.inbox_lease.is_some()
                || self.inbox_max_attempts.is_some()
            {
                tracing::warn!(
                    "INBOX_RETRY_DELAY_MS, INBOX_LEASE_SECS and INBOX_MAX_ATTEMPTS apply to inbox \
                     mode only; INBOX_URL is not set, so they are not used"
                );
            }
            return Ok(builder.store(self.store().await?));
        };
        if self.redis_url.is_some() {
            tracing::warn!(
                "REDIS_URL is set but not used: in inbox mode (INBOX_URL) the inbox is the \
                 dedupe store"
            );
        }
        let inbox = costkatana_webhooks_inbox::Inbox::open(url)
            .await
            .map_err(|e| format!("INBOX_URL: {e}"))?;
        tracing::info!(
            backend = if url.starts_with("sqlite:") {
                "sqlite"
            } else {
                "postgres"
            },
            "inbox mode: deliveries are stored before the 200, handlers run from the inbox"
        );
        let mut policy = RetryPolicy::default();
        if let Some(delay) = self.inbox_retry_delay {
            policy = policy.first_delay(delay);
        }
        if let Some(attempts) = self.inbox_max_attempts {
            policy = policy.max_attempts(attempts);
        }
        let _ = self.opened_inbox.set(inbox.clone());
        let mut builder = builder.inbox(inbox).retry_policy(policy);
        if let Some(lease) = self.inbox_lease {
            builder = builder.lease(lease);
        }
        Ok(builder)
    }

    /// The receiver, started: [`Config::receiver_builder`] with
    /// [`log_events`].
    ///
    /// # Errors
    ///
    /// An invalid configuration, a Redis server or an inbox that cannot be
    /// reached or opened, or background work that refused to start.
    pub async fn receiver(&self) -> Result<Receiver, String> {
        let receiver = log_events(self.receiver_builder().await?)
            .build()
            .map_err(|e| e.to_string())?;
        receiver.start().await.map_err(|e| e.to_string())?;
        Ok(receiver)
    }

    /// The inbox console for `receiver` when `INBOX_CONSOLE_TOKEN` is set
    /// (mount it at `/console`), on the inbox [`Config::receiver_builder`]
    /// opened; `None` otherwise.
    ///
    /// # Errors
    ///
    /// A token the console refuses (too short, whitespace at an end), or
    /// no inbox opened yet.
    pub fn console(
        &self,
        receiver: &Receiver,
    ) -> Result<Option<costkatana_webhooks_console::Console>, String> {
        let Some(token) = &self.console_token else {
            return Ok(None);
        };
        let inbox = self.opened_inbox.get().ok_or_else(|| {
            "the console needs the inbox: call receiver_builder before console".to_owned()
        })?;
        let console = costkatana_webhooks_console::Console::builder(inbox.clone())
            .token(token.0.clone())
            .receiver(receiver.clone())
            .build()
            .map_err(|e| format!("INBOX_CONSOLE_TOKEN: {e}"))?;
        tracing::info!("inbox console at /console/ (sign in with INBOX_CONSOLE_TOKEN)");
        Ok(Some(console))
    }

    async fn store(&self) -> Result<Arc<dyn DedupeStore>, String> {
        match &self.redis_url {
            None => Ok(Arc::new(MemoryStore::new())),
            Some(url) => {
                // The application's choice of TLS crypto provider, for rediss://.
                let _ = costkatana_webhooks_redis::rustls::crypto::ring::default_provider()
                    .install_default();
                let store = costkatana_webhooks_redis::RedisStore::connect(url)
                    .await
                    .map_err(|e| format!("REDIS_URL: {e}"))?;
                tracing::info!("deduplicating on Redis");
                Ok(Arc::new(store))
            }
        }
    }
}

/// What `GET /health` answers: 200 `ok` while the receiver's store can
/// take deliveries (an inbox can write, Redis answers), else 503
/// `unavailable`, with the reason logged (it may name a host, so it is not
/// sent).
pub async fn health(receiver: &Receiver) -> (u16, &'static str) {
    let health = receiver.health().await;
    if !health.is_ready() {
        tracing::warn!(%health, "health check: the receiver cannot take deliveries");
        return (health.status(), "unavailable");
    }
    (health.status(), "ok")
}

/// The example's handlers: one log line per verified event.
pub fn log_events(builder: ReceiverBuilder) -> ReceiverBuilder {
    builder
        .on(Category::Cost, log_event)
        .on(Category::Budget, log_event)
        .on(Category::Security, log_event)
        .fallback(|payload: Payload, delivery: Delivery| async move {
            match payload {
                Payload::Event(event) => log_event(*event, delivery).await,
                Payload::Template(text) => {
                    tracing::info!(scheme = %delivery.scheme(), chars = text.len(), "template delivery");
                    Ok(())
                }
                _ => {
                    tracing::info!(scheme = %delivery.scheme(), "verified delivery that is not an event");
                    Ok(())
                }
            }
        })
}

async fn log_event(event: Event, delivery: Delivery) -> HandlerResult {
    tracing::info!(
        event_id = event.id.as_deref().unwrap_or("-"),
        event_type = %event.event_type,
        severity = event.severity.as_ref().map_or("-", |s| s.as_str()),
        title = event.title.as_deref().unwrap_or("-"),
        scheme = %delivery.scheme(),
        "verified event"
    );
    Ok(())
}

/// Logs to stderr (`RUST_LOG`, default `info`) and installs the Prometheus
/// recorder whose handle renders `GET /metrics`, with the handler time as a
/// histogram.
///
/// # Errors
///
/// A recorder is already installed.
pub fn init_observability() -> Result<PrometheusHandle, String> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // Buckets make the handler time a Prometheus histogram (without them the
    // exporter renders a summary), from 5 ms to the sender's 30 s time-out.
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(costkatana_webhooks::receiver::HANDLER_SECONDS.to_owned()),
            &[0.005, 0.025, 0.1, 0.25, 1.0, 2.5, 10.0, 30.0],
        )
        .map_err(|e| format!("could not configure the metrics buckets: {e}"))?
        .install_recorder()
        .map_err(|e| format!("could not install the metrics recorder: {e}"))
}

/// Resolves on SIGINT or SIGTERM ([`costkatana_webhooks_tower::shutdown_signal`]:
/// the handlers are installed by this call), and logs that the server
/// stops.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    let signal = costkatana_webhooks_tower::shutdown_signal();
    async move {
        signal.await;
        tracing::info!("shutting down: finishing in-flight deliveries");
    }
}

/// The variable `name`, unless unset or empty.
fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// The variable `name` as a whole number of `unit`, unless unset or empty.
fn whole_number(name: &str, unit: &str) -> Result<Option<u64>, String> {
    match non_empty_var(name) {
        None => Ok(None),
        Some(value) => value
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{name} must be a whole number of {unit}, not {value:?}")),
    }
}

fn random_secret() -> String {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    format!("whsec_{}", hex::encode(bytes))
}
