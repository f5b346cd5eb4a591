//! Checks of the options together, run by every source after its values are set. Each
//! option found wrong adds one error; all of them are reported.

use std::time::Duration;

use super::error::ConfigError;
use super::metrics_config::MetricsConfig;
use super::schema::ConfigOption;
use super::value_types::HistogramBuckets;
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

impl MetricsConfig {
    /// Options that need a Cargo feature which is off.
    fn check_features(&self, origin: &str, problems: &mut Vec<ConfigError>) {
        let mut needs = |on: bool, feature: &'static str, needed_for: &str| {
            if !on {
                problems.push(ConfigError::FeatureDisabled {
                    feature,
                    needed_for: needed_for.to_owned(),
                    origin: origin.to_owned(),
                });
            }
        };
        let serving = cfg!(any(feature = "http-listener", feature = "axum"));
        if self.listen.is_some() {
            needs(cfg!(feature = "http-listener"), "`http-listener`", "Listen");
        }
        if self.tls_certificate.is_some() || self.tls_private_key.is_some() {
            needs(
                cfg!(feature = "tls"),
                "`tls`",
                "TlsCertificate/TlsPrivateKey",
            );
        }
        if self.push_gateway.is_some() {
            needs(
                cfg!(feature = "push-gateway"),
                "`push-gateway`",
                "PushGateway",
            );
        }
        for (set, option) in [
            (self.bearer_token.is_some(), ConfigOption::BearerToken),
            (
                self.basic_auth_username.is_some(),
                ConfigOption::BasicAuthUsername,
            ),
            (
                !self.allowed_networks.is_empty(),
                ConfigOption::AllowedNetworks,
            ),
            (
                self.rate_limit_per_minute.is_some(),
                ConfigOption::RateLimitPerMinute,
            ),
        ] {
            if set {
                needs(serving, "`http-listener` or `axum`", option.name());
            }
        }
        if self.facade_recorder {
            needs(
                cfg!(feature = "recorder"),
                "`recorder`",
                "FacadeRecorder = true",
            );
        }
        if self.native_histograms {
            needs(
                cfg!(feature = "protobuf"),
                "`protobuf`",
                "NativeHistograms = true",
            );
        }
        if self.facade_histogram_buckets != HistogramBuckets::default() {
            needs(
                cfg!(feature = "recorder"),
                "`recorder`",
                "FacadeHistogramBuckets",
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

    /// The features an error asks for, from every error of `result`.
    #[allow(dead_code)] // used only by the tests of features that are off
    fn features_asked(result: Result<MetricsConfig, ConfigError>) -> Vec<(&'static str, String)> {
        let error = result.expect_err("a disabled part must be an error");
        error
            .problems()
            .iter()
            .map(|problem| match problem {
                ConfigError::FeatureDisabled {
                    feature,
                    needed_for,
                    ..
                } => (*feature, needed_for.clone()),
                other => panic!("expected a disabled feature, got {other}"),
            })
            .collect()
    }

    #[allow(dead_code)]
    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[cfg(not(feature = "http-listener"))]
    #[test]
    fn listen_needs_the_http_listener_feature_from_every_source() {
        assert_eq!(MetricsConfig::default().listen(), None);
        let wanted = vec![("`http-listener`", "Listen".to_owned())];
        let builder = MetricsConfig::builder().listen("127.0.0.1:9000".parse().unwrap());
        assert_eq!(features_asked(builder.build()), wanted);
        let file = MetricsConfig::from_json_str(r#"{"Listen": "127.0.0.1:9000"}"#, "a.json");
        assert_eq!(features_asked(file), wanted);
        let env =
            MetricsConfig::default().with_vars(vars(&[("CONDUIT_METRICS_LISTEN", "127.0.0.1:0")]));
        assert_eq!(features_asked(env), wanted);
        let message = MetricsConfig::builder()
            .listen("127.0.0.1:9000".parse().unwrap())
            .build()
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "Listen (from builder) needs the `http-listener` feature of conduit-metrics-runtime, which is off: enable it in Cargo.toml, or remove the option"
        );
    }

    #[cfg(not(feature = "tls"))]
    #[test]
    fn tls_files_need_the_tls_feature_from_every_source() {
        let wanted = ("`tls`", "TlsCertificate/TlsPrivateKey".to_owned());
        let builder = MetricsConfig::builder().tls("cert.pem", "key.pem").build();
        assert!(features_asked(builder).contains(&wanted));
        let file = MetricsConfig::from_json_str(
            r#"{"PrometheusMetrics": {"TlsCertificate": "c.pem", "TlsPrivateKey": "k.pem"}}"#,
            "appsettings.json",
        );
        assert!(features_asked(file).contains(&wanted));
        let env = MetricsConfig::default().with_vars(vars(&[
            ("CONDUIT_METRICS_TLS_CERTIFICATE", "c.pem"),
            ("CONDUIT_METRICS_TLS_PRIVATE_KEY", "k.pem"),
        ]));
        assert!(features_asked(env).contains(&wanted));
    }

    #[cfg(not(feature = "push-gateway"))]
    #[test]
    fn push_needs_the_push_gateway_feature_from_every_source() {
        let wanted = vec![("`push-gateway`", "PushGateway".to_owned())];
        let url = "http://127.0.0.1:9091";
        assert_eq!(
            features_asked(MetricsConfig::builder().push_gateway(url).build()),
            wanted
        );
        let file =
            MetricsConfig::from_json_str(&format!(r#"{{"PushGateway": "{url}"}}"#), "a.json");
        assert_eq!(features_asked(file), wanted);
        let env =
            MetricsConfig::default().with_vars(vars(&[("CONDUIT_METRICS_PUSH_GATEWAY", url)]));
        assert_eq!(features_asked(env), wanted);
    }

    #[cfg(not(feature = "recorder"))]
    #[test]
    fn the_facade_recorder_needs_the_recorder_feature_from_every_source() {
        assert!(!MetricsConfig::default().facade_recorder());
        let wanted = vec![("`recorder`", "FacadeRecorder = true".to_owned())];
        assert_eq!(
            features_asked(MetricsConfig::builder().facade_recorder(true).build()),
            wanted
        );
        let file = MetricsConfig::from_json_str(r#"{"FacadeRecorder": true}"#, "a.json");
        assert_eq!(features_asked(file), wanted);
        let env = MetricsConfig::default()
            .with_vars(vars(&[("CONDUIT_METRICS_FACADE_RECORDER", "true")]));
        assert_eq!(features_asked(env), wanted);
        let buckets = MetricsConfig::builder()
            .facade_histogram_buckets([1.0])
            .build();
        assert_eq!(
            features_asked(buckets),
            vec![("`recorder`", "FacadeHistogramBuckets".to_owned())]
        );
    }

    #[cfg(not(feature = "protobuf"))]
    #[test]
    fn native_histograms_need_the_protobuf_feature_from_every_source() {
        assert!(!MetricsConfig::default().native_histograms());
        let wanted = vec![("`protobuf`", "NativeHistograms = true".to_owned())];
        assert_eq!(
            features_asked(MetricsConfig::builder().native_histograms(true).build()),
            wanted
        );
        let file = MetricsConfig::from_json_str(r#"{"NativeHistograms": true}"#, "a.json");
        assert_eq!(features_asked(file), wanted);
        let env = MetricsConfig::default()
            .with_vars(vars(&[("CONDUIT_METRICS_NATIVE_HISTOGRAMS", "on")]));
        assert_eq!(features_asked(env), wanted);
        // Off is what it is already: not an error.
        assert!(
            MetricsConfig::builder()
                .native_histograms(false)
                .build()
                .is_ok()
        );
    }

    #[cfg(not(any(feature = "http-listener", feature = "axum")))]
    #[test]
    fn lock_down_needs_a_server_feature() {
        let asked = features_asked(
            MetricsConfig::builder()
                .bearer_token("t")
                .rate_limit_per_minute(60)
                .build(),
        );
        assert_eq!(
            asked,
            vec![
                ("`http-listener` or `axum`", "BearerToken".to_owned()),
                ("`http-listener` or `axum`", "RateLimitPerMinute".to_owned()),
            ]
        );
    }

    #[cfg(not(feature = "toml"))]
    #[test]
    fn toml_files_need_the_toml_feature() {
        let dir = std::env::temp_dir().join(format!("conduit-metrics-toml-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("metrics.toml");
        std::fs::write(&path, "export_interval = \"15s\"\n").unwrap();
        let error = MetricsConfig::from_file(&path).unwrap_err();
        assert!(
            matches!(
                error,
                ConfigError::FeatureDisabled {
                    feature: "`toml`",
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.to_string().contains("metrics.toml"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_defaults_need_no_feature_that_is_off() {
        MetricsConfig::builder().build().unwrap();
    }
}
