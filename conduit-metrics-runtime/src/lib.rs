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

mod access;
mod call;
pub mod catalogue;
mod cells;
mod clock;
mod config;
mod endpoint;
mod exposition;
mod health;
mod install;
mod labels;
mod providers;
mod push;
mod realtime;
mod registry;
mod resources;
mod shard;
mod window;

pub use access::{IpNetwork, Secret};
pub use call::{ActiveCall, CallOutcome, CallSite, start_call};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{
    APPSETTINGS_SECTION, ConfigError, ConfigOption, ENV_PREFIX, MAX_PROVIDERS_LIMIT,
    MAX_WINDOW_SLOTS, MetricsConfig, MetricsConfigBuilder, PushGateway,
};
pub use endpoint::server::{
    EndpointServer, HEADER_READ_TIMEOUT, MAX_CONNECTION_LIFETIME, MAX_CONNECTIONS,
    MAX_HEADER_BYTES, TLS_HANDSHAKE_TIMEOUT, TlsError,
};
pub use endpoint::{HEALTH_PATH, RenderFn, ScrapeCache, TEXT_FORMAT_CONTENT_TYPE};
pub use health::{HealthProbe, ProbeResult};
pub use install::{InstallError, MetricsHandle, install};
pub use push::{PUSH_TIMEOUT, PushError};

/// The axum version [`MetricsHandle::router`] returns a router of.
pub use axum;
pub use labels::{
    AudioStatus, DisconnectReason, EMPTY_PROVIDER_LABEL, MAX_PROVIDER_LABEL_BYTES,
    OVERFLOW_PROVIDER_LABEL, Operation, Status, UnknownLabelValue, provider_label,
};
pub use realtime::{RealtimeSession, realtime_session, record_realtime_latency};
pub use registry::{Registry, global};
pub use resources::{ResourceGuard, hold_resource};

/// Records the calls of a function in the audio metric families.
///
/// ```
/// use conduit_metrics_runtime::{audio_metric, AudioStatus};
///
/// #[derive(Debug, AudioStatus)]
/// enum SpeechError {
///     #[audio_status("timeout")]
///     Timeout,
///     #[audio_status("rate_limited")]
///     RateLimited,
///     Other(String), // counted as "error"
/// }
///
/// struct Speech { audio: Vec<u8>, cost_usd: f64 }
///
/// struct Client { name: String }
///
/// impl Client {
///     #[audio_metric(
///         operation = "tts",
///         provider = self.name,
///         size = |speech| speech.audio.len(),
///         cost = |speech| speech.cost_usd,
///     )]
///     async fn speak(&self, text: &str) -> Result<Speech, SpeechError> {
///         if text.is_empty() {
///             return Err(SpeechError::Other("empty text".into()));
///         }
///         Ok(Speech { audio: vec![0; 4096], cost_usd: 0.015 })
///     }
/// }
/// ```
///
/// Arguments: `operation` (required: `"transcription"`, `"tts"`, `"translation"`,
/// `"realtime"`); `provider` (any `AsRef<str>` expression, evaluated once before the body;
/// defaults to a parameter named `provider`); `size` (an expression evaluated before the
/// body, or a closure over `&T` of the Ok value); `cost`, `cache_hit` (closures over
/// `&T`); `disconnect_reason` (realtime only); `crate` (path of this crate if renamed).
///
/// Statuses: `Ok`/non-`Result` → `success`; `Err(e)` → `e`'s [`AudioStatus`], else
/// `error`; a future dropped before completion → `cancelled`; a panic → `panic` (the panic
/// still propagates).
pub use conduit_metrics_macros::audio_metric;

/// Implements [`AudioStatus`] for an error type: `#[audio_status("timeout")]` on a
/// variant, or on the type for a default; unmarked variants count as `error`.
pub use conduit_metrics_macros::AudioStatus;

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

    // The helpers below pass a user's closure through a signature that gives its
    // parameter a known type (`&T`), so `|t| t.field` type-checks, and that fixes its
    // return type, so a wrong type is reported at the closure.

    /// Checks that a `cost` closure returns `f64` dollars.
    #[inline]
    pub fn cost_of<T: ?Sized>(value: &T, closure: impl FnOnce(&T) -> f64) -> f64 {
        closure(value)
    }

    /// Checks that a `cache_hit` closure returns `bool`.
    #[inline]
    pub fn cache_hit_of<T: ?Sized>(value: &T, closure: impl FnOnce(&T) -> bool) -> bool {
        closure(value)
    }

    /// Checks that a `disconnect_reason` closure returns a `DisconnectReason`.
    #[inline]
    pub fn disconnect_reason_of<T: ?Sized>(
        value: &T,
        closure: impl FnOnce(&T) -> DisconnectReason,
    ) -> DisconnectReason {
        closure(value)
    }

    /// Byte counts a `size` expression or closure may produce.
    pub trait AudioSize {
        /// The size in bytes.
        fn audio_size(self) -> u64;
    }

    macro_rules! audio_size_from {
        ($($t:ty),*) => {$(
            impl AudioSize for $t {
                #[inline]
                fn audio_size(self) -> u64 {
                    // usize and smaller fit in u64 on every supported target.
                    self as u64
                }
            }
        )*};
    }
    audio_size_from!(usize, u64, u32, u16, u8);

    /// A `size = expr` value in bytes.
    #[inline]
    pub fn size_of<S: AudioSize>(size: S) -> u64 {
        size.audio_size()
    }

    /// A `size = |v| ...` closure's value in bytes.
    #[inline]
    pub fn size_of_ok<T: ?Sized, S: AudioSize>(value: &T, closure: impl FnOnce(&T) -> S) -> u64 {
        closure(value).audio_size()
    }

    /// Values a `provider = expr` may have: anything that is `AsRef<str>`.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be used as the provider label",
        label = "the provider must be text: any `AsRef<str>` such as `&str` or `String`",
        note = "convert it, e.g. `provider = self.id.to_string()`, or use a name field"
    )]
    pub trait ProviderName {
        /// The label text.
        fn provider_name(&self) -> &str;
    }

    impl<P: AsRef<str> + ?Sized> ProviderName for P {
        #[inline]
        fn provider_name(&self) -> &str {
            self.as_ref()
        }
    }

    /// The provider label text of a `provider = expr` value.
    #[inline]
    pub fn provider_str<P: ProviderName + ?Sized>(provider: &P) -> &str {
        provider.provider_name()
    }

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
