//! The exposition of every family: names, types, help, exact buckets and exact counts.

mod common;

use std::time::Duration;

use common::{sample, value};
use conduit_metrics_runtime::catalogue::{
    self, ALL_FAMILIES, FamilyType, GUIDE_FAMILIES, STREAMING_FAMILIES,
};
use conduit_metrics_runtime::registry::Registry;
use conduit_metrics_runtime::{CallOutcome, DisconnectReason, MetricsConfig, Operation, Status};

fn registry() -> Registry {
    Registry::new(&MetricsConfig::default())
}

#[test]
fn every_family_has_help_and_type_even_when_empty() {
    let text = registry().render();
    let with_models =
        Registry::new(&MetricsConfig::builder().model_label(true).build().unwrap()).render();
    // All but the facade's dropped-series counter, which `install` writes; the folded
    // models' counter only with the model label on.
    for family in &ALL_FAMILIES[..ALL_FAMILIES.len() - 1] {
        let help = format!("# HELP {} ", family.name);
        let kind = format!("# TYPE {} {}\n", family.name, family.kind.as_str());
        let model_only = family == &catalogue::MODEL_LABELS_FOLDED_TOTAL;
        // Written only while an exporter runs (tests/otlp.rs), and once a payload had no
        // readable duration (tests/audio_seconds.rs).
        let export_only = family == &catalogue::EXPORT_FAILURES_TOTAL
            || family == &catalogue::AUDIO_SECONDS_UNKNOWN_TOTAL;
        assert_eq!(
            text.contains(&help),
            !model_only && !export_only,
            "HELP of {}",
            family.name
        );
        assert_eq!(
            text.contains(&kind),
            !model_only && !export_only,
            "TYPE of {}",
            family.name
        );
        assert_eq!(
            with_models.contains(&help),
            !export_only,
            "HELP of {}",
            family.name
        );
        assert_eq!(
            with_models.contains(&kind),
            !export_only,
            "TYPE of {}",
            family.name
        );
    }
    assert_eq!(
        GUIDE_FAMILIES.map(|f| f.name),
        [
            "conduit_audio_requests_total",
            "conduit_audio_request_duration_seconds",
            "conduit_audio_request_size_bytes",
            "conduit_audio_cache_hit_ratio",
            "conduit_audio_provider_error_rate",
            "conduit_audio_provider_uptime_ratio",
            "conduit_audio_active_operations",
            "conduit_audio_realtime_sessions_total",
            "conduit_audio_realtime_duration_seconds",
            "conduit_audio_realtime_latency_seconds",
            "conduit_audio_cost_dollars",
        ]
    );
    let kinds = GUIDE_FAMILIES.map(|f| f.kind);
    use FamilyType::*;
    assert_eq!(
        kinds,
        [
            Counter, Histogram, Histogram, Gauge, Gauge, Gauge, Gauge, Counter, Histogram,
            Histogram, Counter
        ]
    );
}

/// The `le` values of a histogram series in the order they are written.
fn le_values(text: &str, prefix: &str) -> Vec<String> {
    text.lines()
        .filter(|line| line.starts_with(prefix))
        .map(|line| {
            let start = line.find("le=\"").expect("le label") + 4;
            let end = start + line[start..].find('"').expect("closing quote");
            line[start..end].to_owned()
        })
        .collect()
}

#[test]
fn histograms_have_the_guides_buckets_exactly() {
    let registry = registry();
    registry
        .start_call(Operation::Tts, "openai")
        .finish_with(CallOutcome::new(Status::Success).size(2048));
    registry
        .realtime_session("openai")
        .end(DisconnectReason::ServerClose);
    let text = registry.render();
    assert_eq!(
        le_values(
            &text,
            "conduit_audio_request_duration_seconds_bucket{operation=\"tts\",provider=\"openai\""
        ),
        [
            "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60", "+Inf"
        ]
    );
    assert_eq!(
        le_values(
            &text,
            "conduit_audio_request_size_bytes_bucket{operation=\"tts\",provider=\"openai\""
        ),
        ["1024", "10240", "102400", "1048576", "10485760", "+Inf"]
    );
    assert_eq!(
        le_values(
            &text,
            "conduit_audio_realtime_duration_seconds_bucket{provider=\"openai\""
        ),
        [
            "1", "5", "15", "30", "60", "120", "300", "600", "1800", "3600", "+Inf"
        ]
    );
    assert_eq!(
        le_values(
            &text,
            "conduit_audio_realtime_latency_seconds_bucket{provider=\"openai\""
        ),
        [
            "0.05", "0.1", "0.2", "0.3", "0.5", "0.75", "1", "2", "5", "+Inf"
        ]
    );
    // Histograms, never summaries: no quantile lines anywhere.
    assert!(!text.contains("quantile="));
}

