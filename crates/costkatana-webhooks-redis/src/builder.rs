//! Configuration and connecting, bounded by the timeout.

use std::time::Duration;

use costkatana_webhooks::dedupe::StoreError;
use costkatana_webhooks::ConfigError;
use redis::aio::ConnectionManagerConfig;
use redis::cluster::ClusterClient;

use crate::connection::Connection;
use crate::store::{RedisStore, Scripts};
use crate::{scripts, ConnectError, DEFAULT_PREFIX, DEFAULT_TIMEOUT};

/// Builds a [`RedisStore`] from a URL.
///
/// | setting | default |
/// |---|---|
/// | [`prefix`](RedisStoreBuilder::prefix) | `costkatana:webhooks:` |
/// | [`timeout`](RedisStoreBuilder::timeout) | 2 s per call, and for connecting |
/// | on Redis failure | fail closed: [`StoreError`], answered 503 (the sender retries) |
///
/// ```no_run
/// # async fn run() -> Result<(), costkatana_webhooks_redis::ConnectError> {
/// use std::time::Duration;
/// use costkatana_webhooks_redis::RedisStore;
///
/// let store = RedisStore::builder("rediss://default:password@redis.example.com:6380/0")
///     .prefix("billing:webhooks:")
///     .timeout(Duration::from_secs(1))
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct RedisStoreBuilder {
    url: String,
    prefix: String,
    timeout: Duration,
    fail_open: bool,
    tls_root: Option<Vec<u8>>,
    cluster: bool,
}

impl std::fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field("url", &redact(&self.url))
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("fail_open", &self.fail_open)
            .field("tls_root", &self.tls_root.is_some())
            .field("cluster", &self.cluster)
            .finish()
    }
}

impl RedisStoreBuilder {
    pub(crate) fn new(url: &str) -> Self {
        RedisStoreBuilder {
            url: url.to_owned(),
            prefix: DEFAULT_PREFIX.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            fail_open: false,
            tls_root: None,
            cluster: false,
        }
    }

    /// The prefix of every key (default `costkatana:webhooks:`); the
    /// receiver's key (already namespaced per endpoint) follows it. Give
    /// each application sharing a Redis its own prefix.
    ///
    /// ```
    /// use costkatana_webhooks_redis::RedisStore;
    /// let builder = RedisStore::builder("redis://127.0.0.1/").prefix("billing:webhooks:");
    /// assert!(format!("{builder:?}").contains("billing:webhooks:"));
    /// ```
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The bound on every call, and on connecting (default 2 s). A call
    /// that takes longer is a [`StoreError`]. Must be above zero.
    ///
    /// ```
    /// use std::time::Duration;
    /// use costkatana_webhooks_redis::RedisStore;
    /// let builder = RedisStore::builder("redis://127.0.0.1/").timeout(Duration::from_millis(500));
    /// assert!(format!("{builder:?}").contains("500ms"));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// **Fail open** (risky): when a claim fails (Redis down, slow, failing
    /// over), answer [`Claim::Fresh`](costkatana_webhooks::dedupe::Claim::Fresh)
    /// anyway, so the handler runs without a claim, and swallow failures of
    /// `complete` and `release` (each logged as a warning).
    ///
    /// The risk: while Redis is failing, nothing is deduplicated, so an
    /// event delivered twice (a retry, the sender's fallback mode, a
    /// replay) is handled twice, and an event handled during the outage
    /// is remembered only if its completion reaches Redis once it is back
    /// (where no other holder has the key). The token of such a claim owns
    /// no key, so releasing it changes nothing. Only for handlers that are
    /// idempotent anyway and must not
    /// wait for Redis. The default, fail closed, answers 503 and lets the
    /// sender retry later.
    ///
    /// ```
    /// use costkatana_webhooks_redis::RedisStore;
    /// let builder = RedisStore::builder("redis://127.0.0.1/").dangerously_fail_open();
    /// assert!(format!("{builder:?}").contains("fail_open: true"));
    /// ```
    pub fn dangerously_fail_open(mut self) -> Self {
        self.fail_open = true;
        self
    }

