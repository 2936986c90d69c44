//! The time source. Nothing else in the crate reads the system clock, so
//! tests can inject time; and the one conversion of a duration into the
//! milliseconds that timestamps are counted in.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `duration` in whole milliseconds, saturating at `i64::MAX`: how every
/// crate of the project turns a [`Duration`] into the milliseconds its
/// timestamps are counted in. Add it with `saturating_add`.
///
/// ```
/// use std::time::Duration;
/// use costkatana_webhooks::clock::millis;
///
/// assert_eq!(millis(Duration::from_secs(2)), 2_000);
/// assert_eq!(millis(Duration::MAX), i64::MAX);
/// assert_eq!(1_000_i64.saturating_add(millis(Duration::MAX)), i64::MAX);
/// ```
pub fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// A source of the current time, in milliseconds since the Unix epoch.
///
/// ```
/// use costkatana_webhooks::{Clock, ManualClock};
///
/// let clock = ManualClock::new(1_000);
/// clock.advance_ms(500);
/// assert_eq!(clock.now_ms(), 1_500);
/// ```
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

/// The system's wall clock: the only place the crate reads real time.
///
/// ```
/// use costkatana_webhooks::{Clock, SystemClock};
/// assert!(SystemClock.now_ms() > 1_700_000_000_000);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(elapsed) => millis(elapsed),
            Err(before) => -millis(before.duration()),
        }
    }
}

/// A clock that only moves when told to: for tests.
///
/// ```
/// use costkatana_webhooks::{Clock, ManualClock};
///
/// let clock = ManualClock::new(1_777_377_600_000);
/// clock.set_ms(1_777_377_601_000);
/// assert_eq!(clock.now_ms(), 1_777_377_601_000);
/// ```
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock standing at `now_ms`.
    pub fn new(now_ms: i64) -> Self {
        ManualClock(AtomicI64::new(now_ms))
    }

    /// Moves the clock to `now_ms`.
    pub fn set_ms(&self, now_ms: i64) {
        self.0.store(now_ms, Ordering::SeqCst);
    }

    /// Moves the clock forward by `ms`.
    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now_ms(&self) -> i64 {
        (**self).now_ms()
    }
}
