//! The Redis dedupe store: the three steps, each bounded and one round trip.

use std::future::Future;
use std::time::Duration;

use costkatana_webhooks::dedupe::{
    Claim, ClaimToken, Completion, DedupeStore, KeyState, StoreError, StoreFuture,
};
use redis::{ErrorKind, Script};

use crate::builder::RedisStoreBuilder;
use crate::connection::Connection;

/// What a completed key holds.
const DONE: &[u8] = b"done";
/// What an in-flight key holds, before the holder's token.
const IN_FLIGHT: &str = "inflight:";
/// Redis refuses `PX` deadlines past `i64::MAX` ms from now; anything this
/// long is "forever" in practice.
const MAX_PX_MS: u64 = 1 << 60;

/// A [`DedupeStore`] on Redis, shared by every replica of a receiver.
///
/// Each step is one round trip on one key `<prefix><key>`:
/// - `claim` runs `SET key "inflight:<token>" NX PX <lease>` and, when the
///   key is taken, reads back in the same script whether it is `done`
///   ([`Claim::Done`]) or another holder's ([`Claim::InFlight`]);
/// - `complete` sets the key to `done` for the TTL if it still holds this
///   claim's token or nothing (the lease lapsed unchallenged), and
///   `release` deletes it only if it holds the token, so a holder whose
///   lease expired never settles someone else's claim.
///
/// A claim abandoned outside any async runtime (a request future dropped
/// while the process shuts down) cannot be settled, since each step is a
/// network call: it frees when its lease ends.
///
/// Every call is bounded by the timeout (default 2 s). Redis down, slow or
/// failing over is a [`StoreError`], which the receiver answers 503
/// `store_unavailable` so the sender retries: no handler runs without a
/// claim (fail closed), unless
/// [`RedisStoreBuilder::dangerously_fail_open`] was chosen. The connection
/// reconnects by itself; cloning the store shares it.
///
/// A claim that timed out may still reach Redis after the answer was given
/// up on: its key then holds a claim nobody owns, answered in flight (503)
/// until the lease ends, after which the sender's retry is processed.
///
/// ```no_run
/// use costkatana_webhooks::{Payload, Receiver};
/// use costkatana_webhooks_redis::RedisStore;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = RedisStore::connect("redis://127.0.0.1:6379/0").await?;
/// let receiver = Receiver::builder()
///     .secret("s3cret")
///     .store(store)
///     .fallback(|_: Payload| async { Ok(()) })
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    pub(crate) connection: Connection,
    pub(crate) prefix: String,
    pub(crate) timeout: Duration,
    pub(crate) fail_open: bool,
    pub(crate) scripts: Scripts,
}

/// The prepared scripts (each knows its SHA1 for `EVALSHA`).
#[derive(Clone)]
pub(crate) struct Scripts {
    pub(crate) claim: Script,
    pub(crate) complete: Script,
    pub(crate) release: Script,
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
    /// Connects with the defaults: prefix [`DEFAULT_PREFIX`](crate::DEFAULT_PREFIX),
    /// timeout [`DEFAULT_TIMEOUT`](crate::DEFAULT_TIMEOUT) (2 s), fail closed.
    ///
    /// `url` is `redis://[[user]:password@]host[:port][/db]`, or `rediss://`
    /// for TLS (certificates checked against the web PKI roots; see
    /// [`RedisStoreBuilder::tls_root_certificate`] for a private CA).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), costkatana_webhooks_redis::ConnectError> {
    /// use costkatana_webhooks_redis::RedisStore;
    /// let store = RedisStore::connect("rediss://:password@redis.internal:6380/2").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`RedisStoreBuilder::build`]: [`ConnectError::Config`](crate::ConnectError::Config)
    /// for a malformed URL or a refused password,
    /// [`ConnectError::Unavailable`](crate::ConnectError::Unavailable) when
    /// the server does not answer `PING` within the timeout. It never waits
    /// longer than the timeout.
    pub async fn connect(url: &str) -> Result<RedisStore, crate::ConnectError> {
        RedisStore::builder(url).build().await
    }

