//! The exposition passes `promtool check metrics` (Debian package `prometheus`, installed
//! by the README's test command). The only accepted finding is the guide's cost counter
//! lacking the `_total` suffix.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use conduit_metrics_runtime::{
    CallOutcome, DisconnectReason, MetricsConfig, Operation, Registry, Status,
};

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

    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool must be installed: run the README's test command (scripts/test.sh), which installs Debian's `prometheus` package");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let findings = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let unexpected: Vec<&str> = findings
        .lines()
        .filter(|line| !line.trim().is_empty())
        .filter(|line| {
            *line != "conduit_audio_cost_dollars counter metrics should have \"_total\" suffix"
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "promtool findings: {unexpected:#?}\n{text}"
    );
    assert!(
        findings.contains("conduit_audio_cost_dollars"),
        "expected the known cost warning: {findings}"
    );
}
