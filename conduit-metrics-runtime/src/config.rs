//! Configuration: the guide's options with its defaults, read from the guide's own
//! `appsettings.json` shape, from TOML or JSON with human durations, from
//! `CONDUIT_METRICS_*` environment variables, or set with a builder.
//!
//! Every source goes through one function per option ([`MetricsConfig::set`]), so a bad
//! value gets the same error, naming the option, the value and where it came from,
//! whatever the source.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::access::{IpNetwork, Secret};

/// The section of `appsettings.json` that holds the options, as in the guide.
pub const APPSETTINGS_SECTION: &str = "PrometheusMetrics";

/// Prefix of the environment variables read by [`MetricsConfig::from_env`].
pub const ENV_PREFIX: &str = "CONDUIT_METRICS_";

/// Largest accepted `MaxProviders`.
pub const MAX_PROVIDERS_LIMIT: usize = 1024;

/// Most sub-intervals a window may have (`MetricsWindow / ExportInterval`), which bounds
/// the memory of the windowed gauges.
pub const MAX_WINDOW_SLOTS: u64 = 10_000;

/// One configurable option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// Requests a minute allowed per client address; others get 429.
    RateLimitPerMinute,
    /// Pushgateway base URL (`http://host:9091`): push every ExportInterval and on flush.
    PushGateway,
    /// `job` grouping label of pushes.
    PushJob,
    /// `instance` grouping label of pushes (optional).
    PushInstance,
}

impl ConfigOption {
    /// Every option.
    pub const ALL: [ConfigOption; 16] = [
        ConfigOption::ExportInterval,
        ConfigOption::MetricsWindow,
        ConfigOption::CacheExpiration,
        ConfigOption::Listen,
        ConfigOption::Path,
        ConfigOption::MaxProviders,
        ConfigOption::BearerToken,
        ConfigOption::BasicAuthUsername,
        ConfigOption::BasicAuthPassword,
        ConfigOption::AllowedNetworks,
        ConfigOption::TlsCertificate,
        ConfigOption::TlsPrivateKey,
        ConfigOption::RateLimitPerMinute,
        ConfigOption::PushGateway,
        ConfigOption::PushJob,
        ConfigOption::PushInstance,
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
            ConfigOption::BearerToken => "BearerToken",
            ConfigOption::BasicAuthUsername => "BasicAuthUsername",
            ConfigOption::BasicAuthPassword => "BasicAuthPassword",
            ConfigOption::AllowedNetworks => "AllowedNetworks",
            ConfigOption::TlsCertificate => "TlsCertificate",
            ConfigOption::TlsPrivateKey => "TlsPrivateKey",
            ConfigOption::RateLimitPerMinute => "RateLimitPerMinute",
            ConfigOption::PushGateway => "PushGateway",
            ConfigOption::PushJob => "PushJob",
            ConfigOption::PushInstance => "PushInstance",
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
            ConfigOption::BearerToken => "bearer_token",
            ConfigOption::BasicAuthUsername => "basic_auth_username",
            ConfigOption::BasicAuthPassword => "basic_auth_password",
            ConfigOption::AllowedNetworks => "allowed_networks",
            ConfigOption::TlsCertificate => "tls_certificate",
            ConfigOption::TlsPrivateKey => "tls_private_key",
            ConfigOption::RateLimitPerMinute => "rate_limit_per_minute",
            ConfigOption::PushGateway => "push_gateway",
            ConfigOption::PushJob => "push_job",
            ConfigOption::PushInstance => "push_instance",
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

/// Why a configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// An option has a value it cannot take.
    #[error("invalid {option} {value:?} (from {origin}): {reason}")]
    InvalidValue {
        /// The option.
        option: ConfigOption,
        /// The offending value as written (`***` for secrets).
        value: String,
        /// Where it came from: a file path, an environment variable, or `builder`.
        origin: String,
        /// What is wrong and what is allowed.
        reason: String,
    },
    /// A key that is not an option (most often a typo).
    #[error(
        "unknown option {key:?} (from {origin}); known options: {}",
        known_options()
    )]
    UnknownOption {
        /// The key as written.
        key: String,
        /// Where it came from.
        origin: String,
    },
    /// The file could not be read.
    #[error("cannot read metrics configuration {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid JSON or TOML, or its options are not a table.
    #[error("metrics configuration {path} is not valid {format}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// `JSON` or `TOML`.
        format: &'static str,
        /// The parser's message, with line and column.
        message: String,
    },
}

