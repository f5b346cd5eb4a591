//! The optional `model` label: off, the scrape is byte for byte what it was before the
//! option existed (a fixture recorded on that commit); on, the per-call and voice-turn
//! families carry `model` after `provider` (`unknown` where none was given), the guide's
//! per-provider families do not, the bound folds later models into `other` and counts
//! them, and counts stay exact from many threads.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{sample, value};
use conduit_metrics_runtime::clock::ManualClock;
use conduit_metrics_runtime::registry::Registry;
use conduit_metrics_runtime::{
    ActiveCall, CallOutcome, DisconnectReason, MetricsConfig, Operation, RealtimeSession, Status,
    Turn,
};

include!("fixtures/fixed_calls.rs");

const WITHOUT_MODELS: &str = include_str!("fixtures/exposition-without-models.txt");

fn config(model_label: bool, max_models: usize) -> MetricsConfig {
    MetricsConfig::builder()
        .model_label(model_label)
        .max_models(max_models)
        .build()
        .unwrap()
}

/// The fixed calls, each given its model through the public API.
fn record_with_models(config: &MetricsConfig) -> Registry {
    let clock = Arc::new(ManualClock::new());
    let registry = Registry::with_clock(config, clock.clone());
    let hooks = ModelHooks {
        call: &|registry, operation, provider, model| {
            registry.start_call_with_model(operation, provider, model)
        },
        session: &|session, model| session.with_model(model),
        turn: &|turn, model| turn.with_model(model),
    };
    record_fixed_calls(&registry, &clock, &hooks);
    registry
}

#[test]
fn with_the_label_off_the_scrape_is_what_it_was_before_the_option() {
    let registry = record_with_models(&config(false, 16));
    let text = mask_timing(&registry.render());
    assert_eq!(text, WITHOUT_MODELS);
    assert!(!text.contains("model="));

    // The same calls without any model API give the same scrape.
    let clock = Arc::new(ManualClock::new());
    let plain = Registry::with_clock(&MetricsConfig::default(), clock.clone());
    let hooks = ModelHooks {
        call: &|registry, operation, provider, _| registry.start_call(operation, provider),
        session: &|session, _| session,
        turn: &|turn, _| turn,
    };
    record_fixed_calls(&plain, &clock, &hooks);
    assert_eq!(mask_timing(&plain.render()), WITHOUT_MODELS);
}