    /// For `rediss://` servers whose certificate a private CA signed (a
    /// self-hosted Redis, or a managed one that hands out its CA, such as
    /// Google Memorystore): trust the CA certificates in `pem` instead of
    /// the web PKI roots. The server's name must still match its
    /// certificate. Building fails unless the URL is `rediss://` and `pem`
    /// holds a certificate.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use costkatana_webhooks_redis::RedisStore;
    /// let store = RedisStore::builder("rediss://:password@10.0.0.5:6378/0")
    ///     .tls_root_certificate(std::fs::read("server-ca.pem")?)
    ///     .build()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn tls_root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls_root = Some(pem.into());
        self
    }

    /// The URL names one node of a Redis Cluster (cluster mode enabled):
    /// the others are discovered from it, each step goes to the shard that
    /// owns its key, and `MOVED` redirections during resharding or failover
    /// are followed. Not needed for a single endpoint, including a proxy in
    /// front of a cluster. The password and TLS settings of the URL apply
    /// to every node.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), costkatana_webhooks_redis::ConnectError> {
    /// use costkatana_webhooks_redis::RedisStore;
    /// let store = RedisStore::builder("rediss://:password@clustercfg.example.com:6379")
    ///     .cluster()
    ///     .build()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn cluster(mut self) -> Self {
        self.cluster = true;
        self
    }

    /// Connects, and checks that the server answers `PING` (so a wrong
    /// password or database is found now, not on the first delivery).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), costkatana_webhooks_redis::ConnectError> {
    /// use costkatana_webhooks_redis::RedisStore;
    /// let store = RedisStore::builder("redis://127.0.0.1:6379/0").build().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// For `rediss://`, the process must have a rustls crypto provider
    /// installed, which is the application's choice, not this crate's:
    /// `rustls::crypto::ring::default_provider().install_default()` (or
    /// `aws_lc_rs`) once at start-up. Building never installs one.
    ///
    /// # Errors
    ///
    /// [`ConnectError::Config`] when the timeout is zero, the URL or TLS
    /// root certificate is malformed, no rustls provider is installed for
    /// `rediss://`, or the server refuses the password;
    /// [`ConnectError::Unavailable`] when the server does not answer `PING`
    /// within the timeout (unreachable, not answering, TLS refused).
    /// Messages never hold the password. It never waits longer than the
    /// timeout, so a service starting while Redis is down fails fast and
    /// clearly.
    pub async fn build(self) -> Result<RedisStore, ConnectError> {
        if self.timeout.is_zero() {
            return Err(ConfigError::new("the Redis timeout must be above zero").into());
        }
        let address = redact(&self.url);
        let connect = async {
            let mut connection = if self.cluster {
                Connection::Cluster(self.cluster_client()?.get_async_connection().await?)
            } else {
                // One attempt per (re)connect, no backoff: redis-rs waits at
                // least 1 s between retries, which would hide the real error
                // behind our timeout at start, and delay recovery. After a
                // failure the next call reconnects, so a restarted or
                // failed-over server is used by the first call after it is back.
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(self.timeout)
                    .set_response_timeout(self.timeout)
                    .set_number_of_retries(0);
                Connection::Single(
                    self.client()?
                        .get_connection_manager_with_config(config)
                        .await?,
                )
            };
            redis::cmd("PING")
                .query_async::<()>(&mut connection)
                .await?;
            Ok::<_, Failure>(connection)
        };
        let connection = match tokio::time::timeout(self.timeout, connect).await {
            Ok(Ok(connection)) => connection,
            Ok(Err(Failure::Config(err))) => return Err(err.into()),
            Ok(Err(Failure::Redis(err))) if is_refused_password(&err) => {
                let message = format!("Redis at {address} refused the credentials: {err}");
                return Err(ConfigError::new(message).into());
            }
            Ok(Err(Failure::Redis(err))) if !err.is_timeout() => {
                return Err(ConnectError::Unavailable(StoreError::new(format!(
                    "cannot connect to Redis at {address}: {err}"
                ))))
            }
            // Ours or the connection's own timeout (the same bound).
            Ok(Err(Failure::Redis(_))) | Err(_) => {
                return Err(ConnectError::Unavailable(StoreError::new(format!(
                    "cannot connect to Redis at {address}: no answer within {:?}",
                    self.timeout
                ))))
            }
        };
        Ok(RedisStore {
            connection,
            prefix: self.prefix,
            timeout: self.timeout,
            fail_open: self.fail_open,
            scripts: Scripts {
                claim: scripts::claim(),
                complete: scripts::complete(),
                release: scripts::release(),
            },
        })
    }
}

