//! The validated configuration: its values, defaults and accessors. Only the loaders
//! (`files`, `environment`, through `assign`), the checks (`validate`) and the
//! builder (`builder`) write the fields.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::value_types::{HistogramBuckets, IpNetwork, PushGateway, Secret};

/// The validated configuration of the runtime.
///
/// ```
/// use std::time::Duration;
/// use conduit_metrics_runtime::MetricsConfig;
///
/// let config = MetricsConfig::builder()
///     .metrics_window(Duration::from_secs(600))
///     .max_providers(64)
///     .build()?;
/// assert_eq!(config.export_interval(), Duration::from_secs(15));
/// assert_eq!(config.metrics_window(), Duration::from_secs(600));
/// # Ok::<(), conduit_metrics_runtime::ConfigError>(())
/// ```
///
/// It has no `PartialEq`: it holds secrets, which compare only in constant time.
#[derive(Debug, Clone)]
pub struct MetricsConfig {
    pub(super) export_interval: Duration,
    pub(super) metrics_window: Duration,
    pub(super) cache_expiration: Duration,
    pub(super) listen: Option<SocketAddr>,
    pub(super) path: String,
    pub(super) max_providers: usize,
    pub(super) model_label: bool,
    pub(super) max_models: usize,
    pub(super) bearer_token: Option<Secret>,
    pub(super) basic_auth_username: Option<String>,
    pub(super) basic_auth_password: Option<Secret>,
    pub(super) allowed_networks: Vec<IpNetwork>,
    pub(super) tls_certificate: Option<PathBuf>,
    pub(super) tls_private_key: Option<PathBuf>,
    pub(super) tls_client_ca_certificate: Option<PathBuf>,
    pub(super) rate_limit_per_minute: Option<u32>,
    pub(super) push_gateway: Option<PushGateway>,
    pub(super) push_job: String,
    pub(super) push_instance: Option<String>,
    pub(super) push_bearer_token: Option<Secret>,
    pub(super) push_username: Option<String>,
    pub(super) push_password: Option<Secret>,
    pub(super) push_ca_certificate: Option<PathBuf>,
    pub(super) otlp_endpoint: Option<PushGateway>,
    pub(super) otlp_headers: Vec<(String, Secret)>,
    pub(super) otlp_timeout: Duration,
    pub(super) otlp_export_interval: Option<Duration>,
    pub(super) otlp_service_name: Option<String>,
    pub(super) otlp_resource_attributes: Vec<(String, String)>,
    pub(super) otlp_ca_certificate: Option<PathBuf>,
    pub(super) otlp_client_certificate: Option<PathBuf>,
    pub(super) otlp_client_key: Option<PathBuf>,
    pub(super) facade_recorder: bool,
    pub(super) health_probe_share: f64,
    pub(super) facade_histogram_buckets: HistogramBuckets,
    pub(super) native_histograms: bool,
    pub(super) native_histogram_schema: i8,
    pub(super) native_histogram_max_buckets: usize,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            export_interval: Duration::from_secs(15),
            metrics_window: Duration::from_secs(5 * 60),
            cache_expiration: Duration::from_secs(10),
            // Without the built-in server, no endpoint of its own by default.
            listen: cfg!(feature = "http-listener")
                .then(|| SocketAddr::from(([127, 0, 0, 1], 9000))),
            path: "/metrics".to_owned(),
            max_providers: 32,
            model_label: false,
            max_models: 16,
            bearer_token: None,
            basic_auth_username: None,
            basic_auth_password: None,
            allowed_networks: Vec::new(),
            tls_certificate: None,
            tls_private_key: None,
            tls_client_ca_certificate: None,
            rate_limit_per_minute: None,
            push_gateway: None,
            push_job: "conduit_audio".to_owned(),
            push_instance: None,
            push_bearer_token: None,
            push_username: None,
            push_password: None,
            push_ca_certificate: None,
            otlp_endpoint: None,
            otlp_headers: Vec::new(),
            otlp_timeout: Duration::from_secs(10),
            otlp_export_interval: None,
            otlp_service_name: None,
            otlp_resource_attributes: Vec::new(),
            otlp_ca_certificate: None,
            otlp_client_certificate: None,
            otlp_client_key: None,
            facade_recorder: cfg!(feature = "recorder"),
            health_probe_share: 1.0,
            facade_histogram_buckets: HistogramBuckets::default(),
            native_histograms: cfg!(feature = "protobuf"),
            native_histogram_schema: 3,
            native_histogram_max_buckets: 160,
        }
    }
}

