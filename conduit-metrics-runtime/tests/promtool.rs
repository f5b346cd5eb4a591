//! The exposition passes `promtool check metrics` (Debian package `prometheus`, installed
//! by the README's test command). The only accepted finding is the guide's cost counter
//! lacking the `_total` suffix.

mod common;

#[test]
fn exposition_with_every_family_passes_promtool() {
    let registry = common::registry_with_every_family();
    let text = registry.render();
    let all = conduit_metrics_runtime::catalogue::ALL_FAMILIES;
    // All but the facade's dropped-series counter, which `install` writes, the folded
    // models' counter, written only with the model label on (`models.rs`), and the export
    // failures, written only while an exporter runs (`otlp.rs`).
    for family in &all[..all.len() - 3] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(family.name) && !l.starts_with('#')),
            "{} has no sample",
            family.name
        );
    }

    // The strict parser of the test kit accepts it too.
    conduit_metrics_testkit::exposition::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(
        conduit_metrics_testkit::value(
            &text,
            "conduit_audio_audio_seconds_rejected_total{operation=\"tts\"}"
        ),
        1.0
    );

    let findings = common::promtool_findings(&text);
    let unexpected: Vec<&String> = findings
        .iter()
        .filter(|line| *line != common::ACCEPTED_PROMTOOL_FINDING)
        .collect();
    assert!(
        unexpected.is_empty(),
        "promtool findings: {unexpected:#?}\n{text}"
    );
    assert!(
        findings
            .iter()
            .any(|line| line == common::ACCEPTED_PROMTOOL_FINDING),
        "expected the known cost warning: {findings:?}"
    );
}