/// Why connecting failed: a bad configuration, or Redis.
enum Failure {
    Config(ConfigError),
    Redis(redis::RedisError),
}

/// A password (or user) the server refused: a setting to fix.
fn is_refused_password(err: &redis::RedisError) -> bool {
    matches!(err.kind(), redis::ErrorKind::AuthenticationFailed)
        || err
            .code()
            .is_some_and(|code| matches!(code, "NOAUTH" | "WRONGPASS"))
}

impl From<redis::RedisError> for Failure {
    fn from(err: redis::RedisError) -> Self {
        Failure::Redis(err)
    }
}

impl From<ConfigError> for Failure {
    fn from(err: ConfigError) -> Self {
        Failure::Config(err)
    }
}

impl RedisStoreBuilder {
    fn client(&self) -> Result<redis::Client, ConfigError> {
        let Some(certificates) = self.certificates()? else {
            return redis::Client::open(self.url.as_str()).map_err(invalid_url);
        };
        redis::Client::build_with_tls(self.url.as_str(), certificates).map_err(invalid_url)
    }

    fn cluster_client(&self) -> Result<ClusterClient, ConfigError> {
        let mut builder = ClusterClient::builder([self.url.as_str()])
            .connection_timeout(self.timeout)
            .response_timeout(self.timeout);
        if let Some(certificates) = self.certificates()? {
            builder = builder.certs(certificates);
        }
        builder.build().map_err(invalid_url)
    }

    /// The private CA, if one was given (checked to hold a certificate).
    fn certificates(&self) -> Result<Option<redis::TlsCertificates>, ConfigError> {
        let tls = self.url.starts_with("rediss:");
        // redis-rs builds rustls configs from the process default provider,
        // and rustls would panic or install one itself without it: which
        // provider a process uses is the application's choice.
        if tls && rustls::crypto::CryptoProvider::get_default().is_none() {
            return Err(ConfigError::new(
                "rediss:// needs a rustls crypto provider for the process: call \
                 rustls::crypto::ring::default_provider().install_default() (or the aws_lc_rs \
                 one) once at start-up, before building the store",
            ));
        }
        let Some(pem) = &self.tls_root else {
            return Ok(None);
        };
        if !tls {
            return Err(ConfigError::new(
                "a TLS root certificate needs a rediss:// URL",
            ));
        }
        if !pem
            .windows(CERTIFICATE.len())
            .any(|window| window == CERTIFICATE)
        {
            return Err(ConfigError::new(
                "the TLS root certificate holds no PEM certificate",
            ));
        }
        Ok(Some(redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(pem.clone()),
        }))
    }
}

fn invalid_url(err: redis::RedisError) -> ConfigError {
    ConfigError::new(format!("invalid Redis URL: {err}"))
}

const CERTIFICATE: &[u8] = b"-----BEGIN CERTIFICATE-----";

/// The URL without its user, password, query or fragment (for messages).
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(not a URL)".to_owned();
    };
    let rest = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rfind('@') {
        Some(at) => format!("{scheme}://***@{}{path}", &authority[at + 1..]),
        None => format!("{scheme}://{authority}{path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(
            redact("redis://127.0.0.1:6379/0"),
            "redis://127.0.0.1:6379/0"
        );
        assert_eq!(
            redact("rediss://user:p@ss@host:6380/1"),
            "rediss://***@host:6380/1"
        );
        assert_eq!(redact("redis://:pw@host"), "redis://***@host");
        assert_eq!(redact("redis://h/0?password=x@y"), "redis://h/0");
        assert_eq!(
            redact("redis+unix:///run/redis.sock?pass=x"),
            "redis+unix:///run/redis.sock"
        );
        assert_eq!(redact("nonsense"), "(not a URL)");
    }
}
