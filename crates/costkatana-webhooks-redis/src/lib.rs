//! A Redis [`DedupeStore`](costkatana_webhooks::dedupe::DedupeStore) for
//! `costkatana-webhooks`: when several replicas of a receiver sit behind a
//! load balancer, each event is still handled once.
//!
//! ```no_run
//! use costkatana_webhooks::receiver::{Delivery, HandlerError, Receiver, Router};
//! use costkatana_webhooks::{Payload, Verifier};
//! use costkatana_webhooks_redis::RedisStore;
//! use std::time::Duration;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = RedisStore::builder("rediss://:password@redis.internal:6380/0")
//!     .prefix("myapp:webhooks:")
//!     .timeout(Duration::from_secs(1))
//!     .build()
//!     .await?;
//! let receiver = Receiver::builder(Verifier::builder().secret("s3cret").build()?)
//!     .store(store)
//!     .namespace("production")
//!     .router(Router::new().fallback(|_: Payload, _: Delivery| async { Ok::<_, HandlerError>(()) }))
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! # Memory or Redis?
//!
//! The in-memory store is right for one receiver process. Pick Redis when
//! several replicas receive the same endpoint (the sender's retries and its
//! fallback mode may reach different replicas, even at the same time), or
//! when a restart must not forget what was handled.
//!
//! # TTL, lease and the sender's retries
//!
//! The sender retries 5xx answers and time-outs about 10, 20 and 40 s later
//! by default (up to 10 retries, capped at an hour apart), always re-sending
//! the original request, and can replay a delivery up to 30 days later.
//! - The **dedupe TTL** (receiver default 24 h) is how long a handled event
//!   is remembered: keep it at least as long as the verifier's past
//!   tolerance (the receiver refuses less), and longer than the retry span
//!   you accept.
//! - The **lease** (receiver default 60 s) is how long an in-flight claim
//!   holds: longer than your slowest handler, short enough that a crashed
//!   replica's claim frees before the sender's later retries.
//!
//! # Redis Cluster and managed Redis
//!
//! Every operation is a single-key command or a single-key script, so keys
//! may live on any shard: no hash tags are needed. Use `rediss://` for TLS
//! and put the password (and user) in the URL. Keys are
//! `<prefix><namespace>:event:<id>` (or `:signature:<hex>` for bodies
//! without an id) and expire by themselves.
//!
//! # Why `redis` (redis-rs)
//!
//! Its `ConnectionManager` reconnects by itself, `Script` runs `EVALSHA`
//! with an `EVAL` fallback, and it has no runtime of its own beyond Tokio;
//! `fred` offers more (pools, cluster routing) than three single-key
//! scripts need.

mod scripts;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use store::{RedisStore, RedisStoreBuilder, DEFAULT_PREFIX, DEFAULT_TIMEOUT};
