//! The option schema: every option's guide name, file keys and environment variable.

use std::fmt;

/// The section of `appsettings.json` that holds the options, as in the guide.
pub const APPSETTINGS_SECTION: &str = "PrometheusMetrics";

/// Prefix of the environment variables read by [`MetricsConfig::from_env`](super::MetricsConfig::from_env).
pub const ENV_PREFIX: &str = "CONDUIT_METRICS_";

/// One configurable option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConfigOption {
    /// How often windowed gauges are recomputed.
    ExportInterval,
    /// Window of the ratio gauges.
    MetricsWindow,
    /// How long a rendered scrape is reused.
    CacheExpiration,
    /// Address of the built-in endpoint.
    Listen,
    /// Path of the endpoint.
    Path,
    /// Cardinality bound of the `provider` label.
    MaxProviders,
    /// Whether the per-call and voice-turn families carry a `model` label (default
    /// `false`: the guide's label sets exactly).
    ModelLabel,
    /// Cardinality bound of the `model` label.
    MaxModels,
    /// Bearer token scrapers must send (`Authorization: Bearer ...`).
    BearerToken,
    /// User name of HTTP basic auth (with `BasicAuthPassword`).
    BasicAuthUsername,
    /// Password of HTTP basic auth (with `BasicAuthUsername`).
    BasicAuthPassword,
    /// Networks allowed to scrape (CIDR list); others get 403.
    AllowedNetworks,
    /// PEM certificate chain file; serves HTTPS (with `TlsPrivateKey`).
    TlsCertificate,
    /// PEM private key file (with `TlsCertificate`).
    TlsPrivateKey,
    /// PEM CA file: only scrapers presenting a certificate it signed are served (mutual
    /// TLS); others fail the handshake.
    TlsClientCaCertificate,
    /// Requests a minute allowed per client address; others get 429.
    RateLimitPerMinute,
    /// Pushgateway base URL (`http://host:9091`, or `https://`): push every
    /// ExportInterval and on flush.
    PushGateway,
    /// `job` grouping label of pushes.
    PushJob,
    /// `instance` grouping label of pushes (default: the host name).
    PushInstance,
    /// Bearer token the Pushgateway requires (`Authorization: Bearer ...`).
    PushBearerToken,
    /// User name of the Pushgateway's basic auth (with `PushPassword`).
    PushUsername,
    /// Password of the Pushgateway's basic auth (with `PushUsername`).
    PushPassword,
    /// PEM file of a CA to trust for an `https` Pushgateway, besides the system's roots.
    PushCaCertificate,
    /// OTLP/HTTP URL metrics are exported to (`http://127.0.0.1:4318/v1/metrics`); unset, no export.
    OtlpEndpoint,
    /// Headers sent with each export, `key=value` pairs separated by commas (API keys: kept as secrets).
    OtlpHeaders,
    /// How long one export request may take (default 10s).
    OtlpTimeout,
    /// How often the registry is exported (default: ExportInterval).
    OtlpExportInterval,
    /// The resource's `service.name` (default `unknown_service:` and the executable's name).
    OtlpServiceName,
    /// More resource attributes, `key=value` pairs separated by commas.
    OtlpResourceAttributes,
    /// PEM file of a CA to trust for an `https` OTLP endpoint, besides the system's roots.
    OtlpCaCertificate,
    /// PEM certificate chain the OTLP client presents to a receiver that requires one (with `OtlpClientKey`).
    OtlpClientCertificate,
    /// PEM private key of `OtlpClientCertificate`.
    OtlpClientKey,
    /// Whether `install` installs a `metrics` recorder for the facade (`true`, the
    /// default) or leaves the facade to the application (`false`).
    FacadeRecorder,
    /// Bucket bounds of histograms recorded through the `metrics` facade.
    FacadeHistogramBuckets,
    /// Share of ExportIntervals in which this process runs its health probes, from 0
    /// (never) to 1 (every interval): `1/N` on each of N replicas keeps the probes a
    /// provider sees at one per interval for the whole fleet.
    HealthProbeShare,
    /// Whether the latency histograms keep native (exponential) buckets beside their
    /// classic ones, served in the protobuf format (default `true` with the `protobuf`
    /// feature).
    NativeHistograms,
    /// Resolution of the native buckets, from -4 to 8: each bucket is `2^(2^-schema)`
    /// times as wide as its lower bound (default 3: 9%).
    NativeHistogramSchema,
    /// Most populated native buckets a series exports; past it the series halves its
    /// resolution (default 160).
    NativeHistogramMaxBuckets,
}

