//! Why building a store failed: a setting to fix, or a server to reach.

use std::fmt;

use costkatana_webhooks::dedupe::StoreError;
use costkatana_webhooks::ConfigError;

/// Why [`RedisStoreBuilder::build`](crate::RedisStoreBuilder::build)
/// failed. Neither message ever holds the password.
///
/// ```
/// use costkatana_webhooks_redis::{ConnectError, RedisStore};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// match RedisStore::connect("http://not-redis").await {
///     Err(ConnectError::Config(err)) => assert!(err.to_string().contains("invalid Redis URL")),
///     other => panic!("a configuration error, not {other:?}"),
/// }
/// # });
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ConnectError {
    /// A setting is wrong and retrying will not help: a malformed URL, a
    /// root certificate that is not PEM or without `rediss://`, a zero
    /// timeout, no TLS crypto provider, a password the server refuses.
    Config(ConfigError),
    /// The server did not answer in time or could not be reached: it may
    /// be down, starting, or failing over.
    Unavailable(StoreError),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::Config(err) => err.fmt(f),
            ConnectError::Unavailable(err) => err.fmt(f),
        }
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConnectError::Config(err) => Some(err),
            ConnectError::Unavailable(err) => Some(err),
        }
    }
}

impl From<ConfigError> for ConnectError {
    fn from(err: ConfigError) -> Self {
        ConnectError::Config(err)
    }
}
