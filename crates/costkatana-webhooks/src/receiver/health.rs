//! Whether a receiver can take deliveries now: what a `/health` route
//! answers.

use std::fmt;

/// What [`Receiver::health`](super::Receiver::health) found.
///
/// A `/health` route answers [`Health::status`]: 200 when the receiver can
/// take deliveries, 503 when its store cannot (an inbox that cannot write,
/// a Redis server that does not answer), so a load balancer or an
/// orchestrator stops sending it traffic that would only be answered 503.
/// The reason names the store and may name its host: log it, and answer
/// the sender-facing route with the status alone.
///
/// ```
/// use costkatana_webhooks::receiver::Health;
///
/// assert_eq!(Health::Ready.status(), 200);
/// let down = Health::Unavailable("SQLite inbox /data/inbox.db: read-only".into());
/// assert_eq!(down.status(), 503);
/// assert!(!down.is_ready());
/// assert_eq!(down.to_string(), "unavailable: SQLite inbox /data/inbox.db: read-only");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Health {
    /// The store answers and, for an inbox, can write.
    Ready,
    /// The store cannot take deliveries now, for this reason.
    Unavailable(String),
}

impl Health {
    /// Whether the receiver can take deliveries now.
    pub fn is_ready(&self) -> bool {
        matches!(self, Health::Ready)
    }

    /// The HTTP status a health route answers: 200 or 503.
    pub fn status(&self) -> u16 {
        match self {
            Health::Ready => 200,
            Health::Unavailable(_) => 503,
        }
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Health::Ready => f.write_str("ready"),
            Health::Unavailable(reason) => write!(f, "unavailable: {reason}"),
        }
    }
}
