//! Configuration from the guide's appsettings.json, TOML, JSON, the environment and the
//! builder; every bad value is an error naming the option and the value.

use std::time::Duration;

use conduit_metrics_runtime::config::ConfigOption;
use conduit_metrics_runtime::{ConfigError, MetricsConfig};

fn write(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn the_guides_appsettings_json_verbatim() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/appsettings.guide.json"
    );
    let config = MetricsConfig::from_file(path).unwrap();
    assert_eq!(config.export_interval(), Duration::from_secs(15));
    assert_eq!(config.metrics_window(), Duration::from_secs(300));
    assert_eq!(config.cache_expiration(), Duration::from_secs(10));
    // Options the guide's file does not set keep their defaults.
    assert_eq!(config.listen().unwrap().to_string(), "127.0.0.1:9000");
    assert_eq!(config.path(), "/metrics");
    assert_eq!(config.max_providers(), 32);
}

#[test]
fn the_guides_programmatic_example_as_a_builder() {
    let config = MetricsConfig::builder()
        .export_interval(Duration::from_secs(30))
        .metrics_window(Duration::from_secs(600))
        .cache_expiration(Duration::from_secs(5))
        .build()
        .unwrap();
    assert_eq!(config.export_interval(), Duration::from_secs(30));
    assert_eq!(config.metrics_window(), Duration::from_secs(600));
    assert_eq!(config.cache_expiration(), Duration::from_secs(5));
}

#[test]
fn appsettings_with_other_sections_and_all_options() {
    let (_dir, path) = write(
        "appsettings.json",
        r#"{
          "Logging": { "LogLevel": { "Default": "Information" } },
          "PrometheusMetrics": {
            "ExportInterval": "00:00:30",
            "MetricsWindow": "00:10:00",
            "CacheExpiration": "00:00:05",
            "Listen": "0.0.0.0:9100",
            "Path": "/internal/metrics",
            "MaxProviders": 64
          }
        }"#,
    );
    let config = MetricsConfig::from_file(&path).unwrap();
    assert_eq!(config.export_interval(), Duration::from_secs(30));
    assert_eq!(config.metrics_window(), Duration::from_secs(600));
    assert_eq!(config.listen().unwrap().to_string(), "0.0.0.0:9100");
    assert_eq!(config.path(), "/internal/metrics");
    assert_eq!(config.max_providers(), 64);
}

#[test]
fn toml_with_human_durations() {
    let (_dir, path) = write(
        "metrics.toml",
        "export_interval = \"30s\"\nmetrics_window = \"10m\"\ncache_expiration = \"2s 500ms\"\nlisten = \"[::1]:0\"\nmax_providers = 8\n",
    );
    let config = MetricsConfig::from_file(&path).unwrap();
    assert_eq!(config.export_interval(), Duration::from_secs(30));
    assert_eq!(config.metrics_window(), Duration::from_secs(600));
    assert_eq!(config.cache_expiration(), Duration::from_millis(2500));
    assert_eq!(config.listen().unwrap().to_string(), "[::1]:0");
    assert_eq!(config.max_providers(), 8);

    let (_dir, path) = write(
        "metrics.toml",
        "[PrometheusMetrics]\nExportInterval = \"00:00:20\"\n",
    );
    assert_eq!(
        MetricsConfig::from_file(&path).unwrap().export_interval(),
        Duration::from_secs(20)
    );
}

