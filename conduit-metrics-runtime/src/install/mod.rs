//! `install()`: configure the global registry, install the Prometheus recorder for the
//! `metrics` facade, and start the metrics thread (`background`), which serves the
//! endpoint, recomputes the windowed gauges every ExportInterval, runs health probes and
//! pushes. The caller keeps a [`MetricsHandle`] (`handle`).

mod background;
mod error;
mod facade;
mod handle;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

#[cfg(feature = "http-listener")]
use self::background::Listener;
use self::background::{Background, Probes};
pub use self::error::InstallError;
pub use self::facade::FacadeMetrics;
use self::facade::install_facade_recorder;
use self::handle::HandleInner;
pub use self::handle::MetricsHandle;
use crate::config::MetricsConfig;
#[cfg(feature = "otlp")]
use crate::exposition::OtlpSource;
use crate::exposition::ScrapeSource;
#[cfg(feature = "otlp")]
use crate::serving::OtlpExporter;
use crate::serving::ProbeSchedule;
#[cfg(feature = "push-gateway")]
use crate::serving::Pusher;
#[cfg(feature = "http-listener")]
use crate::serving::ServeError;
#[cfg(any(feature = "http-listener", feature = "axum"))]
use crate::serving::{Endpoint, ScrapeCache};
#[cfg(feature = "http-listener")]
use crate::serving::{Tls, bind, tls_from_config};
use crate::store::{StoreBounds, global};
use crate::sync::lock;
use crate::thread::RuntimeThread;

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
    #[cfg(feature = "http-listener")]
    let bound = bind_listener(&config)?;
    #[cfg(feature = "push-gateway")]
    let pusher = Pusher::from_config(&config).map_err(InstallError::Push)?;
    #[cfg(feature = "otlp")]
    let otlp = OtlpExporter::from_config(&config)
        .map_err(InstallError::Otlp)?
        .map(|exporter| (exporter, otlp_source(&config)));
    // Its runtime lives and dies on that thread: no failure below drops a runtime here.
    let thread = RuntimeThread::spawn("conduit-metrics").map_err(InstallError::Thread)?;

    let (facade, served_facade) = install_facade_recorder(&config)?;
    let registry = global();
    registry.reconfigure(StoreBounds::of(&config));
    let scrape = Arc::new(ScrapeSource::new(registry, served_facade));
    #[cfg(feature = "otlp")]
    if otlp.is_some() {
        registry.set_exporting();
    }
    #[cfg(any(feature = "http-listener", feature = "axum"))]
    let endpoint = {
        let cached = scrape.clone();
        let cache = Arc::new(ScrapeCache::with_formats(
            Box::new(move |format| cached.render(format)),
            config.cache_expiration(),
        ));
        Arc::new(Endpoint::new(&config, cache))
    };
    #[cfg(feature = "http-listener")]
    let (local_addr, listener) = match bound {
        Some((socket, address, tls)) => (
            Some(address),
            Some(Listener {
                socket,
                address,
                endpoint: endpoint.clone(),
                tls,
            }),
        ),
        None => (None, None),
    };
    #[cfg(not(feature = "http-listener"))]
    let local_addr = None;
    let probes: Probes = Arc::default();
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);

    let background = Background {
        scrape: scrape.clone(),
        #[cfg(feature = "http-listener")]
        listener,
        #[cfg(feature = "push-gateway")]
        pusher: pusher.clone(),
        #[cfg(feature = "otlp")]
        otlp: otlp.clone(),
        #[cfg(feature = "otlp")]
        otlp_interval: config.otlp_export_interval(),
        probes: probes.clone(),
        probe_schedule: ProbeSchedule::with_random_phase(config.health_probe_share()),
        interval: config.export_interval(),
    };
    let thread = thread.run(background.run(shutdown_rx));

    Ok(MetricsHandle {
        inner: Arc::new(HandleInner {
            scrape,
            #[cfg(feature = "axum")]
            endpoint,
            #[cfg(feature = "push-gateway")]
            pusher,
            #[cfg(feature = "otlp")]
            otlp,
            probes,
            local_addr,
            facade,
            config,
            shutdown: shutdown_tx,
            thread: Mutex::new(Some(thread)),
        }),
    })
}

/// Binds `Listen` (if set) and loads the TLS files (if set): the socket, its real
/// address, and the TLS acceptor.
#[cfg(feature = "http-listener")]
fn bind_listener(
    config: &MetricsConfig,
) -> Result<Option<(std::net::TcpListener, std::net::SocketAddr, Option<Tls>)>, InstallError> {
    let tls = tls_from_config(config).map_err(ServeError::Tls)?;
    let Some(address) = config.listen() else {
        return Ok(None);
    };
    let (socket, local) = bind(address)?;
    Ok(Some((socket, local, tls)))
}

/// The resource and start time of OTLP exports: `service.name` (OtlpServiceName, else
/// OpenTelemetry's `unknown_service:` and the executable's name), `service.instance.id`
/// (the host, the process and the start time, so replicas and restarts differ), then
/// OtlpResourceAttributes (which may set either of them instead).
#[cfg(feature = "otlp")]
fn otlp_source(config: &MetricsConfig) -> OtlpSource {
    let start_unix_nanos = crate::exposition::unix_nanos_now();
    let given = config.otlp_resource_attributes();
    let named = |key: &str| given.iter().any(|(k, _)| k == key);
    let mut resource = Vec::new();
    if !named("service.name") {
        let name = config
            .otlp_service_name()
            .map(str::to_owned)
            .unwrap_or_else(|| {
                let exe = std::env::current_exe().ok();
                let exe = exe
                    .as_ref()
                    .and_then(|p| p.file_name())
                    .and_then(|n| n.to_str());
                format!("unknown_service:{}", exe.unwrap_or("conduit"))
            });
        resource.push(("service.name".to_owned(), name));
    }
    if !named("service.instance.id") {
        let host = crate::serving::host_name().unwrap_or_else(|| "unknown".to_owned());
        let id = format!("{host}-{}-{start_unix_nanos:x}", std::process::id());
        resource.push(("service.instance.id".to_owned(), id));
    }
    resource.extend(given.iter().cloned());
    OtlpSource {
        resource,
        start_unix_nanos,
    }
}