#[test]
fn streaming_families_have_their_names_types_and_buckets() {
    assert_eq!(
        STREAMING_FAMILIES.map(|f| (f.name, f.kind, f.labels)),
        [
            (
                "conduit_audio_time_to_first_byte_seconds",
                FamilyType::Histogram,
                &["operation", "provider"][..]
            ),
            (
                "conduit_audio_audio_seconds_total",
                FamilyType::Counter,
                &["operation", "provider"][..]
            ),
            (
                "conduit_audio_characters_total",
                FamilyType::Counter,
                &["operation", "provider"][..]
            ),
        ]
    );
    let registry = registry();
    // No series until something streamed, counted seconds or characters.
    registry
        .start_call(Operation::Tts, "cartesia")
        .finish(Status::Success);
    let text = registry.render();
    for family in STREAMING_FAMILIES {
        assert!(
            !text.lines().any(|l| l.starts_with(family.name)),
            "{} has a series before first use",
            family.name
        );
    }
    let mut call = registry.start_call(Operation::Tts, "cartesia");
    call.add_characters(42);
    call.mark_first_byte();
    call.mark_first_byte(); // only the first counts
    call.finish_with(CallOutcome::new(Status::Success).audio_seconds(1.25));
    let text = registry.render();
    assert_eq!(
        le_values(
            &text,
            "conduit_audio_time_to_first_byte_seconds_bucket{operation=\"tts\",provider=\"cartesia\""
        ),
        [
            "0.05", "0.1", "0.2", "0.3", "0.5", "0.75", "1", "2", "5", "+Inf"
        ]
    );
    let series = |family: &str| format!("{family}{{operation=\"tts\",provider=\"cartesia\"}}");
    assert_eq!(
        value(
            &text,
            &series("conduit_audio_time_to_first_byte_seconds_count")
        ),
        1.0
    );
    assert_eq!(
        value(&text, &series("conduit_audio_audio_seconds_total")),
        1.25
    );
    assert_eq!(
        value(&text, &series("conduit_audio_characters_total")),
        42.0
    );
    // Microsecond cells: many small chunk durations add up without float drift.
    for _ in 0..1000 {
        registry
            .start_call(Operation::Tts, "cartesia")
            .finish_with(CallOutcome::new(Status::Success).audio_seconds(0.02));
    }
    assert_eq!(
        value(
            &registry.render(),
            &series("conduit_audio_audio_seconds_total")
        ),
        21.25
    );
}

#[test]
fn exact_counts_after_n_calls_per_status() {
    let registry = registry();
    for (i, &status) in Status::ALL.iter().enumerate() {
        for _ in 0..=i {
            registry
                .start_call(Operation::Transcription, "deepgram")
                .finish(status);
        }
    }
    let text = registry.render();
    for (i, status) in Status::ALL.iter().enumerate() {
        let series = format!(
            "conduit_audio_requests_total{{operation=\"transcription\",provider=\"deepgram\",status=\"{status}\"}}"
        );
        assert_eq!(value(&text, &series), (i + 1) as f64, "{status}");
    }
    // 36 calls, of which 7 cancelled: cancelled calls have no duration.
    let count = value(
        &text,
        "conduit_audio_request_duration_seconds_count{operation=\"transcription\",provider=\"deepgram\"}",
    );
    assert_eq!(count, 36.0 - 7.0);
    // Instant calls all land in the first bucket, and the sum is tiny but counted.
    assert_eq!(
        value(
            &text,
            "conduit_audio_request_duration_seconds_bucket{operation=\"transcription\",provider=\"deepgram\",le=\"0.1\"}"
        ),
        29.0
    );
    assert_eq!(
        value(
            &text,
            "conduit_audio_active_operations{operation=\"transcription\"}"
        ),
        0.0
    );
    // Operations a provider never served export nothing for it.
    assert_eq!(
        sample(
            &text,
            "conduit_audio_requests_total{operation=\"tts\",provider=\"deepgram\",status=\"success\"}"
        ),
        None
    );
}