#[test]
fn flat_json_with_human_durations() {
    let config =
        MetricsConfig::from_json_str(r#"{"metrics_window": "15m", "path": "/m"}"#, "inline")
            .unwrap();
    assert_eq!(config.metrics_window(), Duration::from_secs(900));
    assert_eq!(config.path(), "/m");
}

fn invalid(result: Result<MetricsConfig, ConfigError>) -> (ConfigOption, String, String) {
    match result {
        Err(ConfigError::InvalidValue {
            option,
            value,
            reason,
            ..
        }) => (option, value, reason),
        other => panic!("expected an invalid value, got {other:?}"),
    }
}

#[test]
fn bad_values_name_the_option_and_the_value() {
    let cases = [
        (
            r#"{"ExportInterval": "soon"}"#,
            ConfigOption::ExportInterval,
            "soon",
        ),
        (
            r#"{"ExportInterval": 15}"#,
            ConfigOption::ExportInterval,
            "15",
        ),
        (
            r#"{"ExportInterval": "00:00:00"}"#,
            ConfigOption::ExportInterval,
            "0s",
        ),
        (
            r#"{"MetricsWindow": "00:61:00"}"#,
            ConfigOption::MetricsWindow,
            "00:61:00",
        ),
        (
            r#"{"MetricsWindow": "5s"}"#,
            ConfigOption::MetricsWindow,
            "5s",
        ),
        (
            r#"{"CacheExpiration": "-00:00:01"}"#,
            ConfigOption::CacheExpiration,
            "-00:00:01",
        ),
        (
            r#"{"Listen": "localhost"}"#,
            ConfigOption::Listen,
            "localhost",
        ),
        (r#"{"Path": "metrics"}"#, ConfigOption::Path, "metrics"),
        (r#"{"MaxProviders": 0}"#, ConfigOption::MaxProviders, "0"),
        (
            r#"{"MaxProviders": "many"}"#,
            ConfigOption::MaxProviders,
            "many",
        ),
        (
            r#"{"MaxProviders": 100000}"#,
            ConfigOption::MaxProviders,
            "100000",
        ),
        (
            r#"{"ExportInterval": "1s", "MetricsWindow": "1d"}"#,
            ConfigOption::MetricsWindow,
            "1day",
        ),
    ];
    for (json, option, value) in cases {
        let (got_option, got_value, reason) =
            invalid(MetricsConfig::from_json_str(json, "test.json"));
        assert_eq!(
            (got_option, got_value.as_str()),
            (option, value),
            "{json}: {reason}"
        );
    }
    let error =
        MetricsConfig::from_json_str(r#"{"ExportInterval": "soon"}"#, "test.json").unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("invalid ExportInterval \"soon\" (from test.json): "),
        "{message}"
    );
    assert!(message.contains("\"15s\""), "{message}");
}

#[test]
fn unknown_keys_and_syntax_errors() {
    let error = MetricsConfig::from_json_str(
        r#"{"PrometheusMetrics": {"ExportIntervall": "00:00:15"}}"#,
        "appsettings.json",
    )
    .unwrap_err();
    assert!(matches!(&error, ConfigError::UnknownOption { key, .. } if key == "ExportIntervall"));
    assert!(
        error
            .to_string()
            .contains("known options: ExportInterval, MetricsWindow")
    );

    let error =
        MetricsConfig::from_json_str("{\n  \"Path\": \"/m\",,\n}", "broken.json").unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("broken.json is not valid JSON"),
        "{message}"
    );
    assert!(message.contains("line 2"), "{message}");

    let error = MetricsConfig::from_toml_str("path = ", "broken.toml").unwrap_err();
    assert!(error.to_string().contains("broken.toml is not valid TOML"));

    let error = MetricsConfig::from_json_str("[1, 2]", "list.json").unwrap_err();
    assert!(error.to_string().contains("top level must be an object"));

    let error = MetricsConfig::from_file("/nonexistent/appsettings.json").unwrap_err();
    assert!(
        error
            .to_string()
            .contains("cannot read metrics configuration /nonexistent/appsettings.json")
    );
}

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn environment_variables() {
    let config = MetricsConfig::default()
        .with_vars(vars(&[
            ("CONDUIT_METRICS_EXPORT_INTERVAL", "30s"),
            ("CONDUIT_METRICS_METRICS_WINDOW", "00:10:00"),
            ("CONDUIT_METRICS_CACHE_EXPIRATION", "0s"),
            ("CONDUIT_METRICS_LISTEN", "127.0.0.1:0"),
            ("CONDUIT_METRICS_PATH", "/custom"),
            ("CONDUIT_METRICS_MAX_PROVIDERS", "5"),
            ("PATH", "/usr/bin"),
        ]))
        .unwrap();
    assert_eq!(config.export_interval(), Duration::from_secs(30));
    assert_eq!(config.metrics_window(), Duration::from_secs(600));
    assert_eq!(config.cache_expiration(), Duration::ZERO);
    assert_eq!(config.listen().unwrap().port(), 0);
    assert_eq!(config.path(), "/custom");
    assert_eq!(config.max_providers(), 5);

    let error = MetricsConfig::default()
        .with_vars(vars(&[("CONDUIT_METRICS_EXPORT_INTERVAL", "fast")]))
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("invalid ExportInterval \"fast\" (from CONDUIT_METRICS_EXPORT_INTERVAL)"),
        "{error}"
    );
    let error = MetricsConfig::default()
        .with_vars(vars(&[("CONDUIT_METRICS_WINDOW", "5m")]))
        .unwrap_err();
    assert!(
        matches!(error, ConfigError::UnknownOption { ref key, .. } if key == "CONDUIT_METRICS_WINDOW")
    );
}

/// The option of each single error, in order.
fn options_of(error: &ConfigError) -> Vec<String> {
    error
        .problems()
        .iter()
        .map(|problem| match problem {
            ConfigError::InvalidValue { option, .. } => option.name().to_owned(),
            ConfigError::UnknownOption { key, .. } => format!("unknown {key}"),
            other => panic!("unexpected {other}"),
        })
        .collect()
}

#[test]
fn every_source_reports_every_mistake_not_only_the_first() {
    // Two bad text values and a check of the options together fail in the builder.
    let error = MetricsConfig::builder()
        .option(ConfigOption::Listen, "nowhere")
        .option(ConfigOption::RateLimitPerMinute, "lots")
        .path("metrics")
        .build()
        .unwrap_err();
    assert!(matches!(error, ConfigError::Several(ref all) if all.len() == 3));
    assert_eq!(options_of(&error), ["Listen", "RateLimitPerMinute", "Path"]);
    let message = error.to_string();
    assert!(
        message.starts_with("3 problems in the metrics configuration:\n  - invalid Listen \"nowhere\" (from builder)"),
        "{message}"
    );
    for problem in error.problems() {
        assert!(message.contains(&problem.to_string()), "{message}");
    }

    // A file: an unknown key, a bad value and a window shorter than the interval.
    let error = MetricsConfig::from_json_str(
        r#"{"PrometheusMetrics": {"ExportIntervall": "15s", "MaxProviders": "many",
            "ExportInterval": "00:01:00", "MetricsWindow": "00:00:30"}}"#,
        "appsettings.json",
    )
    .unwrap_err();
    let mut options = options_of(&error);
    options.sort();
    assert_eq!(
        options,
        ["MaxProviders", "MetricsWindow", "unknown ExportIntervall"]
    );
    assert!(
        error
            .problems()
            .iter()
            .all(|p| p.to_string().contains("(from appsettings.json)")),
        "{error}"
    );

    // The environment: an unknown variable and a bad value.
    let error = MetricsConfig::default()
        .with_vars(vars(&[
            ("CONDUIT_METRICS_WINDOW", "5m"),
            ("CONDUIT_METRICS_MAX_PROVIDERS", "0"),
        ]))
        .unwrap_err();
    assert_eq!(
        options_of(&error),
        ["unknown CONDUIT_METRICS_WINDOW", "MaxProviders"]
    );

    // One mistake stays a single error, not a list of one.
    let error = MetricsConfig::builder()
        .path("metrics")
        .build()
        .unwrap_err();
    assert!(matches!(error, ConfigError::InvalidValue { .. }), "{error}");
    assert_eq!(error.problems().len(), 1);
}

