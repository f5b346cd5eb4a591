//! `install()`: configure the global registry, install the Prometheus recorder for the
//! `metrics` facade, and start the metrics thread (`background`), which serves the
//! endpoint, recomputes the windowed gauges every ExportInterval, runs health probes and
//! pushes. The caller keeps a [`MetricsHandle`] (`handle`).

mod background;
mod handle;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use metrics_exporter_prometheus::PrometheusBuilder;

use self::background::{Background, Probes, Renderer};
use self::handle::HandleInner;
pub use self::handle::MetricsHandle;
use crate::config::{ConfigError, ConfigOption, MetricsConfig};
use crate::serving::{Endpoint, Pusher, ScrapeCache, ServeError, TlsError, bind, tls_acceptor};
use crate::store::global;
use crate::sync::lock;
use crate::thread::RuntimeThread;

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

impl From<ServeError> for InstallError {
    fn from(error: ServeError) -> Self {
        match error {
            ServeError::Bind { address, source } => InstallError::Bind { address, source },
            ServeError::Tls(error) => InstallError::Tls(error),
            ServeError::Thread(error) => InstallError::Thread(error),
            // install() binds only when Listen names an address.
            ServeError::NoListenAddress => InstallError::Config(ConfigError::InvalidValue {
                option: ConfigOption::Listen,
                value: "none".to_owned(),
                origin: "install".to_owned(),
                reason: "a server needs an address to listen on".to_owned(),
            }),
        }
    }
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
        Some((certificate, key)) => Some(tls_acceptor(certificate, key)?),
        None => None,
    };
    let listener = config.listen().map(bind).transpose()?;
    // Its runtime lives and dies on that thread: no failure below drops a runtime here.
    let thread = RuntimeThread::spawn("conduit-metrics").map_err(InstallError::Thread)?;

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
    let thread = thread.run(background.run(listener, tls, shutdown_rx));

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