#[test]
fn with_the_label_on_calls_and_turns_carry_their_model() {
    let registry = record_with_models(&config(true, 16));
    let text = registry.render();
    let requests =
        |labels: &str| value(&text, &format!("conduit_audio_requests_total{{{labels}}}"));
    let openai = r#"operation="transcription",provider="openai""#;
    assert_eq!(
        requests(&format!(r#"{openai},model="whisper-1",status="success""#)),
        4.0
    );
    assert_eq!(
        requests(&format!(
            r#"{openai},model="gpt-4o-transcribe",status="timeout""#
        )),
        4.0
    );
    assert_eq!(
        requests(&format!(r#"{openai},model="whisper-1",status="timeout""#)),
        0.0
    );
    // The call that gave no model.
    assert_eq!(
        requests(&format!(r#"{openai},model="unknown",status="success""#)),
        1.0
    );
    assert_eq!(
        requests(
            r#"operation="transcription",provider="deepgram",model="nova-3",status="rate_limited""#
        ),
        4.0
    );
    assert_eq!(
        requests(
            r#"operation="translation",provider="openai",model="whisper-1",status="cancelled""#
        ),
        1.0
    );
    // Sizes, audio seconds, characters and first bytes per model.
    let whisper = format!(r#"{openai},model="whisper-1""#);
    let gpt = format!(r#"{openai},model="gpt-4o-transcribe""#);
    assert_eq!(
        value(
            &text,
            &format!("conduit_audio_request_size_bytes_sum{{{whisper}}}")
        ),
        352_000.0
    );
    assert_eq!(
        value(
            &text,
            &format!("conduit_audio_request_size_bytes_sum{{{gpt}}}")
        ),
        416_000.0
    );
    assert_eq!(
        value(
            &text,
            &format!("conduit_audio_audio_seconds_total{{{whisper}}}")
        ),
        11.0
    );
    assert_eq!(
        value(
            &text,
            &format!("conduit_audio_audio_seconds_total{{{gpt}}}")
        ),
        13.0
    );
    assert_eq!(
        value(
            &text,
            &format!("conduit_audio_request_duration_seconds_count{{{whisper}}}")
        ),
        4.0
    );
    for model in ["tts-1", "tts-1-hd"] {
        let labels = format!(r#"operation="tts",provider="openai",model="{model}""#);
        assert_eq!(
            value(
                &text,
                &format!("conduit_audio_characters_total{{{labels}}}")
            ),
            42.0
        );
        assert_eq!(
            value(
                &text,
                &format!("conduit_audio_time_to_first_byte_seconds_count{{{labels}}}")
            ),
            1.0
        );
    }
    // Voice turns carry the session's model (or the turn's own).
    let realtime = r#"provider="openai",model="gpt-4o-realtime""#;
    for (outcome, count) in [("answered", 1.0), ("interrupted", 1.0), ("abandoned", 1.0)] {
        let series = format!(r#"conduit_audio_turns_total{{{realtime},outcome="{outcome}"}}"#);
        assert_eq!(value(&text, &series), count, "{outcome}");
    }
    let stage = |labels: &str, stage: &str, part: &str| {
        value(
            &text,
            &format!(r#"conduit_audio_turn_stage_seconds_{part}{{{labels},stage="{stage}"}}"#),
        )
    };
    assert_eq!(stage(realtime, "response", "count"), 2.0);
    assert!((stage(realtime, "response", "sum") - 0.8).abs() < 1e-9);
    assert!((stage(realtime, "end_of_turn", "sum") - 0.18).abs() < 1e-9);
    let agent = r#"provider="deepgram",model="nova-3-agent""#;
    assert!((stage(agent, "synthesis", "sum") - 0.2).abs() < 1e-9);
    assert_eq!(
        value(
            &text,
            &format!(r#"conduit_audio_turns_total{{{agent},outcome="answered"}}"#)
        ),
        1.0
    );
    // The guide's per-provider families keep their labels: sessions, the whole turn,
    // the ratios (over every model of the provider).
    assert_eq!(
        value(
            &text,
            r#"conduit_audio_realtime_latency_seconds_count{provider="openai"}"#
        ),
        3.0
    );
    assert_eq!(
        value(
            &text,
            r#"conduit_audio_realtime_sessions_total{provider="openai",disconnect_reason="client_disconnect"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &text,
            r#"conduit_audio_provider_error_rate{provider="openai"}"#
        ),
        4.0 / 11.0
    );
    let samples = text.lines().filter(|line| !line.starts_with('#'));
    for line in samples.filter(|line| line.contains("model=")) {
        let family = line.split(['{', ' ']).next().unwrap();
        let labelled = conduit_metrics_runtime::catalogue::MODEL_LABELLED_FAMILIES
            .iter()
            .any(|f| family.starts_with(f.name));
        assert!(labelled, "{line}");
    }
    assert_eq!(value(&text, "conduit_audio_model_labels_folded_total"), 0.0);

    // The strict parser, promtool and the same totals as with the label off.
    conduit_metrics_testkit::exposition::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let findings = common::promtool_findings(&text);
    assert!(
        findings
            .iter()
            .all(|line| line == common::ACCEPTED_PROMTOOL_FINDING),
        "{findings:#?}"
    );
    let off = record_with_models(&config(false, 16)).render();
    let total = |text: &str, family: &str| -> f64 {
        text.lines()
            .filter(|line| line.starts_with(family))
            .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
            .sum()
    };
    for family in [
        "conduit_audio_requests_total{",
        "conduit_audio_request_size_bytes_sum{",
        "conduit_audio_audio_seconds_total{",
        "conduit_audio_characters_total{",
        "conduit_audio_turns_total{",
        "conduit_audio_turn_stage_seconds_count{",
    ] {
        assert_eq!(total(&text, family), total(&off, family), "{family}");
    }
}

#[test]
fn models_past_the_bound_fold_into_other_and_are_counted() {
    let registry = Registry::new(&config(true, 2));
    for model in [
        "whisper-1",
        "gpt-4o-transcribe",
        "gpt-4o-mini-transcribe",
        "nova-3",
        "",
        "whisper-1",
    ] {
        registry
            .start_call_with_model(Operation::Transcription, "openai", model)
            .finish(Status::Success);
    }
    let text = registry.render();
    let count = |model: &str| {
        sample(
            &text,
            &format!(
                r#"conduit_audio_requests_total{{operation="transcription",provider="openai",model="{model}",status="success"}}"#
            ),
        )
    };
    assert_eq!(count("whisper-1"), Some(2.0));
    assert_eq!(count("gpt-4o-transcribe"), Some(1.0));
    assert_eq!(count("other"), Some(2.0));
    assert_eq!(count("unknown"), Some(1.0));
    assert_eq!(count("nova-3"), None);
    // Two folded calls; `unknown` never counts toward the bound.
    assert_eq!(value(&text, "conduit_audio_model_labels_folded_total"), 2.0);
    assert!(text.contains("# HELP conduit_audio_model_labels_folded_total "));
}

#[test]
fn counts_stay_exact_from_many_threads_and_models() {
    const THREADS: usize = 4;
    const CALLS: usize = 20_000;
    const MODELS: [&str; 5] = [
        "whisper-1",
        "gpt-4o-transcribe",
        "nova-3",
        "",
        "ink-whisper",
    ];
    let clock = Arc::new(ManualClock::new());
    let registry = Registry::with_clock(&config(true, 16), clock);
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let registry = &registry;
            scope.spawn(move || {
                let session = registry
                    .realtime_session("openai")
                    .with_model(MODELS[thread]);
                for call in 0..CALLS {
                    let model = MODELS[(thread + call) % MODELS.len()];
                    registry
                        .start_call_with_model(Operation::Tts, "openai", model)
                        .finish_with(CallOutcome::new(Status::Success).audio_seconds(0.25));
                    let mut turn = session.turn();
                    turn.user_speech_ended();
                    turn.agent_audio_started();
                }
                session.end(DisconnectReason::ServerClose);
            });
        }
    });
    let text = registry.render();
    for (index, model) in MODELS.iter().enumerate() {
        let label = if model.is_empty() { "unknown" } else { model };
        let labels = format!(r#"operation="tts",provider="openai",model="{label}""#);
        let calls = value(
            &text,
            &format!(r#"conduit_audio_requests_total{{{labels},status="success"}}"#),
        );
        assert_eq!(calls, (THREADS * CALLS / MODELS.len()) as f64, "{label}");
        let seconds = value(
            &text,
            &format!("conduit_audio_audio_seconds_total{{{labels}}}"),
        );
        assert_eq!(seconds, calls * 0.25, "{label}");
        let turns = sample(
            &text,
            &format!(
                r#"conduit_audio_turns_total{{provider="openai",model="{label}",outcome="answered"}}"#
            ),
        );
        let expected = (index < THREADS).then_some(CALLS as f64);
        assert_eq!(turns, expected, "{label}");
    }
    assert_eq!(
        value(
            &text,
            r#"conduit_audio_realtime_latency_seconds_count{provider="openai"}"#
        ),
        (THREADS * CALLS) as f64
    );
}

#[test]
fn a_model_is_ignored_while_the_label_is_off() {
    let registry = Registry::new(&config(false, 16));
    registry
        .start_call_with_model(Operation::Tts, "openai", "tts-1")
        .finish(Status::Success);
    let text = registry.render();
    assert!(text.contains(
        r#"conduit_audio_requests_total{operation="tts",provider="openai",status="success"} 1"#
    ));
    assert!(!text.contains("model="), "{text}");
    assert!(!text.contains("conduit_audio_model_labels_folded_total"));
}

#[test]
fn hostile_model_names_are_cleaned_cut_and_bounded() {
    let registry = Registry::new(&config(true, 16));
    let long = "m".repeat(300);
    for name in ["a\tb\u{0}", long.as_str(), "quote\"back\\slash\nnewline"] {
        registry
            .start_call_with_model(Operation::Tts, "openai", name)
            .finish(Status::Success);
    }
    // A flood of distinct names: 16 kept, the rest folded and counted.
    for index in 0..10_000 {
        registry
            .start_call_with_model(Operation::Tts, "openai", &format!("tenant-model-{index}"))
            .finish(Status::Success);
    }
    let text = registry.render();
    conduit_metrics_testkit::exposition::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let cut = "m".repeat(64);
    for label in [
        "a\u{FFFD}b\u{FFFD}",
        cut.as_str(),
        r#"quote\"back\\slash\nnewline"#,
    ] {
        let series = format!(
            r#"conduit_audio_requests_total{{operation="tts",provider="openai",model="{label}",status="success"}}"#
        );
        assert_eq!(value(&text, &series), 1.0, "{label}");
    }
    let models: std::collections::BTreeSet<&str> = text
        .lines()
        .filter(|line| line.starts_with("conduit_audio_requests_total{"))
        .filter_map(|line| line.split("model=\"").nth(1)?.split("\",status").next())
        .collect();
    // 16 names (the three above and 13 tenants) and `other`.
    assert_eq!(models.len(), 17, "{models:?}");
    assert_eq!(
        value(&text, "conduit_audio_model_labels_folded_total"),
        (10_000 - 13) as f64
    );
    assert_eq!(
        value(
            &text,
            r#"conduit_audio_requests_total{operation="tts",provider="openai",model="other",status="success"}"#
        ),
        (10_000 - 13) as f64
    );
}

#[test]
fn calls_recorded_before_install_turned_the_label_on_count_as_unknown() {
    // The process-wide registry starts with the default configuration: the label off.
    conduit_metrics_runtime::start_call_with_model(Operation::Tts, "early", "tts-1")
        .finish(Status::Success);
    let handle = MetricsConfig::builder()
        .no_listener()
        .model_label(true)
        .build()
        .unwrap()
        .install()
        .unwrap();
    conduit_metrics_runtime::start_call_with_model(Operation::Tts, "early", "tts-1")
        .finish(Status::Success);
    let text = handle.render();
    let series = |model: &str| {
        sample(
            &text,
            &format!(
                r#"conduit_audio_requests_total{{operation="tts",provider="early",model="{model}",status="success"}}"#
            ),
        )
    };
    assert_eq!(series("unknown"), Some(1.0));
    assert_eq!(series("tts-1"), Some(1.0));
}
