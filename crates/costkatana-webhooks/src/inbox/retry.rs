//! When a failed attempt is tried again, and when to give up.

use std::time::Duration;

use crate::Backoff;

/// A [`Backoff`] between attempts, up to a number of attempts.
///
/// Attempt `n` (from 1) that fails is retried after
/// `first_delay × 2^(n−1)`, capped at `max_delay`, then jittered down by up
/// to half (so replicas that failed together do not retry together). After
/// `max_attempts` attempts the row is dead-lettered.
///
/// Defaults: 8 attempts, 1 s first delay, 10 min cap. The seven waits are
/// nominally 1, 2, 4, 8, 16, 32 and 64 s: 127 s from the first failure to
/// the dead letter, 64 s at the least once jittered.
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
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    backoff: Backoff,
    max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            backoff: Backoff::default(),
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
        self.backoff = self.backoff.first_delay(delay);
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
        self.backoff = self.backoff.max_delay(delay);
        self
    }

    /// The whole schedule between attempts, replacing `first_delay` and
    /// `max_delay`.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use costkatana_webhooks::{Backoff, inbox::RetryPolicy};
    /// let policy = RetryPolicy::default()
    ///     .backoff(Backoff::new(Duration::from_secs(1)).multiplier(3.0).jitter(1.0, 1.0));
    /// assert_eq!(policy.delay_after(3), Some(Duration::from_secs(9)));
    /// ```
    #[must_use]
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
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

    /// The number of attempts before the dead letter.
    ///
    /// ```
    /// # use costkatana_webhooks::inbox::RetryPolicy;
    /// assert_eq!(RetryPolicy::default().attempts(), 8);
    /// ```
    pub fn attempts(&self) -> u32 {
        self.max_attempts
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
        (attempt < self.max_attempts).then(|| self.backoff.delay(attempt))
    }
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
            .map(|n| policy.backoff.delay_at(n, 1.0).as_millis())
            .collect();
        assert_eq!(unjittered, [100, 200, 400, 700, 700]);
        assert_eq!(policy.backoff.delay_at(3, 0.0).as_millis(), 200);
        assert_eq!(policy.backoff.delay_at(3, 0.5).as_millis(), 300);
    }

    #[test]
    fn huge_attempt_numbers_saturate_instead_of_overflowing() {
        let policy = RetryPolicy::default().max_attempts(u32::MAX);
        assert_eq!(
            policy.backoff.delay_at(u32::MAX - 1, 1.0),
            Duration::from_secs(600)
        );
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

    #[test]
    fn the_documented_total_holds() {
        let policy = RetryPolicy::default();
        let nominal: Duration = (1..policy.attempts())
            .map(|n| policy.backoff.nominal(n))
            .sum();
        assert_eq!(nominal, Duration::from_secs(127));
    }
}
