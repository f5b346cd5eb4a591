//! Checks of the options together, run by every source after its values are set. Each
//! option found wrong adds one error; all of them are reported.

use std::time::Duration;

use super::error::ConfigError;
use super::metrics_config::MetricsConfig;
use super::schema::ConfigOption;
use crate::limits::{
    MAX_MODELS_LIMIT, MAX_NATIVE_BUCKETS, MAX_PROVIDERS_LIMIT, MAX_SCHEMA, MAX_WINDOW_SLOTS,
    MIN_SCHEMA,
};

impl MetricsConfig {
    /// Checks the options together, adding one error per option found wrong to
    /// `problems`.
    pub(super) fn check(&self, origin: &str, problems: &mut Vec<ConfigError>) {
        let mut invalid = |option: ConfigOption, value: String, reason: String| {
            problems.push(ConfigError::InvalidValue {
                option,
                value,
                origin: origin.to_owned(),
                reason,
            })
        };
        let shown = |d: Duration| humantime::format_duration(d).to_string();
        if self.export_interval.is_zero() {
            invalid(
                ConfigOption::ExportInterval,
                shown(self.export_interval),
                "must be greater than zero".to_owned(),
            );
        } else if self.metrics_window < self.export_interval {
            invalid(
                ConfigOption::MetricsWindow,
                shown(self.metrics_window),
                format!(
                    "must be at least ExportInterval ({})",
                    shown(self.export_interval)
                ),
            );
        } else if window_slots(self.metrics_window, self.export_interval) > MAX_WINDOW_SLOTS {
            invalid(
                ConfigOption::MetricsWindow,
                shown(self.metrics_window),
                format!(
                    "must be at most {MAX_WINDOW_SLOTS} times ExportInterval ({})",
                    shown(self.export_interval)
                ),
            );
        }
        if !(MIN_SCHEMA..=MAX_SCHEMA).contains(&self.native_histogram_schema) {
            invalid(
                ConfigOption::NativeHistogramSchema,
                self.native_histogram_schema.to_string(),
                format!(
                    "must be from {MIN_SCHEMA} (buckets 2^16 times their lower bound) to {MAX_SCHEMA} (0.27% wide), the schemas Prometheus accepts"
                ),
            );
        }
        if !(1..=MAX_NATIVE_BUCKETS).contains(&self.native_histogram_max_buckets) {
            invalid(
                ConfigOption::NativeHistogramMaxBuckets,
                self.native_histogram_max_buckets.to_string(),
                format!("must be from 1 to {MAX_NATIVE_BUCKETS} buckets"),
            );
        }
        if !(0.0..=1.0).contains(&self.health_probe_share) {
            invalid(
                ConfigOption::HealthProbeShare,
                self.health_probe_share.to_string(),
                "must be a number from 0 (never) to 1 (every ExportInterval)".to_owned(),
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
            invalid(
                ConfigOption::Path,
                self.path.clone(),
                "expected an absolute URL path such as /metrics (no spaces, query or fragment, at most 256 bytes)".to_owned(),
            );
        }
        // The cardinality bounds of the `provider` and `model` labels.
        for (option, value, limit) in [
            (
                ConfigOption::MaxProviders,
                self.max_providers,
                MAX_PROVIDERS_LIMIT,
            ),
            (ConfigOption::MaxModels, self.max_models, MAX_MODELS_LIMIT),
        ] {
            if !(1..=limit).contains(&value) {
                let expected = format!("expected a whole number from 1 to {limit}");
                invalid(option, value.to_string(), expected);
            }
        }
        match (&self.basic_auth_username, &self.basic_auth_password) {
            (Some(user), None) => {
                invalid(
                    ConfigOption::BasicAuthPassword,
                    String::new(),
                    format!("BasicAuthUsername ({user}) is set, so BasicAuthPassword must be too"),
                );
            }
            (None, Some(_)) => {
                invalid(
                    ConfigOption::BasicAuthUsername,
                    String::new(),
                    "BasicAuthPassword is set, so BasicAuthUsername must be too".to_owned(),
                );
            }
            (Some(user), Some(_)) if user.contains(':') => {
                invalid(
                    ConfigOption::BasicAuthUsername,
                    user.clone(),
                    "a basic auth user name cannot contain ':'".to_owned(),
                );
            }
            _ => {}
        }
        // Files that go in pairs: both or neither.
        let pairs = [
            (
                (ConfigOption::TlsCertificate, &self.tls_certificate),
                (ConfigOption::TlsPrivateKey, &self.tls_private_key),
            ),
            (
                (
                    ConfigOption::OtlpClientCertificate,
                    &self.otlp_client_certificate,
                ),
                (ConfigOption::OtlpClientKey, &self.otlp_client_key),
            ),
        ];
        for ((first, first_path), (second, second_path)) in pairs {
            match (first_path, second_path) {
                (Some(path), None) => invalid(
                    second,
                    String::new(),
                    format!(
                        "{first} ({}) is set, so {second} must be too",
                        path.display()
                    ),
                ),
                (None, Some(path)) => invalid(
                    first,
                    String::new(),
                    format!(
                        "{second} ({}) is set, so {first} must be too",
                        path.display()
                    ),
                ),
                _ => {}
            }
        }
        let label_ok = |text: &str| {
            !text.is_empty()
                && text.len() <= 128
                && !text.contains('/')
                && !text.chars().any(char::is_control)
        };
        if !label_ok(&self.push_job) {
            invalid(
                ConfigOption::PushJob,
                self.push_job.clone(),
                "expected a non-empty job name without '/' or control characters (at most 128 bytes)".to_owned(),
            );
        }
        if let Some(instance) = &self.push_instance {
            if !label_ok(instance) {
                invalid(
                    ConfigOption::PushInstance,
                    instance.clone(),
                    "expected an instance name without '/' or control characters (at most 128 bytes)".to_owned(),
                );
            }
        }
        match (&self.push_username, &self.push_password) {
            (Some(user), None) => invalid(
                ConfigOption::PushPassword,
                String::new(),
                format!("PushUsername ({user}) is set, so PushPassword must be too"),
            ),
            (None, Some(_)) => invalid(
                ConfigOption::PushUsername,
                String::new(),
                "PushPassword is set, so PushUsername must be too".to_owned(),
            ),
            (Some(user), Some(_)) if user.contains(':') => invalid(
                ConfigOption::PushUsername,
                user.clone(),
                "a basic auth user name cannot contain ':'".to_owned(),
            ),
            _ => {}
        }
        if self.push_bearer_token.is_some() && self.push_username.is_some() {
            invalid(
                ConfigOption::PushBearerToken,
                ConfigOption::PushBearerToken.shown(""),
                "give the Pushgateway a bearer token or basic auth, not both".to_owned(),
            );
        }
        if let Some(ca) = &self.push_ca_certificate {
            if !self
                .push_gateway
                .as_ref()
                .is_some_and(|gateway| gateway.https)
            {
                invalid(
                    ConfigOption::PushCaCertificate,
                    ca.display().to_string(),
                    "a CA is only used with an https PushGateway".to_owned(),
                );
            }
        }
        if let Some(ca) = &self.tls_client_ca_certificate {
            if self.tls_certificate.is_none() {
                invalid(
                    ConfigOption::TlsClientCaCertificate,
                    ca.display().to_string(),
                    "client certificates are checked over TLS: set TlsCertificate and TlsPrivateKey too".to_owned(),
                );
            }
        }
        let buckets = self.facade_histogram_buckets.bounds();
        let increasing = buckets.windows(2).all(|pair| pair[0] < pair[1]);
        if buckets.is_empty() || !increasing || !buckets.iter().all(|b| b.is_finite()) {
            invalid(
                ConfigOption::FacadeHistogramBuckets,
                buckets
                    .iter()
                    .map(f64::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                "expected at least one finite bound, in strictly increasing order".to_owned(),
            );
        }
        self.check_features(origin, problems);
    }
}

pub(super) fn window_slots(window: Duration, interval: Duration) -> u64 {
    if interval.is_zero() {
        return u64::MAX;
    }
    let slots = window.as_nanos().div_ceil(interval.as_nanos());
    u64::try_from(slots).unwrap_or(u64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

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
