//! A Redis [`DedupeStore`](costkatana_webhooks::dedupe::DedupeStore) for
//! `costkatana-webhooks`: when several replicas of a receiver sit behind a
//! load balancer, each event is still handled once.
//!
//! ```no_run
//! use costkatana_webhooks::{Payload, Receiver};
//! use costkatana_webhooks_redis::RedisStore;
//! use std::time::Duration;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // rediss:// uses rustls; the application picks its crypto provider.
//! let _ = costkatana_webhooks_redis::rustls::crypto::ring::default_provider().install_default();
//! let store = RedisStore::builder("rediss://:password@redis.internal:6380/0")
//!     .prefix("myapp:webhooks:")
//!     .timeout(Duration::from_secs(1))
//!     .build()
//!     .await?;
//! let receiver = Receiver::builder()
//!     .secret("s3cret")
//!     .store(store)
//!     .namespace("production")
//!     .fallback(|_: Payload| async { Ok(()) })
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! It runs on Tokio (as axum, tower and actix-web servers do): build and
//! use the store inside a runtime with the time driver enabled.
//!
//! # Memory or Redis?
//!
//! The in-memory store is right for one receiver process. Pick Redis when
//! several replicas receive the same endpoint (the sender's retries and its
//! fallback mode may reach different replicas, even at the same time), or
//! when a restart or a deploy must not forget what was handled. The price
//! is a round trip per step (claim, then complete or release) and a
//! dependency that can fail: when Redis is down, deliveries are answered
//! 503 `store_unavailable` and the sender retries them later.
//!
//! # TTL, lease and the sender's retries
//!
//! The sender retries 5xx answers and time-outs about 10, 20 and 40 s later
//! by default (up to 10 retries, each delay capped at an hour, so a retry
//! may come hours later), always re-sending the original request, and can
//! replay a delivery up to 30 days later.
//! - The **dedupe TTL** (receiver default 24 h) is how long a handled event
//!   is remembered: it covers every retry, even with the maximum settings.
//!   Keep it at least as long as the verifier's past tolerance (the
//!   receiver refuses less), or a late copy slips past both checks; replays
//!   older than the TTL are handled again, by design.
//! - The **lease** (receiver default 60 s) is how long an in-flight claim
//!   holds. It must exceed the handler's run time, or a retry arriving
//!   while the handler still runs is handled a second time; and it should
//!   be short enough that a crashed replica's claim frees before the
//!   sender's next retries (with defaults the third retry comes about 70 s
//!   after the first attempt), or the event runs out of retries while its
//!   claim is held. In-flight copies are answered 503, so the sender
//!   retries them.
//!
//! # Keys, Redis Cluster and managed Redis
//!
//! Keys are `<prefix><receiver key>`: the prefix (default
//! `costkatana:webhooks:`) followed by the receiver's key, which is already
//! namespaced (`<namespace length>:<namespace>:event:<id>`, or
//! `:signature:<hex>` for bodies without an id; the namespace is a digest
//! of the endpoint's secret unless set). They hold `inflight:<token>` or
//! `done` and expire by themselves (`PX`), so nothing needs cleaning up.
//! The guide (docs/guide/replicas.md) shows how to carry keys of the earlier layout
//! (`<prefix>default:event:<id>`) over.
//!
//! Every operation touches exactly one key (a single-key script), so the
//! store works on Redis Cluster with each key on whichever shard owns it:
//! build it with [`RedisStoreBuilder::cluster`] and the URL of any node
//! (the client then discovers the shards and follows `MOVED` redirections
//! during resharding and failover). A single endpoint in front of a
//! cluster (a proxy, or a managed service's "cluster mode disabled" or
//! proxied endpoint) needs no `.cluster()`. A hash tag in the prefix
//! (`{webhooks}:`) would only be needed for multi-key operations, which
//! this store never makes, and would put every key on one shard. The
//! scripts run with `EVALSHA` and load themselves again after a restart
//! or failover (the script cache starts empty there).
//!
//! Managed Redis: use `rediss://` for TLS (certificates are checked against
//! the web PKI roots, or against your CA with
//! [`RedisStoreBuilder::tls_root_certificate`]), and put the credentials and
//! database in the URL: `rediss://user:password@host:6380/0`. Connection
//! errors and `Debug` output never include the password. TLS uses rustls
//! with the process's default crypto provider, which the application
//! installs (building the store never does; without one it fails with a
//! [`ConnectError::Config`] that says how).
//!
//! [`RedisStore::connect`] waits at most the timeout and checks the server
//! answers `PING`, so a receiver started while Redis is unreachable, or
//! with a wrong password or certificate, fails fast with a clear error.
//! Afterwards the connection reconnects by itself: after a failure the
//! next call connects again (one attempt, bounded by the timeout), so a
//! restarted or failed-over server is used as soon as it answers.
//!
//! # Why `redis` (redis-rs)
//!
//! Its `ConnectionManager` multiplexes one connection and reconnects by
//! itself, and `Script` runs `EVALSHA` with the fallback built in; it needs
//! nothing but Tokio. `fred` offers more (pools, cluster routing, its own
//! reconnect policies) than three single-key scripts need, at a larger
//! dependency tree.

mod builder;
mod connection;
mod error;
mod scripts;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

use std::time::Duration;

pub use builder::RedisStoreBuilder;
pub use error::ConnectError;
/// rustls, for installing its crypto provider before a `rediss://` store is
/// built: `costkatana_webhooks_redis::rustls::crypto::ring::default_provider().install_default()`.
pub use rustls;
pub use store::RedisStore;

/// The default key prefix: `costkatana:webhooks:`.
///
/// ```
/// assert_eq!(costkatana_webhooks_redis::DEFAULT_PREFIX, "costkatana:webhooks:");
/// ```
pub const DEFAULT_PREFIX: &str = "costkatana:webhooks:";

/// The default bound on every Redis call, connecting included: 2 s.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(costkatana_webhooks_redis::DEFAULT_TIMEOUT, Duration::from_secs(2));
/// ```
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
