//! Environment variables: this crate's `CONDUIT_METRICS_EXPORT_INTERVAL` form, and the
//! form .NET's configuration reads, `PrometheusMetrics__ExportInterval` (section and
//! option separated by `__`, any case; list items as `PrometheusMetrics__AllowedNetworks__0`).
//! When both name an option, the `CONDUIT_METRICS_` variable wins: it is this crate's own.

use std::collections::BTreeMap;

use super::error::ConfigError;
use super::metrics_config::MetricsConfig;
use super::parse::SettingValue;
use super::schema::{APPSETTINGS_SECTION, ConfigOption, ENV_PREFIX};

/// Where errors say environment values come from.
const ORIGIN: &str = "the environment";

impl MetricsConfig {
    /// The defaults overridden by environment variables: `CONDUIT_METRICS_*`, and .NET's
    /// `PrometheusMetrics__*` (see [`with_vars`](Self::with_vars)).
    ///
    /// An unknown `CONDUIT_METRICS_` or `PrometheusMetrics__` variable is an error, so a
    /// typo does not silently leave a default in place.
    pub fn from_env() -> Result<Self, ConfigError> {
        MetricsConfig::default().with_env_overrides()
    }

    /// This configuration with the environment variables applied on top.
    pub fn with_env_overrides(self) -> Result<Self, ConfigError> {
        self.with_vars(std::env::vars_os().filter_map(|(key, value)| {
            Some((
                key.into_string().ok()?,
                value.to_string_lossy().into_owned(),
            ))
        }))
    }

    /// This configuration with the given variables applied on top: `CONDUIT_METRICS_*`
    /// (`CONDUIT_METRICS_EXPORT_INTERVAL=30s`) and .NET's `PrometheusMetrics__*`
    /// (`PrometheusMetrics__ExportInterval=00:00:30`, any case; a list option also as
    /// indexed items, `PrometheusMetrics__AllowedNetworks__0=10.0.0.0/8`). Where both forms
    /// name an option, `CONDUIT_METRICS_` wins. Other variables are ignored. What
    /// [`with_env_overrides`](Self::with_env_overrides) uses, exposed so the mapping can be
    /// tested without touching the process environment.
    pub fn with_vars(
        mut self,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut problems = Vec::new();
        let mut dotnet: BTreeMap<ConfigOption, DotnetValue> = BTreeMap::new();
        let mut own: Vec<(ConfigOption, String, String)> = Vec::new();
        let mut otel: BTreeMap<String, String> = BTreeMap::new();
        for (key, value) in vars {
            if key.starts_with("OTEL_") {
                otel.insert(key, value);
            } else if let Some(suffix) = key.strip_prefix(ENV_PREFIX) {
                match ConfigOption::ALL
                    .into_iter()
                    .find(|option| option.snake_name().eq_ignore_ascii_case(suffix))
                {
                    Some(option) => own.push((option, key, value)),
                    None => problems.push(unknown(key)),
                }
            } else if let Some(rest) = strip_dotnet_section(&key) {
                let mut parts = rest.split("__");
                let name = parts.next().unwrap_or_default();
                let index = parts.next();
                let option = ConfigOption::from_key(name).filter(|_| parts.next().is_none());
                match (option, index) {
                    (Some(option), None) => {
                        dotnet.entry(option).or_default().whole = Some((key, value));
                    }
                    (Some(option), Some(index)) if option.is_list() => {
                        match index.parse::<usize>() {
                            Ok(index) => {
                                dotnet
                                    .entry(option)
                                    .or_default()
                                    .items
                                    .insert(index, (key, value));
                            }
                            Err(_) => problems.push(unknown(key)),
                        }
                    }
                    _ => problems.push(unknown(key)),
                }
            }
        }
        // OpenTelemetry's variables first, then .NET's form, so this crate's own form wins
        // where several are set.
        for (option, key, text) in otel_settings(&otel) {
            let result = match text {
                Ok(text) => self.set(option, &SettingValue::Text(text), &key),
                Err(value) => Err(ConfigError::InvalidValue {
                    option,
                    value,
                    origin: key.clone(),
                    reason: "expected milliseconds, a whole number".to_owned(),
                }),
            };
            if let Err(error) = result {
                problems.push(error);
            }
        }
        for (option, value) in dotnet {
            let (key, text) = value.into_setting();
            if let Err(error) = self.set(option, &SettingValue::Text(text), &key) {
                problems.push(error);
            }
        }
        for (option, key, value) in own {
            if let Err(error) = self.set(option, &SettingValue::Text(value), &key) {
                problems.push(error);
            }
        }
        self.check(ORIGIN, &mut problems);
        ConfigError::from_all(problems)?;
        Ok(self)
    }
}

