//! How long to wait before trying again: one exponential backoff type for
//! every retry loop in the project (the inbox's workers, the sender that
//! `ckwebhook send` imitates, the API client).

use std::time::Duration;

/// Exponential backoff with a random jitter factor.
///
/// The wait after failed attempt `n` (from 1) is
/// `first_delay × multiplier^(n−1)` times a random factor drawn from the
/// jitter range (so replicas that failed together do not retry together),
/// never more than `max_delay`.
///
/// Defaults ([`Backoff::default`]): 1 s, doubling, capped at 10 min, jitter
/// 0.5–1.0 (each wait is between half and all of its nominal length).
///
/// ```
/// use std::time::Duration;
/// use costkatana_webhooks::Backoff;
///
/// let backoff = Backoff::new(Duration::from_millis(100)).max_delay(Duration::from_millis(700));
/// let nominal: Vec<u128> = (1..=5).map(|n| backoff.nominal(n).as_millis()).collect();
/// assert_eq!(nominal, [100, 200, 400, 700, 700]);
/// let third = backoff.delay(3);
/// assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    first_delay: Duration,
    multiplier: f64,
    max_delay: Duration,
    jitter: (f64, f64),
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(Duration::from_secs(1))
    }
}

impl Backoff {
    /// A backoff from `first_delay`, doubling, capped at 10 min, jittered
    /// down by up to half.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use costkatana_webhooks::Backoff;
    /// assert_eq!(Backoff::new(Duration::from_secs(2)).nominal(2), Duration::from_secs(4));
    /// ```
    pub const fn new(first_delay: Duration) -> Self {
        Backoff {
            first_delay,
            multiplier: 2.0,
            max_delay: Duration::from_secs(600),
            jitter: (0.5, 1.0),
        }
    }

    /// The Cost Katana sender's own schedule (its defaults, PROTOCOL §4):
    /// 5 s × 2^(n−1) × a jitter of 0.85–1.15, capped at 1 h.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use costkatana_webhooks::Backoff;
    /// let sender = Backoff::sender();
    /// assert_eq!(sender.nominal(3), Duration::from_secs(20));
    /// assert_eq!(sender.nominal(40), Duration::from_secs(3600));
    /// ```
    pub const fn sender() -> Self {
        Backoff {
            first_delay: Duration::from_secs(5),
            multiplier: 2.0,
            max_delay: Duration::from_secs(3600),
            jitter: (0.85, 1.15),
        }
    }

    /// The wait after the first failure.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use costkatana_webhooks::Backoff;
    /// let backoff = Backoff::default().first_delay(Duration::from_millis(50));
    /// assert_eq!(backoff.nominal(1), Duration::from_millis(50));
    /// ```
    #[must_use]
    pub const fn first_delay(mut self, delay: Duration) -> Self {
        self.first_delay = delay;
        self
    }

    /// The factor between two successive waits (default 2; below 1 is read
    /// as 1).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use costkatana_webhooks::Backoff;
    /// let backoff = Backoff::new(Duration::from_secs(1)).multiplier(3.0);
    /// assert_eq!(backoff.nominal(3), Duration::from_secs(9));
    /// ```
    #[must_use]
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = if multiplier.is_finite() {
            multiplier.max(1.0)
        } else {
            1.0
        };
        self
    }

    /// The longest wait, before jitter (default 10 min).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use costkatana_webhooks::Backoff;
    /// let backoff = Backoff::default().max_delay(Duration::from_secs(60));
    /// assert_eq!(backoff.nominal(30), Duration::from_secs(60));
    /// ```
    #[must_use]
    pub const fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The range the random factor is drawn from (default 0.5–1.0; give
    /// 1.0, 1.0 for none). The bounds are put in order, and a negative one
    /// is read as 0.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use costkatana_webhooks::Backoff;
    /// let exact = Backoff::new(Duration::from_secs(1)).jitter(1.0, 1.0);
    /// assert_eq!(exact.delay(2), Duration::from_secs(2));
    /// ```
    #[must_use]
    pub fn jitter(mut self, low: f64, high: f64) -> Self {
        let clean = |x: f64| if x.is_finite() { x.max(0.0) } else { 1.0 };
        let (low, high) = (clean(low), clean(high));
        self.jitter = (low.min(high), low.max(high));
        self
    }

    /// The wait after failed attempt `attempt` (from 1), before jitter.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use costkatana_webhooks::Backoff;
    /// assert_eq!(Backoff::default().nominal(u32::MAX), Duration::from_secs(600));
    /// ```
    pub fn nominal(&self, attempt: u32) -> Duration {
        let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let secs = self.first_delay.as_secs_f64() * self.multiplier.powi(exponent);
        Duration::try_from_secs_f64(secs).map_or(self.max_delay, |delay| delay.min(self.max_delay))
    }

    /// The wait after failed attempt `attempt` (from 1), jittered.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use costkatana_webhooks::Backoff;
    /// let delay = Backoff::sender().delay(2).as_secs_f64();
    /// assert!((8.5..=11.5).contains(&delay));
    /// ```
    pub fn delay(&self, attempt: u32) -> Duration {
        self.delay_at(attempt, random_unit())
    }

    /// The wait after failed attempt `attempt` with the jitter factor taken
    /// at `unit` of its range (0.0 its low end, 1.0 its high end): a
    /// deterministic [`Backoff::delay`], for tests and tables.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use costkatana_webhooks::Backoff;
    /// let backoff = Backoff::new(Duration::from_millis(100));
    /// assert_eq!(backoff.delay_at(3, 0.0), Duration::from_millis(200));
    /// assert_eq!(backoff.delay_at(3, 1.0), Duration::from_millis(400));
    /// ```
    pub fn delay_at(&self, attempt: u32, unit: f64) -> Duration {
        let (low, high) = self.jitter;
        let factor = low + (high - low) * unit.clamp(0.0, 1.0);
        // Capped after the jitter too: no wait is ever longer than the cap.
        self.nominal(attempt).mul_f64(factor).min(self.max_delay)
    }
}

/// A uniform random number in `0.0..1.0`. A failed random source costs the
/// jitter only, never the wait.
pub(crate) fn random_unit() -> f64 {
    let bits = getrandom::u64().unwrap_or(0);
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_in_its_range() {
        let backoff = Backoff::default();
        for _ in 0..1000 {
            let delay = backoff.delay(2);
            assert!(delay >= Duration::from_secs(1) && delay <= Duration::from_secs(2));
        }
    }

    #[test]
    fn a_jitter_above_one_never_passes_the_cap() {
        let sender = Backoff::sender();
        assert_eq!(sender.delay_at(20, 1.0), Duration::from_secs(3600));
        assert_eq!(sender.delay_at(3, 1.0), Duration::from_secs(23));
    }

    #[test]
    fn odd_settings_are_read_sanely() {
        let backoff = Backoff::new(Duration::from_secs(1))
            .multiplier(f64::NAN)
            .jitter(2.0, -1.0);
        assert_eq!(backoff.nominal(5), Duration::from_secs(1));
        assert_eq!(backoff.delay_at(1, 0.0), Duration::ZERO);
        assert_eq!(backoff.delay_at(1, 1.0), Duration::from_secs(2));
    }
}
