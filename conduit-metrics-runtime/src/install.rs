//! `install()`: configure the global registry, install the Prometheus recorder for the
//! `metrics` facade, and start the background thread that serves the endpoint and
//! recomputes the windowed gauges every ExportInterval.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::config::{ConfigError, MetricsConfig};
use crate::endpoint::{Endpoint, ScrapeCache};
use crate::health::HealthProbe;
use crate::registry::{Registry, global, lock};

/// Why [`install`] failed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The configuration (from the environment, for [`install`]) is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `install` already succeeded in this process.
    #[error(
        "conduit-metrics is already installed in this process (listening on {0}); install it once and keep the handle"
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
    /// The background thread or its runtime could not be started.
    #[error("cannot start the metrics thread: {0}")]
    Thread(std::io::Error),
}

static INSTALLED: AtomicBool = AtomicBool::new(false);
static INSTALLED_AT: Mutex<Option<SocketAddr>> = Mutex::new(None);

/// Installs with the defaults overridden by `CONDUIT_METRICS_*` environment variables,
/// and serves the endpoint on `Listen`/`Path` (127.0.0.1:9000/metrics by default).
///
/// ```no_run
/// let handle = conduit_metrics_runtime::install()?;
/// println!("metrics on http://{}/metrics", handle.local_addr());
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
            let at = lock(&INSTALLED_AT).map_or_else(|| "?".to_owned(), |a| a.to_string());
            return Err(InstallError::AlreadyInstalled(at));
        }
        match start(self) {
            Ok(handle) => {
                *lock(&INSTALLED_AT) = Some(handle.local_addr());
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
    // Bind first: a taken port must fail before anything global changes.
    let listener =
        std::net::TcpListener::bind(config.listen()).map_err(|source| InstallError::Bind {
            address: config.listen(),
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| InstallError::Bind {
        address: config.listen(),
        source,
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| InstallError::Bind {
            address: config.listen(),
            source,
        })?;

    let recorder = PrometheusBuilder::new().build_recorder();
    let prometheus = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|_| InstallError::RecorderAlreadySet)?;

    let registry = global();
    registry.reconfigure(&config);
    let process = metrics_process::Collector::default();
    process.describe();

    let renderer = Renderer {
        registry,
        prometheus: prometheus.clone(),
        process: process.clone(),
    };
    let probes: Probes = Arc::default();
    let thread_probes = probes.clone();
    let endpoint = Arc::new(Endpoint {
        path: config.path().to_owned(),
        cache: ScrapeCache::new(
            Box::new(move || renderer.render()),
            config.cache_expiration(),
        ),
    });
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(InstallError::Thread)?;
    let interval = config.export_interval();
    let upkeep = prometheus.clone();
    let thread = std::thread::Builder::new()
        .name("conduit-metrics".to_owned())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => listener,
                    Err(error) => {
                        tracing::error!(%error, "conduit-metrics: cannot serve the endpoint");
                        return;
                    }
                };
                let mut ticks =
                    tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
                let server = crate::endpoint::serve(listener, endpoint, shutdown_rx.clone());
                tokio::pin!(server);
                let mut shutdown = shutdown_rx;
                loop {
                    tokio::select! {
                        _ = ticks.tick() => {
                            registry.tick();
                            upkeep.run_upkeep();
                            // Probes run as their own tasks: a slow one delays nothing.
                            let due = lock(&thread_probes).clone();
                            for probe in due {
                                tokio::spawn(async move { probe.run(registry).await });
                            }
                        }
                        _ = &mut server => break,
                        _ = shutdown.changed() => break,
                    }
                }
            });
        })
        .map_err(InstallError::Thread)?;

    Ok(MetricsHandle {
        inner: Arc::new(HandleInner {
            renderer: Renderer {
                registry,
                prometheus,
                process,
            },
            probes,
            local_addr,
            config,
            shutdown: shutdown_tx,
            thread: Mutex::new(Some(thread)),
        }),
    })
}

type Probes = Arc<Mutex<Vec<Arc<HealthProbe>>>>;

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

/// The handle returned by [`install`]: renders, tells the bound address, flushes and
/// shuts down. Cloning it is cheap.
#[derive(Clone)]
pub struct MetricsHandle {
    inner: Arc<HandleInner>,
}

struct HandleInner {
    renderer: Renderer,
    probes: Probes,
    local_addr: SocketAddr,
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

    /// The address the endpoint is bound to (the real port when `Listen` used port 0).
    pub fn local_addr(&self) -> SocketAddr {
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

    /// Runs `probe` every ExportInterval on the metrics thread, each run bounded by the
    /// probe's timeout; its results feed `conduit_audio_provider_uptime_ratio`.
    pub fn register_health_probe(&self, probe: HealthProbe) {
        lock(&self.inner.probes).push(Arc::new(probe));
    }

    /// Recomputes the windowed gauges now (closing the current sub-interval) and drains
    /// buffered `metrics` histogram samples.
    pub fn flush(&self) {
        self.inner.renderer.registry.tick();
        self.inner.renderer.prometheus.run_upkeep();
    }

    /// Stops the endpoint and the background thread after a final flush. Recording keeps
    /// working (into the registry) after shutdown; nothing serves it any more.
    pub fn shutdown(self) {
        self.flush();
        let _ = self.inner.shutdown.send(true);
        if let Some(thread) = lock(&self.inner.thread).take() {
            let _ = thread.join();
        }
    }
}
