//! The outbound limiter: a token bucket (as GCRA) of `rate` requests per second
//! with a burst of `rate`, plus a pause that TMDB's own 429 `Retry-After` imposes on
//! every outbound call of this replica.

use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct OutboundLimiter {
    /// Time between two requests at the steady rate.
    interval: Duration,
    /// How far ahead of now the schedule may run (the burst).
    tolerance: Duration,
    state: Mutex<State>,
}

struct State {
    /// Theoretical arrival time of the next request.
    tat: Instant,
    /// No request leaves before this instant (set by a 429).
    paused_until: Instant,
}

impl OutboundLimiter {
    pub fn new(rate_per_sec: u32) -> Self {
        let rate = rate_per_sec.max(1);
        let interval = Duration::from_secs(1) / rate;
        let now = Instant::now();
        Self {
            interval,
            tolerance: interval * (rate - 1),
            state: Mutex::new(State {
                tat: now,
                paused_until: now,
            }),
        }
    }

    /// Reserves a slot and returns how long to wait for it, or `None` (nothing
    /// reserved) when that would be longer than `max_wait`.
    pub fn reserve(&self, max_wait: Duration) -> Option<Duration> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let earliest = now.max(state.paused_until);
        let tat = state.tat.max(earliest);
        let allowed_at = earliest.max(tat.checked_sub(self.tolerance).unwrap_or(earliest));
        let wait = allowed_at.saturating_duration_since(now);
        if wait > max_wait {
            return None;
        }
        state.tat = tat + self.interval;
        Some(wait)
    }

    /// Honors TMDB's 429: nothing leaves this replica before `retry_after` has passed.
    pub fn pause_for(&self, retry_after: Duration) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let until = Instant::now() + retry_after;
        if until > state.paused_until {
            state.paused_until = until;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_requests_are_spaced() {
        let limiter = OutboundLimiter::new(10);
        for _ in 0..10 {
            assert_eq!(limiter.reserve(Duration::ZERO), Some(Duration::ZERO));
        }
        assert_eq!(limiter.reserve(Duration::ZERO), None);
        let wait = limiter.reserve(Duration::from_secs(1)).unwrap();
        assert!(wait > Duration::from_millis(50) && wait <= Duration::from_millis(100));
    }

    #[test]
    fn a_pause_holds_every_request() {
        let limiter = OutboundLimiter::new(40);
        limiter.pause_for(Duration::from_secs(3));
        assert_eq!(limiter.reserve(Duration::from_secs(1)), None);
        let wait = limiter.reserve(Duration::from_secs(5)).unwrap();
        assert!(wait > Duration::from_millis(2900));
    }
}
