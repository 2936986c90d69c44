//! The sender's retry schedule (PROTOCOL.md §4).

use std::time::Duration;

use crate::util::random_unit;

/// The longest the sender ever waits between two attempts.
pub(crate) const MAX_DELAY: Duration = Duration::from_secs(3600);

/// How many times to try and how long to wait in between.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    pub(crate) retries: u32,
    pub(crate) initial_delay: Duration,
    pub(crate) multiplier: f64,
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first retry):
    /// `initial × multiplier^(retry−1) × jitter(0.85–1.15)`, capped at 1 h.
    pub(crate) fn delay(&self, retry: u32) -> Duration {
        self.delay_with_jitter(retry, 0.85 + 0.3 * random_unit())
    }

    fn delay_with_jitter(&self, retry: u32, jitter: f64) -> Duration {
        let exponent = i32::try_from(retry.saturating_sub(1)).unwrap_or(i32::MAX);
        let secs = self.initial_delay.as_secs_f64() * self.multiplier.powi(exponent) * jitter;
        Duration::try_from_secs_f64(secs).map_or(MAX_DELAY, |delay| delay.min(MAX_DELAY))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_and_caps() {
        let policy = RetryPolicy {
            retries: 3,
            initial_delay: Duration::from_secs(5),
            multiplier: 2.0,
        };
        assert_eq!(policy.delay_with_jitter(1, 1.0), Duration::from_secs(5));
        assert_eq!(policy.delay_with_jitter(3, 1.0), Duration::from_secs(20));
        assert_eq!(policy.delay_with_jitter(40, 1.0), MAX_DELAY);
        for _ in 0..50 {
            let delay = policy.delay(2).as_secs_f64();
            assert!((8.5..=11.5).contains(&delay), "{delay}");
        }
    }
}
