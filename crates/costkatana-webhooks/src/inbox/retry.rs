//! When a failed attempt is tried again, and when to give up.

use std::time::Duration;

/// Exponential backoff with jitter, up to a number of attempts.
///
/// Attempt `n` (from 1) that fails is retried after
/// `first_delay * 2^(n-1)`, capped at `max_delay`, then jittered down by
/// up to half (so replicas that failed together do not retry together).
/// After `max_attempts` attempts the row is dead-lettered.
///
/// Defaults: 8 attempts, 1 s first delay, 10 min cap: about 4 minutes from
/// the first failure to the dead letter.
///
/// ```
/// use std::time::Duration;
/// use costkatana_webhooks::inbox::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .first_delay(Duration::from_millis(100))
///     .max_attempts(5);
/// // The third attempt failed: 100 ms * 2^2 = 400 ms, jittered to 200..=400 ms.
/// let delay = policy.delay_after(3).expect("two attempts remain");
/// assert!(delay >= Duration::from_millis(200) && delay <= Duration::from_millis(400));
/// assert_eq!(policy.delay_after(5), None); // dead-lettered
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    first_delay: Duration,
    max_delay: Duration,
    pub(crate) max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(600),
            max_attempts: 8,
        }
    }
}

impl RetryPolicy {
    /// The delay after the first failure, which then doubles.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use costkatana_webhooks::inbox::RetryPolicy;
    /// let policy = RetryPolicy::default().first_delay(Duration::from_millis(50));
    /// // The first retry waits 25..=50 ms.
    /// assert!(policy.delay_after(1).unwrap() <= Duration::from_millis(50));
    /// ```
    #[must_use]
    pub fn first_delay(mut self, delay: Duration) -> Self {
        self.first_delay = delay;
        self
    }

    /// The longest delay between two attempts.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use costkatana_webhooks::inbox::RetryPolicy;
    /// let policy = RetryPolicy::default().max_delay(Duration::from_secs(60));
    /// assert!(policy.delay_after(7).unwrap() <= Duration::from_secs(60));
    /// ```
    #[must_use]
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// How many attempts an event gets before it is dead-lettered (at
    /// least 1).
    ///
    /// ```
    /// # use costkatana_webhooks::inbox::RetryPolicy;
    /// let policy = RetryPolicy::default().max_attempts(0);
    /// assert_eq!(policy.delay_after(1), None); // one attempt, then the dead letter
    /// ```
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// How long to wait after failed attempt `attempt` (from 1), or `None`
    /// when it was the last.
    ///
    /// ```
    /// # use costkatana_webhooks::inbox::RetryPolicy;
    /// assert!(RetryPolicy::default().delay_after(1).is_some());
    /// assert!(RetryPolicy::default().delay_after(8).is_none());
    /// ```
    pub fn delay_after(&self, attempt: u32) -> Option<Duration> {
        (attempt < self.max_attempts).then(|| self.jittered(attempt, random_fraction()))
    }

    /// The backoff for `attempt`, jittered by `fraction` in `0.0..=1.0`
    /// (0 keeps the full delay, 1 halves it).
    fn jittered(&self, attempt: u32, fraction: f64) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        let full = self
            .first_delay
            .saturating_mul(1 << doublings)
            .min(self.max_delay);
        full.mul_f64(1.0 - fraction.clamp(0.0, 1.0) / 2.0)
    }
}

fn random_fraction() -> f64 {
    // A lost random source only costs the jitter, never the retry.
    let bits = getrandom::u64().unwrap_or(0);
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_the_first_delay_up_to_the_cap() {
        let policy = RetryPolicy::default()
            .first_delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(700))
            .max_attempts(10);
        let unjittered: Vec<u128> = (1..=5)
            .map(|n| policy.jittered(n, 0.0).as_millis())
            .collect();
        assert_eq!(unjittered, [100, 200, 400, 700, 700]);
        assert_eq!(policy.jittered(3, 1.0).as_millis(), 200);
        assert_eq!(policy.jittered(3, 0.5).as_millis(), 300);
    }

    #[test]
    fn huge_attempt_numbers_saturate_instead_of_overflowing() {
        let policy = RetryPolicy::default().max_attempts(u32::MAX);
        assert_eq!(policy.jittered(u32::MAX - 1, 0.0), Duration::from_secs(600));
    }

    #[test]
    fn the_last_attempt_gets_no_retry() {
        let policy = RetryPolicy::default().max_attempts(3);
        assert!(policy.delay_after(2).is_some());
        assert!(policy.delay_after(3).is_none());
        assert!(policy.delay_after(4).is_none());
    }

    #[test]
    fn jitter_stays_within_half_and_full() {
        let policy = RetryPolicy::default();
        for _ in 0..1000 {
            let delay = policy.delay_after(2).unwrap();
            assert!(delay >= Duration::from_secs(1) && delay <= Duration::from_secs(2));
        }
    }
}