#[test]
fn durations_land_in_their_bucket() {
    let registry = registry();
    let outer = std::time::Instant::now();
    let call = registry.start_call(Operation::Translation, "azure");
    std::thread::sleep(Duration::from_millis(120));
    call.finish(Status::Success);
    // The call took at least the sleep and at most what was measured around it; a busy
    // machine may stretch it, so the bucket is checked against the observed value. The
    // call clock is the TSC scaled by quanta's calibration, which differs from the OS
    // clock measuring `outer` by some parts per million (16 ppm seen in CI), hence 0.1%
    // either way: still far from any unit or double-counting mistake.
    const CLOCKS_DIFFER: f64 = 1e-3;
    let longest = outer.elapsed().as_secs_f64() * (1.0 + CLOCKS_DIFFER);
    let text = registry.render();
    let bucket = |le: &str| {
        value(
            &text,
            &format!(
                "conduit_audio_request_duration_seconds_bucket{{operation=\"translation\",provider=\"azure\",le=\"{le}\"}}"
            ),
        )
    };
    let sum = value(
        &text,
        "conduit_audio_request_duration_seconds_sum{operation=\"translation\",provider=\"azure\"}",
    );
    assert!(
        (0.12 * (1.0 - CLOCKS_DIFFER)..=longest).contains(&sum),
        "sum {sum}, at most {longest}"
    );
    // Cumulative buckets: 0 below the observation, 1 from the first bound at or above it.
    for le in [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0] {
        let expected = if sum <= le { 1.0 } else { 0.0 };
        assert_eq!(bucket(&le.to_string()), expected, "le={le}, observed {sum}");
    }
    assert_eq!(bucket("+Inf"), 1.0);
}

#[test]
fn active_gauge_counts_calls_in_flight() {
    let registry = registry();
    let first = registry.start_call(Operation::Tts, "openai");
    let second = registry.start_call(Operation::Tts, "google");
    let gauge = "conduit_audio_active_operations{operation=\"tts\"}";
    assert_eq!(value(&registry.render(), gauge), 2.0);
    first.finish(Status::Timeout);
    assert_eq!(value(&registry.render(), gauge), 1.0);
    drop(second);
    assert_eq!(value(&registry.render(), gauge), 0.0);
}

#[test]
fn dropped_calls_are_cancelled_and_panicking_calls_are_panics() {
    let registry = registry();
    drop(registry.start_call(Operation::Tts, "openai"));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _call = registry.start_call(Operation::Tts, "openai");
        panic!("provider client bug");
    }));
    assert!(outcome.is_err());
    let text = registry.render();
    let status = |s: &str| {
        value(
            &text,
            &format!(
                "conduit_audio_requests_total{{operation=\"tts\",provider=\"openai\",status=\"{s}\"}}"
            ),
        )
    };
    assert_eq!(status("cancelled"), 1.0);
    assert_eq!(status("panic"), 1.0);
    assert_eq!(status("success"), 0.0);
    // The panic completed (it has a duration); the cancellation did not.
    assert_eq!(
        value(
            &text,
            "conduit_audio_request_duration_seconds_count{operation=\"tts\",provider=\"openai\"}"
        ),
        1.0
    );
    assert_eq!(
        value(&text, "conduit_audio_active_operations{operation=\"tts\"}"),
        0.0
    );
}

#[test]
fn cancelled_futures_are_counted() {
    let registry: &'static Registry = Box::leak(Box::new(registry()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let slow = async {
            let call = registry.start_call(Operation::Transcription, "whisper");
            tokio::time::sleep(Duration::from_secs(60)).await;
            call.finish(Status::Success);
        };
        let timed_out = tokio::time::timeout(Duration::from_millis(10), slow).await;
        assert!(timed_out.is_err());
    });
    let text = registry.render();
    assert_eq!(
        value(
            &text,
            "conduit_audio_requests_total{operation=\"transcription\",provider=\"whisper\",status=\"cancelled\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            &text,
            "conduit_audio_active_operations{operation=\"transcription\"}"
        ),
        0.0
    );
}

