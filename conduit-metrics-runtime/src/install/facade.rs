//! The `metrics` facade's recorder: installed by `install` unless the configuration
//! turns it off or the application has its own, which it keeps; and what serves the
//! facade's metrics on our endpoint (`FacadeSource`, which exposition renders).

#[cfg(feature = "recorder")]
use metrics_exporter_prometheus::PrometheusBuilder;

use super::error::InstallError;
use crate::config::MetricsConfig;
#[cfg(feature = "recorder")]
use crate::config::{ConfigError, ConfigOption};
use crate::exposition::FacadeSource;

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
#[cfg(feature = "recorder")]
pub(super) fn install_facade_recorder(
    config: &MetricsConfig,
) -> Result<(FacadeMetrics, Option<FacadeSource>), InstallError> {
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
    let prometheus = recorder.handle();
    match metrics::set_global_recorder(recorder) {
        Ok(()) => {
            // Process metrics go through the facade: collected onto our own recorder only.
            Ok((FacadeMetrics::Served, Some(FacadeSource::new(prometheus))))
        }
        Err(_) => {
            tracing::info!(
                "conduit-metrics: the application installed its own `metrics` recorder; metrics recorded through the `metrics` facade go to it, and this endpoint serves the audio families"
            );
            Ok((FacadeMetrics::ApplicationRecorder, None))
        }
    }
}

/// Without the `recorder` feature there is no recorder to install (the configuration
/// refuses `FacadeRecorder = true` then).
#[cfg(not(feature = "recorder"))]
pub(super) fn install_facade_recorder(
    _config: &MetricsConfig,
) -> Result<(FacadeMetrics, Option<FacadeSource>), InstallError> {
    Ok((FacadeMetrics::Disabled, None))
}