#[test]
fn appsettings_as_dotnet_reads_it() {
    // camelCase section and keys, trailing commas, both comment styles, other sections.
    let text = r#"{
      /* the application's own sections */
      "Logging": { "LogLevel": { "Default": "Warning", }, },
      "prometheusMetrics": {
        "exportInterval": "00:00:30", // .NET span
        "METRICSWINDOW": "00:10:00",
        "allowedNetworks": [ "10.0.0.0/8", "127.0.0.1", ],
      },
      "ConnectionStrings": { "Db": "Host=db" },
    }"#;
    let config = MetricsConfig::from_json_str(text, "appsettings.json").unwrap();
    assert_eq!(config.export_interval(), Duration::from_secs(30));
    assert_eq!(config.metrics_window(), Duration::from_secs(600));
    assert_eq!(config.allowed_networks().len(), 2);

    // .NET's flattened `Section:Key` form, and sections that differ in case only, merged
    // in order.
    let text = r#"{
      "PrometheusMetrics:ExportInterval": "00:00:20",
      "PROMETHEUSMETRICS": { "MaxProviders": 8 },
      "prometheusmetrics": { "maxProviders": 9 }
    }"#;
    let config = MetricsConfig::from_json_str(text, "appsettings.json").unwrap();
    assert_eq!(config.export_interval(), Duration::from_secs(20));
    assert_eq!(config.max_providers(), 9);

    // A flat file may hold other sections too; a scalar typo is still an error.
    let config = MetricsConfig::from_json_str(
        r#"{"Logging": {"LogLevel": {}}, "path": "/m",}"#,
        "flat.json",
    )
    .unwrap();
    assert_eq!(config.path(), "/m");
    let error = MetricsConfig::from_json_str(r#"{"Pathh": "/m"}"#, "flat.json").unwrap_err();
    assert!(
        matches!(error, ConfigError::UnknownOption { .. }),
        "{error}"
    );

    // Errors still name the option, the value and the source, with lines as written.
    let error = MetricsConfig::from_json_str(
        "{\n  \"prometheusMetrics\": {\n    \"exportInterval\": \"soon\", // typo\n  },\n}",
        "appsettings.json",
    )
    .unwrap_err();
    let message = error.to_string();
    let (option, value, reason) = invalid(Err(error));
    assert_eq!(
        (option, value.as_str()),
        (ConfigOption::ExportInterval, "soon")
    );
    assert!(reason.contains("expected a duration"), "{reason}");
    assert!(message.contains("(from appsettings.json)"), "{message}");
    let error =
        MetricsConfig::from_json_str("{\n  \"Path\": \"/m\",,\n}", "broken.json").unwrap_err();
    assert!(error.to_string().contains("line 2"), "{error}");
}