fn known_options() -> String {
    ConfigOption::ALL.map(ConfigOption::name).join(", ")
}

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    export_interval: Duration,
    metrics_window: Duration,
    cache_expiration: Duration,
    listen: Option<SocketAddr>,
    path: String,
    max_providers: usize,
    bearer_token: Option<Secret>,
    basic_auth_username: Option<String>,
    basic_auth_password: Option<Secret>,
    allowed_networks: Vec<IpNetwork>,
    tls_certificate: Option<PathBuf>,
    tls_private_key: Option<PathBuf>,
    rate_limit_per_minute: Option<u32>,
    push_gateway: Option<PushGateway>,
    push_job: String,
    push_instance: Option<String>,
}

/// Where pushes go: a Pushgateway reached over plain HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushGateway {
    /// `host:port`.
    pub authority: String,
    /// Path prefix before `/metrics/job/...` (empty for a gateway at the root).
    pub base_path: String,
}

impl std::str::FromStr for PushGateway {
    type Err = String;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        let url = url.trim();
        if url.starts_with("https://") {
            return Err("https is not supported by the built-in push client; reach the Pushgateway over http (e.g. through a local TLS-terminating proxy)".to_owned());
        }
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| "expected an http URL such as http://127.0.0.1:9091".to_owned())?;
        let (authority, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], rest[slash..].trim_end_matches('/')),
            None => (rest, ""),
        };
        let valid_authority = !authority.is_empty()
            && authority.rsplit_once(':').is_some_and(|(host, port)| {
                !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p != 0)
            })
            && !authority.contains(['@', ' ', '?', '#']);
        if !valid_authority {
            return Err("expected host:port after http://, e.g. http://127.0.0.1:9091".to_owned());
        }
        if path.contains(['?', '#', ' ']) {
            return Err("the URL must not have a query, fragment or spaces".to_owned());
        }
        Ok(PushGateway {
            authority: authority.to_owned(),
            base_path: path.to_owned(),
        })
    }
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            export_interval: Duration::from_secs(15),
            metrics_window: Duration::from_secs(5 * 60),
            cache_expiration: Duration::from_secs(10),
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 9000))),
            path: "/metrics".to_owned(),
            max_providers: 32,
            bearer_token: None,
            basic_auth_username: None,
            basic_auth_password: None,
            allowed_networks: Vec::new(),
            tls_certificate: None,
            tls_private_key: None,
            rate_limit_per_minute: None,
            push_gateway: None,
            push_job: "conduit_audio".to_owned(),
            push_instance: None,
        }
    }
}