#[test]
fn size_cost_and_cache_from_an_outcome() {
    let registry = registry();
    for (bytes, hit) in [
        (500u64, true),
        (1024, false),
        (20_000, true),
        (50_000_000, true),
    ] {
        registry
            .start_call(Operation::Tts, "elevenlabs")
            .finish_with(
                CallOutcome::new(Status::Success)
                    .size(bytes)
                    .cost(0.25)
                    .cache_hit(hit),
            );
    }
    let text = registry.render();
    let size = |le: &str| {
        value(
            &text,
            &format!(
                "conduit_audio_request_size_bytes_bucket{{operation=\"tts\",provider=\"elevenlabs\",le=\"{le}\"}}"
            ),
        )
    };
    assert_eq!(size("1024"), 2.0);
    assert_eq!(size("10240"), 2.0);
    assert_eq!(size("102400"), 3.0);
    assert_eq!(size("10485760"), 3.0);
    assert_eq!(size("+Inf"), 4.0);
    assert_eq!(
        value(
            &text,
            "conduit_audio_request_size_bytes_sum{operation=\"tts\",provider=\"elevenlabs\"}"
        ),
        50_021_524.0
    );
    assert_eq!(
        value(&text, "conduit_audio_cost_dollars{operation=\"tts\"}"),
        1.0
    );
    assert_eq!(
        value(
            &text,
            "conduit_audio_cache_lookups_total{operation=\"tts\",result=\"hit\"}"
        ),
        3.0
    );
    assert_eq!(
        value(
            &text,
            "conduit_audio_cache_lookups_total{operation=\"tts\",result=\"miss\"}"
        ),
        1.0
    );
}

/// Collects what a tracing subscriber writes.
#[derive(Clone, Default)]
struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn bad_costs_are_rejected_logged_and_counted() {
    let registry = registry();
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        assert!(registry.record_cost(Operation::Transcription, 0.5));
        for bad in [-1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(!registry.record_cost(Operation::Transcription, bad));
        }
    });
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    // Logged at the 1st, 2nd and 4th rejection: a flood of bad costs cannot flood the log.
    assert_eq!(logged.matches("rejected a cost").count(), 3, "{logged}");
    assert!(
        logged.contains("amount=-1") && logged.contains("amount=NaN"),
        "{logged}"
    );
    assert!(logged.contains("rejected_so_far=4"), "{logged}");
    let text = registry.render();
    assert_eq!(
        value(
            &text,
            "conduit_audio_cost_dollars{operation=\"transcription\"}"
        ),
        0.5
    );
    assert_eq!(
        value(
            &text,
            "conduit_audio_cost_rejected_total{operation=\"transcription\"}"
        ),
        4.0
    );
}

#[test]
fn realtime_sessions_end_with_a_reason_or_dropped() {
    let registry = registry();
    let session = registry.realtime_session("openai");
    session.record_turn_latency(Duration::from_millis(40));
    session.record_turn_latency(Duration::from_millis(300));
    session.record_turn_latency(Duration::from_secs(9));
    assert_eq!(
        value(
            &registry.render(),
            "conduit_audio_active_operations{operation=\"realtime\"}"
        ),
        1.0
    );
    session.end(DisconnectReason::ClientDisconnect);
    drop(registry.realtime_session("openai"));
    let text = registry.render();
    let reason = |r: &str| {
        value(
            &text,
            &format!(
                "conduit_audio_realtime_sessions_total{{provider=\"openai\",disconnect_reason=\"{r}\"}}"
            ),
        )
    };
    assert_eq!(reason("client_disconnect"), 1.0);
    assert_eq!(reason("dropped"), 1.0);
    assert_eq!(reason("timeout"), 0.0);
    let latency = |le: &str| {
        value(
            &text,
            &format!(
                "conduit_audio_realtime_latency_seconds_bucket{{provider=\"openai\",le=\"{le}\"}}"
            ),
        )
    };
    assert_eq!(latency("0.05"), 1.0);
    assert_eq!(latency("0.3"), 2.0);
    assert_eq!(latency("5"), 2.0);
    assert_eq!(latency("+Inf"), 3.0);
    assert_eq!(
        value(
            &text,
            "conduit_audio_realtime_latency_seconds_sum{provider=\"openai\"}"
        ),
        9.34
    );
    assert_eq!(
        value(
            &text,
            "conduit_audio_realtime_duration_seconds_count{provider=\"openai\"}"
        ),
        2.0
    );
    assert_eq!(
        value(
            &text,
            "conduit_audio_active_operations{operation=\"realtime\"}"
        ),
        0.0
    );
}

