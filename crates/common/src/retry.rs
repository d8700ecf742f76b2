//! Exponential backoff with jitter: the one wait between attempts that every
//! retry loop uses (service calls, TMDB calls, outbox deliveries, restarts of a
//! background task), so replicas never retry in step.

use std::time::Duration;

use rand::Rng;

/// `first`, `2 × first`, `4 × first` … capped at `max`, plus up to `jitter` (a
/// fraction, 0.5 = 50 %) of that at random.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
    pub jitter: f64,
}

impl Backoff {
    pub const fn new(first: Duration, max: Duration, jitter: f64) -> Self {
        Self { first, max, jitter }
    }

    /// The wait before retry number `retry` (1 for the first retry).
    pub fn delay(&self, retry: u32) -> Duration {
        let base = self
            .first
            .saturating_mul(1u32 << retry.saturating_sub(1).min(20))
            .min(self.max);
        let spread = base.mul_f64(self.jitter.clamp(0.0, 1.0));
        let extra = if spread.is_zero() {
            Duration::ZERO
        } else {
            rand::thread_rng().gen_range(Duration::ZERO..=spread)
        };
        base + extra
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_with_bounded_jitter() {
        let b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60), 0.25);
        for _ in 0..50 {
            let first = b.delay(1);
            assert!(first >= Duration::from_secs(1) && first <= Duration::from_millis(1250));
            let fourth = b.delay(4);
            assert!(fourth >= Duration::from_secs(8) && fourth <= Duration::from_secs(10));
            assert!(b.delay(40) <= Duration::from_secs(75));
        }
        assert_eq!(
            Backoff::new(Duration::from_millis(100), Duration::from_secs(1), 0.0).delay(3),
            Duration::from_millis(400)
        );
    }
}
