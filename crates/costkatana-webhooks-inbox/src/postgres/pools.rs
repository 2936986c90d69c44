//! A Postgres inbox's connections and their time-outs, so that a database
//! that is slow, locked or gone is answered 503 well within the sender's
//! 30 s, never a hang.
//!
//! - Every connection: 5 s to connect; TCP keepalives (idle 10 s, then
//!   every 5 s, 3 probes) and a 10 s TCP user time-out, so a peer that
//!   vanished is noticed; server-side `statement_timeout` 8 s,
//!   `lock_timeout` 4 s and `idle_in_transaction_session_timeout` 30 s
//!   (the user's own `options` in the URL come after, and win).
//! - Every operation is also bounded on this side ([`OP_TIMEOUT`]): a
//!   connection whose operation ran out is closed, not given back.
//! - Four pools, so the work of one kind never waits for another's
//!   connections: deliveries being stored (the batchers and the health
//!   probe), leases (taking and renewing), transactional handlers' writes
//!   (each held for its attempt), and everything else (settling, reading,
//!   purging).

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::{Config, NoTls};

use crate::error::{InboxError, InboxErrorKind};

/// How long to wait for a connection, new or from a pool.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The most one operation may take on this side, whatever the server does.
pub(super) const OP_TIMEOUT: Duration = Duration::from_secs(10);
/// The server-side bounds, in ms (below [`OP_TIMEOUT`]: the server's own
/// error, which says what it was waiting for, comes first).
const STATEMENT_TIMEOUT_MS: u32 = 8_000;
const LOCK_TIMEOUT_MS: u32 = 4_000;
const IDLE_IN_TRANSACTION_MS: u32 = 30_000;

/// Transactions storing deliveries at once: while one commits, the next
/// gathers.
pub(super) const BATCHERS: usize = 2;
/// Connections storing deliveries: the batchers, and one for the probe.
const ACK_POOL: usize = BATCHERS + 1;
/// Connections taking and renewing leases.
const LEASE_POOL: usize = 4;
/// Connections for the rest.
const WORK_POOL: usize = 12;
/// Connections transactional handlers write through, each held for the
/// rest of its attempt (a handler waits up to 5 s for one).
const TX_POOL: usize = 16;

/// `config` with the time-outs and keepalives every connection of the
/// inbox uses.
pub(super) fn config(config: &Config) -> Config {
    let mut config = config.clone();
    let ours = format!(
        "-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_TIMEOUT_MS} \
         -c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}"
    );
    let options = match config.get_options() {
        Some(theirs) if !theirs.trim().is_empty() => format!("{ours} {theirs}"),
        _ => ours,
    };
    config
        .options(options)
        .connect_timeout(CONNECT_TIMEOUT)
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(10))
        .keepalives_interval(Duration::from_secs(5))
        .keepalives_retries(3)
        .tcp_user_timeout(OP_TIMEOUT);
    config
}

/// The inbox's four pools.
#[derive(Clone)]
pub(super) struct Pools {
    /// Storing deliveries (the acknowledgement path) and the probe.
    pub(super) ack: Pool,
    /// Taking and renewing leases.
    pub(super) lease: Pool,
    /// Settling, reading, retrying, purging, the schema.
    pub(super) work: Pool,
    /// Transactional handlers' writes.
    pub(super) tx: Pool,
}

impl Pools {
    pub(super) fn new(config: &Config) -> Result<Pools, InboxError> {
        let config = self::config(config);
        Ok(Pools {
            ack: pool(&config, ACK_POOL)?,
            lease: pool(&config, LEASE_POOL)?,
            work: pool(&config, WORK_POOL)?,
            tx: pool(&config, TX_POOL)?,
        })
    }
}

/// A pool of up to `size` connections, made as needed.
fn pool(config: &Config, size: usize) -> Result<Pool, InboxError> {
    let manager = Manager::from_config(
        config.clone(),
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(CONNECT_TIMEOUT))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .recycle_timeout(Some(CONNECT_TIMEOUT))
        .build()
        .map_err(|err| {
            InboxError::caused_by(
                InboxErrorKind::Invalid,
                "could not build the Postgres pool",
                err,
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_users_options_come_after_ours() {
        let theirs: Config = "postgres://db/x?options=-c%20lock_timeout%3D100"
            .parse()
            .unwrap();
        let options = config(&theirs).get_options().unwrap().to_owned();
        assert!(options.starts_with("-c statement_timeout=8000 -c lock_timeout=4000"));
        assert!(options.ends_with(" -c lock_timeout=100"), "{options}");
        let plain: Config = "postgres://db/x".parse().unwrap();
        let ours = config(&plain);
        assert_eq!(ours.get_connect_timeout(), Some(&CONNECT_TIMEOUT));
        assert!(ours.get_keepalives());
        assert_eq!(ours.get_tcp_user_timeout(), Some(&OP_TIMEOUT));
    }
}