#[test]
fn the_environment_file_is_layered_on_appsettings() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("appsettings.json");
    std::fs::write(
        &base,
        r#"{"PrometheusMetrics": {"ExportInterval": "00:00:15", "Path": "/metrics",}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("appsettings.Production.json"),
        r#"{"prometheusMetrics": {"exportInterval": "00:01:00", "metricsWindow": "00:20:00"}}"#,
    )
    .unwrap();
    let production = MetricsConfig::from_appsettings(&base, Some("Production")).unwrap();
    assert_eq!(production.export_interval(), Duration::from_secs(60));
    assert_eq!(production.metrics_window(), Duration::from_secs(1200));
    assert_eq!(production.path(), "/metrics");
    // No file for that environment, or none named: the base file alone.
    let staging = MetricsConfig::from_appsettings(&base, Some("Staging")).unwrap();
    assert_eq!(staging.export_interval(), Duration::from_secs(15));
    let plain = MetricsConfig::from_appsettings(&base, None).unwrap();
    assert_eq!(plain.export_interval(), Duration::from_secs(15));

    // A bad value in the overlay is reported with the overlay's name.
    std::fs::write(
        dir.path().join("appsettings.Broken.json"),
        r#"{"PrometheusMetrics": {"MaxProviders": "lots"}}"#,
    )
    .unwrap();
    let error = MetricsConfig::from_appsettings(&base, Some("Broken")).unwrap_err();
    assert!(
        error.to_string().contains("appsettings.Broken.json"),
        "{error}"
    );
    // Options are checked together after both files: the overlay's interval makes the
    // base window too short, and the error names both files.
    std::fs::write(
        dir.path().join("appsettings.Slow.json"),
        r#"{"PrometheusMetrics": {"ExportInterval": "00:10:00"}}"#,
    )
    .unwrap();
    let error = MetricsConfig::from_appsettings(&base, Some("Slow")).unwrap_err();
    let (option, _, _) = invalid(Err(error));
    assert_eq!(option, ConfigOption::MetricsWindow);
}

