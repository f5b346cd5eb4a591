//! Helpers shared by the runtime's integration tests.
#![allow(dead_code, unused_imports)]

pub mod pki;
pub mod servers;

pub use conduit_metrics_testkit::exposition as parser;
pub use conduit_metrics_testkit::{sample, value};

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A minimal HTTP/1.1 exchange over a fresh connection; returns (status, headers, body).
pub fn http(addr: SocketAddr, request: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).expect("connect to the endpoint");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set timeout");
    stream.write_all(request.as_bytes()).expect("send request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    let raw = String::from_utf8(raw).expect("utf-8 response");
    let (head, body) = raw.split_once("\r\n\r\n").expect("header/body separator");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status code");
    (status, head.to_owned(), body.to_owned())
}

/// `GET path` with `Connection: close`.
pub fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    http(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
}

/// The only finding `promtool check metrics` may report: the guide's cost counter has no
/// `_total` suffix.
pub const ACCEPTED_PROMTOOL_FINDING: &str =
    "conduit_audio_cost_dollars counter metrics should have \"_total\" suffix";

/// Runs `promtool check metrics` on an exposition and returns its findings, one a line.
/// promtool exits 0 with no findings and 3 with lint findings; anything else (1: it could
/// not parse the exposition) fails the test, and so does an exit status that disagrees
/// with the findings.
pub fn promtool_findings(text: &str) -> Vec<String> {
    let (code, stdout, stderr) = conduit_metrics_testkit::run_with_input(
        "promtool",
        &["check", "metrics"],
        text,
        "prometheus",
    );
    let findings: Vec<String> = format!("{stdout}{stderr}")
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect();
    match code {
        Some(0) => assert!(
            findings.is_empty(),
            "promtool exited 0 but said {findings:?}"
        ),
        Some(3) => assert!(!findings.is_empty(), "promtool exited 3 with no finding"),
        other => panic!("promtool check metrics failed ({other:?}): {findings:?}"),
    }
    findings
}

/// Raises this process's open-file limit to its hard limit, so tests that hold more
/// than a thousand sockets do not depend on the machine's default soft limit (often
/// 1,024). Returns the limit in force.
pub fn raise_fd_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write only the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
            let _ = libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        }
    }
    limit.rlim_cur
}

/// Parses an OpenMetrics exposition with Python's `prometheus_client` (see the test kit).
pub fn python_openmetrics_families(text: &str) -> Result<usize, String> {
    conduit_metrics_testkit::python_openmetrics_families(text, false)
}

/// A voice turn with all five marks (every stage, the whole turn, `answered`), ended.
pub fn answered_turn(session: &conduit_metrics_runtime::RealtimeSession<'_>) {
    let mut turn = session.turn();
    turn.user_speech_ended();
    turn.end_of_turn();
    turn.transcript_final();
    turn.response_started();
    turn.agent_audio_started();
    turn.end();
}

/// A registry with a series in every family: every operation and status with sizes,
/// costs, cache lookups and audio seconds; a streamed call (first byte, characters) with
/// a hostile provider name; a refused audio duration and cost; a realtime session with a
/// turn; a failed health check; a held resource; the application's build.
pub fn registry_with_every_family() -> &'static conduit_metrics_runtime::registry::Registry {
    use conduit_metrics_runtime::registry::Registry;
    use conduit_metrics_runtime::{
        CallOutcome, DisconnectReason, MetricsConfig, Operation, Status,
    };
    let registry: &'static Registry = Box::leak(Box::new(Registry::new(&MetricsConfig::default())));
    for &operation in Operation::ALL {
        for &status in Status::ALL {
            registry.start_call(operation, "openai").finish_with(
                CallOutcome::new(status)
                    .size(4096)
                    .cost(0.01)
                    .cache_hit(true)
                    .audio_seconds(1.5),
            );
        }
    }
    let mut streamed = registry.start_call(Operation::Tts, "quote\"back\\slash\nnewline");
    streamed.add_characters(120);
    streamed.mark_first_byte();
    streamed.finish(Status::Success);
    registry
        .start_call(Operation::Tts, "openai")
        .finish_with(CallOutcome::new(Status::Success).audio_seconds(-1.0));
    // An upload whose duration could not be read.
    registry
        .start_call(Operation::Transcription, "openai")
        .finish_with(
            CallOutcome::new(Status::Success)
                .audio_seconds_unknown(conduit_metrics_runtime::UnknownDuration::Malformed),
        );
    let session = registry.realtime_session("openai");
    session.record_turn_latency(Duration::from_millis(250));
    // A voice turn with every mark: each stage and one outcome.
    answered_turn(&session);
    session.end(DisconnectReason::Timeout);
    registry.record_health_check("openai", false);
    registry.record_cost(Operation::Tts, f64::NAN);
    std::mem::forget(registry.hold_resource("websocket_connections"));
    registry.record_build_info("1.4.2", "9f3c2e1");
    registry.tick();
    registry
}