impl ConfigOption {
    /// Every option.
    pub const ALL: [ConfigOption; 38] = [
        ConfigOption::ExportInterval,
        ConfigOption::MetricsWindow,
        ConfigOption::CacheExpiration,
        ConfigOption::Listen,
        ConfigOption::Path,
        ConfigOption::MaxProviders,
        ConfigOption::ModelLabel,
        ConfigOption::MaxModels,
        ConfigOption::BearerToken,
        ConfigOption::BasicAuthUsername,
        ConfigOption::BasicAuthPassword,
        ConfigOption::AllowedNetworks,
        ConfigOption::TlsCertificate,
        ConfigOption::TlsPrivateKey,
        ConfigOption::TlsClientCaCertificate,
        ConfigOption::RateLimitPerMinute,
        ConfigOption::PushGateway,
        ConfigOption::PushJob,
        ConfigOption::PushInstance,
        ConfigOption::PushBearerToken,
        ConfigOption::PushUsername,
        ConfigOption::PushPassword,
        ConfigOption::PushCaCertificate,
        ConfigOption::OtlpEndpoint,
        ConfigOption::OtlpHeaders,
        ConfigOption::OtlpTimeout,
        ConfigOption::OtlpExportInterval,
        ConfigOption::OtlpServiceName,
        ConfigOption::OtlpResourceAttributes,
        ConfigOption::OtlpCaCertificate,
        ConfigOption::OtlpClientCertificate,
        ConfigOption::OtlpClientKey,
        ConfigOption::FacadeRecorder,
        ConfigOption::FacadeHistogramBuckets,
        ConfigOption::HealthProbeShare,
        ConfigOption::NativeHistograms,
        ConfigOption::NativeHistogramSchema,
        ConfigOption::NativeHistogramMaxBuckets,
    ];