#[test]
fn dotnet_environment_variables() {
    let config = MetricsConfig::default()
        .with_vars(vars(&[
            ("PrometheusMetrics__ExportInterval", "00:00:30"),
            ("PROMETHEUSMETRICS__METRICSWINDOW", "00:10:00"),
            ("PrometheusMetrics__AllowedNetworks__1", "127.0.0.1"),
            ("PrometheusMetrics__AllowedNetworks__0", "10.0.0.0/8"),
            ("Logging__LogLevel__Default", "Warning"),
        ]))
        .unwrap();
    assert_eq!(config.export_interval(), Duration::from_secs(30));
    assert_eq!(config.metrics_window(), Duration::from_secs(600));
    let networks: Vec<_> = config
        .allowed_networks()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(networks, ["10.0.0.0/8", "127.0.0.1/32"]);

    // Both forms for one option: CONDUIT_METRICS_ wins, whatever the order given.
    for order in [false, true] {
        let mut pairs = vec![
            ("CONDUIT_METRICS_EXPORT_INTERVAL", "45s"),
            ("PrometheusMetrics__ExportInterval", "00:00:30"),
        ];
        if order {
            pairs.reverse();
        }
        let config = MetricsConfig::default().with_vars(vars(&pairs)).unwrap();
        assert_eq!(config.export_interval(), Duration::from_secs(45));
    }

    // A typo is an error naming the variable; so is an index on a single-valued option.
    for key in [
        "PrometheusMetrics__ExportIntervall",
        "PrometheusMetrics__Path__0",
    ] {
        let error = MetricsConfig::default()
            .with_vars(vars(&[(key, "x")]))
            .unwrap_err();
        assert!(
            matches!(&error, ConfigError::UnknownOption { key: named, .. } if named == key),
            "{error}"
        );
    }
    let error = MetricsConfig::default()
        .with_vars(vars(&[("PrometheusMetrics__MaxProviders", "0")]))
        .unwrap_err();
    assert_eq!(invalid(Err(error)).0, ConfigOption::MaxProviders);
}

#[test]
fn facade_options_from_every_source() {
    let defaults = MetricsConfig::default();
    assert!(defaults.facade_recorder());
    assert_eq!(
        defaults.facade_histogram_buckets(),
        [
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0
        ]
    );
    let from_file = MetricsConfig::from_json_str(
        r#"{"PrometheusMetrics": {"FacadeRecorder": false, "FacadeHistogramBuckets": [0.1, 1, 10]}}"#,
        "appsettings.json",
    )
    .unwrap();
    assert!(!from_file.facade_recorder());
    assert_eq!(from_file.facade_histogram_buckets(), [0.1, 1.0, 10.0]);
    let from_env = MetricsConfig::default()
        .with_vars(vars(&[
            ("CONDUIT_METRICS_FACADE_RECORDER", "off"),
            ("CONDUIT_METRICS_FACADE_HISTOGRAM_BUCKETS", "0.25, 2.5"),
        ]))
        .unwrap();
    assert!(!from_env.facade_recorder());
    assert_eq!(from_env.facade_histogram_buckets(), [0.25, 2.5]);
    let built = MetricsConfig::builder()
        .facade_recorder(false)
        .facade_histogram_buckets([1.0, 2.0])
        .build()
        .unwrap();
    assert_eq!(built.facade_histogram_buckets(), [1.0, 2.0]);

    for (value, reason) in [
        ("1, 0.5", "strictly increasing"),
        ("", "at least one"),
        ("0.1, soon", "`soon` is not a number"),
        ("0.1, inf", "finite"),
    ] {
        let error = MetricsConfig::builder()
            .option(ConfigOption::FacadeHistogramBuckets, value)
            .build()
            .unwrap_err();
        let (option, _, message) = invalid(Err(error));
        assert_eq!(option, ConfigOption::FacadeHistogramBuckets);
        assert!(message.contains(reason), "{value}: {message}");
    }
    let error = MetricsConfig::default()
        .with_vars(vars(&[("CONDUIT_METRICS_FACADE_RECORDER", "maybe")]))
        .unwrap_err();
    assert_eq!(invalid(Err(error)).0, ConfigOption::FacadeRecorder);
}

