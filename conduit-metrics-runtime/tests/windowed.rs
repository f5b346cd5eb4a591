//! The windowed gauges, driven by a manual clock: the window slides exactly, ratios are
//! exact, the uptime fallback rule holds, and series without data are not exported.
//! Also the guards (sessions, resources) on normal end, drop and panic, and probes.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{sample, value};
use conduit_metrics_runtime::clock::ManualClock;
use conduit_metrics_runtime::registry::Registry;
use conduit_metrics_runtime::{
    CallOutcome, DisconnectReason, HealthProbe, MetricsConfig, Operation, Status,
};

const INTERVAL: Duration = Duration::from_secs(15);

/// A registry with a 15 s ExportInterval and a 60 s window on a manual clock.
fn registry() -> (Registry, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new());
    let config = MetricsConfig::builder()
        .export_interval(INTERVAL)
        .metrics_window(Duration::from_secs(60))
        .build()
        .unwrap();
    (Registry::with_clock(&config, clock.clone()), clock)
}

/// Ends the current sub-interval: the clock moves one ExportInterval and the background
/// task's work runs.
fn next_interval(registry: &Registry, clock: &ManualClock) {
    clock.advance(INTERVAL);
    registry.tick();
}

fn calls(registry: &Registry, provider: &str, status: Status, n: usize) {
    for _ in 0..n {
        registry
            .start_call(Operation::Transcription, provider)
            .finish(status);
    }
}

const ERROR_RATE: &str = "conduit_audio_provider_error_rate{provider=\"openai\"}";

#[test]
fn failures_age_out_exactly_when_they_leave_the_window() {
    let (registry, clock) = registry();
    calls(&registry, "openai", Status::Success, 2);
    calls(&registry, "openai", Status::Timeout, 2);
    next_interval(&registry, &clock); // t = 15 s
    assert_eq!(value(&registry.render(), ERROR_RATE), 0.5);
    for expected in [2.0 / 6.0, 2.0 / 8.0, 2.0 / 10.0] {
        calls(&registry, "openai", Status::Success, 2);
        next_interval(&registry, &clock); // t = 30, 45, 60 s: the failures are inside
        assert_eq!(value(&registry.render(), ERROR_RATE), expected);
    }
    calls(&registry, "openai", Status::Success, 2);
    next_interval(&registry, &clock); // t = 75 s: (15 s, 75 s] no longer holds them
    assert_eq!(value(&registry.render(), ERROR_RATE), 0.0);
    // Four silent sub-intervals: no calls in the window, so no series at all.
    for _ in 0..4 {
        next_interval(&registry, &clock);
    }
    assert_eq!(sample(&registry.render(), ERROR_RATE), None);
    // The counters keep the whole history for PromQL.
    assert_eq!(
        value(
            &registry.render(),
            "conduit_audio_requests_total{operation=\"transcription\",provider=\"openai\",status=\"timeout\"}"
        ),
        2.0
    );
}

#[test]
fn cancelled_calls_count_as_neither_failed_nor_completed() {
    let (registry, clock) = registry();
    calls(&registry, "openai", Status::Success, 3);
    calls(&registry, "openai", Status::Panic, 1);
    calls(&registry, "openai", Status::Cancelled, 6);
    next_interval(&registry, &clock);
    assert_eq!(value(&registry.render(), ERROR_RATE), 0.25);

    // Only cancelled calls: nothing completed, so no error rate.
    calls(&registry, "quiet", Status::Cancelled, 3);
    next_interval(&registry, &clock);
    assert_eq!(
        sample(
            &registry.render(),
            "conduit_audio_provider_error_rate{provider=\"quiet\"}"
        ),
        None
    );
}

#[test]
fn cache_hit_ratio_over_the_window() {
    let (registry, clock) = registry();
    let ratio = "conduit_audio_cache_hit_ratio{operation=\"tts\"}";
    for hit in [true, true, true, false] {
        registry.record_cache_lookup(Operation::Tts, hit);
    }
    registry
        .start_call(Operation::Tts, "openai")
        .finish_with(CallOutcome::new(Status::Success).cache_hit(false));
    next_interval(&registry, &clock);
    assert_eq!(value(&registry.render(), ratio), 0.6);
    // No lookups for other operations: no series for them.
    assert_eq!(
        sample(
            &registry.render(),
            "conduit_audio_cache_hit_ratio{operation=\"transcription\"}"
        ),
        None
    );
    // Four sub-intervals of hits push the misses out.
    for _ in 0..4 {
        registry.record_cache_lookup(Operation::Tts, true);
        next_interval(&registry, &clock);
    }
    assert_eq!(value(&registry.render(), ratio), 1.0);
}