/// The options OpenTelemetry's own variables set, as OpenTelemetry SDKs read them: the
/// metrics-specific variable over the generic one, the generic endpoint with
/// `/v1/metrics` appended, durations in milliseconds. Each comes with the variable it was
/// read from (errors name it), and its text, or the value that is not milliseconds.
fn otel_settings(
    vars: &BTreeMap<String, String>,
) -> Vec<(ConfigOption, String, Result<String, String>)> {
    let pick = |specific: &str, generic: &str| {
        vars.get_key_value(specific)
            .or_else(|| vars.get_key_value(generic))
            .map(|(key, value)| (key.clone(), value.clone()))
    };
    let millis = |(key, value): (String, String)| {
        let text = match value.trim().parse::<u64>() {
            Ok(ms) => Ok(format!("{ms}ms")),
            Err(_) => Err(value),
        };
        (key, text)
    };
    let mut settings = Vec::new();
    if let Some((key, url)) = vars.get_key_value("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") {
        settings.push((ConfigOption::OtlpEndpoint, key.clone(), Ok(url.clone())));
    } else if let Some((key, base)) = vars.get_key_value("OTEL_EXPORTER_OTLP_ENDPOINT") {
        let url = format!("{}/v1/metrics", base.trim().trim_end_matches('/'));
        settings.push((ConfigOption::OtlpEndpoint, key.clone(), Ok(url)));
    }
    let plain = [
        (
            ConfigOption::OtlpHeaders,
            "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
            "OTEL_EXPORTER_OTLP_HEADERS",
        ),
        (
            ConfigOption::OtlpCaCertificate,
            "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE",
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
        ),
        (
            ConfigOption::OtlpClientCertificate,
            "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE",
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
        ),
        (
            ConfigOption::OtlpClientKey,
            "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY",
            "OTEL_EXPORTER_OTLP_CLIENT_KEY",
        ),
        (
            ConfigOption::OtlpServiceName,
            "OTEL_SERVICE_NAME",
            "OTEL_SERVICE_NAME",
        ),
        (
            ConfigOption::OtlpResourceAttributes,
            "OTEL_RESOURCE_ATTRIBUTES",
            "OTEL_RESOURCE_ATTRIBUTES",
        ),
    ];
    for (option, specific, generic) in plain {
        if let Some((key, value)) = pick(specific, generic) {
            settings.push((option, key, Ok(value)));
        }
    }
    let durations = [
        (
            ConfigOption::OtlpTimeout,
            "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
            "OTEL_EXPORTER_OTLP_TIMEOUT",
        ),
        (
            ConfigOption::OtlpExportInterval,
            "OTEL_METRIC_EXPORT_INTERVAL",
            "OTEL_METRIC_EXPORT_INTERVAL",
        ),
    ];
    for (option, specific, generic) in durations {
        if let Some(found) = pick(specific, generic) {
            let (key, text) = millis(found);
            settings.push((option, key, text));
        }
    }
    settings
}

/// One option from .NET-form variables: set whole, or as indexed list items (whole wins).
#[derive(Default)]
struct DotnetValue {
    whole: Option<(String, String)>,
    items: BTreeMap<usize, (String, String)>,
}

impl DotnetValue {
    /// The variable to name in errors, and the value text.
    fn into_setting(self) -> (String, String) {
        if let Some(whole) = self.whole {
            return whole;
        }
        let key = self
            .items
            .values()
            .next()
            .map(|(key, _)| key.clone())
            .unwrap_or_default();
        let text = self
            .items
            .into_values()
            .map(|(_, value)| value)
            .collect::<Vec<_>>()
            .join(",");
        (key, text)
    }
}

/// The rest of a `PrometheusMetrics__...` variable (the section in any case).
fn strip_dotnet_section(key: &str) -> Option<&str> {
    let (section, rest) = key.split_once("__")?;
    section
        .eq_ignore_ascii_case(APPSETTINGS_SECTION)
        .then_some(rest)
}

fn unknown(key: String) -> ConfigError {
    ConfigError::UnknownOption {
        key,
        origin: ORIGIN.to_owned(),
    }
}
