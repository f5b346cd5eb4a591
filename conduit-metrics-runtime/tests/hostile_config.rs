//! Hostile configuration: the file formats, .NET spans and environment variables, fed
//! arbitrary input. Every input yields a configuration or an error naming the option
//! (or the key, or the file), never a panic.

use conduit_metrics_runtime::config::ConfigOption;
use conduit_metrics_runtime::{ConfigError, MetricsConfig};
use proptest::prelude::*;
use proptest::test_runner::Config;

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(ConfigOption::ALL.to_vec()).prop_map(|o| o.name().to_owned()),
        2 => prop::sample::select(ConfigOption::ALL.to_vec()).prop_map(|o| o.snake_name().to_owned()),
        1 => "[A-Za-z_-]{0,20}",
    ]
}

fn scalar() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        "[0-9:.\\- a-z]{0,24}".prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        any::<bool>().prop_map(serde_json::Value::from),
        Just(serde_json::Value::Null),
        prop_oneof![
            Just("99999999999999999999:00:00"),
            Just("10675199.02:48:05.4775807"),
            Just("00:00:00.00000001"),
            Just("18446744073709551615s"),
            Just("1.7976931348623157e308s"),
            Just("-1s"),
            Just("0.0.0.0:99999"),
            Just("http://:0"),
            Just("http://a:1/../../"),
            Just("10.0.0.0/-1"),
        ]
        .prop_map(serde_json::Value::from),
    ]
}

fn value() -> impl Strategy<Value = serde_json::Value> {
    scalar().prop_recursive(2, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..3)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn document() -> impl Strategy<Value = serde_json::Value> {
    (prop::collection::btree_map(key(), value(), 0..6), any::<bool>()).prop_map(|(options, nested)| {
        let options = serde_json::Value::Object(options.into_iter().collect());
        if nested {
            serde_json::json!({ "Logging": {"LogLevel": {"Default": "Warning"}}, "PrometheusMetrics": options })
        } else {
            options
        }
    })
}

/// An error must say what it is about: an option name, a key, or the file. Several
/// errors must each say so, and all appear in the message.
fn assert_explains(error: &ConfigError, origin: &str) {
    let message = error.to_string();
    match error {
        ConfigError::Several(errors) => {
            assert!(errors.len() > 1, "{message}");
            for single in errors {
                assert!(!matches!(single, ConfigError::Several(_)), "{message}");
                assert!(message.contains(&single.to_string()), "{message}");
                assert_explains(single, origin);
            }
        }
        ConfigError::InvalidValue { option, .. } => {
            assert!(message.contains(option.name()), "{message}")
        }
        ConfigError::UnknownOption { key, .. } => {
            assert!(message.contains(&format!("{key:?}")), "{message}")
        }
        ConfigError::FeatureDisabled {
            feature,
            origin: from,
            ..
        } => {
            assert_eq!(from, origin);
            assert!(message.contains(feature), "{message}");
        }
        ConfigError::Syntax { path, .. } | ConfigError::Io { path, .. } => {
            assert_eq!(path, origin);
            assert!(message.contains(origin), "{message}");
        }
    }
}

/// Writes `value` as JSON the way an appsettings.json author might: keys in any case,
/// comments between entries, trailing commas. Each choice comes from `seed`.
fn coin(seed: &mut u64) -> bool {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*seed >> 33) % 3 == 0
}

