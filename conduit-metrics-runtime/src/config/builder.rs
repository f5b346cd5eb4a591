//! `MetricsConfigBuilder`: the configuration set in code.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::error::ConfigError;
use super::metrics_config::MetricsConfig;
use super::parse::SettingValue;
use super::schema::ConfigOption;
use super::value_types::{HistogramBuckets, IpNetwork, Secret};

impl MetricsConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> MetricsConfigBuilder {
        MetricsConfigBuilder {
            config: MetricsConfig::default(),
            errors: Vec::new(),
        }
    }
}

/// Builds a [`MetricsConfig`] in code; [`build`](Self::build) validates it.
#[derive(Debug)]
#[must_use]
pub struct MetricsConfigBuilder {
    config: MetricsConfig,
    errors: Vec<ConfigError>,
}

impl MetricsConfigBuilder {
    /// How often windowed gauges are recomputed.
    pub fn export_interval(mut self, interval: Duration) -> Self {
        self.config.export_interval = interval;
        self
    }

    /// Window of the ratio gauges.
    pub fn metrics_window(mut self, window: Duration) -> Self {
        self.config.metrics_window = window;
        self
    }

    /// How long a rendered scrape is reused; zero disables the cache.
    pub fn cache_expiration(mut self, expiration: Duration) -> Self {
        self.config.cache_expiration = expiration;
        self
    }

    /// Address of the built-in endpoint; port 0 picks a free port.
    pub fn listen(mut self, address: SocketAddr) -> Self {
        self.config.listen = Some(address);
        self
    }

    /// Serves no endpoint of its own (mount [`MetricsHandle::router`](crate::MetricsHandle::router)
    /// into the application's server, or push).
    pub fn no_listener(mut self) -> Self {
        self.config.listen = None;
        self
    }

    /// Requires `Authorization: Bearer <token>`.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.config.bearer_token = Some(Secret::new(token));
        self
    }

    /// Requires HTTP basic auth with this user and password.
    pub fn basic_auth(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.config.basic_auth_username = Some(username.into());
        self.config.basic_auth_password = Some(Secret::new(password));
        self
    }

    /// Only these networks may scrape.
    pub fn allowed_networks(mut self, networks: impl IntoIterator<Item = IpNetwork>) -> Self {
        self.config.allowed_networks = networks.into_iter().collect();
        self
    }

    /// Serves HTTPS with this PEM certificate chain and private key.
    pub fn tls(mut self, certificate: impl Into<PathBuf>, private_key: impl Into<PathBuf>) -> Self {
        self.config.tls_certificate = Some(certificate.into());
        self.config.tls_private_key = Some(private_key.into());
        self
    }

    /// Serves only scrapers presenting a certificate signed by this PEM CA (mutual TLS;
    /// with [`tls`](Self::tls)).
    pub fn tls_client_ca(mut self, ca: impl Into<PathBuf>) -> Self {
        self.config.tls_client_ca_certificate = Some(ca.into());
        self
    }

    /// Limits each client address to `per_minute` requests a minute (0: no limit).
    pub fn rate_limit_per_minute(mut self, per_minute: u32) -> Self {
        self.config.rate_limit_per_minute = (per_minute > 0).then_some(per_minute);
        self
    }

    /// Pushes to this Pushgateway (`http://host:port`, or `https://` with the `tls`
    /// feature) every ExportInterval and on flush.
    pub fn push_gateway(mut self, url: &str) -> Self {
        self.config.push_gateway = None;
        self.option(ConfigOption::PushGateway, url)
    }

    /// Pushes with `Authorization: Bearer <token>`.
    pub fn push_bearer_token(mut self, token: impl Into<String>) -> Self {
        self.config.push_bearer_token = Some(Secret::new(token));
        self
    }

    /// Pushes with HTTP basic auth.
    pub fn push_basic_auth(
        mut self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.config.push_username = Some(username.into());
        self.config.push_password = Some(Secret::new(password));
        self
    }

    /// Trusts this PEM CA for an `https` Pushgateway, besides the system's roots.
    pub fn push_ca_certificate(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.push_ca_certificate = Some(path.into());
        self
    }

    /// The `job` (and optional `instance`) grouping labels of pushes.
    pub fn push_grouping(mut self, job: impl Into<String>, instance: Option<String>) -> Self {
        self.config.push_job = job.into();
        self.config.push_instance = instance;
        self
    }

    /// Whether `install` installs a recorder for the `metrics` facade (default `true`).
    /// `false` leaves the facade to the application on purpose: the endpoint serves the
    /// audio families only, and the application may install its own recorder later.
    pub fn facade_recorder(mut self, install: bool) -> Self {
        self.config.facade_recorder = install;
        self
    }

    /// Share of ExportIntervals in which the health probes run, from 0 to 1 (see
    /// [`MetricsConfig::health_probe_share`]).
    pub fn health_probe_share(mut self, share: f64) -> Self {
        self.config.health_probe_share = share;
        self
    }

    /// Whether the latency histograms keep native buckets beside their classic ones (see
    /// [`MetricsConfig::native_histograms`]).
    pub fn native_histograms(mut self, on: bool) -> Self {
        self.config.native_histograms = on;
        self
    }

    /// Resolution of the native buckets, from -4 to 8 (see
    /// [`MetricsConfig::native_histogram_schema`]).
    pub fn native_histogram_schema(mut self, schema: i8) -> Self {
        self.config.native_histogram_schema = schema;
        self
    }

    /// Most populated native buckets a series exports (see
    /// [`MetricsConfig::native_histogram_max_buckets`]).
    pub fn native_histogram_max_buckets(mut self, max: usize) -> Self {
        self.config.native_histogram_max_buckets = max;
        self
    }

    /// Bucket bounds (finite, strictly increasing) of histograms recorded through the
    /// `metrics` facade.
    pub fn facade_histogram_buckets(mut self, bounds: impl IntoIterator<Item = f64>) -> Self {
        self.config.facade_histogram_buckets = HistogramBuckets::new(bounds.into_iter().collect());
        self
    }

    /// Path of the endpoint.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.config.path = path.into();
        self
    }

    /// Most distinct `provider` label values.
    pub fn max_providers(mut self, max: usize) -> Self {
        self.config.max_providers = max;
        self
    }

    /// Whether the per-call and voice-turn families carry a `model` label (see
    /// [`MetricsConfig::model_label`]).
    pub fn model_label(mut self, on: bool) -> Self {
        self.config.model_label = on;
        self
    }

    /// Most distinct `model` label values besides `unknown` and `other`.
    pub fn max_models(mut self, max: usize) -> Self {
        self.config.max_models = max;
        self
    }

    /// Sets an option from text, as a file or the environment would (`"30s"`,
    /// `"00:00:30"`, `"127.0.0.1:0"`).
    pub fn option(mut self, option: ConfigOption, value: &str) -> Self {
        let setting = SettingValue::Text(value.to_owned());
        if let Err(error) = self.config.set(option, &setting, "builder") {
            self.errors.push(error);
        }
        self
    }

    /// Validates and returns the configuration, or every mistake found: a bad value
    /// given to [`option`](Self::option) and each option that fails the checks together
    /// ([`ConfigError::Several`] when there is more than one).
    pub fn build(mut self) -> Result<MetricsConfig, ConfigError> {
        self.config.check("builder", &mut self.errors);
        ConfigError::from_all(self.errors)?;
        Ok(self.config)
    }
}
