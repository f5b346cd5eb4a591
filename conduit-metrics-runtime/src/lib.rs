#![doc = include_str!("../README.md")]
//!
//! The [metric families](catalogue) are those of the Conduit audio metrics guide. Record
//! calls with `#[audio_metric]` (re-exported from `conduit-metrics-macros`) or by hand
//! with [`start_call`] / [`CallSite`]; serve them with [`install`].
//!
//! ## Cargo features
//! `default-features = false` gives the macros, the recording API, the registry,
//! `render()` and `install()` (configuration, the windowed gauges, health probes; serve
//! `handle.render()` from your own server), and compiles no network stack. Each part of
//! the default set has a feature of its own:
//!
//! | feature | what it adds |
//! |---|---|
//! | `http-listener` | the built-in HTTP server that serves `Listen` ([`serving::EndpointServer`]) |
//! | `tls` | HTTPS for it with rustls, using the crypto provider the application installed as the process default |
//! | `tls-ring` | `tls` with rustls' ring provider compiled in |
//! | `axum` | [`MetricsHandle::router`] and the `axum` re-export |
//! | `gzip` | gzip-compressed scrapes |
//! | `recorder` | a recorder for the [`metrics`] facade, served after the audio families |
//! | `process-metrics` | process CPU, memory, threads and file descriptors (with `recorder`) |
//! | `toml` | TOML configuration files |
//! | `push-gateway` | pushes to a Prometheus Pushgateway |
//! | `reqwest`, `anyhow`, `eyre` | (not default) `AudioStatus` for `reqwest::Error`; [`status_in_chain`] over `anyhow::Error`, `eyre::Report` |
//! | `opentelemetry` | (not default) [exemplars]: the trace of the sampled span current when a call starts, on its latency buckets |
//!
//! A configuration that asks for a part whose feature is off (`TlsCertificate` without
//! `tls`, `PushGateway` without `push-gateway`, ...) is an `Err` naming the feature.
//!
//! ## Modules
//! What an application writes sits at the root. The specialist items live in modules:
//!
//! | module | what it holds |
//! |---|---|
//! | [`catalogue`] | every metric family: name, type, labels, help, buckets |
//! | [`labels`] | label values, provider-name cleaning, [`labels::UnknownLabelValue`] |
//! | [`config`] | [`config::ConfigOption`], option value types, the file section and variable prefix |
//! | [`limits`] | the fixed bounds: MaxProviders ceiling, window slots, server and push limits |
//! | [`registry`] | [`registry::Registry`] for a registry of your own, [`registry::global`] |
//! | [`clock`] | [`clock::ManualClock`] to drive the windowed gauges in tests |
//! | [`serving`] | serving a custom registry: [`serving::EndpointServer`], [`serving::ScrapeCache`] |
//! | [`foreign_errors`] | statuses for errors you don't own: the impls shipped for other crates' errors, [`foreign_errors::ErrorChain`] |
//!
//! Inside, the crate is built in layers that import only downwards: leaves (labels,
//! catalogue, clock, limits), configuration, the store (cells striped per CPU, the
//! provider table, the ratio window), recording and exposition, serving, install. The
//! guide's chapter `docs/architecture.md` maps every folder.
//!
//! ## Design
//! Every series is a set of atomic cells striped per CPU, found through a provider table
//! that readers search without locks; the hot path takes no lock, allocates nothing and
//! never touches the `metrics` registry once a provider has been seen. Ratios over the
//! metrics window are computed by a background task from periodic snapshots of the
//! counters. Metrics recorded through the [`metrics`] facade (re-exported) are served on
//! the same endpoint by `metrics-exporter-prometheus`.
// No unsafe code but two FFI calls to libc, each allowed where it stands with its safety
// comment: `sched_getcpu` (store/stripes.rs) and `gethostname` (serving/push.rs).
#![deny(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Layers, bottom to top; a module imports only from its own layer or below.
// 1. leaves
#[cfg(feature = "audio-duration")]
#[cfg_attr(docsrs, doc(cfg(feature = "audio-duration")))]
pub mod audio_duration;
pub mod catalogue;
pub mod clock;
pub mod foreign_errors;
pub mod labels;
pub mod limits;
mod sync;
mod thread;
mod trace;
// 2. configuration
pub mod config;
// 3. the store
mod store;
// 4. recording and exposition
mod exposition;
mod recording;
// 5. serving
pub mod serving;
// 6. install
mod install;

