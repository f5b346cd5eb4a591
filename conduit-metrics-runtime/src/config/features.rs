//! Checks that the options ask only for parts whose Cargo feature is compiled in: each
//! option that needs a feature which is off is an error naming the feature to enable.

use super::error::ConfigError;
use super::metrics_config::MetricsConfig;
use super::schema::ConfigOption;
use super::value_types::HistogramBuckets;

impl MetricsConfig {
    /// Options that need a Cargo feature which is off.
    pub(super) fn check_features(&self, origin: &str, problems: &mut Vec<ConfigError>) {
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
        if self.otlp_endpoint.is_some() {
            needs(cfg!(feature = "otlp"), "`otlp`", "OtlpEndpoint");
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

#[cfg(test)]
mod tests {
    use super::*;

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
