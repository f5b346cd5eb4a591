//! Health probes: async checks of a provider run every ExportInterval with a timeout,
//! feeding `conduit_audio_provider_uptime_ratio` through
//! [`Registry::record_health_check`].

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