pub use config::{ConfigError, MetricsConfig, MetricsConfigBuilder};
pub use foreign_errors::status_in_chain;
pub use install::{FacadeMetrics, InstallError, MetricsHandle, install};
pub use labels::{
    AudioStatus, DisconnectReason, Operation, Status, TurnOutcome, TurnStage, UnknownDuration,
};
pub use recording::{
    ActiveCall, CallOutcome, CallSite, RealtimeSession, ResourceGuard, Turn, hold_resource,
    realtime_session, realtime_turn, record_build_info, record_cache_lookup, record_cost,
    record_health_check, record_realtime_latency, start_call, start_call_with_model,
};

/// Records the calling crate's version (its `CARGO_PKG_VERSION`) as the application's
/// build, with the revision given at compile time in `CONDUIT_METRICS_BUILD_REVISION`
/// (empty when unset): `conduit_audio_build_info{version, revision} 1`, so a deploy shows
/// on the dashboard. Call it once at start.
///
/// ```
/// conduit_metrics_runtime::build_info!();
/// let text = conduit_metrics_runtime::registry::global().render();
/// assert!(text.contains(&format!(r#"conduit_audio_build_info{{version="{}""#, env!("CARGO_PKG_VERSION"))));
/// ```
#[macro_export]
macro_rules! build_info {
    () => {
        $crate::record_build_info(
            env!("CARGO_PKG_VERSION"),
            option_env!("CONDUIT_METRICS_BUILD_REVISION").unwrap_or(""),
        )
    };
}
pub use serving::{HealthProbe, PushError};

/// A registry of your own, and the process-wide one.
///
/// Most programs never name the registry: `#[audio_metric]`, the free recording functions
/// and [`install`] use the global one ([`registry::global`]). A separate
/// [`registry::Registry`] is useful in tests and behind a server of your own
/// ([`serving::EndpointServer`]).
pub mod registry {
    pub use crate::store::{Registry, global};
}

/// Exemplars: with the `opentelemetry` feature, each bucket of
/// `conduit_audio_request_duration_seconds`, `conduit_audio_time_to_first_byte_seconds` and
/// `conduit_audio_realtime_latency_seconds` carries, in OpenMetrics scrapes, the trace and
/// span ids of its latest observation made inside a sampled trace (the OpenTelemetry
/// context current when the call started; `tracing-opentelemetry` sets it when a
/// `tracing` span is entered). At most one exemplar a bucket a series.
pub mod exemplars {
    pub use crate::trace::{exemplar_capture, set_exemplar_capture};
}

/// Streams and returned futures recorded as one call.
///
/// `#[audio_metric(stream)]` and `#[audio_metric]` on a plain `fn` that returns a future
/// use these; write them by hand where the macro does not fit. The call lasts as long as
/// the stream: its first item is observed in `conduit_audio_time_to_first_byte_seconds`,
/// its first `Err` item sets the status, its end finishes it, and dropping it early
/// records `cancelled`.
///
/// ```
/// use conduit_metrics_runtime::streaming::instrument_stream;
/// use conduit_metrics_runtime::{CallOutcome, Operation, Status, start_call};
///
/// # fn chunks() -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> {
/// #     struct Once(Option<Result<Vec<u8>, std::io::Error>>);
/// #     impl futures_core::Stream for Once {
/// #         type Item = Result<Vec<u8>, std::io::Error>;
/// #         fn poll_next(mut self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>)
/// #             -> std::task::Poll<Option<Self::Item>> { std::task::Poll::Ready(self.0.take()) }
/// #     }
/// #     Once(Some(Ok(vec![0; 960])))
/// # }
/// let call = start_call(Operation::Tts, "elevenlabs");
/// let audio = instrument_stream(chunks(), call, CallOutcome::new(Status::Success), |item, tally| {
///     match item {
///         Ok(chunk) => tally.add_size(chunk.len() as u64),
///         Err(_) => tally.fail(Status::Error),
///     }
/// });
/// # drop(audio);
/// ```
pub mod streaming {
    pub use crate::recording::{
        InstrumentedFuture, InstrumentedStream, StreamItem, StreamTally, instrument_future,
        instrument_stream,
    };
}

