//! Shared by the test binaries: the throwaway redis-server (the very file
//! behind the `testing` feature, so the tests need no feature) and helpers.

// Each test binary uses a different part of this module.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::time::{Duration, Instant};

use costkatana_webhooks_redis::RedisStore;

#[path = "../../src/testing.rs"]
mod server;

pub use server::RedisServer;

/// A store on `server` with a short timeout, so outages show quickly.
pub async fn store(server: &RedisServer, timeout: Duration) -> RedisStore {
    RedisStore::builder(&server.url())
        .timeout(timeout)
        .build()
        .await
        .expect("the test server answers")
}

/// A plain connection to `url`, to look at what the store wrote.
pub async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Runs `attempt` every 20 ms until it gives `Some`, for at most `bound`.
///
/// # Panics
///
/// Nothing came within `bound`.
pub async fn eventually<T, F, Fut>(bound: Duration, what: &str, mut attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + bound;
    loop {
        if let Some(value) = attempt().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {bound:?}");
        tokio::time::sleep(Duration::from_millis(20)).await; // polling real time
    }
}
