//! `install()`: configure the global registry, install the Prometheus recorder for the
//! `metrics` facade, and start the metrics thread, which serves the endpoint, recomputes
//! the windowed gauges every ExportInterval, runs health probes and pushes.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::config::{ConfigError, MetricsConfig};
use crate::endpoint::server::{self, TlsError};
use crate::endpoint::{Endpoint, ScrapeCache};
use crate::health::HealthProbe;
use crate::push::{PushError, Pusher};
use crate::registry::{Registry, global, lock};

/// Why [`install`] failed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The configuration (from the environment, for [`install`]) is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `install` already succeeded in this process.
    #[error(
        "conduit-metrics is already installed in this process ({0}); install it once and keep the handle"
    )]
    AlreadyInstalled(String),
    /// Another `metrics` recorder was installed first.
    #[error(
        "another `metrics` recorder is already installed; conduit-metrics installs the Prometheus recorder itself, so remove the other one"
    )]
    RecorderAlreadySet,
    /// The listen address could not be bound.
    #[error("cannot listen on {address} (Listen): {source}")]
    Bind {
        /// The address from the configuration.
        address: SocketAddr,
        /// The operating system's error (e.g. address in use).
        source: std::io::Error,
    },
    /// The TLS certificate or key could not be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The background thread or its runtime could not be started.
    #[error("cannot start the metrics thread: {0}")]
    Thread(std::io::Error),
}

static INSTALLED: AtomicBool = AtomicBool::new(false);
static INSTALLED_AT: Mutex<Option<String>> = Mutex::new(None);

/// Installs with the defaults overridden by `CONDUIT_METRICS_*` environment variables,
/// and serves the endpoint on `Listen`/`Path` (127.0.0.1:9000/metrics by default).
///
/// ```no_run
/// let handle = conduit_metrics_runtime::install()?;
/// println!("metrics on http://{}/metrics", handle.local_addr().unwrap());
/// # Ok::<(), conduit_metrics_runtime::InstallError>(())
/// ```
pub fn install() -> Result<MetricsHandle, InstallError> {
    MetricsConfig::from_env()?.install()
}

impl MetricsConfig {
    /// Installs with this configuration: see [`install`].
    pub fn install(self) -> Result<MetricsHandle, InstallError> {
        if INSTALLED
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            let at = lock(&INSTALLED_AT).clone().unwrap_or_default();
            return Err(InstallError::AlreadyInstalled(at));
        }
        match start(self) {
            Ok(handle) => {
                *lock(&INSTALLED_AT) = Some(match handle.local_addr() {
                    Some(address) => format!("listening on {address}"),
                    None => "with no listener of its own".to_owned(),
                });
                Ok(handle)
            }
            Err(error) => {
                INSTALLED.store(false, Ordering::Release);
                Err(error)
            }
        }
    }
}

fn start(config: MetricsConfig) -> Result<MetricsHandle, InstallError> {
    // Everything that can fail on bad input comes before anything global changes.
    let tls = match config.tls_files() {
        Some((certificate, key)) => Some(server::tls_acceptor(certificate, key)?),
        None => None,
    };
    let listener = config.listen().map(server::bind).transpose()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(InstallError::Thread)?;

    let recorder = PrometheusBuilder::new().build_recorder();
    let prometheus = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|_| InstallError::RecorderAlreadySet)?;

    let registry = global();
    registry.reconfigure(&config);
    let process = metrics_process::Collector::default();
    process.describe();
    let renderer = Arc::new(Renderer {
        registry,
        prometheus,
        process,
    });
    let cache_renderer = renderer.clone();
    let cache = Arc::new(ScrapeCache::new(
        Box::new(move || cache_renderer.render()),
        config.cache_expiration(),
    ));
    let endpoint = Arc::new(Endpoint::new(&config, cache));
    let pusher = Pusher::from_config(&config);
    let probes: Probes = Arc::default();
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let local_addr = listener.as_ref().map(|(_, local)| *local);

    let background = Background {
        renderer: renderer.clone(),
        endpoint: endpoint.clone(),
        pusher: pusher.clone(),
        probes: probes.clone(),
        interval: config.export_interval(),
    };
    let thread = std::thread::Builder::new()
        .name("conduit-metrics".to_owned())
        .spawn(move || runtime.block_on(background.run(listener, tls, shutdown_rx)))
        .map_err(InstallError::Thread)?;

    Ok(MetricsHandle {
        inner: Arc::new(HandleInner {
            renderer,
            endpoint,
            pusher,
            probes,
            local_addr,
            config,
            shutdown: shutdown_tx,
            thread: Mutex::new(Some(thread)),
        }),
    })
}