fn dotnet_json(value: &serde_json::Value, seed: &mut u64, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            out.push('{');
            for (index, (key, item)) in map.iter().enumerate() {
                if coin(seed) {
                    out.push_str(" /* note */ ");
                }
                let key = if coin(seed) {
                    key.to_ascii_lowercase()
                } else {
                    key.clone()
                };
                out.push_str(&serde_json::Value::from(key).to_string());
                out.push(':');
                dotnet_json(item, seed, out);
                // Between entries a comma; after the last one only when chosen.
                if index + 1 < map.len() || coin(seed) {
                    out.push(',');
                }
                if coin(seed) {
                    out.push_str(" // note\n");
                }
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                dotnet_json(item, seed, out);
                if index + 1 < items.len() || coin(seed) {
                    out.push(',');
                }
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

proptest! {
    #![proptest_config(Config { cases: 512, ..Config::default() })]

    /// .NET's syntax changes nothing of what a document means: comments, trailing commas
    /// and the case of keys give the same configuration, or an error where the plain
    /// document has one.
    #[test]
    fn dotnet_syntax_means_the_same(document in document(), mut seed in any::<u64>()) {
        let mut text = String::new();
        dotnet_json(&document, &mut seed, &mut text);
        let plain = MetricsConfig::from_json_str(&document.to_string(), "plain.json");
        let written = MetricsConfig::from_json_str(&text, "dotnet.json");
        match (&plain, &written) {
            (Ok(plain), Ok(written)) => {
                prop_assert_eq!(format!("{plain:?}"), format!("{written:?}"), "{}", text);
            }
            (Err(_), Err(error)) => assert_explains(error, "dotnet.json"),
            _ => prop_assert!(false, "{plain:?} but {written:?} for {text}"),
        }
    }

    #[test]
    fn json_documents(document in document()) {
        if let Err(error) = MetricsConfig::from_json_str(&document.to_string(), "fuzz.json") {
            assert_explains(&error, "fuzz.json");
        }
    }

    #[test]
    fn toml_documents(document in document()) {
        // Not every JSON document is TOML (null, nested arrays of mixed types): those
        // are skipped by construction, the rest go through the TOML loader.
        if let Ok(text) = toml::to_string(&document) {
            if let Err(error) = MetricsConfig::from_toml_str(&text, "fuzz.toml") {
                assert_explains(&error, "fuzz.toml");
            }
        }
    }

    #[test]
    fn arbitrary_text_in_both_formats(text in any::<String>()) {
        for (result, origin) in [
            (MetricsConfig::from_json_str(&text, "text.json"), "text.json"),
            (MetricsConfig::from_toml_str(&text, "text.toml"), "text.toml"),
        ] {
            if let Err(error) = result {
                assert_explains(&error, origin);
            }
        }
    }

    #[test]
    fn dotnet_spans_and_human_durations(text in "[0-9:.\\-]{0,30}|[0-9]{0,25}(ns|us|ms|s|m|h|d|w|y)?( [0-9]{1,3}(ms|s|m))?") {
        for option in [ConfigOption::ExportInterval, ConfigOption::MetricsWindow, ConfigOption::CacheExpiration] {
            match MetricsConfig::builder().option(option, &text).build() {
                Ok(_) => {}
                Err(ConfigError::InvalidValue { option: named, .. }) => {
                    // ExportInterval may push MetricsWindow out of range, and vice versa.
                    prop_assert!(matches!(named, ConfigOption::ExportInterval | ConfigOption::MetricsWindow | ConfigOption::CacheExpiration));
                }
                Err(other) => prop_assert!(false, "unexpected error {other:?}"),
            }
        }
    }

    #[test]
    fn environment_variables(pairs in prop::collection::vec((prop_oneof!["CONDUIT_METRICS_", "PrometheusMetrics__", "prometheusmetrics__"], "[A-Za-z_0-9]{0,24}", any::<String>()), 0..6)) {
        let vars = pairs.into_iter().map(|(prefix, suffix, value)| (format!("{prefix}{suffix}"), value));
        match MetricsConfig::default().with_vars(vars) {
            Ok(_) => {}
            Err(error) => {
                for problem in error.problems() {
                    match problem {
                        ConfigError::UnknownOption { key, .. } => prop_assert!(
                            key.starts_with("CONDUIT_METRICS_") || key.to_ascii_lowercase().starts_with("prometheusmetrics__")
                        ),
                        other => assert_explains(other, "the environment"),
                    }
                }
            }
        }
    }
}