impl MetricsConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> MetricsConfigBuilder {
        MetricsConfigBuilder {
            config: MetricsConfig::default(),
            errors: Vec::new(),
        }
    }

    /// The defaults overridden by `CONDUIT_METRICS_*` environment variables.
    ///
    /// An unknown `CONDUIT_METRICS_` variable is an error, so a typo does not silently
    /// leave a default in place.
    pub fn from_env() -> Result<Self, ConfigError> {
        MetricsConfig::default().with_env_overrides()
    }

    /// This configuration with `CONDUIT_METRICS_*` environment variables applied on top.
    pub fn with_env_overrides(self) -> Result<Self, ConfigError> {
        self.with_vars(std::env::vars_os().filter_map(|(key, value)| {
            Some((
                key.into_string().ok()?,
                value.to_string_lossy().into_owned(),
            ))
        }))
    }

    /// This configuration with the given `CONDUIT_METRICS_*` variables applied on top;
    /// other variables are ignored. What [`with_env_overrides`](Self::with_env_overrides)
    /// uses, exposed so the mapping can be used and tested without touching the process
    /// environment.
    pub fn with_vars(
        mut self,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        for (key, value) in vars {
            let Some(suffix) = key.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let option = ConfigOption::ALL
                .into_iter()
                .find(|option| option.snake_name().eq_ignore_ascii_case(suffix))
                .ok_or_else(|| ConfigError::UnknownOption {
                    key: key.clone(),
                    origin: "the environment".to_owned(),
                })?;
            self.set(option, &SettingValue::Text(value), &key)?;
        }
        self.validate("the environment")?;
        Ok(self)
    }

    /// Reads a configuration file: `.json` (the guide's `appsettings.json` with a
    /// `PrometheusMetrics` section, `//` comments allowed, or a flat object of options)
    /// or `.toml` (a `[PrometheusMetrics]` table or top-level options). Durations may be
    /// .NET spans (`"00:00:15"`) or human durations (`"15s"`). Options not in the file
    /// keep their defaults; the environment is not read.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: shown.clone(),
            source,
        })?;
        let is_toml = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("toml"));
        if is_toml {
            Self::from_toml_str(&text, &shown)
        } else {
            Self::from_json_str(&text, &shown)
        }
    }

    /// Parses JSON text (see [`from_file`](Self::from_file)); `origin` names the source
    /// in errors.
    pub fn from_json_str(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let stripped = strip_json_comments(text);
        let value: serde_json::Value =
            serde_json::from_str(&stripped).map_err(|err| ConfigError::Syntax {
                path: origin.to_owned(),
                format: "JSON",
                message: err.to_string(),
            })?;
        Self::from_document(value, "JSON", origin)
    }

    /// Parses TOML text (see [`from_file`](Self::from_file)); `origin` names the source
    /// in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let table: toml::Table = toml::from_str(text).map_err(|err| ConfigError::Syntax {
            path: origin.to_owned(),
            format: "TOML",
            message: err.to_string().trim_end().to_owned(),
        })?;
        let value = serde_json::to_value(table).map_err(|err| ConfigError::Syntax {
            path: origin.to_owned(),
            format: "TOML",
            message: err.to_string(),
        })?;
        Self::from_document(value, "TOML", origin)
    }

    fn from_document(
        document: serde_json::Value,
        format: &'static str,
        origin: &str,
    ) -> Result<Self, ConfigError> {
        let serde_json::Value::Object(mut top) = document else {
            return Err(ConfigError::Syntax {
                path: origin.to_owned(),
                format,
                message: "the top level must be an object of options".to_owned(),
            });
        };
        // appsettings.json holds other sections too (Logging, ...): only ours is read.
        let section = match top.remove(APPSETTINGS_SECTION) {
            Some(serde_json::Value::Object(section)) => section,
            Some(_) => {
                return Err(ConfigError::Syntax {
                    path: origin.to_owned(),
                    format,
                    message: format!("`{APPSETTINGS_SECTION}` must be an object of options"),
                });
            }
            None => top,
        };
        let mut config = MetricsConfig::default();
        for (key, value) in section {
            let option =
                ConfigOption::from_key(&key).ok_or_else(|| ConfigError::UnknownOption {
                    key: key.clone(),
                    origin: origin.to_owned(),
                })?;
            let value = match value {
                serde_json::Value::String(text) => SettingValue::Text(text),
                serde_json::Value::Number(number) => SettingValue::Number(number.to_string()),
                serde_json::Value::Bool(flag) => SettingValue::Text(flag.to_string()),
                // Lists (AllowedNetworks) may be arrays of strings or one comma-separated string.
                serde_json::Value::Array(items)
                    if items.iter().all(serde_json::Value::is_string) =>
                {
                    SettingValue::Text(
                        items
                            .iter()
                            .filter_map(serde_json::Value::as_str)
                            .collect::<Vec<_>>()
                            .join(","),
                    )
                }
                other => SettingValue::Other(other.to_string()),
            };
            config.set(option, &value, origin)?;
        }
        config.validate(origin)?;
        Ok(config)
    }

    /// Sets one option from a raw value; the single place values are interpreted.
    fn set(
        &mut self,
        option: ConfigOption,
        value: &SettingValue,
        origin: &str,
    ) -> Result<(), ConfigError> {
        let shown = if matches!(
            option,
            ConfigOption::BearerToken | ConfigOption::BasicAuthPassword
        ) {
            "***".to_owned()
        } else {
            value.as_written().to_owned()
        };
        let invalid = |reason: String| ConfigError::InvalidValue {
            option,
            value: shown.clone(),
            origin: origin.to_owned(),
            reason,
        };
        if let SettingValue::Other(_) = value {
            return Err(invalid(
                "expected a string or a number, not an object, a list of non-strings or null"
                    .to_owned(),
            ));
        }
        let text = value.as_written().trim();
        let optional_text = || (!text.is_empty()).then(|| text.to_owned());
        match option {
            ConfigOption::ExportInterval => {
                self.export_interval = parse_duration(value).map_err(invalid)?
            }
            ConfigOption::MetricsWindow => {
                self.metrics_window = parse_duration(value).map_err(invalid)?
            }
            ConfigOption::CacheExpiration => {
                self.cache_expiration = parse_duration(value).map_err(invalid)?
            }
            ConfigOption::Listen => {
                self.listen = if matches!(text, "none" | "off" | "") {
                    None
                } else {
                    Some(text.parse().map_err(|_| {
                        invalid("expected an IP address and port such as 127.0.0.1:9000 or [::1]:9000 (port 0 picks a free port), or \"none\" to serve no endpoint of its own".to_owned())
                    })?)
                }
            }
            ConfigOption::Path => self.path = text.to_owned(),
            ConfigOption::MaxProviders => {
                self.max_providers = text.parse().map_err(|_| {
                    invalid(format!(
                        "expected a whole number from 1 to {MAX_PROVIDERS_LIMIT}"
                    ))
                })?
            }
            ConfigOption::BearerToken => self.bearer_token = optional_text().map(Secret::new),
            ConfigOption::BasicAuthUsername => self.basic_auth_username = optional_text(),
            ConfigOption::BasicAuthPassword => {
                self.basic_auth_password = optional_text().map(Secret::new)
            }
            ConfigOption::AllowedNetworks => {
                self.allowed_networks = text
                    .split(',')
                    .filter(|part| !part.trim().is_empty())
                    .map(str::parse)
                    .collect::<Result<_, String>>()
                    .map_err(invalid)?
            }
            ConfigOption::TlsCertificate => {
                self.tls_certificate = optional_text().map(PathBuf::from)
            }
            ConfigOption::TlsPrivateKey => {
                self.tls_private_key = optional_text().map(PathBuf::from)
            }
            ConfigOption::RateLimitPerMinute => {
                let per_minute: u32 = text.parse().map_err(|_| {
                    invalid("expected requests per minute per client, a whole number (0 turns the limit off)".to_owned())
                })?;
                self.rate_limit_per_minute = (per_minute > 0).then_some(per_minute);
            }
            ConfigOption::PushGateway => {
                self.push_gateway = match optional_text() {
                    None => None,
                    Some(url) => Some(url.parse().map_err(invalid)?),
                }
            }
            ConfigOption::PushJob => self.push_job = text.to_owned(),
            ConfigOption::PushInstance => self.push_instance = optional_text(),
        }
        Ok(())
    }

    /// Checks the options together; errors name the first option found wrong.
    fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let invalid = |option: ConfigOption, value: String, reason: String| {
            Err(ConfigError::InvalidValue {
                option,
                value,
                origin: origin.to_owned(),
                reason,
            })
        };
        let shown = |d: Duration| humantime::format_duration(d).to_string();
        if self.export_interval.is_zero() {
            return invalid(
                ConfigOption::ExportInterval,
                shown(self.export_interval),
                "must be greater than zero".to_owned(),
            );
        }
        if self.metrics_window < self.export_interval {
            return invalid(
                ConfigOption::MetricsWindow,
                shown(self.metrics_window),
                format!(
                    "must be at least ExportInterval ({})",
                    shown(self.export_interval)
                ),
            );
        }
        if window_slots(self.metrics_window, self.export_interval) > MAX_WINDOW_SLOTS {
            return invalid(
                ConfigOption::MetricsWindow,
                shown(self.metrics_window),
                format!(
                    "must be at most {MAX_WINDOW_SLOTS} times ExportInterval ({})",
                    shown(self.export_interval)
                ),
            );
        }
        if !self.path.starts_with('/')
            || self.path.len() > 256
            || self
                .path
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
            || self.path.contains(['?', '#'])
        {
            return invalid(
                ConfigOption::Path,
                self.path.clone(),
                "expected an absolute URL path such as /metrics (no spaces, query or fragment, at most 256 bytes)".to_owned(),
            );
        }
        if !(1..=MAX_PROVIDERS_LIMIT).contains(&self.max_providers) {
            return invalid(
                ConfigOption::MaxProviders,
                self.max_providers.to_string(),
                format!("expected a whole number from 1 to {MAX_PROVIDERS_LIMIT}"),
            );
        }
        match (&self.basic_auth_username, &self.basic_auth_password) {
            (Some(user), None) => {
                return invalid(
                    ConfigOption::BasicAuthPassword,
                    String::new(),
                    format!("BasicAuthUsername ({user}) is set, so BasicAuthPassword must be too"),
                );
            }
            (None, Some(_)) => {
                return invalid(
                    ConfigOption::BasicAuthUsername,
                    String::new(),
                    "BasicAuthPassword is set, so BasicAuthUsername must be too".to_owned(),
                );
            }
            (Some(user), Some(_)) if user.contains(':') => {
                return invalid(
                    ConfigOption::BasicAuthUsername,
                    user.clone(),
                    "a basic auth user name cannot contain ':'".to_owned(),
                );
            }
            _ => {}
        }
        match (&self.tls_certificate, &self.tls_private_key) {
            (Some(cert), None) => {
                return invalid(
                    ConfigOption::TlsPrivateKey,
                    String::new(),
                    format!(
                        "TlsCertificate ({}) is set, so TlsPrivateKey must be too",
                        cert.display()
                    ),
                );
            }
            (None, Some(key)) => {
                return invalid(
                    ConfigOption::TlsCertificate,
                    String::new(),
                    format!(
                        "TlsPrivateKey ({}) is set, so TlsCertificate must be too",
                        key.display()
                    ),
                );
            }
            _ => {}
        }
        let label_ok = |text: &str| {
            !text.is_empty()
                && text.len() <= 128
                && !text.contains('/')
                && !text.chars().any(char::is_control)
        };
        if !label_ok(&self.push_job) {
            return invalid(
                ConfigOption::PushJob,
                self.push_job.clone(),
                "expected a non-empty job name without '/' or control characters (at most 128 bytes)".to_owned(),
            );
        }
        if let Some(instance) = &self.push_instance {
            if !label_ok(instance) {
                return invalid(
                    ConfigOption::PushInstance,
                    instance.clone(),
                    "expected an instance name without '/' or control characters (at most 128 bytes)".to_owned(),
                );
            }
        }
        Ok(())
    }

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

    /// Address of the built-in endpoint (default 127.0.0.1:9000); `None` when the
    /// endpoint is only mounted into the application's own server.
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

    /// The Pushgateway pushes go to, if any.
    pub fn push_gateway(&self) -> Option<&PushGateway> {
        self.push_gateway.as_ref()
    }

    /// The `job` grouping label of pushes (default `conduit_audio`).
    pub fn push_job(&self) -> &str {
        &self.push_job
    }

    /// The `instance` grouping label of pushes, if any.
    pub fn push_instance(&self) -> Option<&str> {
        self.push_instance.as_deref()
    }

    /// Whether scrapes must authenticate.
    pub fn requires_credentials(&self) -> bool {
        self.credentials().required()
    }

    pub(crate) fn credentials(&self) -> crate::access::Credentials {
        crate::access::Credentials {
            bearer_token: self.bearer_token.clone(),
            basic: self
                .basic_auth_username
                .clone()
                .zip(self.basic_auth_password.clone()),
        }
    }
}

