//! The built-in HTTP(S) server: bounded connections, header size and read-time limits,
//! optional TLS, and graceful stop.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};

use super::cache::ScrapeCache;
use super::endpoint::{Endpoint, Scrape};
use super::errors::{ServeError, TlsError};
#[cfg(feature = "tls")]
use super::tls::tls_acceptor;
use crate::config::MetricsConfig;
use crate::exposition::ExpositionFormat;
#[cfg(feature = "tls")]
use crate::limits::TLS_HANDSHAKE_TIMEOUT;
use crate::limits::{
    HEADER_READ_TIMEOUT, MAX_CONNECTION_LIFETIME, MAX_CONNECTIONS, MAX_HEADER_BYTES,
};
use crate::thread::RuntimeThread;

/// What serves TLS connections: rustls with the `tls` feature; without it, nothing can
/// (the configuration refuses TLS files then), which the type says.
#[cfg(feature = "tls")]
pub(crate) type Tls = tokio_rustls::TlsAcceptor;
#[cfg(not(feature = "tls"))]
pub(crate) type Tls = std::convert::Infallible;

/// The TLS acceptor the configuration asks for, if any (files loaded and checked now).
pub(crate) fn tls_from_config(config: &MetricsConfig) -> Result<Option<Tls>, TlsError> {
    #[cfg(feature = "tls")]
    return config
        .tls_files()
        .map(|(certificate, key)| {
            tls_acceptor(certificate, key, config.tls_client_ca_certificate())
        })
        .transpose();
    // The configuration refuses TLS files without the feature.
    #[cfg(not(feature = "tls"))]
    {
        let _ = config;
        Ok(None)
    }
}

/// Binds a non-blocking listener, with an error naming the address.
pub(crate) fn bind(address: SocketAddr) -> Result<(std::net::TcpListener, SocketAddr), ServeError> {
    let bind_error = |source| ServeError::Bind { address, source };
    let listener = std::net::TcpListener::bind(address).map_err(bind_error)?;
    let local = listener.local_addr().map_err(bind_error)?;
    listener.set_nonblocking(true).map_err(bind_error)?;
    Ok((listener, local))
}

/// Accepts connections until `shutdown` changes.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    endpoint: Arc<Endpoint>,
    tls: Option<Tls>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let permits = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            _ = shutdown.changed() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors or similar: back off instead of spinning.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let endpoint = endpoint.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _ = stream.set_nodelay(true);
            let connection = async {
                match tls {
                    #[cfg(not(feature = "tls"))]
                    Some(never) => match never {},
                    #[cfg(feature = "tls")]
                    Some(acceptor) => {
                        let Ok(Ok(stream)) =
                            tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream))
                                .await
                        else {
                            return;
                        };
                        serve_connection(stream, peer, endpoint).await;
                    }
                    None => serve_connection(stream, peer, endpoint).await,
                }
            };
            let _ = tokio::time::timeout(MAX_CONNECTION_LIFETIME, connection).await;
        });
    }
}

async fn serve_connection<S>(stream: S, peer: SocketAddr, endpoint: Arc<Endpoint>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let endpoint = endpoint.clone();
        async move {
            let scrape = Scrape {
                method: request.method(),
                path: request.uri().path(),
                headers: request.headers(),
                peer: Some(peer.ip()),
            };
            Ok::<_, Infallible>(endpoint.respond(scrape, true).await)
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEADER_BYTES)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// The endpoint served on its own thread for any render function: what
/// [`install`](crate::install) runs for the global registry, available for a separate
/// [`Registry`](crate::registry::Registry) (tests, several registries, custom set-ups). It applies the
/// whole configuration: path, cache, credentials, allowlist, rate limit and TLS.
///
/// ```
/// use conduit_metrics_runtime::MetricsConfig;
/// use conduit_metrics_runtime::registry::Registry;
/// use conduit_metrics_runtime::serving::EndpointServer;
///
/// let registry: &'static Registry = Box::leak(Box::new(Registry::new(&MetricsConfig::default())));
/// let config = MetricsConfig::builder().listen("127.0.0.1:0".parse()?).build()?;
/// let server = EndpointServer::start(&config, move || registry.render())?;
/// println!("serving on {}", server.local_addr());
/// server.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct EndpointServer {
    local_addr: SocketAddr,
    shutdown: tokio::sync::watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for EndpointServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointServer")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl EndpointServer {
    /// Binds `config.listen()` and serves `render`'s output (text format 0.0.4) as the
    /// configuration says.
    pub fn start(
        config: &MetricsConfig,
        render: impl Fn() -> String + Send + Sync + 'static,
    ) -> Result<Self, ServeError> {
        let cache = ScrapeCache::new(Box::new(render), config.cache_expiration());
        Self::start_with_cache(config, cache)
    }

    /// [`start`](Self::start) with a `render` that writes every [`ExpositionFormat`]:
    /// scrapers that ask for OpenMetrics or protobuf get it (e.g. `|format|
    /// registry.render_bytes(format)`).
    pub fn start_with_formats(
        config: &MetricsConfig,
        render: impl Fn(ExpositionFormat) -> Vec<u8> + Send + Sync + 'static,
    ) -> Result<Self, ServeError> {
        let cache = ScrapeCache::with_formats(Box::new(render), config.cache_expiration());
        Self::start_with_cache(config, cache)
    }

    fn start_with_cache(config: &MetricsConfig, cache: ScrapeCache) -> Result<Self, ServeError> {
        let address = config.listen().ok_or(ServeError::NoListenAddress)?;
        let tls = tls_from_config(config)?;
        let (listener, local_addr) = bind(address)?;
        let cache = Arc::new(cache);
        let endpoint = Arc::new(Endpoint::new(config, cache));
        let (shutdown, receiver) = tokio::sync::watch::channel(false);
        let thread = RuntimeThread::spawn("conduit-metrics-endpoint")
            .map_err(ServeError::Thread)?
            .run(async move {
                if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
                    serve(listener, endpoint, tls, receiver).await;
                }
            });
        Ok(EndpointServer {
            local_addr,
            shutdown,
            thread: Some(thread),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting and ends the server's thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for EndpointServer {
    fn drop(&mut self) {
        self.stop();
    }
}