type Probes = Arc<Mutex<Vec<Arc<HealthProbe>>>>;

/// What the metrics thread does.
struct Background {
    renderer: Arc<Renderer>,
    endpoint: Arc<Endpoint>,
    pusher: Option<Pusher>,
    probes: Probes,
    interval: std::time::Duration,
}

impl Background {
    async fn run(
        self,
        listener: Option<(std::net::TcpListener, SocketAddr)>,
        tls: Option<tokio_rustls::TlsAcceptor>,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        if let Some((listener, address)) = listener {
            match tokio::net::TcpListener::from_std(listener) {
                Ok(listener) => {
                    tokio::spawn(server::serve(
                        listener,
                        self.endpoint.clone(),
                        tls,
                        shutdown.clone(),
                    ));
                }
                Err(error) => {
                    tracing::error!(%error, %address, "conduit-metrics: cannot serve the endpoint");
                }
            }
        }
        let start = tokio::time::Instant::now() + self.interval;
        let mut ticks = tokio::time::interval_at(start, self.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => self.on_tick(),
                _ = shutdown.changed() => break,
            }
        }
    }

    fn on_tick(&self) {
        let registry = self.renderer.registry;
        registry.tick();
        self.renderer.prometheus.run_upkeep();
        // Probes and pushes run as their own tasks: a slow one delays nothing.
        let due = lock(&self.probes).clone();
        for probe in due {
            tokio::spawn(async move { probe.run(registry).await });
        }
        if let Some(pusher) = self.pusher.clone() {
            let renderer = self.renderer.clone();
            tokio::task::spawn_blocking(move || {
                if let Err(error) = pusher.push(renderer.render().as_bytes()) {
                    tracing::warn!(%error, "conduit-metrics: push failed; the next ExportInterval retries");
                }
            });
        }
    }
}

/// Renders the audio families followed by everything recorded through the `metrics`
/// facade: process CPU, memory, threads and file descriptors (`metrics-process`), and the
/// application's own metrics.
struct Renderer {
    registry: &'static Registry,
    prometheus: PrometheusHandle,
    process: metrics_process::Collector,
}

impl Renderer {
    fn render(&self) -> String {
        self.process.collect();
        let mut text = self.registry.render();
        text.push_str(&self.prometheus.render());
        text
    }
}

/// The handle returned by [`install`]: renders, tells the bound address, mounts the
/// endpoint into an axum app, flushes and shuts down. Cloning it is cheap.
#[derive(Clone)]
pub struct MetricsHandle {
    inner: Arc<HandleInner>,
}

struct HandleInner {
    renderer: Arc<Renderer>,
    endpoint: Arc<Endpoint>,
    pusher: Option<Pusher>,
    probes: Probes,
    local_addr: Option<SocketAddr>,
    config: MetricsConfig,
    shutdown: tokio::sync::watch::Sender<bool>,
    thread: Mutex<Option<JoinHandle<()>>>,
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
        self.inner.renderer.render()
    }

    /// The address the built-in endpoint is bound to (the real port when `Listen` used
    /// port 0), or `None` when it has no listener of its own.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.inner.local_addr
    }

    /// The configuration in force.
    pub fn config(&self) -> &MetricsConfig {
        &self.inner.config
    }

    /// The registry the handle renders.
    pub fn registry(&self) -> &'static Registry {
        self.inner.renderer.registry
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
    pub fn router(&self) -> axum::Router {
        crate::endpoint::router::router(self.inner.endpoint.clone(), self.inner.config.path())
    }

    /// Runs `probe` every ExportInterval on the metrics thread, each run bounded by the
    /// probe's timeout; its results feed `conduit_audio_provider_uptime_ratio`.
    pub fn register_health_probe(&self, probe: HealthProbe) {
        lock(&self.inner.probes).push(Arc::new(probe));
    }

    /// Recomputes the windowed gauges now (closing the current sub-interval), drains
    /// buffered `metrics` histogram samples and, in push mode, pushes everything recorded
    /// so far. Blocks for the push.
    pub fn flush(&self) -> Result<(), PushError> {
        self.inner.renderer.registry.tick();
        self.inner.renderer.prometheus.run_upkeep();
        match &self.inner.pusher {
            Some(pusher) => pusher.push(self.render().as_bytes()),
            None => Ok(()),
        }
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