#[test]
fn native_histogram_options_from_every_source() {
    let defaults = MetricsConfig::default();
    assert!(defaults.native_histograms());
    assert_eq!(defaults.native_histogram_schema(), 3);
    assert_eq!(defaults.native_histogram_max_buckets(), 160);
    let from_file = MetricsConfig::from_json_str(
        r#"{"PrometheusMetrics": {"NativeHistograms": false, "NativeHistogramSchema": -2, "NativeHistogramMaxBuckets": 40}}"#,
        "appsettings.json",
    )
    .unwrap();
    assert!(!from_file.native_histograms());
    assert_eq!(from_file.native_histogram_schema(), -2);
    assert_eq!(from_file.native_histogram_max_buckets(), 40);
    let from_env = MetricsConfig::default()
        .with_vars(vars(&[
            ("CONDUIT_METRICS_NATIVE_HISTOGRAMS", "off"),
            ("CONDUIT_METRICS_NATIVE_HISTOGRAM_SCHEMA", "8"),
            ("PrometheusMetrics__NativeHistogramMaxBuckets", "10000"),
        ]))
        .unwrap();
    assert!(!from_env.native_histograms());
    assert_eq!(from_env.native_histogram_schema(), 8);
    assert_eq!(from_env.native_histogram_max_buckets(), 10_000);
    let built = MetricsConfig::builder()
        .native_histogram_schema(-4)
        .native_histogram_max_buckets(1)
        .build()
        .unwrap();
    assert_eq!(
        (
            built.native_histogram_schema(),
            built.native_histogram_max_buckets()
        ),
        (-4, 1)
    );

    for (option, value, reason) in [
        (ConfigOption::NativeHistogramSchema, "9", "from -4"),
        (
            ConfigOption::NativeHistogramSchema,
            "-5",
            "to 8 (0.27% wide)",
        ),
        (
            ConfigOption::NativeHistogramSchema,
            "fine",
            "whole number from -4 to 8",
        ),
        (
            ConfigOption::NativeHistogramMaxBuckets,
            "0",
            "from 1 to 10000",
        ),
        (
            ConfigOption::NativeHistogramMaxBuckets,
            "10001",
            "from 1 to 10000",
        ),
        (
            ConfigOption::NativeHistogramMaxBuckets,
            "lots",
            "whole number of buckets",
        ),
        (ConfigOption::NativeHistograms, "maybe", "true"),
    ] {
        let error = MetricsConfig::builder()
            .option(option, value)
            .build()
            .unwrap_err();
        let (named, shown, message) = invalid(Err(error));
        assert_eq!((named, shown.as_str()), (option, value));
        assert!(message.contains(reason), "{option:?} {value}: {message}");
    }
}

#[test]
fn model_label_options_from_every_source() {
    let defaults = MetricsConfig::default();
    assert!(!defaults.model_label());
    assert_eq!(defaults.max_models(), 16);
    let from_file = MetricsConfig::from_json_str(
        r#"{"PrometheusMetrics": {"ModelLabel": true, "MaxModels": 4}}"#,
        "appsettings.json",
    )
    .unwrap();
    assert_eq!((from_file.model_label(), from_file.max_models()), (true, 4));
    let from_toml =
        MetricsConfig::from_toml_str("model_label = true\nmax_models = 256\n", "m.toml").unwrap();
    assert_eq!(
        (from_toml.model_label(), from_toml.max_models()),
        (true, 256)
    );
    let from_env = MetricsConfig::default()
        .with_vars(vars(&[
            ("CONDUIT_METRICS_MODEL_LABEL", "on"),
            ("CONDUIT_METRICS_MAX_MODELS", "2"),
        ]))
        .unwrap();
    assert_eq!((from_env.model_label(), from_env.max_models()), (true, 2));
    let built = MetricsConfig::builder()
        .model_label(true)
        .max_models(1)
        .build()
        .unwrap();
    assert_eq!((built.model_label(), built.max_models()), (true, 1));

    for (option, value, reason) in [
        (ConfigOption::MaxModels, "0", "from 1 to 256"),
        (ConfigOption::MaxModels, "257", "from 1 to 256"),
        (
            ConfigOption::MaxModels,
            "many",
            "whole number from 1 to 256",
        ),
        (ConfigOption::ModelLabel, "perhaps", "true"),
    ] {
        let error = MetricsConfig::builder()
            .option(option, value)
            .build()
            .unwrap_err();
        let (named, shown, message) = invalid(Err(error));
        assert_eq!((named, shown.as_str()), (option, value));
        assert!(message.contains(reason), "{option:?} {value}: {message}");
    }
}

