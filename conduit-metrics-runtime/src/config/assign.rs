//! `assign`: the single place a raw value from any source (file, environment, builder)
//! becomes an option's value, so a bad value gets the same error whatever its source.

use std::path::PathBuf;

use super::error::ConfigError;
use super::metrics_config::MetricsConfig;
use super::parse::{SettingValue, parse_duration};
use super::schema::ConfigOption;
use super::value_types::{HistogramBuckets, Secret};
use crate::limits::{MAX_MODELS_LIMIT, MAX_PROVIDERS_LIMIT};

impl MetricsConfig {
    /// Sets one option from a raw value; the single place values are interpreted.
    pub(super) fn set(
        &mut self,
        option: ConfigOption,
        value: &SettingValue,
        origin: &str,
    ) -> Result<(), ConfigError> {
        let shown = option.shown(value.as_written());
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
            ConfigOption::ModelLabel => {
                self.model_label = parse_bool(text).ok_or_else(|| invalid(BOOL.to_owned()))?
            }
            ConfigOption::MaxModels => {
                self.max_models = text.parse().map_err(|_| {
                    invalid(format!(
                        "expected a whole number from 1 to {MAX_MODELS_LIMIT}"
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
            ConfigOption::TlsClientCaCertificate => {
                self.tls_client_ca_certificate = optional_text().map(PathBuf::from)
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
            ConfigOption::PushBearerToken => {
                self.push_bearer_token = optional_text().map(Secret::new)
            }
            ConfigOption::PushUsername => self.push_username = optional_text(),
            ConfigOption::PushPassword => self.push_password = optional_text().map(Secret::new),
            ConfigOption::PushCaCertificate => {
                self.push_ca_certificate = optional_text().map(PathBuf::from)
            }
            ConfigOption::OtlpEndpoint => {
                self.otlp_endpoint = match optional_text() {
                    None => None,
                    Some(url) => Some(url.parse().map_err(|_: String| {
                        invalid("expected an http or https URL with host and port, such as http://127.0.0.1:4318/v1/metrics".to_owned())
                    })?),
                }
            }
            ConfigOption::OtlpHeaders => {
                self.otlp_headers = key_values(text)
                    .map_err(invalid)?
                    .into_iter()
                    .map(|(key, value)| (key, Secret::new(value)))
                    .collect()
            }
            ConfigOption::OtlpTimeout => {
                self.otlp_timeout = parse_duration(value).map_err(invalid)?
            }
            ConfigOption::OtlpExportInterval => {
                self.otlp_export_interval = Some(parse_duration(value).map_err(invalid)?)
            }
            ConfigOption::OtlpServiceName => self.otlp_service_name = optional_text(),
            ConfigOption::OtlpResourceAttributes => {
                self.otlp_resource_attributes = key_values(text).map_err(invalid)?
            }
            ConfigOption::OtlpCaCertificate => {
                self.otlp_ca_certificate = optional_text().map(PathBuf::from)
            }
            ConfigOption::OtlpClientCertificate => {
                self.otlp_client_certificate = optional_text().map(PathBuf::from)
            }
            ConfigOption::OtlpClientKey => self.otlp_client_key = optional_text().map(PathBuf::from),
            ConfigOption::FacadeRecorder => {
                self.facade_recorder = parse_bool(text).ok_or_else(|| invalid(BOOL.to_owned()))?
            }
            ConfigOption::NativeHistograms => {
                self.native_histograms = parse_bool(text).ok_or_else(|| invalid(BOOL.to_owned()))?
            }
            ConfigOption::NativeHistogramSchema => {
                self.native_histogram_schema = text.parse().map_err(|_| {
                    invalid("expected a whole number from -4 to 8, such as 3".to_owned())
                })?
            }
            ConfigOption::NativeHistogramMaxBuckets => {
                self.native_histogram_max_buckets = text.parse().map_err(|_| {
                    invalid("expected a whole number of buckets, such as 160".to_owned())
                })?
            }
            ConfigOption::HealthProbeShare => {
                self.health_probe_share = text.parse().map_err(|_| {
                    invalid(
                        "expected a number from 0 to 1, such as 0.25 for one replica in four"
                            .to_owned(),
                    )
                })?;
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

const BOOL: &str = "expected true or false";

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "1" => Some(true),
        "false" | "off" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// `key=value` pairs separated by commas (OpenTelemetry's form of headers and resource
/// attributes; values are percent-decoded). Empty text is no pair.
fn key_values(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(format!(
                "expected key=value pairs separated by commas; `{}` has no `=`",
                pair.split_once(' ').map_or(pair, |p| p.0)
            ));
        };
        let key = key.trim();
        let valid = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b',' | b';' | b'='));
        if !valid {
            return Err(format!("`{key}` is not a valid key"));
        }
        pairs.push((key.to_owned(), percent_decode(value.trim())?));
    }
    Ok(pairs)
}

fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = text
                .get(index + 1..index + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or_else(|| "a `%` must be followed by two hex digits".to_owned())?;
            out.push(hex);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the decoded value is not UTF-8".to_owned())
}