    /// A builder, to set the prefix, the timeout or fail-open.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), costkatana_webhooks_redis::ConnectError> {
    /// use std::time::Duration;
    /// use costkatana_webhooks_redis::RedisStore;
    ///
    /// let store = RedisStore::builder("redis://127.0.0.1:6379/0")
    ///     .prefix("billing:webhooks:")
    ///     .timeout(Duration::from_millis(500))
    ///     .build()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn builder(url: &str) -> RedisStoreBuilder {
        RedisStoreBuilder::new(url)
    }

    /// The prefix in front of every key.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), costkatana_webhooks_redis::ConnectError> {
    /// use costkatana_webhooks_redis::{RedisStore, DEFAULT_PREFIX};
    /// let store = RedisStore::connect("redis://127.0.0.1:6379/0").await?;
    /// assert_eq!(store.prefix(), DEFAULT_PREFIX);
    /// # Ok(()) }
    /// ```
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Runs `call` within the timeout; any failure is a [`StoreError`].
    async fn bounded<T>(
        &self,
        what: &str,
        call: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) if matches!(err.kind(), ErrorKind::Moved | ErrorKind::Ask) => {
                let message = format!(
                    "redis {what}: {err} (a Redis Cluster: build the store with .cluster())"
                );
                Err(StoreError::new(message).caused_by(err))
            }
            Ok(Err(err)) if !err.is_timeout() => {
                Err(StoreError::new(format!("redis {what}: {err}")).caused_by(err))
            }
            // Ours or the connection's own response timeout (the same bound).
            Ok(Err(_)) | Err(_) => Err(StoreError::new(format!(
                "redis {what}: no answer within {:?}",
                self.timeout
            ))),
        }
    }

    async fn claim_key(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        let token = ClaimToken::random();
        let mut connection = self.connection.clone();
        let mut call = self.scripts.claim.key(self.key(key));
        call.arg(in_flight(token)).arg(px(lease));
        let held: Option<Vec<u8>> = match self
            .bounded("claim", call.invoke_async(&mut connection))
            .await
        {
            Ok(held) => held,
            Err(err) if self.fail_open => {
                // The same token: should the claim have landed after all,
                // completing or releasing it still works.
                tracing::warn!(error = %err, "dedupe store failed; handling without a claim (fail-open)");
                return Ok(Claim::Fresh(token));
            }
            Err(err) => return Err(err),
        };
        match held.as_deref() {
            None => Ok(Claim::Fresh(token)),
            Some(DONE) => Ok(Claim::Done),
            Some(other) if other.starts_with(IN_FLIGHT.as_bytes()) => Ok(Claim::InFlight),
            // Not ours: never guess (the value is not echoed: it is not ours to log).
            Some(_) => Err(StoreError::new(
                "redis claim: the key holds a value this store did not write; \
                 is the prefix shared with other data?",
            )),
        }
    }

    /// Runs a settling script; answers whether it changed the key (0: the
    /// claim was no longer ours, which is not an error).
    async fn settle(
        &self,
        what: &str,
        script: &Script,
        key: &str,
        token: ClaimToken,
        ttl: Option<Duration>,
    ) -> Result<bool, StoreError> {
        let mut connection = self.connection.clone();
        let mut call = script.key(self.key(key));
        call.arg(in_flight(token));
        if let Some(ttl) = ttl {
            call.arg(px(ttl));
        }
        let result: Result<i64, _> = self.bounded(what, call.invoke_async(&mut connection)).await;
        match result {
            Ok(changed) => Ok(changed == 1),
            Err(err) if self.fail_open => {
                tracing::warn!(error = %err, "dedupe store failed to {what} a claim (fail-open)");
                Ok(true)
            }
            Err(err) => Err(err),
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn replay_key(&self, key: &str) -> String {
        format!("{}replay:{key}", self.prefix)
    }
}

fn in_flight(token: ClaimToken) -> String {
    format!("{IN_FLIGHT}{}", token.to_hex())
}

/// Whole milliseconds for `PX`: at least 1 (Redis refuses 0), at most
/// [`MAX_PX_MS`].
fn px(duration: Duration) -> u64 {
    u64::try_from(costkatana_webhooks::clock::millis(duration))
        .unwrap_or(0)
        .clamp(1, MAX_PX_MS)
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
    ) -> StoreFuture<'a, Completion> {
        Box::pin(async move {
            let recorded = self
                .settle("complete", &self.scripts.complete, key, token, Some(ttl))
                .await?;
            Ok(if recorded {
                Completion::Recorded
            } else {
                Completion::Overtaken
            })
        })
    }

    fn release<'a>(&'a self, key: &'a str, token: ClaimToken) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.settle("release", &self.scripts.release, key, token, None)
                .await
                .map(drop)
        })
    }

    /// `GET` of the key: what it holds, without claiming it.
    fn peek<'a>(&'a self, key: &'a str) -> StoreFuture<'a, KeyState> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let get = redis::cmd("GET").arg(self.key(key)).clone();
            let held: Option<Vec<u8>> = self
                .bounded("peek", get.query_async(&mut connection))
                .await?;
            Ok(match held.as_deref() {
                None => KeyState::Unknown,
                Some(DONE) => KeyState::Done,
                Some(other) if other.starts_with(IN_FLIGHT.as_bytes()) => KeyState::InFlight,
                Some(_) => KeyState::Unknown,
            })
        })
    }

    /// `SET <prefix>replay:<key> expected NX PX <ttl>`: shared by every
    /// replica, so one asks and any accepts.
    fn expect_replay<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let set = redis::cmd("SET")
                .arg(self.replay_key(key))
                .arg("expected")
                .arg("NX")
                .arg("PX")
                .arg(px(ttl))
                .clone();
            let set: Option<String> = self
                .bounded("expect a replay", set.query_async(&mut connection))
                .await?;
            Ok(set.is_some())
        })
    }

    fn replay_expected<'a>(&'a self, key: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let exists = redis::cmd("EXISTS").arg(self.replay_key(key)).clone();
            let count: i64 = self
                .bounded("look up a replay", exists.query_async(&mut connection))
                .await?;
            Ok(count == 1)
        })
    }

    /// What Redis holds outlives the receiver's process.
    fn remembers_after_restart(&self) -> bool {
        true
    }

    /// A `PING`, within the store's time-out (fail-open or not: health
    /// tells the truth about the server).
    fn probe(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let ping = redis::cmd("PING");
            self.bounded("ping", ping.query_async::<()>(&mut connection))
                .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_become_valid_px_values() {
        assert_eq!(px(Duration::ZERO), 1);
        assert_eq!(px(Duration::from_micros(1_500)), 1);
        assert_eq!(px(Duration::from_secs(60)), 60_000);
        assert_eq!(px(Duration::MAX), MAX_PX_MS);
    }
}