/// The axum version [`MetricsHandle::router`] returns a router of.
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use axum;

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
/// defaults to a parameter named `provider`); `model` (the same, for the optional `model`
/// label when `ModelLabel` is on; ignored otherwise); `size` (an expression evaluated before the
/// body, or a closure over `&T` of the Ok value); `audio_seconds` (the same two forms:
/// seconds as `f64`/`f32` or a `Duration`); `characters` (an expression evaluated before
/// the body, counted whatever the outcome); `cost`, `cache_hit` (closures over `&T`);
/// `status` (a closure or function over `&E`); `disconnect_reason` (realtime only);
/// `stream` (a flag, see below); `crate` (path of this crate if renamed).
///
/// Statuses: `Ok`/non-`Result` → `success`; `Err(e)` → `e`'s [`AudioStatus`], else
/// `error`; a future dropped before completion → `cancelled`; a panic → `panic` (the panic
/// still propagates). A plain `fn` that returns a future (`impl Future`,
/// `Pin<Box<dyn Future>>`, `BoxFuture`) is timed until the future completes; one that
/// returns a future or a stream of a type it cannot wrap is a compile error.
///
/// # Streams
/// With `stream`, a function (async or not) that returns `impl Stream<Item = Result<C, E>>`,
/// a boxed stream (`Pin<Box<dyn Stream>>`, `BoxStream`, `LocalBoxStream`) or a `Result` of
/// one is recorded until the stream ends: its first item observes
/// `conduit_audio_time_to_first_byte_seconds`, its first `Err` item sets the status (items
/// keep flowing), its end counts the call, and dropping it earlier records `cancelled`
/// (or the error, if one came). `size`, `audio_seconds` and `cost` closures take each chunk
/// (`&C`) and are summed; `cache_hit` reads the first chunk.
///
/// ```
/// use conduit_metrics_runtime::audio_metric;
/// use futures_core::Stream;
///
/// struct Chunk { pcm: Vec<u8> }
///
/// #[audio_metric(
///     operation = "tts",
///     stream,
///     characters = text.chars().count(),
///     size = |chunk| chunk.pcm.len(),
///     audio_seconds = |chunk| chunk.pcm.len() as f64 / 48_000.0, // 24 kHz, 16-bit
/// )]
/// async fn synthesize(
///     provider: &str,
///     text: &str,
/// ) -> Result<impl Stream<Item = Result<Chunk, std::io::Error>> + use<>, std::io::Error> {
///     # struct Chunks(u8);
///     # impl Stream for Chunks {
///     #     type Item = Result<Chunk, std::io::Error>;
///     #     fn poll_next(mut self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>)
///     #         -> std::task::Poll<Option<Self::Item>> {
///     #         self.0 = self.0.saturating_sub(1);
///     #         std::task::Poll::Ready((self.0 > 0).then(|| Ok(Chunk { pcm: vec![0; 960] })))
///     #     }
///     # }
///     Ok(Chunks(4)) // the provider's chunks, as they are synthesized
/// }
/// ```
pub use conduit_metrics_macros::audio_metric;

/// Implements [`AudioStatus`] for an error type: `#[audio_status("timeout")]` on a
/// variant, or on the type for a default; unmarked variants count as `error`.
pub use conduit_metrics_macros::AudioStatus;

/// The `metrics` crate this runtime is built on, so applications record their own
/// metrics onto the same endpoint without depending on a matching version.
pub use metrics;

/// Support for the code `#[audio_metric]` and `#[derive(AudioStatus)]` generate. Not a
/// public API. Its name carries the exact version of `conduit-metrics-macros` this crate
/// depends on (`=x.y.z`): the macros name `__private_v<their version>`, so a mismatched
/// pair fails to compile instead of calling an API that changed.
#[doc(hidden)]
#[path = "macro_support.rs"]
pub mod __private_v0_1_0;

#[cfg(test)]
mod tests {
    #[test]
    fn the_support_module_is_named_after_the_version() {
        let version: String = env!("CARGO_PKG_VERSION")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let path = std::any::type_name::<crate::__private_v0_1_0::ErrorStatus<'static, ()>>();
        assert!(
            path.contains(&format!("::__private_v{version}::")),
            "rename the module in lib.rs to __private_v{version} (it is {path})"
        );
    }
}
