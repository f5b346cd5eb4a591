//! Health probes: async checks of a provider run every ExportInterval (or the
//! `HealthProbeShare` of them) with a timeout, feeding `conduit_audio_provider_uptime_ratio`
//! through [`Registry::record_health_check`].

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::store::Registry;

type CheckFuture = Pin<Box<dyn Future<Output = bool> + Send>>;

/// What a probe's future may return: `bool`, or a `Result` (Ok is healthy).
pub trait ProbeResult {
    /// Whether the provider is healthy.
    fn is_healthy(&self) -> bool;
}

impl ProbeResult for bool {
    fn is_healthy(&self) -> bool {
        *self
    }
}

impl<T, E> ProbeResult for Result<T, E> {
    fn is_healthy(&self) -> bool {
        self.is_ok()
    }
}

/// A periodic health check of one provider. A check that returns unhealthy, does not
/// finish within its timeout, or panics counts as a failed health check.
///
/// ```
/// use std::time::Duration;
/// use conduit_metrics_runtime::{HealthProbe, MetricsConfig};
/// use conduit_metrics_runtime::registry::Registry;
///
/// let probe = HealthProbe::new("deepgram", Duration::from_secs(2), || async {
///     // e.g. GET https://api.deepgram.example/health
///     Ok::<(), std::io::Error>(())
/// });
/// let registry = Registry::new(&MetricsConfig::default());
/// let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
/// assert!(runtime.block_on(probe.run(&registry)));
/// assert!(registry.render().contains(
///     r#"conduit_audio_health_checks_total{provider="deepgram",result="pass"} 1"#
/// ));
/// ```
pub struct HealthProbe {
    provider: String,
    timeout: Duration,
    check: Box<dyn Fn() -> CheckFuture + Send + Sync>,
}

impl std::fmt::Debug for HealthProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthProbe")
            .field("provider", &self.provider)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl HealthProbe {
    /// A probe of `provider` that runs `check` and gives it `timeout` to answer.
    pub fn new<F, Fut>(provider: impl Into<String>, timeout: Duration, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: ProbeResult,
    {
        HealthProbe {
            provider: provider.into(),
            timeout,
            check: Box::new(move || {
                let future = check();
                Box::pin(async move { future.await.is_healthy() })
            }),
        }
    }

    /// The provider this probe checks.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// Runs the check once (on the current Tokio runtime), records the result in
    /// `registry` and returns it.
    pub async fn run(&self, registry: &Registry) -> bool {
        let mut task = tokio::spawn((self.check)());
        let healthy = match tokio::time::timeout(self.timeout, &mut task).await {
            Ok(Ok(healthy)) => healthy,
            Ok(Err(_panicked_or_cancelled)) => false,
            Err(_elapsed) => {
                task.abort();
                false
            }
        };
        registry.record_health_check(&self.provider, healthy);
        healthy
    }
}

/// Decides in which ExportIntervals the probes run: `share` of them, evenly spread, from a
/// phase in `[0, 1)` that differs per process, so replicas that each take `1/N` of the
/// intervals take turns instead of probing together.
#[derive(Debug, Clone)]
pub(crate) struct ProbeSchedule {
    share: f64,
    credit: f64,
}

impl ProbeSchedule {
    /// A schedule running `share` of the intervals (0 to 1), starting at `phase`.
    pub(crate) fn new(share: f64, phase: f64) -> Self {
        ProbeSchedule {
            share: share.clamp(0.0, 1.0),
            credit: phase.clamp(0.0, 1.0 - f64::EPSILON),
        }
    }

    /// A schedule with a phase of its own (from the process's random hash keys).
    pub(crate) fn with_random_phase(share: f64) -> Self {
        use std::hash::{BuildHasher, Hasher};
        let bits = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        ProbeSchedule::new(share, (bits >> 11) as f64 / (1u64 << 53) as f64)
    }

    /// Whether the probes run in the interval that starts now.
    pub(crate) fn next_interval(&mut self) -> bool {
        self.credit += self.share;
        if self.credit >= 1.0 {
            self.credit -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(mut schedule: ProbeSchedule, intervals: usize) -> Vec<bool> {
        (0..intervals).map(|_| schedule.next_interval()).collect()
    }

    #[test]
    fn the_share_of_intervals_is_exact_and_evenly_spread() {
        assert!(
            runs(ProbeSchedule::new(1.0, 0.7), 100)
                .iter()
                .all(|&run| run)
        );
        assert!(
            runs(ProbeSchedule::new(0.0, 0.7), 100)
                .iter()
                .all(|&run| !run)
        );
        for phase in [0.0, 0.3, 0.99] {
            let quarter = runs(ProbeSchedule::new(0.25, phase), 400);
            assert_eq!(quarter.iter().filter(|&&run| run).count(), 100, "{phase}");
            // Evenly spread: every run 4 intervals after the previous one.
            let at: Vec<usize> = (0..400).filter(|&i| quarter[i]).collect();
            assert!(at.windows(2).all(|w| w[1] - w[0] == 4), "{phase}: {at:?}");
        }
    }

    #[test]
    fn four_replicas_at_a_quarter_with_different_phases_take_turns() {
        // Phases a quarter apart: together they probe exactly once per interval.
        let replicas: Vec<Vec<bool>> = (0..4)
            .map(|r| runs(ProbeSchedule::new(0.25, r as f64 * 0.25 + 0.01), 40))
            .collect();
        for interval in 0..40 {
            let probing = replicas.iter().filter(|runs| runs[interval]).count();
            assert_eq!(probing, 1, "interval {interval}");
        }
        let random = ProbeSchedule::with_random_phase(0.5);
        assert!((0.0..1.0).contains(&random.credit));
    }
}
