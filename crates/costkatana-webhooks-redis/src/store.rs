//! The Redis dedupe store.

use std::future::Future;
use std::time::Duration;

use costkatana_webhooks::dedupe::{Claim, ClaimToken, DedupeStore, StoreError, StoreFuture};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;

use crate::scripts;

/// The default key prefix.
pub const DEFAULT_PREFIX: &str = "costkatana:webhooks:";
/// The default bound on every Redis call, connecting included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// A [`DedupeStore`] on Redis, shared by every replica of a receiver.
///
/// Each step is one round trip on one key: `claim` is `SET key token NX PX
/// lease` (reading back what is there when the key is taken, in the same
/// script); `complete` and `release` compare the token first, so a holder
/// whose lease expired can never settle someone else's claim. Every call is
/// bounded by a timeout; a failure is [`StoreError`], answered 503
/// `store_unavailable` so the sender retries, and no handler runs without
/// a claim (fail closed). The connection reconnects by itself.
///
/// ```no_run
/// use costkatana_webhooks::receiver::{Delivery, HandlerError, Receiver, Router};
/// use costkatana_webhooks::{Payload, Verifier};
/// use costkatana_webhooks_redis::RedisStore;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = RedisStore::connect("redis://127.0.0.1:6379/0").await?;
/// let receiver = Receiver::builder(Verifier::builder().secret("s3cret").build()?)
///     .store(store)
///     .router(Router::new().fallback(|_: Payload, _: Delivery| async { Ok::<_, HandlerError>(()) }))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
    timeout: Duration,
    fail_open: bool,
    claim: Script,
    complete: Script,
    release: Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("fail_open", &self.fail_open)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects with the defaults (prefix `costkatana:webhooks:`, 2 s
    /// timeout, fail closed).
    ///
    /// `url` is `redis://[:password@]host[:port][/db]`, or `rediss://` for
    /// TLS (user names work too: `redis://user:password@host`).
    ///
    /// # Errors
    ///
    /// A malformed URL, or a server that cannot be reached within the timeout.
    pub async fn connect(url: &str) -> Result<RedisStore, StoreError> {
        RedisStore::builder(url).build().await
    }

    /// A builder, to set the prefix, the timeout or fail-open.
    pub fn builder(url: &str) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.to_owned(),
            prefix: DEFAULT_PREFIX.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            fail_open: false,
        }
    }

    /// Runs `call` within the timeout, as a `StoreError` on failure.
    async fn bounded<T>(
        &self,
        what: &str,
        call: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(StoreError::new(format!("redis {what}: {err}"))),
            Err(_) => Err(StoreError::new(format!(
                "redis {what}: no answer within {:?}",
                self.timeout
            ))),
        }
    }

    async fn claim_key(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        let token = ClaimToken::random();
        let mut connection = self.connection.clone();
        let mut call = self.claim.key(self.key(key));
        call.arg(in_flight(token)).arg(millis(lease));
        let answer: i64 = match self
            .bounded("claim", call.invoke_async(&mut connection))
            .await
        {
            Ok(answer) => answer,
            // Fail open: handle the event without a claim (it may run twice).
            Err(_) if self.fail_open => return Ok(Claim::Fresh(token)),
            Err(err) => return Err(err),
        };
        match answer {
            1 => Ok(Claim::Fresh(token)),
            2 => Ok(Claim::Done),
            3 => Ok(Claim::InFlight),
            other => Err(StoreError::new(format!(
                "redis claim: unexpected answer {other}"
            ))),
        }
    }

    async fn settle(
        &self,
        what: &str,
        script: &Script,
        key: &str,
        token: ClaimToken,
        ttl: Option<Duration>,
    ) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        let mut call = script.key(self.key(key));
        call.arg(in_flight(token));
        if let Some(ttl) = ttl {
            call.arg(millis(ttl));
        }
        let result: Result<i64, _> = self.bounded(what, call.invoke_async(&mut connection)).await;
        match result {
            Ok(_) => Ok(()),
            Err(_) if self.fail_open => Ok(()),
            Err(err) => Err(err),
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

fn in_flight(token: ClaimToken) -> String {
    format!("inflight:{}", token.to_hex())
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

impl DedupeStore for RedisStore {
    fn claim<'a>(&'a self, key: &'a str, lease: Duration) -> StoreFuture<'a, Claim> {
        Box::pin(self.claim_key(key, lease))
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        token: ClaimToken,
        ttl: Duration,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.settle("complete", &self.complete, key, token, Some(ttl)))
    }

    fn release<'a>(&'a self, key: &'a str, token: ClaimToken) -> StoreFuture<'a, ()> {
        Box::pin(self.settle("release", &self.release, key, token, None))
    }
}

/// Builds a [`RedisStore`].
///
/// | setting | default |
/// |---|---|
/// | prefix | `costkatana:webhooks:` |
/// | timeout | 2 s per call, and for connecting |
/// | on Redis failure | fail closed (503, the sender retries) |
#[derive(Debug, Clone)]
#[must_use]
pub struct RedisStoreBuilder {
    url: String,
    prefix: String,
    timeout: Duration,
    fail_open: bool,
}

impl RedisStoreBuilder {
    /// The prefix of every key (default `costkatana:webhooks:`); the
    /// receiver's namespace and the event id follow it.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The bound on every call and on connecting (default 2 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// **Fail open**: when Redis cannot be reached, handle deliveries
    /// anyway, without a claim. No delivery waits for Redis, but an event
    /// delivered twice while Redis is down is handled twice. The default,
    /// fail closed, answers 503 and lets the sender retry later.
    pub fn dangerously_fail_open(mut self) -> Self {
        self.fail_open = true;
        self
    }

    /// Connects.
    ///
    /// # Errors
    ///
    /// A malformed URL, or a server that cannot be reached within the timeout.
    pub async fn build(self) -> Result<RedisStore, StoreError> {
        let client = redis::Client::open(self.url.as_str())
            .map_err(|err| StoreError::new(format!("invalid Redis URL: {err}")))?;
        // Reconnect quickly and keep trying: a restarted or failed-over
        // server is picked up within about one timeout.
        let bound = u64::try_from(self.timeout.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(self.timeout)
            .set_response_timeout(self.timeout)
            .set_factor(50)
            .set_max_delay(bound)
            .set_number_of_retries(2);
        let connect = client.get_connection_manager_with_config(config);
        let connection = match tokio::time::timeout(self.timeout, connect).await {
            Ok(Ok(connection)) => connection,
            Ok(Err(err)) => return Err(StoreError::new(format!("cannot connect to Redis: {err}"))),
            Err(_) => {
                return Err(StoreError::new(format!(
                    "cannot connect to Redis within {:?}",
                    self.timeout
                )))
            }
        };
        Ok(RedisStore {
            connection,
            prefix: self.prefix,
            timeout: self.timeout,
            fail_open: self.fail_open,
            claim: scripts::claim(),
            complete: scripts::complete(),
            release: scripts::release(),
        })
    }
}
