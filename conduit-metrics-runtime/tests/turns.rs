//! Voice turns, timed on a manual clock so every stage is exact: stages from the latest
//! earlier mark, missing marks skipping their stage, repeated and out-of-order marks
//! ignored, outcomes on end, drop and unwinding, the whole turn in the guide's latency
//! family beside `record_turn_latency`, and exact counts from many threads.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{sample, value};
use conduit_metrics_runtime::clock::ManualClock;
use conduit_metrics_runtime::registry::Registry;
use conduit_metrics_runtime::{MetricsConfig, TurnOutcome, TurnStage};

fn registry() -> (&'static Registry, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new());
    let registry = Registry::with_clock(&MetricsConfig::default(), clock.clone());
    (Box::leak(Box::new(registry)), clock)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The sum and count of one stage of `provider`'s turns (`None` when not exported).
fn stage(text: &str, provider: &str, stage: TurnStage) -> Option<(f64, f64)> {
    let labels = format!("{{provider=\"{provider}\",stage=\"{}\"}}", stage.as_str());
    let sum = sample(
        text,
        &format!("conduit_audio_turn_stage_seconds_sum{labels}"),
    )?;
    let count = value(
        text,
        &format!("conduit_audio_turn_stage_seconds_count{labels}"),
    );
    Some((sum, count))
}

fn outcome(text: &str, provider: &str, outcome: TurnOutcome) -> f64 {
    value(
        text,
        &format!(
            "conduit_audio_turns_total{{provider=\"{provider}\",outcome=\"{}\"}}",
            outcome.as_str()
        ),
    )
}

fn whole_turn(text: &str, provider: &str) -> (f64, f64) {
    let labels = format!("{{provider=\"{provider}\"}}");
    (
        value(
            text,
            &format!("conduit_audio_realtime_latency_seconds_sum{labels}"),
        ),
        value(
            text,
            &format!("conduit_audio_realtime_latency_seconds_count{labels}"),
        ),
    )
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn each_stage_runs_from_the_mark_before_it() {
    let (registry, clock) = registry();
    let session = registry.realtime_session("openai");
    let mut turn = session.turn();
    turn.user_speech_ended();
    clock.advance(ms(100));
    turn.end_of_turn();
    clock.advance(ms(200));
    turn.transcript_final();
    clock.advance(ms(300));
    turn.response_started();
    clock.advance(ms(400));
    turn.agent_audio_started();
    turn.end();
    let text = registry.render();
    for (name, seconds) in [
        (TurnStage::EndOfTurn, 0.1),
        (TurnStage::Transcription, 0.2),
        (TurnStage::Response, 0.3),
        (TurnStage::Synthesis, 0.4),
    ] {
        let (sum, count) = stage(&text, "openai", name).unwrap();
        assert!(close(sum, seconds) && count == 1.0, "{name}: {sum} {count}");
    }
    let (sum, count) = whole_turn(&text, "openai");
    assert!(close(sum, 1.0) && count == 1.0, "{sum} {count}");
    assert_eq!(outcome(&text, "openai", TurnOutcome::Answered), 1.0);
    assert_eq!(outcome(&text, "openai", TurnOutcome::Interrupted), 0.0);
    assert_eq!(outcome(&text, "openai", TurnOutcome::Abandoned), 0.0);
    // Buckets are the guide's realtime latency bounds: 0.3 s is in le="0.3".
    assert_eq!(
        value(
            &text,
            r#"conduit_audio_turn_stage_seconds_bucket{provider="openai",stage="response",le="0.3"}"#
        ),
        1.0
    );
    assert!(text.contains("# HELP conduit_audio_turn_stage_seconds "));
    assert!(text.contains("# TYPE conduit_audio_turns_total counter"));
}

#[test]
fn a_missing_mark_skips_its_stage_and_the_next_runs_from_the_one_before() {
    let (registry, clock) = registry();
    let session = registry.realtime_session("s2s");
    let mut turn = session.turn();
    // A speech-to-speech model: no transcript.
    turn.user_speech_ended();
    clock.advance(ms(100));
    turn.end_of_turn();
    clock.advance(ms(250));
    turn.response_started();
    clock.advance(ms(50));
    turn.agent_audio_started();
    drop(turn);
    let text = registry.render();
    assert_eq!(stage(&text, "s2s", TurnStage::Transcription), None);
    let (response, _) = stage(&text, "s2s", TurnStage::Response).unwrap();
    assert!(close(response, 0.25), "{response}");
    let (synthesis, _) = stage(&text, "s2s", TurnStage::Synthesis).unwrap();
    assert!(close(synthesis, 0.05), "{synthesis}");
    // No end-of-speech mark: the whole turn starts at the first mark made.
    let mut turn = session.turn();
    turn.end_of_turn();
    clock.advance(ms(700));
    turn.agent_audio_started();
    drop(turn);
    let text = registry.render();
    let (synthesis, count) = stage(&text, "s2s", TurnStage::Synthesis).unwrap();
    assert!(
        close(synthesis, 0.75) && count == 2.0,
        "{synthesis} {count}"
    );
    let (sum, count) = whole_turn(&text, "s2s");
    assert!(close(sum, 0.4 + 0.7) && count == 2.0, "{sum} {count}");
    assert_eq!(stage(&text, "s2s", TurnStage::EndOfTurn).unwrap().1, 1.0);
}

#[test]
fn repeated_and_out_of_order_marks_are_ignored() {
    let (registry, clock) = registry();
    let session = registry.realtime_session("openai");
    let mut turn = session.turn();
    turn.user_speech_ended();
    clock.advance(ms(100));
    turn.end_of_turn();
    clock.advance(ms(50));
    // Second of its kind, and one before the latest: both ignored.
    turn.end_of_turn();
    turn.user_speech_ended();
    clock.advance(ms(100));
    turn.response_started();
    clock.advance(ms(20));
    // After the response started: too late to be the transcript's moment.
    turn.transcript_final();
    clock.advance(ms(80));
    turn.agent_audio_started();
    turn.agent_audio_started();
    turn.end();
    let text = registry.render();
    let (end_of_turn, _) = stage(&text, "openai", TurnStage::EndOfTurn).unwrap();
    assert!(close(end_of_turn, 0.1), "{end_of_turn}");
    assert_eq!(stage(&text, "openai", TurnStage::Transcription), None);
    let (response, _) = stage(&text, "openai", TurnStage::Response).unwrap();
    assert!(close(response, 0.15), "{response}");
    let (synthesis, count) = stage(&text, "openai", TurnStage::Synthesis).unwrap();
    assert!(close(synthesis, 0.1) && count == 1.0, "{synthesis}");
    let (sum, _) = whole_turn(&text, "openai");
    assert!(close(sum, 0.35), "{sum}");
}

#[test]
fn every_turn_ends_with_one_outcome_even_while_unwinding() {
    let (registry, clock) = registry();
    let session = registry.realtime_session("openai");
    // Barge-in: the agent's audio started, and the user spoke over it.
    let mut turn = session.turn();
    turn.user_speech_ended();
    clock.advance(ms(300));
    turn.agent_audio_started();
    turn.interrupted();
    drop(turn);
    // Abandoned: the user went quiet, no answer came.
    let mut turn = session.turn();
    turn.user_speech_ended();
    turn.end_of_turn();
    turn.end();
    // A turn whose pipeline panicked is still recorded (abandoned), and the panic goes on.
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut turn = session.turn();
        turn.user_speech_ended();
        panic!("the response model crashed");
    }));
    assert!(panicked.is_err());
    let text = registry.render();
    assert_eq!(outcome(&text, "openai", TurnOutcome::Answered), 0.0);
    assert_eq!(outcome(&text, "openai", TurnOutcome::Interrupted), 1.0);
    assert_eq!(outcome(&text, "openai", TurnOutcome::Abandoned), 2.0);
    // Only the interrupted turn reached the agent's audio: one whole turn.
    assert_eq!(whole_turn(&text, "openai").1, 1.0);
    // A session whose turns were never used exports no turn series.
    let quiet = registry.realtime_session("quiet");
    quiet.record_turn_latency(ms(10));
    drop(quiet);
    let text = registry.render();
    assert!(!text.contains(r#"conduit_audio_turns_total{provider="quiet""#));
}

#[test]
fn turns_and_record_turn_latency_feed_one_latency_family() {
    let (registry, clock) = registry();
    let session = registry.realtime_session("openai");
    session.record_turn_latency(ms(500));
    let mut turn = session.turn();
    turn.user_speech_ended();
    clock.advance(ms(1000));
    turn.agent_audio_started();
    turn.end();
    registry.record_realtime_latency("openai", ms(250));
    let (sum, count) = whole_turn(&registry.render(), "openai");
    assert!(close(sum, 1.75) && count == 3.0, "{sum} {count}");
}

#[test]
fn counts_stay_exact_with_turns_on_many_threads() {
    let (registry, clock) = registry();
    const THREADS: u64 = 4;
    const TURNS: u64 = 20_000;
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            std::thread::spawn(move || {
                let session = registry.realtime_session("openai");
                for i in 0..TURNS {
                    let mut turn = session.turn();
                    turn.user_speech_ended();
                    turn.end_of_turn();
                    if i % 2 == 0 {
                        turn.transcript_final();
                    }
                    turn.response_started();
                    match i % 3 {
                        0 => turn.agent_audio_started(),
                        1 => {
                            turn.agent_audio_started();
                            turn.interrupted();
                        }
                        _ => {}
                    }
                }
            })
        })
        .collect();
    // Time moves while the threads record: every stage is a whole number of 1 ms steps.
    for _ in 0..200 {
        clock.advance(ms(1));
        std::thread::yield_now();
    }
    for worker in workers {
        worker.join().unwrap();
    }
    let text = registry.render();
    let all = THREADS * TURNS;
    let thirds = |r: u64| (0..TURNS).filter(|i| i % 3 == r).count() as u64 * THREADS;
    let evens = (0..TURNS).filter(|i| i % 2 == 0).count() as u64 * THREADS;
    assert_eq!(
        outcome(&text, "openai", TurnOutcome::Answered),
        thirds(0) as f64
    );
    assert_eq!(
        outcome(&text, "openai", TurnOutcome::Interrupted),
        thirds(1) as f64
    );
    assert_eq!(
        outcome(&text, "openai", TurnOutcome::Abandoned),
        thirds(2) as f64
    );
    for (name, count) in [
        (TurnStage::EndOfTurn, all),
        (TurnStage::Transcription, evens),
        (TurnStage::Response, all),
        (TurnStage::Synthesis, thirds(0) + thirds(1)),
    ] {
        let (sum, seen) = stage(&text, "openai", name).unwrap();
        assert_eq!(seen, count as f64, "{name}");
        // Whole milliseconds, at most the 200 ms the clock moved.
        assert!((sum * 1000.0 - (sum * 1000.0).round()).abs() < 1e-6 * count as f64);
        assert!(sum <= 0.2 * count as f64, "{name}: {sum}");
    }
    assert_eq!(
        whole_turn(&text, "openai").1,
        (thirds(0) + thirds(1)) as f64
    );
}