fn window_slots(window: Duration, interval: Duration) -> u64 {
    if interval.is_zero() {
        return u64::MAX;
    }
    let slots = window.as_nanos().div_ceil(interval.as_nanos());
    u64::try_from(slots).unwrap_or(u64::MAX).max(1)
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

    /// Limits each client address to `per_minute` requests a minute (0: no limit).
    pub fn rate_limit_per_minute(mut self, per_minute: u32) -> Self {
        self.config.rate_limit_per_minute = (per_minute > 0).then_some(per_minute);
        self
    }

    /// Pushes to this Pushgateway (`http://host:port`) every ExportInterval and on flush.
    pub fn push_gateway(mut self, url: &str) -> Self {
        self.config.push_gateway = None;
        self.option(ConfigOption::PushGateway, url)
    }

    /// The `job` (and optional `instance`) grouping labels of pushes.
    pub fn push_grouping(mut self, job: impl Into<String>, instance: Option<String>) -> Self {
        self.config.push_job = job.into();
        self.config.push_instance = instance;
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

    /// Sets an option from text, as a file or the environment would (`"30s"`,
    /// `"00:00:30"`, `"127.0.0.1:0"`).
    pub fn option(mut self, option: ConfigOption, value: &str) -> Self {
        let setting = SettingValue::Text(value.to_owned());
        if let Err(error) = self.config.set(option, &setting, "builder") {
            self.errors.push(error);
        }
        self
    }

    /// Validates and returns the configuration.
    pub fn build(self) -> Result<MetricsConfig, ConfigError> {
        if let Some(error) = self.errors.into_iter().next() {
            return Err(error);
        }
        self.config.validate("builder")?;
        Ok(self.config)
    }
}

/// A raw option value as found in a source.
#[derive(Debug)]
enum SettingValue {
    Text(String),
    Number(String),
    Other(String),
}

impl SettingValue {
    fn as_written(&self) -> &str {
        match self {
            SettingValue::Text(text) | SettingValue::Number(text) | SettingValue::Other(text) => {
                text
            }
        }
    }
}

const DURATION_HELP: &str = "expected a duration such as \"15s\", \"5m\", \"1h 30m\", \"250ms\" or a .NET span \"00:00:15\"";

fn parse_duration(value: &SettingValue) -> Result<Duration, String> {
    let text = match value {
        SettingValue::Text(text) => text.trim(),
        SettingValue::Number(_) => {
            return Err(format!("a bare number has no unit; {DURATION_HELP}"));
        }
        SettingValue::Other(_) => return Err(DURATION_HELP.to_owned()),
    };
    if text.contains(':') {
        return parse_dotnet_timespan(text);
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(format!("a bare number has no unit; {DURATION_HELP}"));
    }
    humantime::parse_duration(text).map_err(|err| format!("{err}; {DURATION_HELP}"))
}

/// Parses a .NET `TimeSpan` in its constant format: `[d.]hh:mm[:ss[.fffffff]]`.
fn parse_dotnet_timespan(text: &str) -> Result<Duration, String> {
    let bad = || format!("not a .NET time span [d.]hh:mm[:ss[.fffffff]]; {DURATION_HELP}");
    if text.starts_with('-') {
        return Err("must not be negative".to_owned());
    }
    let mut parts = text.split(':');
    let (Some(head), Some(minutes)) = (parts.next(), parts.next()) else {
        return Err(bad());
    };
    let seconds = parts.next();
    if parts.next().is_some() {
        return Err(bad());
    }
    let (days, hours) = match head.split_once('.') {
        Some((days, hours)) => (parse_field(days, u64::MAX / 86_400)?, hours),
        None => (0, head),
    };
    let hours = parse_field(hours, 23)?;
    let minutes = parse_field(minutes, 59)?;
    let (seconds, nanos) = match seconds {
        None => (0, 0),
        Some(seconds) => match seconds.split_once('.') {
            None => (parse_field(seconds, 59)?, 0),
            Some((whole, fraction)) => {
                if fraction.is_empty()
                    || fraction.len() > 7
                    || !fraction.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(bad());
                }
                let digits: u32 = fraction.parse().map_err(|_| bad())?;
                let nanos = digits * 10u32.pow(9 - fraction.len() as u32);
                (parse_field(whole, 59)?, nanos)
            }
        },
    };
    let total = days
        .checked_mul(86_400)
        .and_then(|s| s.checked_add(hours * 3600 + minutes * 60 + seconds))
        .ok_or_else(|| "too large".to_owned())?;
    Ok(Duration::new(total, nanos))
}

