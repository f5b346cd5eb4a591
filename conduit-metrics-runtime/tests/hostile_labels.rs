//! Hostile provider names: quotes, backslashes, newlines, control characters, odd Unicode,
//! empty and very long strings. The exposition stays valid for a strict parser and for
//! promtool, every name comes back exactly as `provider_label` documents, and the
//! `MaxProviders` bound holds against 100,000 distinct names.

mod common;

use std::collections::BTreeMap;

use common::parser;
use conduit_metrics_runtime::labels::provider_label;
use conduit_metrics_runtime::limits::MAX_PROVIDER_LABEL_BYTES;
use conduit_metrics_runtime::registry::Registry;
use conduit_metrics_runtime::{MetricsConfig, Operation, Status};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

/// Names built from the characters that break naive writers and parsers.
fn hostile_name() -> impl Strategy<Value = String> {
    let nasty = prop_oneof![
        Just('"'),
        Just('\\'),
        Just('\n'),
        Just('\r'),
        Just('\t'),
        Just('\0'),
        Just('\u{7f}'),
        Just('\u{85}'),
        Just('\u{2028}'),
        Just('\u{FEFF}'),
        Just('\u{FFFD}'),
        Just('}'),
        Just('{'),
        Just('='),
        Just(','),
        Just(' '),
        Just('#'),
        Just('é'),
        Just('😀'),
    ];
    let any_char = any::<char>();
    prop_oneof![
        Just(String::new()),
        prop::collection::vec(prop_oneof![3 => nasty, 1 => any_char], 0..40)
            .prop_map(|c| c.into_iter().collect()),
        // Very long names, with multi-byte characters across the cut.
        (0usize..3, 60usize..400).prop_map(|(kind, len)| match kind {
            0 => "a".repeat(len),
            1 => "é".repeat(len),
            _ => "x\\\"".repeat(len),
        }),
        // Text that looks like invalid UTF-8 written out, and replacement characters.
        Just("\\xff\\xfe\u{FFFD}\u{FFFD}".to_owned()),
    ]
}

fn record_and_parse(names: &[String]) -> Result<(), TestCaseError> {
    let config = MetricsConfig::builder()
        .max_providers(1024)
        .build()
        .unwrap();
    let registry = Registry::new(&config);
    let mut expected: BTreeMap<String, f64> = BTreeMap::new();
    for name in names {
        registry
            .start_call(Operation::Tts, name)
            .finish(Status::Success);
        let label = provider_label(name);
        *expected.entry(label).or_default() += 1.0;
    }
    let text = registry.render();
    let samples = parser::parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
    let mut seen: BTreeMap<String, f64> = BTreeMap::new();
    for sample in samples.iter().filter(|s| {
        s.name == "conduit_audio_requests_total" && s.label("status") == Some("success")
    }) {
        let provider = sample.label("provider").unwrap().to_owned();
        prop_assert!(provider.len() <= MAX_PROVIDER_LABEL_BYTES);
        prop_assert!(!provider.is_empty());
        prop_assert!(!provider.chars().any(|c| c.is_control() && c != '\n'));
        seen.insert(provider, sample.value);
    }
    prop_assert_eq!(seen, expected);
    Ok(())
}

proptest! {
    #![proptest_config(Config { cases: 256, ..Config::default() })]

    #[test]
    fn hostile_names_round_trip_through_a_strict_parser(names in prop::collection::vec(hostile_name(), 1..20)) {
        record_and_parse(&names)?;
    }

    #[test]
    fn labels_are_cut_at_char_boundaries_and_cleaned_as_documented(name in hostile_name()) {
        let label = provider_label(&name);
        let cleaned: String = name
            .chars()
            .map(|c| if c.is_control() && c != '\n' { '\u{FFFD}' } else { c })
            .collect();
        if cleaned.is_empty() {
            prop_assert_eq!(label, "unknown");
        } else {
            // The label is the longest prefix of the cleaned name within 64 bytes.
            prop_assert!(cleaned.starts_with(&label));
            prop_assert!(label.len() <= MAX_PROVIDER_LABEL_BYTES);
            let next = cleaned[label.len()..].chars().next();
            prop_assert!(next.is_none_or(|c| label.len() + c.len_utf8() > MAX_PROVIDER_LABEL_BYTES));
        }
    }
}

#[test]
fn promtool_accepts_the_exposition_of_hostile_names() {
    let mut runner = TestRunner::deterministic();
    let strategy = hostile_name();
    let registry = Registry::new(
        &MetricsConfig::builder()
            .max_providers(1024)
            .build()
            .unwrap(),
    );
    for _ in 0..300 {
        let name = strategy.new_tree(&mut runner).unwrap().current();
        registry
            .start_call(Operation::Transcription, &name)
            .finish(Status::Timeout);
        registry
            .realtime_session(&name)
            .end(conduit_metrics_runtime::DisconnectReason::Error);
        registry.record_health_check(&name, true);
    }
    registry.tick();
    let text = registry.render();
    parser::parse(&text).unwrap();
    let findings = common::promtool_findings(&text);
    let unexpected: Vec<&String> = findings
        .iter()
        .filter(|line| *line != common::ACCEPTED_PROMTOOL_FINDING)
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:#?}");
}

#[test]
fn the_provider_bound_holds_against_100_000_distinct_names() {
    let registry = Registry::new(&MetricsConfig::default()); // MaxProviders = 32
    for i in 0..100_000 {
        registry
            .start_call(Operation::Tts, &format!("tenant-{i}"))
            .finish(Status::Success);
    }
    let text = registry.render();
    let samples = parser::parse(&text).unwrap();
    let providers: std::collections::BTreeSet<&str> = samples
        .iter()
        .filter(|s| s.name == "conduit_audio_requests_total")
        .filter_map(|s| s.label("provider"))
        .collect();
    assert_eq!(providers.len(), 33, "32 providers and `other`");
    assert!(providers.contains("other"));
    let other = samples
        .iter()
        .find(|s| {
            s.name == "conduit_audio_requests_total"
                && s.label("provider") == Some("other")
                && s.label("status") == Some("success")
        })
        .unwrap();
    assert_eq!(other.value, 100_000.0 - 32.0);
    let folded = samples
        .iter()
        .find(|s| s.name == "conduit_audio_provider_labels_folded_total")
        .unwrap();
    assert_eq!(folded.value, 100_000.0 - 32.0);
    // The exposition stays small: series are bounded by the cardinality, not the names.
    assert!(text.len() < 72 * 1024, "{} bytes", text.len());
}

#[test]
fn the_strict_parser_rejects_what_the_format_forbids() {
    for bad in [
        "metric{provider=\"a\\x\"} 1\n",
        "metric{provider=\"a\"b\"} 1\n",
        "metric{provider=\"a\"} 1\nmetric{provider=\"a\"} 2\n",
        "9metric 1\n",
        "metric{1abel=\"a\"} 1\n",
        "metric{provider=\"unterminated} 1\n",
        "metric one\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_count 3\n",
    ] {
        assert!(parser::parse(bad).is_err(), "accepted {bad:?}");
    }
    let good = parser::parse("m{a=\"x\\\\y\\\"z\\n\"} 1.5\n").unwrap();
    assert_eq!(good[0].label("a"), Some("x\\y\"z\n"));
}
