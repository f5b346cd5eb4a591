//! The gateway's shared state: its options, providers and routing.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use conduit_metrics_runtime::{HealthProbe, MetricsHandle};
use opentelemetry::trace::TracerProvider as _;

use super::models::ModelKind;
use super::providers::{self, SimulatedProvider};

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
    /// Whether the admin API (`/admin/providers/{name}/outage`) is served, to start and
    /// end a provider outage on demand (demos, alerting tests). Off by default.
    pub admin: bool,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        GatewayOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            latency_scale: 1.0,
            realtime_idle_timeout: Duration::from_secs(30),
            random_failures: true,
            admin: false,
        }
    }
}

/// The gateway's shared state: its providers and routing.
pub struct Gateway {
    providers: Vec<Arc<SimulatedProvider>>,
    next: AtomicUsize,
    pub(super) options: GatewayOptions,
    /// Makes the spans that continue requests' `traceparent` (not exported).
    tracer: opentelemetry_sdk::trace::SdkTracer,
}

impl Gateway {
    /// A gateway over the demo providers; with `http_api`, the `elevenlabs` client
    /// synthesizes speech over HTTP (reqwest) against the provider API there.
    pub fn new(
        options: GatewayOptions,
        http_api: Option<SocketAddr>,
    ) -> std::io::Result<Arc<Self>> {
        let providers =
            providers::default_providers(options.latency_scale, options.random_failures)
                .into_iter()
                .map(|provider| match http_api {
                    Some(addr) if provider.name() == providers::HTTP_PROVIDER => {
                        provider.over_http(addr).map_err(std::io::Error::other)
                    }
                    _ => Ok(provider),
                })
                .map(|provider| provider.map(Arc::new))
                .collect::<std::io::Result<_>>()?;
        let tracer = opentelemetry_sdk::trace::SdkTracerProvider::builder()
            .build()
            .tracer("conduit-audio-gateway");
        Ok(Arc::new(Gateway {
            providers,
            next: AtomicUsize::new(0),
            options,
            tracer,
        }))
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

    /// The provider and model of a call of `kind`: the provider asked for (else the one
    /// serving the model asked for, else the next in turn) and the model asked for (else
    /// that provider's default). A provider or model that cannot serve it is an error
    /// that names it.
    pub fn route_call(
        &self,
        provider: Option<&str>,
        model: Option<&str>,
        kind: ModelKind,
    ) -> Result<(Arc<SimulatedProvider>, &'static str), String> {
        let model = model.filter(|model| !model.is_empty());
        let provider = match (provider.filter(|name| !name.is_empty()), model) {
            (None, Some(model)) => self
                .providers
                .iter()
                .find(|provider| provider.models().of_kind(kind).contains(&model))
                .cloned()
                .ok_or_else(|| format!("no provider serves model `{model}`"))?,
            (provider, _) => self.route(provider)?,
        };
        let model = provider.models().choose(provider.name(), kind, model)?;
        Ok((provider, model))
    }

    /// The tracer of the gateway's own spans.
    pub(super) fn tracer(&self) -> &opentelemetry_sdk::trace::SdkTracer {
        &self.tracer
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
}
