//! The exposition passes `promtool check metrics` (Debian package `prometheus`, installed
//! by the README's test command). The only accepted finding is the guide's cost counter
//! lacking the `_total` suffix.

mod common;

use std::time::Duration;

use conduit_metrics_runtime::registry::Registry;
use conduit_metrics_runtime::{CallOutcome, DisconnectReason, MetricsConfig, Operation, Status};

#[test]
fn exposition_with_every_family_passes_promtool() {
    let registry = Registry::new(&MetricsConfig::default());
    for &operation in Operation::ALL {
        for &status in Status::ALL {
            registry.start_call(operation, "openai").finish_with(
                CallOutcome::new(status)
                    .size(4096)
                    .cost(0.01)
                    .cache_hit(true),
            );
        }
    }
    registry
        .start_call(Operation::Tts, "quote\"back\\slash\nnewline")
        .finish(Status::Success);
    let mut streamed = registry.start_call(Operation::Tts, "openai");
    streamed.add_characters(120);
    streamed.mark_first_byte();
    streamed.finish_with(CallOutcome::new(Status::Success).audio_seconds(2.5));
    registry
        .start_call(Operation::Tts, "openai")
        .finish_with(CallOutcome::new(Status::Success).audio_seconds(-1.0));
    let session = registry.realtime_session("openai");
    session.record_turn_latency(Duration::from_millis(250));
    session.end(DisconnectReason::Timeout);
    registry.record_health_check("openai", false);
    registry.record_cost(Operation::Tts, f64::NAN);
    let _held = registry.hold_resource("websocket_connections");
    registry.tick();
    let text = registry.render();
    let all = conduit_metrics_runtime::catalogue::ALL_FAMILIES;
    // All but the facade's dropped-series counter, which `install` writes.
    for family in &all[..all.len() - 1] {
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
