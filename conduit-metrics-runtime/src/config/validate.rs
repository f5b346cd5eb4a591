//! Checks of the options together, run by every source after its values are set. Each
//! option found wrong adds one error; all of them are reported.

use std::time::Duration;

use super::error::ConfigError;
use super::option::ConfigOption;
use super::settings::MetricsConfig;
use crate::limits::{MAX_PROVIDERS_LIMIT, MAX_WINDOW_SLOTS};

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
        if !(1..=MAX_PROVIDERS_LIMIT).contains(&self.max_providers) {
            invalid(
                ConfigOption::MaxProviders,
                self.max_providers.to_string(),
                format!("expected a whole number from 1 to {MAX_PROVIDERS_LIMIT}"),
            );
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
        match (&self.tls_certificate, &self.tls_private_key) {
            (Some(cert), None) => {
                invalid(
                    ConfigOption::TlsPrivateKey,
                    String::new(),
                    format!(
                        "TlsCertificate ({}) is set, so TlsPrivateKey must be too",
                        cert.display()
                    ),
                );
            }
            (None, Some(key)) => {
                invalid(
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
