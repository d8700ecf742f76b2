//! Supervised background tasks (outbox worker, Redis subscribers, sweepers): a
//! task that returns or panics is logged with its name and started again after a
//! backoff, so none disappears silently. All of them stop with the server.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use crate::retry::Backoff;

/// Waits between restarts: 1 s doubling to 60 s; reset once a run lasted a minute.
const RESTART: Backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60), 0.25);
const HEALTHY_RUN: Duration = Duration::from_secs(60);

/// The background tasks of one service process.
pub struct Tasks {
    handles: Vec<JoinHandle<()>>,
    restart: Backoff,
}

impl Default for Tasks {
    fn default() -> Self {
        Self::new()
    }
}

/// Aborts the running attempt when its supervisor is dropped or aborted.
struct AbortOnDrop(JoinHandle<anyhow::Result<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Tasks {
    pub fn new() -> Self {
        Self::with_backoff(RESTART)
    }

    /// With another wait between restarts (tests).
    pub fn with_backoff(restart: Backoff) -> Self {
        Self {
            handles: Vec::new(),
            restart,
        }
    }

    /// Runs the future `start` makes as the task `name`, for the life of the
    /// process: when it ends (with or without an error) or panics, the event is
    /// logged and counted, and a fresh future from `start` runs after a backoff.
    pub fn spawn<F, Fut>(&mut self, name: &'static str, mut start: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let restart = self.restart;
        self.handles.push(tokio::spawn(async move {
            let mut failures = 0u32;
            loop {
                let began = Instant::now();
                let mut attempt = AbortOnDrop(tokio::spawn(start()));
                match (&mut attempt.0).await {
                    Ok(Ok(())) => tracing::warn!(task = name, "background task ended; restarting"),
                    Ok(Err(error)) => {
                        tracing::error!(task = name, error = ?error, "background task failed; restarting")
                    }
                    Err(join) if join.is_panic() => {
                        let payload = join.into_panic();
                        let message = payload
                            .downcast_ref::<&str>()
                            .map(|s| (*s).to_owned())
                            .or_else(|| payload.downcast_ref::<String>().cloned())
                            .unwrap_or_default();
                        tracing::error!(task = name, panic = %message, "background task panicked; restarting");
                    }
                    Err(_) => return,
                }
                metrics::counter!("background_task_restarts_total", "task" => name).increment(1);
                if began.elapsed() >= HEALTHY_RUN {
                    failures = 0;
                }
                failures = failures.saturating_add(1);
                tokio::time::sleep(restart.delay(failures)).await;
            }
        }));
    }

    /// Runs `round` every `period` as the task `name`, supervised as
    /// [`Tasks::spawn`] supervises: the first round at once, and a round that
    /// overruns its period delays the next rather than bunching them up. A
    /// round deals with its own failures (each loop knows what its failure
    /// means and when it is tried again); a panic restarts the loop.
    pub fn every<F, Fut>(&mut self, name: &'static str, period: Duration, round: F)
    where
        F: FnMut() -> Fut + Clone + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let period = period.max(Duration::from_millis(1));
        self.spawn(name, move || {
            let mut round = round.clone();
            async move {
                let mut tick = tokio::time::interval(period);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    round().await;
                }
            }
        });
    }

    pub fn len(&self) -> usize {
        self.handles.len()
    }

    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// Stops every task (each running attempt with its supervisor).
    pub fn abort_all(self) {
        for handle in self.handles {
            handle.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    fn quick() -> Tasks {
        Tasks::with_backoff(Backoff::new(
            Duration::from_millis(10),
            Duration::from_millis(20),
            0.0,
        ))
    }

    #[tokio::test]
    async fn a_task_that_panics_or_returns_is_started_again() {
        let runs = Arc::new(AtomicU32::new(0));
        let mut tasks = quick();
        let counter = runs.clone();
        tasks.spawn("flaky", move || {
            let counter = counter.clone();
            async move {
                match counter.fetch_add(1, Ordering::SeqCst) {
                    0 => panic!("first run fails"),
                    1 => Ok(()),
                    2 => Err(anyhow::anyhow!("third run errs")),
                    _ => std::future::pending().await,
                }
            }
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 4);
        tasks.abort_all();
    }

    #[tokio::test]
    async fn a_periodic_task_runs_each_period_and_outlives_a_panicking_round() {
        let rounds = Arc::new(AtomicU32::new(0));
        let mut tasks = quick();
        let counter = rounds.clone();
        tasks.every("periodic", Duration::from_millis(20), move || {
            let counter = counter.clone();
            async move {
                if counter.fetch_add(1, Ordering::SeqCst) == 1 {
                    panic!("the second round fails");
                }
            }
        });
        let began = std::time::Instant::now();
        tokio::time::sleep(Duration::from_millis(300)).await;
        tasks.abort_all();
        let ran = rounds.load(Ordering::SeqCst);
        let periods = began.elapsed().as_millis() / 20;
        // Rounds went on after the panicking one, and never faster than one
        // per period (the first at once).
        assert!(ran >= 3, "{ran} rounds");
        assert!(
            u128::from(ran) <= periods + 2,
            "{ran} rounds in {periods} periods"
        );
    }

    #[tokio::test]
    async fn a_round_that_overruns_delays_the_next_instead_of_bunching() {
        let rounds = Arc::new(AtomicU32::new(0));
        let mut tasks = quick();
        let counter = rounds.clone();
        tasks.every("slow", Duration::from_millis(10), move || {
            let counter = counter.clone();
            async move {
                // The first round takes ten periods.
                if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        });
        let began = std::time::Instant::now();
        tokio::time::sleep(Duration::from_millis(115)).await;
        tasks.abort_all();
        let ran = u128::from(rounds.load(Ordering::SeqCst));
        // After the slow round, one per period at most. Bunched (tokio's
        // default), the ten ticks it missed would all run the moment it ended.
        let after = began.elapsed().as_millis().saturating_sub(100) / 10;
        assert!(
            ran <= after + 2,
            "{ran} rounds, {after} periods after the slow one"
        );
    }

    #[tokio::test]
    async fn aborting_stops_the_running_attempt() {
        let ticks = Arc::new(AtomicU32::new(0));
        let mut tasks = quick();
        let counter = ticks.clone();
        tasks.spawn("ticker", move || {
            let counter = counter.clone();
            async move {
                loop {
                    counter.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        tasks.abort_all();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let stopped_at = ticks.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(ticks.load(Ordering::SeqCst), stopped_at);
    }
}
