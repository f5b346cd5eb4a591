//! The loaders: files (JSON and TOML), environment variables, and `set`, the single
//! place a raw value from any source becomes an option's value.

use std::path::{Path, PathBuf};

use super::error::ConfigError;
use super::option::{APPSETTINGS_SECTION, ConfigOption, ENV_PREFIX};
use super::parse::{SettingValue, parse_duration, strip_json_comments};
use super::settings::MetricsConfig;
use super::values::{HistogramBuckets, Secret};
use crate::limits::MAX_PROVIDERS_LIMIT;

impl MetricsConfig {
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
        let mut problems = Vec::new();
        for (key, value) in vars {
            let Some(suffix) = key.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let Some(option) = ConfigOption::ALL
                .into_iter()
                .find(|option| option.snake_name().eq_ignore_ascii_case(suffix))
            else {
                problems.push(ConfigError::UnknownOption {
                    key,
                    origin: "the environment".to_owned(),
                });
                continue;
            };
            if let Err(error) = self.set(option, &SettingValue::Text(value), &key) {
                problems.push(error);
            }
        }
        self.check("the environment", &mut problems);
        ConfigError::from_all(problems)?;
        Ok(self)
    }

    /// Reads a configuration file: `.json` (the guide's `appsettings.json` with a
    /// `PrometheusMetrics` section, `//` comments allowed, or a flat object of options)
    /// or `.toml` (a `[PrometheusMetrics]` table or top-level options; needs the `toml`
    /// feature, else an `Err` says so). Durations may be
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
        match is_toml {
            #[cfg(feature = "toml")]
            true => Self::from_toml_str(&text, &shown),
            #[cfg(not(feature = "toml"))]
            true => Err(ConfigError::FeatureDisabled {
                feature: "`toml`",
                needed_for: "a TOML configuration file".to_owned(),
                origin: shown,
            }),
            false => Self::from_json_str(&text, &shown),
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
    #[cfg(feature = "toml")]
    #[cfg_attr(docsrs, doc(cfg(feature = "toml")))]
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
        let mut problems = Vec::new();
        for (key, value) in section {
            let Some(option) = ConfigOption::from_key(&key) else {
                problems.push(ConfigError::UnknownOption {
                    key,
                    origin: origin.to_owned(),
                });
                continue;
            };
            let value = match value {
                serde_json::Value::String(text) => SettingValue::Text(text),
                serde_json::Value::Number(number) => SettingValue::Number(number.to_string()),
                serde_json::Value::Bool(flag) => SettingValue::Text(flag.to_string()),
                // Lists (AllowedNetworks, FacadeHistogramBuckets) may be arrays of strings
                // or numbers, or one comma-separated string.
                serde_json::Value::Array(items)
                    if items
                        .iter()
                        .all(|item| item.is_string() || item.is_number()) =>
                {
                    SettingValue::Text(
                        items
                            .iter()
                            .map(|item| match item {
                                serde_json::Value::String(text) => text.clone(),
                                other => other.to_string(),
                            })
                            .collect::<Vec<_>>()
                            .join(","),
                    )
                }
                other => SettingValue::Other(other.to_string()),
            };
            if let Err(error) = config.set(option, &value, origin) {
                problems.push(error);
            }
        }
        config.check(origin, &mut problems);
        ConfigError::from_all(problems)?;
        Ok(config)
    }

    /// Sets one option from a raw value; the single place values are interpreted.
    pub(super) fn set(
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
            ConfigOption::FacadeRecorder => {
                self.facade_recorder = match text.to_ascii_lowercase().as_str() {
                    "true" | "on" | "yes" | "1" => true,
                    "false" | "off" | "no" | "0" => false,
                    _ => return Err(invalid("expected true or false".to_owned())),
                }
            }
            ConfigOption::FacadeHistogramBuckets => {
                let bounds = text
                    .split(',')
                    .map(str::trim)
                    .filter(|part| !part.is_empty())
                    .map(|part| part.parse::<f64>().map_err(|_| part))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|part| {
                        invalid(format!(
                            "`{part}` is not a number; expected bucket bounds such as \"0.1, 0.5, 1, 5\""
                        ))
                    })?;
                self.facade_histogram_buckets = HistogramBuckets::new(bounds);
            }
        }
        Ok(())
    }
}
