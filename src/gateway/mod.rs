//! The audio gateway of `examples/audio_gateway.rs`: an axum service with OpenAI-style
//! audio endpoints routed to simulated providers, each provider client instrumented with
//! `#[audio_metric]`. It lives in the library so tests can start it in-process.
//!
//! | route | what it does |
//! |---|---|
//! | `POST /v1/audio/transcriptions` | multipart (`file`, optional `provider`) or raw audio body → `{"text": ..}` |
//! | `POST /v1/audio/translations` | same, translated to English |
//! | `POST /v1/audio/speech` | JSON `{"input", "voice", "provider"?}` → `audio/wav` (cached per text and voice) |
//! | `GET /v1/realtime` | WebSocket: `{"type":"input_text","text":..}` turns, answered one by one |
//!
//! `?provider=` (or the `provider` field) picks a provider, else they take turns.
//! `X-Simulate-Failure: timeout|rate_limited|unavailable|invalid|error` and
//! `X-Simulate-Latency-Ms: N` force an outcome.

mod api;
pub mod providers;
mod realtime;
pub mod sim;
pub mod traffic;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use conduit_metrics_runtime::{HealthProbe, MetricsHandle};

use providers::SimulatedProvider;

/// How to run the gateway.
#[derive(Debug, Clone)]
pub struct GatewayOptions {
    /// Address of the API.
    pub listen: SocketAddr,
    /// Multiplies every simulated latency (0: instant, for tests).
    pub latency_scale: f64,
    /// A realtime session with no turn for this long is closed by the server.
    pub realtime_idle_timeout: Duration,
    /// Whether providers fail at random by their profiles (off: only forced failures,
    /// for tests that count exactly).
    pub random_failures: bool,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        GatewayOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            latency_scale: 1.0,
            realtime_idle_timeout: Duration::from_secs(30),
            random_failures: true,
        }
    }
}

/// The gateway's shared state: its providers and routing.
pub struct Gateway {
    providers: Vec<Arc<SimulatedProvider>>,
    next: AtomicUsize,
    options: GatewayOptions,
}

impl Gateway {
    /// A gateway over the demo providers.
    pub fn new(options: GatewayOptions) -> Arc<Self> {
        let providers =
            providers::default_providers(options.latency_scale, options.random_failures)
                .into_iter()
                .map(Arc::new)
                .collect();
        Arc::new(Gateway {
            providers,
            next: AtomicUsize::new(0),
            options,
        })
    }

    /// The provider a request asked for, or the next one in turn.
    pub fn route(&self, requested: Option<&str>) -> Result<Arc<SimulatedProvider>, String> {
        match requested.filter(|name| !name.is_empty()) {
            Some(name) => self
                .providers
                .iter()
                .find(|provider| provider.name() == name)
                .cloned()
                .ok_or_else(|| {
                    format!(
                        "unknown provider `{name}`; known: {}",
                        self.provider_names().join(", ")
                    )
                }),
            None => {
                let turn = self.next.fetch_add(1, Ordering::Relaxed);
                Ok(self.providers[turn % self.providers.len()].clone())
            }
        }
    }

    /// Names of the providers.
    pub fn provider_names(&self) -> Vec<&'static str> {
        self.providers.iter().map(|p| p.name()).collect()
    }

    /// Registers a health probe per provider, run every ExportInterval.
    pub fn register_health_probes(&self, metrics: &MetricsHandle) {
        for provider in &self.providers {
            let provider = provider.clone();
            metrics.register_health_probe(HealthProbe::new(
                provider.name(),
                Duration::from_secs(2),
                move || {
                    let provider = provider.clone();
                    async move { provider.health().await }
                },
            ));
        }
    }

    /// The API router.
    pub fn router(self: &Arc<Self>) -> axum::Router {
        api::router(self.clone())
    }
}

/// A running gateway.
pub struct RunningGateway {
    /// The API's bound address.
    pub addr: SocketAddr,
    /// The gateway state.
    pub gateway: Arc<Gateway>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningGateway {
    /// Stops accepting, lets requests in flight finish, and waits for the server.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(());
        self.server
            .await
            .unwrap_or_else(|join| Err(std::io::Error::other(join)))
    }
}

/// Binds the API and serves it until [`RunningGateway::shutdown`].
pub async fn start(options: GatewayOptions) -> std::io::Result<RunningGateway> {
    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    let addr = listener.local_addr()?;
    let gateway = Gateway::new(options);
    let app = gateway.router();
    let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = signal.await;
        })
        .await
    });
    Ok(RunningGateway {
        addr,
        gateway,
        shutdown,
        server,
    })
}
