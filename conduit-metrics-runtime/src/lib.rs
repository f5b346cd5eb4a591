//! Production Prometheus metrics for audio services: speech to text, text to speech,
//! translation and realtime voice sessions routed to many AI providers.
//!
//! The [metric families](catalogue) are those of the Conduit audio metrics guide, with
//! its names, labels and buckets. Record calls with `#[audio_metric]` (re-exported from
//! `conduit-metrics-macros`) or by hand with [`start_call`] / [`CallSite`]; serve them
//! with [`install`].
//!
//! ```no_run
//! use conduit_metrics_runtime::{Operation, Status};
//!
//! let handle = conduit_metrics_runtime::install()?; // 127.0.0.1:9000/metrics
//! let call = conduit_metrics_runtime::start_call(Operation::Transcription, "openai");
//! call.finish(Status::Success);
//! assert!(handle.render().contains("conduit_audio_requests_total"));
//! # Ok::<(), conduit_metrics_runtime::InstallError>(())
//! ```
//!
//! # Design
//! Every series is a set of atomic cells striped per CPU, found through a provider table
//! that readers search without locks; the hot path takes no lock, allocates nothing and
//! never touches the `metrics` registry once a provider has been seen. Ratios over the
//! metrics window are computed by a background task from periodic snapshots of the
//! counters. Metrics recorded through the [`metrics`] facade (re-exported) are served on
//! the same endpoint by `metrics-exporter-prometheus`.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![warn(missing_docs)]

mod call;
pub mod catalogue;
mod cells;
mod clock;
mod config;
mod endpoint;
mod exposition;
mod install;
mod labels;
mod providers;
mod realtime;
mod registry;
mod resources;
mod shard;
mod window;

pub use call::{ActiveCall, CallOutcome, CallSite, start_call};
pub use config::{
    APPSETTINGS_SECTION, ConfigError, ConfigOption, ENV_PREFIX, MAX_PROVIDERS_LIMIT,
    MAX_WINDOW_SLOTS, MetricsConfig, MetricsConfigBuilder,
};
pub use endpoint::TEXT_FORMAT_CONTENT_TYPE;
pub use install::{InstallError, MetricsHandle, install};
pub use labels::{
    AudioStatus, DisconnectReason, EMPTY_PROVIDER_LABEL, MAX_PROVIDER_LABEL_BYTES,
    OVERFLOW_PROVIDER_LABEL, Operation, Status, UnknownLabelValue, provider_label,
};
pub use realtime::{RealtimeSession, realtime_session};
pub use registry::{Registry, global};
pub use resources::{ResourceGuard, hold_resource};

/// The `metrics` crate this runtime is built on, so applications record their own
/// metrics onto the same endpoint without depending on a matching version.
pub use metrics;

/// Adds to `conduit_audio_cost_dollars{operation}` on the global registry; see
/// [`Registry::record_cost`].
pub fn record_cost(operation: Operation, dollars: f64) -> bool {
    global().record_cost(operation, dollars)
}

/// Counts a cache lookup on the global registry; see [`Registry::record_cache_lookup`].
pub fn record_cache_lookup(operation: Operation, hit: bool) {
    global().record_cache_lookup(operation, hit)
}

/// Counts a health check on the global registry; see [`Registry::record_health_check`].
pub fn record_health_check(provider: &str, healthy: bool) {
    global().record_health_check(provider, healthy)
}

/// Support for the code `#[audio_metric]` generates. Not a public API: it may change in
/// any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::call::{ActiveCall, CallOutcome, CallSite};
    pub use crate::labels::{DisconnectReason, Operation, Status};

    use crate::labels::{AudioStatus, error_status};

    /// Wraps an error so `(&ErrorStatus(&e)).status()` picks the error's `AudioStatus`
    /// impl when it has one and `error` otherwise (method resolution tries the by-value
    /// receiver before the auto-referenced one).
    pub struct ErrorStatus<'a, E: ?Sized>(pub &'a E);

    /// Chosen when the error implements `AudioStatus`.
    pub trait StatusFromImpl {
        /// The error's status.
        fn status(&self) -> Status;
    }

    impl<E: AudioStatus + ?Sized> StatusFromImpl for ErrorStatus<'_, E> {
        #[inline]
        fn status(&self) -> Status {
            error_status(self.0.audio_status())
        }
    }

    /// Chosen for errors without an `AudioStatus` impl.
    pub trait StatusFallback {
        /// Always `error`.
        fn status(&self) -> Status;
    }

    impl<E: ?Sized> StatusFallback for &ErrorStatus<'_, E> {
        #[inline]
        fn status(&self) -> Status {
            Status::Error
        }
    }
}