#[test]
fn builder_validates_and_accepts_text_options() {
    let error = MetricsConfig::builder()
        .export_interval(Duration::from_secs(60))
        .metrics_window(Duration::from_secs(30))
        .build()
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("must be at least ExportInterval (1m)"),
        "{error}"
    );

    let config = MetricsConfig::builder()
        .option(ConfigOption::Listen, "127.0.0.1:0")
        .option(ConfigOption::MetricsWindow, "00:01:00")
        .build()
        .unwrap();
    assert_eq!(config.metrics_window(), Duration::from_secs(60));
    let error = MetricsConfig::builder()
        .option(ConfigOption::Listen, "nowhere")
        .build()
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("invalid Listen \"nowhere\" (from builder)")
    );
}

#[test]
fn lock_down_and_push_options_from_every_source() {
    let config = MetricsConfig::from_json_str(
        r#"{"PrometheusMetrics": {
            "Listen": "none",
            "BearerToken": "tok-123",
            "AllowedNetworks": ["10.0.0.0/8", "::1"],
            "RateLimitPerMinute": 120,
            "TlsCertificate": "/etc/metrics/cert.pem",
            "TlsPrivateKey": "/etc/metrics/key.pem",
            "PushGateway": "http://pushgateway:9091",
            "PushJob": "nightly"
        }}"#,
        "appsettings.json",
    )
    .unwrap();
    assert_eq!(config.listen(), None);
    assert!(config.requires_credentials());
    assert_eq!(
        config
            .allowed_networks()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["10.0.0.0/8", "::1/128"]
    );
    assert_eq!(config.rate_limit_per_minute(), Some(120));
    assert_eq!(
        config.tls_files().unwrap().0,
        std::path::Path::new("/etc/metrics/cert.pem")
    );
    assert_eq!(config.push_gateway().unwrap().authority, "pushgateway:9091");
    assert_eq!(config.push_job(), "nightly");
    // Secrets never show in Debug output (logs) or in errors.
    assert!(!format!("{config:?}").contains("tok-123"));

    let config = MetricsConfig::default()
        .with_vars(vars(&[
            ("CONDUIT_METRICS_BASIC_AUTH_USERNAME", "prom"),
            ("CONDUIT_METRICS_BASIC_AUTH_PASSWORD", "hunter2"),
            (
                "CONDUIT_METRICS_ALLOWED_NETWORKS",
                "127.0.0.1/32,10.1.0.0/16",
            ),
            ("CONDUIT_METRICS_RATE_LIMIT_PER_MINUTE", "0"),
        ]))
        .unwrap();
    assert!(config.requires_credentials());
    assert_eq!(config.allowed_networks().len(), 2);
    assert_eq!(config.rate_limit_per_minute(), None);
    assert!(!format!("{config:?}").contains("hunter2"));

    let (option, _, reason) = invalid(MetricsConfig::from_json_str(
        r#"{"BasicAuthUsername": "prom"}"#,
        "x.json",
    ));
    assert_eq!(option, ConfigOption::BasicAuthPassword);
    assert!(
        reason.contains("BasicAuthUsername (prom) is set"),
        "{reason}"
    );
    let (option, _, _) = invalid(MetricsConfig::from_json_str(
        r#"{"TlsPrivateKey": "k.pem"}"#,
        "x.json",
    ));
    assert_eq!(option, ConfigOption::TlsCertificate);
    let (option, value, _) = invalid(MetricsConfig::from_json_str(
        r#"{"RateLimitPerMinute": -5}"#,
        "x.json",
    ));
    assert_eq!(
        (option, value.as_str()),
        (ConfigOption::RateLimitPerMinute, "-5")
    );
    let (option, value, _) = invalid(MetricsConfig::from_json_str(
        r#"{"AllowedNetworks": "10.0.0.0/99"}"#,
        "x.json",
    ));
    assert_eq!(
        (option, value.as_str()),
        (ConfigOption::AllowedNetworks, "10.0.0.0/99")
    );
    let (option, _, _) = invalid(MetricsConfig::from_json_str(
        r#"{"PushJob": "a/b"}"#,
        "x.json",
    ));
    assert_eq!(option, ConfigOption::PushJob);
    // A bad secret is reported without its value.
    let (option, value, _) = invalid(MetricsConfig::from_json_str(
        r#"{"BearerToken": {"x": 1}}"#,
        "x.json",
    ));
    assert_eq!((option, value.as_str()), (ConfigOption::BearerToken, "***"));
}