impl MetricsConfig {
    /// How often windowed gauges are recomputed (default 15s).
    pub fn export_interval(&self) -> Duration {
        self.export_interval
    }

    /// Window of the ratio gauges (default 5m).
    pub fn metrics_window(&self) -> Duration {
        self.metrics_window
    }

    /// How long a rendered scrape is reused (default 10s; zero renders every scrape).
    pub fn cache_expiration(&self) -> Duration {
        self.cache_expiration
    }

    /// Address of the built-in endpoint (default 127.0.0.1:9000, or `None` without the
    /// `http-listener` feature); `None` when the endpoint is only mounted into the
    /// application's own server.
    pub fn listen(&self) -> Option<SocketAddr> {
        self.listen
    }

    /// Path of the endpoint (default /metrics).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Most distinct `provider` label values (default 32).
    pub fn max_providers(&self) -> usize {
        self.max_providers
    }

    /// Whether the per-call families (requests, duration, time to first byte, sizes,
    /// audio seconds, characters) and the voice-turn families carry a `model` label
    /// (default `false`).
    pub fn model_label(&self) -> bool {
        self.model_label
    }

    /// Most distinct `model` label values besides `unknown` and `other` (default 16).
    pub fn max_models(&self) -> usize {
        self.max_models
    }

    /// Networks allowed to scrape (empty: any).
    pub fn allowed_networks(&self) -> &[IpNetwork] {
        &self.allowed_networks
    }

    /// Requests a minute per client address, if limited.
    pub fn rate_limit_per_minute(&self) -> Option<u32> {
        self.rate_limit_per_minute
    }

    /// PEM certificate and key files when the endpoint serves HTTPS.
    pub fn tls_files(&self) -> Option<(&Path, &Path)> {
        Some((
            self.tls_certificate.as_deref()?,
            self.tls_private_key.as_deref()?,
        ))
    }

    /// The PEM CA whose client certificates scrapers must present (mutual TLS), if any.
    pub fn tls_client_ca_certificate(&self) -> Option<&Path> {
        self.tls_client_ca_certificate.as_deref()
    }

    /// The Pushgateway pushes go to, if any.
    pub fn push_gateway(&self) -> Option<&PushGateway> {
        self.push_gateway.as_ref()
    }

    /// Where OTLP exports go (`OtlpEndpoint`), if anywhere.
    pub fn otlp_endpoint(&self) -> Option<&PushGateway> {
        self.otlp_endpoint.as_ref()
    }

    /// The headers each OTLP export sends (`OtlpHeaders`).
    pub fn otlp_headers(&self) -> &[(String, Secret)] {
        &self.otlp_headers
    }

    /// How long one OTLP export may take (default 10s).
    pub fn otlp_timeout(&self) -> Duration {
        self.otlp_timeout
    }

    /// How often the registry is exported over OTLP (default: ExportInterval).
    pub fn otlp_export_interval(&self) -> Duration {
        self.otlp_export_interval.unwrap_or(self.export_interval)
    }

    /// The resource's `service.name` for OTLP, if set.
    pub fn otlp_service_name(&self) -> Option<&str> {
        self.otlp_service_name.as_deref()
    }

    /// More resource attributes for OTLP.
    pub fn otlp_resource_attributes(&self) -> &[(String, String)] {
        &self.otlp_resource_attributes
    }

    /// A CA to trust for an `https` OTLP endpoint, besides the system's roots.
    pub fn otlp_ca_certificate(&self) -> Option<&Path> {
        self.otlp_ca_certificate.as_deref()
    }

