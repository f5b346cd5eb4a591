//! The `metrics` facade's recorder: installed by `install` unless the configuration
//! turns it off or the application has its own, which it keeps.

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use super::error::InstallError;
use crate::config::{ConfigError, ConfigOption, MetricsConfig};

/// Where metrics recorded through the [`metrics`](crate::metrics) facade go, as
/// [`MetricsHandle::facade_metrics`](crate::MetricsHandle::facade_metrics) reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FacadeMetrics {
    /// To the recorder `install` installed: served on the endpoint after the audio
    /// families, with process metrics.
    Served,
    /// The application installed its own recorder first: facade metrics go to it, and
    /// the endpoint serves the audio families.
    ApplicationRecorder,
    /// Turned off by configuration (`FacadeRecorder = false`): no recorder installed, the
    /// endpoint serves the audio families.
    Disabled,
}

/// Installs the Prometheus recorder for the facade unless the configuration turns it off
/// or the application has its own (which it keeps).
pub(super) fn install_facade_recorder(
    config: &MetricsConfig,
) -> Result<(FacadeMetrics, Option<PrometheusHandle>), InstallError> {
    if !config.facade_recorder() {
        return Ok((FacadeMetrics::Disabled, None));
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets(config.facade_histogram_buckets())
        .map_err(|error| {
            InstallError::Config(ConfigError::InvalidValue {
                option: ConfigOption::FacadeHistogramBuckets,
                value: format!("{:?}", config.facade_histogram_buckets()),
                origin: "install".to_owned(),
                reason: error.to_string(),
            })
        })?
        .build_recorder();
    let handle = recorder.handle();
    match metrics::set_global_recorder(recorder) {
        Ok(()) => Ok((FacadeMetrics::Served, Some(handle))),
        Err(_) => {
            tracing::info!(
                "conduit-metrics: the application installed its own `metrics` recorder; metrics recorded through the `metrics` facade go to it, and this endpoint serves the audio families"
            );
            Ok((FacadeMetrics::ApplicationRecorder, None))
        }
    }
}