#[test]
fn providers_past_the_bound_fold_into_other() {
    let config = MetricsConfig::builder().max_providers(3).build().unwrap();
    let registry = Registry::new(&config);
    for i in 0..10 {
        registry
            .start_call(Operation::Tts, &format!("provider-{i}"))
            .finish(Status::Success);
    }
    let text = registry.render();
    let providers: std::collections::BTreeSet<_> = text
        .lines()
        .filter(|l| l.starts_with("conduit_audio_requests_total{"))
        .filter_map(|l| l.split("provider=\"").nth(1)?.split('"').next())
        .collect();
    assert_eq!(
        providers.into_iter().collect::<Vec<_>>(),
        ["other", "provider-0", "provider-1", "provider-2"]
    );
    assert_eq!(
        value(
            &text,
            "conduit_audio_requests_total{operation=\"tts\",provider=\"other\",status=\"success\"}"
        ),
        7.0
    );
    assert_eq!(
        value(&text, "conduit_audio_provider_labels_folded_total"),
        7.0
    );
}

#[test]
fn hostile_provider_names_are_escaped() {
    let registry = registry();
    registry
        .start_call(Operation::Tts, "evil\"}\nfake_metric 1\\")
        .finish(Status::Success);
    let text = registry.render();
    assert!(text.contains(
        r#"conduit_audio_requests_total{operation="tts",provider="evil\"}\nfake_metric 1\\",status="success"} 1"#
    ));
    assert!(!text.lines().any(|line| line.starts_with("fake_metric")));
}

#[test]
fn windowed_gauges_appear_after_a_tick() {
    let registry = registry();
    registry
        .start_call(Operation::Tts, "openai")
        .finish(Status::Success);
    registry
        .start_call(Operation::Tts, "openai")
        .finish(Status::RateLimited);
    registry
        .start_call(Operation::Tts, "openai")
        .finish(Status::Cancelled);
    registry.record_cache_lookup(Operation::Tts, true);
    registry.record_health_check("openai", true);
    assert_eq!(
        sample(
            &registry.render(),
            "conduit_audio_provider_error_rate{provider=\"openai\"}"
        ),
        None
    );
    registry.tick();
    let text = registry.render();
    assert_eq!(
        value(
            &text,
            "conduit_audio_provider_error_rate{provider=\"openai\"}"
        ),
        0.5
    );
    assert_eq!(
        value(
            &text,
            "conduit_audio_provider_uptime_ratio{provider=\"openai\"}"
        ),
        1.0
    );
    assert_eq!(
        value(&text, "conduit_audio_cache_hit_ratio{operation=\"tts\"}"),
        1.0
    );
    assert_eq!(
        value(
            &text,
            "conduit_audio_health_checks_total{provider=\"openai\",result=\"pass\"}"
        ),
        1.0
    );
}

#[test]
fn resources_are_labelled_by_resource() {
    let registry = registry();
    let a = registry.hold_resource("websocket_connections");
    let b = registry.hold_resource("websocket_connections");
    let gauge = "conduit_audio_active_operations{resource=\"websocket_connections\"}";
    assert_eq!(value(&registry.render(), gauge), 2.0);
    drop(a);
    drop(b);
    assert_eq!(value(&registry.render(), gauge), 0.0);
    assert_eq!(catalogue::ACTIVE_OPERATIONS.labels, ["operation"]);
}