#[test]
fn uptime_from_health_checks() {
    let (registry, clock) = registry();
    let uptime = "conduit_audio_provider_uptime_ratio{provider=\"azure\"}";
    for healthy in [true, true, true, false] {
        registry.record_health_check("azure", healthy);
    }
    // Calls that all fail do not matter once there are health checks.
    calls(&registry, "azure", Status::ProviderUnavailable, 5);
    next_interval(&registry, &clock);
    assert_eq!(value(&registry.render(), uptime), 0.75);
    for _ in 0..3 {
        registry.record_health_check("azure", false);
        next_interval(&registry, &clock);
    }
    assert_eq!(value(&registry.render(), uptime), 3.0 / 7.0);
    next_interval(&registry, &clock); // the first sub-interval leaves
    assert_eq!(value(&registry.render(), uptime), 0.0);
}

#[test]
fn uptime_falls_back_to_calls_per_sub_interval() {
    let (registry, clock) = registry();
    let uptime = "conduit_audio_provider_uptime_ratio{provider=\"google\"}";
    calls(&registry, "google", Status::Error, 3); // down: calls, none succeeded
    next_interval(&registry, &clock);
    assert_eq!(value(&registry.render(), uptime), 0.0);
    next_interval(&registry, &clock); // silent: not counted
    calls(&registry, "google", Status::Error, 3);
    calls(&registry, "google", Status::Success, 1); // up: one success
    next_interval(&registry, &clock);
    calls(&registry, "google", Status::Cancelled, 4); // only cancelled: silent
    next_interval(&registry, &clock);
    assert_eq!(value(&registry.render(), uptime), 0.5);
    next_interval(&registry, &clock); // the down sub-interval leaves the window
    assert_eq!(value(&registry.render(), uptime), 1.0);
    for _ in 0..4 {
        next_interval(&registry, &clock);
    }
    assert_eq!(sample(&registry.render(), uptime), None);
}

#[test]
fn session_guards_on_end_drop_and_panic() {
    let (registry, _clock) = registry();
    let active = "conduit_audio_active_operations{operation=\"realtime\"}";
    let reason = |text: &str, r: &str| {
        value(
            text,
            &format!(
                "conduit_audio_realtime_sessions_total{{provider=\"openai\",disconnect_reason=\"{r}\"}}"
            ),
        )
    };
    let ended = registry.realtime_session("openai");
    let dropped = registry.realtime_session("openai");
    assert_eq!(value(&registry.render(), active), 2.0);
    ended.end(DisconnectReason::ProviderError);
    drop(dropped);
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let session = registry.realtime_session("openai");
        session.record_turn_latency(Duration::from_millis(120));
        panic!("session handler bug");
    }));
    assert!(panicked.is_err());
    let text = registry.render();
    assert_eq!(reason(&text, "provider_error"), 1.0);
    assert_eq!(reason(&text, "dropped"), 2.0);
    assert_eq!(value(&text, active), 0.0);
    assert_eq!(
        value(
            &text,
            "conduit_audio_realtime_duration_seconds_count{provider=\"openai\"}"
        ),
        3.0
    );
    assert_eq!(
        value(
            &text,
            "conduit_audio_realtime_latency_seconds_bucket{provider=\"openai\",le=\"0.2\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            &text,
            "conduit_audio_realtime_latency_seconds_bucket{provider=\"openai\",le=\"0.1\"}"
        ),
        0.0
    );
}

#[test]
fn resource_guards_on_drop_and_panic() {
    let (registry, _clock) = registry();
    let gauge = "conduit_audio_active_operations{resource=\"websocket_connections\"}";
    let held = registry.hold_resource("websocket_connections");
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _socket = registry.hold_resource("websocket_connections");
        assert_eq!(value(&registry.render(), gauge), 2.0);
        panic!("socket task bug");
    }));
    assert!(panicked.is_err());
    assert_eq!(value(&registry.render(), gauge), 1.0);
    drop(held);
    assert_eq!(value(&registry.render(), gauge), 0.0);
}

#[tokio::test(start_paused = true)]
async fn probes_pass_fail_time_out_and_panic() {
    let registry: &'static Registry = Box::leak(Box::new(registry().0));
    let timeout = Duration::from_secs(2);
    let healthy = HealthProbe::new("probed", timeout, || async { true });
    let unhealthy = HealthProbe::new("probed", timeout, || async { Err::<(), _>("503") });
    let slow = HealthProbe::new("probed", timeout, || async {
        tokio::time::sleep(Duration::from_secs(60)).await;
        true
    });
    let panicking = HealthProbe::new("probed", timeout, || async {
        if true {
            panic!("probe bug");
        }
        true
    });
    assert!(healthy.run(registry).await);
    assert!(!unhealthy.run(registry).await);
    assert!(!slow.run(registry).await);
    assert!(!panicking.run(registry).await);
    let text = registry.render();
    assert_eq!(
        value(
            &text,
            "conduit_audio_health_checks_total{provider=\"probed\",result=\"pass\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            &text,
            "conduit_audio_health_checks_total{provider=\"probed\",result=\"fail\"}"
        ),
        3.0
    );
}
