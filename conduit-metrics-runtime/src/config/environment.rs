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
        for (key, value) in vars {
            if let Some(suffix) = key.strip_prefix(ENV_PREFIX) {
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
        // .NET's form first, so this crate's own form wins where both are set.
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