#[test]
fn flush_loses_nothing_recorded_before_it() {
    // `MetricsHandle::flush` on the installed (global) registry: this test owns its
    // process (nextest), so the counts below are its own.
    let config = MetricsConfig::builder()
        .no_listener()
        .facade_recorder(false)
        .build()
        .unwrap();
    let handle = config.install().unwrap();
    let registry = handle.registry();
    let recorders: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                for call in 0..5000 {
                    // One call in five fails.
                    let status = if call % 5 == 0 {
                        Status::Timeout
                    } else {
                        Status::Success
                    };
                    registry
                        .start_call(Operation::Tts, "flushed")
                        .finish(status);
                }
            })
        })
        .collect();
    for recorder in recorders {
        recorder.join().unwrap();
    }
    let error_rate = "conduit_audio_provider_error_rate{provider=\"flushed\"}";
    // No ExportInterval has passed (15 s by default): the windowed gauge is not computed.
    assert_eq!(sample(&handle.render(), error_rate), None);
    handle.flush().unwrap();
    let text = handle.render();
    let requests = |status: &str| {
        value(
            &text,
            &format!(
                "conduit_audio_requests_total{{operation=\"tts\",provider=\"flushed\",status=\"{status}\"}}"
            ),
        )
    };
    assert_eq!(requests("success"), 16_000.0);
    assert_eq!(requests("timeout"), 4_000.0);
    // The flush closed the sub-interval and recomputed the gauge over every call.
    assert_eq!(value(&text, error_rate), 0.2);
    handle.shutdown().unwrap();
}

#[test]
fn build_info_is_one_sample_of_the_latest_build_and_none_before() {
    let registry = registry();
    let text = registry.render();
    assert!(text.contains("# TYPE conduit_audio_build_info gauge\n"));
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("conduit_audio_build_info"))
            .count(),
        0
    );
    registry.record_build_info("1.4.2", "");
    registry.record_build_info("1.5.0", "9f3c2e1");
    let text = registry.render();
    let samples: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("conduit_audio_build_info"))
        .collect();
    assert_eq!(
        samples,
        [r#"conduit_audio_build_info{version="1.5.0",revision="9f3c2e1"} 1"#]
    );
    // Valid for the strict parser and promtool, in both formats' families.
    conduit_metrics_testkit::exposition::parse(&text).unwrap();
    let findings = common::promtool_findings(&text);
    assert_eq!(
        findings,
        [common::ACCEPTED_PROMTOOL_FINDING],
        "{findings:?}"
    );
    let openmetrics =
        registry.render_format(conduit_metrics_runtime::serving::ExpositionFormat::OpenMetrics);
    conduit_metrics_testkit::python_openmetrics_families(&openmetrics, false).unwrap();
}

#[test]
fn payloads_without_a_duration_are_counted_by_reason_and_logged_spaced_out() {
    use conduit_metrics_runtime::UnknownDuration;
    let registry = registry();
    let family = "# TYPE conduit_audio_audio_seconds_unknown_total counter";
    assert!(
        !registry.render().contains(family),
        "exported before any payload"
    );
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        for reason in [
            UnknownDuration::UnknownFormat,
            UnknownDuration::Malformed,
            UnknownDuration::Malformed,
            UnknownDuration::UnknownFormat,
            UnknownDuration::Malformed,
        ] {
            registry
                .start_call(Operation::Transcription, "deepgram")
                .finish_with(CallOutcome::new(Status::Success).audio_seconds_unknown(reason));
        }
    });
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    // The 1st, 2nd and 4th payload: a flood of unreadable uploads cannot flood the log.
    assert_eq!(
        logged.matches("no readable audio duration").count(),
        3,
        "{logged}"
    );
    assert!(
        logged.contains("so_far=4") && !logged.contains("so_far=3"),
        "{logged}"
    );
    assert!(
        logged.contains(r#"operation="transcription" reason="malformed" so_far=2"#),
        "{logged}"
    );
    let text = registry.render();
    let series = |operation: &str, reason: &str| {
        format!(
            "conduit_audio_audio_seconds_unknown_total{{operation=\"{operation}\",reason=\"{reason}\"}}"
        )
    };
    assert_eq!(
        value(&text, &series("transcription", "unknown_format")),
        2.0
    );
    assert_eq!(value(&text, &series("transcription", "malformed")), 3.0);
    assert_eq!(value(&text, &series("transcription", "unsupported")), 0.0);
    // Only the operation that met one; every call still counted, no seconds added.
    assert_eq!(sample(&text, &series("tts", "malformed")), None);
    assert_eq!(
        value(
            &text,
            "conduit_audio_requests_total{operation=\"transcription\",provider=\"deepgram\",status=\"success\"}"
        ),
        5.0
    );
    assert!(!text.contains("conduit_audio_audio_seconds_total{operation=\"transcription\""));
}
