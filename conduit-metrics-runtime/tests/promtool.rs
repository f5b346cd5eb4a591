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
    let session = registry.realtime_session("openai");
    session.record_turn_latency(Duration::from_millis(250));
    session.end(DisconnectReason::Timeout);
    registry.record_health_check("openai", false);
    registry.record_cost(Operation::Tts, f64::NAN);
    let _held = registry.hold_resource("websocket_connections");
    registry.tick();
    let text = registry.render();
    for family in conduit_metrics_runtime::catalogue::GUIDE_FAMILIES {
        assert!(
            text.lines()
                .any(|l| l.starts_with(family.name) && !l.starts_with('#')),
            "{} has no sample",
            family.name
        );
    }

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
