//! A limit on wrong tokens: a burst of tries, then one more every few
//! seconds, for the whole console (a guesser from many addresses is
//! slowed as much as one from a single address).

use std::sync::Mutex;

/// Wrong tokens allowed at once.
const BURST: f64 = 10.0;
/// Then one more per this many ms.
const REFILL_MS: f64 = 6_000.0;

/// Counts wrong tokens.
pub(crate) struct Throttle {
    state: Mutex<(f64, i64)>,
}

impl Throttle {
    pub(crate) fn new() -> Throttle {
        Throttle {
            state: Mutex::new((BURST, i64::MIN)),
        }
    }

    /// Whether a sign-in may be tried at `now_ms`; `None` when it may, or
    /// the seconds to wait.
    pub(crate) fn wait_secs(&self, now_ms: i64) -> Option<u64> {
        let tokens = self.refilled(now_ms);
        (tokens < 1.0).then(|| ((1.0 - tokens) * REFILL_MS / 1000.0).ceil().max(1.0) as u64)
    }

    /// Counts a wrong token at `now_ms`.
    pub(crate) fn failed(&self, now_ms: i64) {
        let tokens = self.refilled(now_ms);
        let mut state = self.lock();
        *state = ((tokens - 1.0).max(0.0), now_ms);
    }

    fn refilled(&self, now_ms: i64) -> f64 {
        let mut state = self.lock();
        let (tokens, at_ms) = *state;
        let elapsed = if at_ms == i64::MIN {
            0.0
        } else {
            now_ms.saturating_sub(at_ms).max(0) as f64
        };
        let tokens = (tokens + elapsed / REFILL_MS).min(BURST);
        *state = (tokens, now_ms);
        tokens
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (f64, i64)> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_every_six_seconds() {
        let throttle = Throttle::new();
        for _ in 0..10 {
            assert_eq!(throttle.wait_secs(0), None);
            throttle.failed(0);
        }
        assert_eq!(throttle.wait_secs(0), Some(6));
        assert_eq!(throttle.wait_secs(3_000), Some(3));
        assert_eq!(throttle.wait_secs(6_000), None);
        throttle.failed(6_000);
        assert!(throttle.wait_secs(6_000).is_some());
    }
}