    /// The certificate chain and key the OTLP client presents (`OtlpClientCertificate`,
    /// `OtlpClientKey`), if set.
    pub fn otlp_client_identity(&self) -> Option<(&Path, &Path)> {
        self.otlp_client_certificate
            .as_deref()
            .zip(self.otlp_client_key.as_deref())
    }

    /// The `job` grouping label of pushes (default `conduit_audio`).
    pub fn push_job(&self) -> &str {
        &self.push_job
    }

    /// The `instance` grouping label of pushes, if set; unset, pushes use the host name,
    /// so replicas never overwrite each other's group.
    pub fn push_instance(&self) -> Option<&str> {
        self.push_instance.as_deref()
    }

    /// The PEM file of a CA trusted for an `https` Pushgateway, if any.
    pub fn push_ca_certificate(&self) -> Option<&Path> {
        self.push_ca_certificate.as_deref()
    }

    /// The bearer token pushes present, if any.
    #[cfg(feature = "push-gateway")]
    pub(crate) fn push_bearer_token(&self) -> Option<&Secret> {
        self.push_bearer_token.as_ref()
    }

    /// The user name and password pushes present, if set.
    #[cfg(feature = "push-gateway")]
    pub(crate) fn push_basic_auth(&self) -> Option<(&str, &Secret)> {
        Some((self.push_username.as_deref()?, self.push_password.as_ref()?))
    }

    /// Whether `install` installs a recorder for the `metrics` facade and serves what is
    /// recorded through it (default `true`; `false` without the `recorder` feature). With `false`, the facade is left to the
    /// application, and the endpoint serves the audio families only.
    pub fn facade_recorder(&self) -> bool {
        self.facade_recorder
    }

    /// Share of ExportIntervals in which the registered health probes run, from 0 (never)
    /// to 1 (every interval, the default). With N replicas, `1/N` each keeps the probes a
    /// provider receives at about one per interval for the whole fleet; the intervals
    /// chosen are spread evenly, from a random phase per process.
    pub fn health_probe_share(&self) -> f64 {
        self.health_probe_share
    }

    /// Bucket bounds of histograms recorded through the `metrics` facade (default: the
    /// Prometheus client defaults, 5 ms to 10 s).
    pub fn facade_histogram_buckets(&self) -> &[f64] {
        self.facade_histogram_buckets.bounds()
    }

    /// Whether the latency histograms (request duration, time to first byte, realtime
    /// latency) keep native buckets beside their classic ones, served to scrapers of the
    /// protobuf format (default `true`; `false` without the `protobuf` feature).
    pub fn native_histograms(&self) -> bool {
        self.native_histograms
    }

    /// Resolution of the native buckets, from -4 to 8 (default 3): bucket bounds are
    /// powers of `2^(2^-schema)`, so each bucket is at most 9% wider than its lower bound
    /// at 3, 19% at 2, 0.27% at 8.
    pub fn native_histogram_schema(&self) -> i8 {
        self.native_histogram_schema
    }

    /// Most populated native buckets a series exports (default 160); a series that
    /// passes it is exported at half the resolution (schema minus one), as often as
    /// needed.
    pub fn native_histogram_max_buckets(&self) -> usize {
        self.native_histogram_max_buckets
    }

    /// Whether scrapes must authenticate.
    pub fn requires_credentials(&self) -> bool {
        self.bearer_token.is_some() || self.basic_auth().is_some()
    }

    /// The bearer token scrapers must present, if any.
    #[cfg(any(feature = "http-listener", feature = "axum"))]
    pub(crate) fn bearer_token(&self) -> Option<&Secret> {
        self.bearer_token.as_ref()
    }

    /// The user name and password of basic auth, if set.
    pub(crate) fn basic_auth(&self) -> Option<(&str, &Secret)> {
        Some((
            self.basic_auth_username.as_deref()?,
            self.basic_auth_password.as_ref()?,
        ))
    }
}
