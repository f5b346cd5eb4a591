//! The handle `install` returns.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::background::Probes;
use super::facade::FacadeMetrics;
use crate::config::MetricsConfig;
#[cfg(feature = "otlp")]
use crate::exposition::OtlpSource;
use crate::exposition::{ExpositionFormat, ScrapeSource};
#[cfg(feature = "otlp")]
use crate::serving::OtlpExporter;
#[cfg(feature = "push-gateway")]
use crate::serving::Pusher;
#[cfg(feature = "axum")]
use crate::serving::{Endpoint, router};
use crate::serving::{HealthProbe, PushError};
use crate::store::Registry;
use crate::sync::lock;

/// The handle returned by [`install`](crate::install): renders, tells the bound address, mounts the
/// endpoint into an axum app, flushes and shuts down. Cloning it is cheap.
#[derive(Clone)]
pub struct MetricsHandle {
    pub(super) inner: Arc<HandleInner>,
}

pub(super) struct HandleInner {
    pub(super) scrape: Arc<ScrapeSource>,
    #[cfg(feature = "axum")]
    pub(super) endpoint: Arc<Endpoint>,
    #[cfg(feature = "push-gateway")]
    pub(super) pusher: Option<Pusher>,
    #[cfg(feature = "otlp")]
    pub(super) otlp: Option<(OtlpExporter, OtlpSource)>,
    pub(super) probes: Probes,
    pub(super) local_addr: Option<SocketAddr>,
    pub(super) facade: FacadeMetrics,
    pub(super) config: MetricsConfig,
    pub(super) shutdown: tokio::sync::watch::Sender<bool>,
    pub(super) thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for MetricsHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsHandle")
            .field("local_addr", &self.inner.local_addr)
            .field("path", &self.inner.config.path())
            .finish_non_exhaustive()
    }
}

impl MetricsHandle {
    /// The exposition text as of now (not cached): the audio families, then the metrics
    /// recorded through the `metrics` facade.
    pub fn render(&self) -> String {
        self.render_format(ExpositionFormat::Text)
    }

    /// [`render`](Self::render) in a text `format`: OpenMetrics carries exemplars and
    /// ends with `# EOF`. The protobuf format is binary: see
    /// [`render_bytes`](Self::render_bytes) (given `Protobuf`, this renders the text
    /// format 0.0.4).
    pub fn render_format(&self, format: ExpositionFormat) -> String {
        self.inner.scrape.render_text(format)
    }

    /// The exposition in any `format` as of now (not cached), as the endpoint sends it.
    pub fn render_bytes(&self, format: ExpositionFormat) -> Vec<u8> {
        self.inner.scrape.render(format)
    }

    /// The address the built-in endpoint is bound to (the real port when `Listen` used
    /// port 0), or `None` when it has no listener of its own.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.inner.local_addr
    }

    /// Where metrics recorded through the `metrics` facade go: served here, to the
    /// application's own recorder, or nowhere of ours (turned off).
    pub fn facade_metrics(&self) -> FacadeMetrics {
        self.inner.facade
    }

    /// The configuration in force.
    pub fn config(&self) -> &MetricsConfig {
        &self.inner.config
    }

    /// The registry the handle renders.
    pub fn registry(&self) -> &'static Registry {
        self.inner.scrape.registry()
    }

    /// The endpoint as an axum `Router` answering the configured `Path`, with the same
    /// scrape cache and lock-down as the built-in server — the guide's
    /// `app.UsePrometheusMetrics("/metrics")`. An `AllowedNetworks` or rate limit needs the
    /// client address: serve the app with
    /// `into_make_service_with_connect_info::<SocketAddr>()`, or requests are refused.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use conduit_metrics_runtime::MetricsConfig;
    ///
    /// let metrics = MetricsConfig::builder().no_listener().build()?.install()?;
    /// use conduit_metrics_runtime::axum;
    ///
    /// let metrics = MetricsConfig::builder().no_listener().build()?.install()?;
    /// let app = axum::Router::new()
    ///     .route("/v1/ping", axum::routing::get(|| async { "pong" }))
    ///     .merge(metrics.router());
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    /// axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "axum")]
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    pub fn router(&self) -> axum::Router {
        router(self.inner.endpoint.clone(), self.inner.config.path())
    }

    /// Runs `probe` every ExportInterval on the metrics thread, each run bounded by the
    /// probe's timeout; its results feed `conduit_audio_provider_uptime_ratio`.
    pub fn register_health_probe(&self, probe: HealthProbe) {
        lock(&self.inner.probes).push(Arc::new(probe));
    }

    /// Recomputes the windowed gauges now (closing the current sub-interval), drains
    /// buffered `metrics` histogram samples, exports everything recorded so far over OTLP
    /// (with `OtlpEndpoint`; failures are counted and logged, within the retry budget) and,
    /// in push mode, pushes it. Blocks for the export and the push.
    pub fn flush(&self) -> Result<(), PushError> {
        self.inner.scrape.registry().tick();
        self.inner.scrape.run_upkeep();
        #[cfg(feature = "otlp")]
        if let Some((exporter, source)) = &self.inner.otlp {
            let request = self.inner.scrape.render_otlp(source);
            exporter.export_blocking(self.inner.scrape.registry(), request);
        }
        #[cfg(feature = "push-gateway")]
        if let Some(pusher) = &self.inner.pusher {
            return pusher.push_blocking(self.render());
        }
        Ok(())
    }

    /// Stops the endpoint and the metrics thread, then flushes (a final push in push
    /// mode, so the last observations are not lost). Recording keeps working after
    /// shutdown; nothing serves or pushes it any more.
    pub fn shutdown(self) -> Result<(), PushError> {
        let _ = self.inner.shutdown.send(true);
        if let Some(thread) = lock(&self.inner.thread).take() {
            let _ = thread.join();
        }
        self.flush()
    }
}
