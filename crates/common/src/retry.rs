//! Exponential backoff with jitter: the one wait between attempts that every
//! retry loop uses (service calls, TMDB calls, outbox deliveries, restarts of a
//! background task), so replicas never retry in step.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

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

/// Skips a dependency for a while after it failed, so that requests do not each
/// wait for a server that is down: the rate limiter and the catalog cache use it
/// for Redis, social for the directory.
pub struct Breaker {
    open_for: Duration,
    /// Milliseconds since [`epoch`] until which the dependency is skipped.
    open_until: AtomicU64,
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    u64::try_from(epoch().elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl Breaker {
    pub fn new(open_for: Duration) -> Self {
        epoch();
        Self {
            open_for,
            open_until: AtomicU64::new(0),
        }
    }

    /// False while the dependency is being skipped.
    pub fn allows(&self) -> bool {
        now_ms() >= self.open_until.load(Ordering::Relaxed)
    }

    /// The dependency failed: skip it for `open_for`. True when it was not skipped yet, so
    /// the caller logs an outage once rather than per request.
    pub fn trip(&self) -> bool {
        let now = now_ms();
        let until =
            now.saturating_add(u64::try_from(self.open_for.as_millis()).unwrap_or(u64::MAX));
        self.open_until.swap(until, Ordering::Relaxed) <= now
    }

    pub fn open_for(&self) -> Duration {
        self.open_for
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

    #[test]
    fn the_breaker_skips_a_dependency_for_a_while_after_a_failure() {
        let breaker = Breaker::new(Duration::from_millis(50));
        assert!(breaker.allows());
        assert!(breaker.trip(), "the first failure opens it");
        assert!(!breaker.trip(), "a second failure while open is not news");
        assert!(!breaker.allows());
        std::thread::sleep(Duration::from_millis(60));
        assert!(breaker.allows());
    }
}