    /// The guide's name (`ExportInterval`), used in `appsettings.json` and in errors.
    pub const fn name(self) -> &'static str {
        match self {
            ConfigOption::ExportInterval => "ExportInterval",
            ConfigOption::MetricsWindow => "MetricsWindow",
            ConfigOption::CacheExpiration => "CacheExpiration",
            ConfigOption::Listen => "Listen",
            ConfigOption::Path => "Path",
            ConfigOption::MaxProviders => "MaxProviders",
            ConfigOption::ModelLabel => "ModelLabel",
            ConfigOption::MaxModels => "MaxModels",
            ConfigOption::BearerToken => "BearerToken",
            ConfigOption::BasicAuthUsername => "BasicAuthUsername",
            ConfigOption::BasicAuthPassword => "BasicAuthPassword",
            ConfigOption::AllowedNetworks => "AllowedNetworks",
            ConfigOption::TlsCertificate => "TlsCertificate",
            ConfigOption::TlsPrivateKey => "TlsPrivateKey",
            ConfigOption::TlsClientCaCertificate => "TlsClientCaCertificate",
            ConfigOption::RateLimitPerMinute => "RateLimitPerMinute",
            ConfigOption::PushGateway => "PushGateway",
            ConfigOption::PushJob => "PushJob",
            ConfigOption::PushInstance => "PushInstance",
            ConfigOption::PushBearerToken => "PushBearerToken",
            ConfigOption::PushUsername => "PushUsername",
            ConfigOption::PushPassword => "PushPassword",
            ConfigOption::PushCaCertificate => "PushCaCertificate",
            ConfigOption::OtlpEndpoint => "OtlpEndpoint",
            ConfigOption::OtlpHeaders => "OtlpHeaders",
            ConfigOption::OtlpTimeout => "OtlpTimeout",
            ConfigOption::OtlpExportInterval => "OtlpExportInterval",
            ConfigOption::OtlpServiceName => "OtlpServiceName",
            ConfigOption::OtlpResourceAttributes => "OtlpResourceAttributes",
            ConfigOption::OtlpCaCertificate => "OtlpCaCertificate",
            ConfigOption::OtlpClientCertificate => "OtlpClientCertificate",
            ConfigOption::OtlpClientKey => "OtlpClientKey",
            ConfigOption::FacadeRecorder => "FacadeRecorder",
            ConfigOption::FacadeHistogramBuckets => "FacadeHistogramBuckets",
            ConfigOption::HealthProbeShare => "HealthProbeShare",
            ConfigOption::NativeHistograms => "NativeHistograms",
            ConfigOption::NativeHistogramSchema => "NativeHistogramSchema",
            ConfigOption::NativeHistogramMaxBuckets => "NativeHistogramMaxBuckets",
        }
    }

    /// The snake_case key also accepted in files (`export_interval`).
    pub const fn snake_name(self) -> &'static str {
        match self {
            ConfigOption::ExportInterval => "export_interval",
            ConfigOption::MetricsWindow => "metrics_window",
            ConfigOption::CacheExpiration => "cache_expiration",
            ConfigOption::Listen => "listen",
            ConfigOption::Path => "path",
            ConfigOption::MaxProviders => "max_providers",
            ConfigOption::ModelLabel => "model_label",
            ConfigOption::MaxModels => "max_models",
            ConfigOption::BearerToken => "bearer_token",
            ConfigOption::BasicAuthUsername => "basic_auth_username",
            ConfigOption::BasicAuthPassword => "basic_auth_password",
            ConfigOption::AllowedNetworks => "allowed_networks",
            ConfigOption::TlsCertificate => "tls_certificate",
            ConfigOption::TlsPrivateKey => "tls_private_key",
            ConfigOption::TlsClientCaCertificate => "tls_client_ca_certificate",
            ConfigOption::RateLimitPerMinute => "rate_limit_per_minute",
            ConfigOption::PushGateway => "push_gateway",
            ConfigOption::PushJob => "push_job",
            ConfigOption::PushInstance => "push_instance",
            ConfigOption::PushBearerToken => "push_bearer_token",
            ConfigOption::PushUsername => "push_username",
            ConfigOption::PushPassword => "push_password",
            ConfigOption::PushCaCertificate => "push_ca_certificate",
            ConfigOption::OtlpEndpoint => "otlp_endpoint",
            ConfigOption::OtlpHeaders => "otlp_headers",
            ConfigOption::OtlpTimeout => "otlp_timeout",
            ConfigOption::OtlpExportInterval => "otlp_export_interval",
            ConfigOption::OtlpServiceName => "otlp_service_name",
            ConfigOption::OtlpResourceAttributes => "otlp_resource_attributes",
            ConfigOption::OtlpCaCertificate => "otlp_ca_certificate",
            ConfigOption::OtlpClientCertificate => "otlp_client_certificate",
            ConfigOption::OtlpClientKey => "otlp_client_key",
            ConfigOption::FacadeRecorder => "facade_recorder",
            ConfigOption::FacadeHistogramBuckets => "facade_histogram_buckets",
            ConfigOption::HealthProbeShare => "health_probe_share",
            ConfigOption::NativeHistograms => "native_histograms",
            ConfigOption::NativeHistogramSchema => "native_histogram_schema",
            ConfigOption::NativeHistogramMaxBuckets => "native_histogram_max_buckets",
        }
    }

    /// Whether the option takes a list (a JSON array, comma-separated text, or indexed
    /// .NET variables).
    pub const fn is_list(self) -> bool {
        matches!(
            self,
            ConfigOption::AllowedNetworks | ConfigOption::FacadeHistogramBuckets
        )
    }

    /// Whether the option holds a secret (a token or a password): its value is kept in a
    /// [`Secret`](super::Secret) and never shown in an error or a log.
    pub const fn is_secret(self) -> bool {
        matches!(
            self,
            ConfigOption::BearerToken
                | ConfigOption::BasicAuthPassword
                | ConfigOption::PushBearerToken
                | ConfigOption::PushPassword
                | ConfigOption::OtlpHeaders
        )
    }

    /// A value of this option as an error may show it: as written, or `***` for a
    /// secret.
    pub(crate) fn shown(self, written: &str) -> String {
        if self.is_secret() {
            "***".to_owned()
        } else {
            written.to_owned()
        }
    }

    /// The environment variable (`CONDUIT_METRICS_EXPORT_INTERVAL`).
    pub fn env_var(self) -> String {
        format!("{ENV_PREFIX}{}", self.snake_name().to_ascii_uppercase())
    }

    /// The option a file key or environment suffix names, in any of the accepted
    /// spellings (`ExportInterval`, `export_interval`, `export-interval`, any case).
    pub fn from_key(key: &str) -> Option<ConfigOption> {
        let folded: String = key
            .chars()
            .filter(|c| *c != '_' && *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        Self::ALL
            .into_iter()
            .find(|option| option.name().to_ascii_lowercase() == folded)
    }
}

impl fmt::Display for ConfigOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_keys_in_every_spelling() {
        for option in ConfigOption::ALL {
            assert_eq!(ConfigOption::from_key(option.name()), Some(option));
            assert_eq!(ConfigOption::from_key(option.snake_name()), Some(option));
        }
        assert_eq!(
            ConfigOption::from_key("export-interval"),
            Some(ConfigOption::ExportInterval)
        );
        assert_eq!(ConfigOption::from_key("ExportIntervall"), None);
        assert_eq!(
            ConfigOption::ExportInterval.env_var(),
            "CONDUIT_METRICS_EXPORT_INTERVAL"
        );
    }
}
