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
use crate::exposition::ScrapeSource;
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
    // Its runtime lives and dies on that thread: no failure below drops a runtime here.
    let thread = RuntimeThread::spawn("conduit-metrics").map_err(InstallError::Thread)?;

    let (facade, served_facade) = install_facade_recorder(&config)?;
    let registry = global();
    registry.reconfigure(StoreBounds::of(&config));
    let scrape = Arc::new(ScrapeSource::new(registry, served_facade));
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