fn parse_field(field: &str, max: u64) -> Result<u64, String> {
    if field.is_empty() || field.len() > 20 || !field.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "not a .NET time span [d.]hh:mm[:ss[.fffffff]]; {DURATION_HELP}"
        ));
    }
    let number: u64 = field.parse().map_err(|_| "too large".to_owned())?;
    if number > max {
        return Err(format!(
            "field {field} is out of range (at most {max}) in a .NET time span"
        ));
    }
    Ok(number)
}

/// Replaces `//` and `/* */` comments outside strings by spaces (keeping newlines, so
/// the JSON parser's line and column numbers stay right). appsettings.json allows them.
fn strip_json_comments(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            out.push(b);
            if b == b'\\' && i + 1 < bytes.len() {
                out.push(bytes[i + 1]);
                i += 1;
            } else if b == b'"' {
                in_string = false;
            }
            i += 1;
        } else if b == b'"' {
            in_string = true;
            out.push(b);
            i += 1;
        } else if bytes[i..].starts_with(b"//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
        } else if bytes[i..].starts_with(b"/*") {
            let end = bytes[i + 2..]
                .windows(2)
                .position(|w| w == b"*/")
                .map_or(bytes.len(), |p| i + 2 + p + 2);
            for &c in &bytes[i..end] {
                out.push(if c == b'\n' { b'\n' } else { b' ' });
            }
            i = end;
        } else {
            out.push(b);
            i += 1;
        }
    }
    // Only ASCII bytes were replaced by ASCII bytes, so the text is still UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> SettingValue {
        SettingValue::Text(s.to_owned())
    }

    #[test]
    fn dotnet_spans() {
        let d = |s| parse_duration(&text(s));
        assert_eq!(d("00:00:15"), Ok(Duration::from_secs(15)));
        assert_eq!(d("00:05:00"), Ok(Duration::from_secs(300)));
        assert_eq!(d("01:02"), Ok(Duration::from_secs(3720)));
        assert_eq!(d("1.02:00:00"), Ok(Duration::from_secs(93_600)));
        assert_eq!(d("00:00:01.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(d("00:00:00.0000001"), Ok(Duration::from_nanos(100)));
        assert!(d("00:60:00").unwrap_err().contains("out of range"));
        assert!(d("-00:00:15").unwrap_err().contains("negative"));
        assert!(d("00:00:15:00").is_err());
        assert!(d("aa:00:15").is_err());
        assert!(d("00:00:01.12345678").is_err());
    }

    #[test]
    fn human_durations_and_bare_numbers() {
        let d = |s| parse_duration(&text(s));
        assert_eq!(d("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(d("1m 30s"), Ok(Duration::from_secs(90)));
        assert_eq!(d("250ms"), Ok(Duration::from_millis(250)));
        assert!(d("15").unwrap_err().contains("no unit"));
        assert!(
            parse_duration(&SettingValue::Number("15".into()))
                .unwrap_err()
                .contains("no unit")
        );
        assert!(d("soon").is_err());
    }

    #[test]
    fn comments_are_stripped_outside_strings_only() {
        let stripped = strip_json_comments("{\"a\": \"//x/*y*/\", // c\n /* d\n */ \"b\": 1}");
        let value: serde_json::Value = serde_json::from_str(&stripped).unwrap();
        assert_eq!(value["a"], "//x/*y*/");
        assert_eq!(value["b"], 1);
        assert_eq!(stripped.matches('\n').count(), 2);
    }

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

    #[test]
    fn window_slots_round_up() {
        assert_eq!(
            window_slots(Duration::from_secs(300), Duration::from_secs(15)),
            20
        );
        assert_eq!(
            window_slots(Duration::from_secs(60), Duration::from_secs(7)),
            9
        );
    }
}
