//! `model = expr` on `#[audio_metric]`, with `ModelLabel` on: evaluated once before the
//! body, cached per call site like the provider (switching models at one site stays
//! exact), on plain, async, method, streamed and realtime calls. Each test installs the
//! metrics with the label on in its own process (nextest runs one test a process).

use std::sync::atomic::{AtomicUsize, Ordering};

use conduit_metrics_runtime::config::ConfigOption;
use conduit_metrics_runtime::{DisconnectReason, MetricsConfig, audio_metric};
use futures_util::StreamExt;
use futures_util::stream::{self, Stream};

fn install_with_models() -> conduit_metrics_runtime::MetricsHandle {
    MetricsConfig::builder()
        .option(ConfigOption::Listen, "none")
        .model_label(true)
        .max_models(3)
        .build()
        .unwrap()
        .install()
        .unwrap()
}

fn value(text: &str, series: &str) -> f64 {
    conduit_metrics_testkit::sample(text, series).unwrap_or_else(|| panic!("no {series}\n{text}"))
}

#[derive(Debug)]
struct Failed;

#[audio_metric(operation = "transcription", model = model)]
async fn transcribe(provider: &str, model: &str, fail: bool) -> Result<(), Failed> {
    if fail { Err(Failed) } else { Ok(()) }
}

static MODEL_READS: AtomicUsize = AtomicUsize::new(0);

fn model_of(name: &str) -> String {
    MODEL_READS.fetch_add(1, Ordering::Relaxed);
    name.to_owned()
}

struct Voice {
    provider: String,
    model: String,
}

impl Voice {
    #[audio_metric(operation = "tts", provider = self.provider.as_str(), model = model_of(&self.model), characters = text.len())]
    fn speak(&self, text: &str) -> Result<Vec<u8>, Failed> {
        Ok(text.as_bytes().to_vec())
    }

    #[audio_metric(operation = "tts", provider = self.provider.as_str(), model = &self.model, stream)]
    fn stream(&self) -> impl Stream<Item = Result<Vec<u8>, Failed>> + use<> {
        stream::iter(vec![Ok(vec![0; 480]), Ok(vec![0; 480])])
    }
}

struct Summary;

#[audio_metric(operation = "realtime", provider = "rt-models", model = "gpt-4o-realtime", disconnect_reason = |_s| DisconnectReason::ServerClose)]
async fn session() -> Result<Summary, Failed> {
    Ok(Summary)
}

#[tokio::test]
async fn one_site_switching_models_counts_each_exactly() {
    let handle = install_with_models();
    for round in 0..300 {
        let model = ["whisper-1", "gpt-4o-transcribe", ""][round % 3];
        transcribe("site-models", model, round % 10 == 0).await.ok();
    }
    let text = handle.render();
    let series = |model: &str, status: &str| {
        value(
            &text,
            &format!(
                r#"conduit_audio_requests_total{{operation="transcription",provider="site-models",model="{model}",status="{status}"}}"#
            ),
        )
    };
    // Rounds 0, 10, 20, ... fail: 30 failures, 10 for each model (10 = 1 mod 3, ...).
    for model in ["whisper-1", "gpt-4o-transcribe", "unknown"] {
        assert_eq!(
            series(model, "success") + series(model, "error"),
            100.0,
            "{model}"
        );
        assert_eq!(series(model, "error"), 10.0, "{model}");
    }
    assert_eq!(value(&text, "conduit_audio_model_labels_folded_total"), 0.0);
}

#[tokio::test]
async fn the_model_expression_runs_once_and_past_the_bound_folds() {
    let handle = install_with_models();
    for model in [
        "tts-1",
        "tts-1-hd",
        "eleven_flash_v2_5",
        "eleven_v3",
        "tts-1",
    ] {
        let voice = Voice {
            provider: "voice-models".into(),
            model: model.into(),
        };
        voice.speak("hello").unwrap();
    }
    assert_eq!(MODEL_READS.load(Ordering::Relaxed), 5);
    let text = handle.render();
    let labels =
        |model: &str| format!(r#"operation="tts",provider="voice-models",model="{model}""#);
    let calls = |model: &str| {
        value(
            &text,
            &format!(
                r#"conduit_audio_requests_total{{{},status="success"}}"#,
                labels(model)
            ),
        )
    };
    // MaxModels = 3: the fourth name folds into `other`.
    assert_eq!(calls("tts-1"), 2.0);
    assert_eq!(calls("tts-1-hd"), 1.0);
    assert_eq!(calls("eleven_flash_v2_5"), 1.0);
    assert_eq!(calls("other"), 1.0);
    assert_eq!(value(&text, "conduit_audio_model_labels_folded_total"), 1.0);
    assert_eq!(
        value(
            &text,
            &format!("conduit_audio_characters_total{{{}}}", labels("tts-1"))
        ),
        10.0
    );
}

#[tokio::test]
async fn streamed_and_realtime_calls_carry_their_model() {
    let handle = install_with_models();
    let voice = Voice {
        provider: "stream-models".into(),
        model: "tts-1-hd".into(),
    };
    let chunks: Vec<_> = voice.stream().collect().await;
    assert_eq!(chunks.len(), 2);
    session().await.ok();
    let text = handle.render();
    let labels = r#"operation="tts",provider="stream-models",model="tts-1-hd""#;
    assert_eq!(
        value(
            &text,
            &format!("conduit_audio_time_to_first_byte_seconds_count{{{labels}}}")
        ),
        1.0
    );
    assert_eq!(
        value(
            &text,
            &format!(r#"conduit_audio_requests_total{{{labels},status="success"}}"#)
        ),
        1.0
    );
    assert_eq!(
        value(
            &text,
            r#"conduit_audio_requests_total{operation="realtime",provider="rt-models",model="gpt-4o-realtime",status="success"}"#
        ),
        1.0
    );
    // The session families stay per provider, as in the guide.
    assert_eq!(
        value(
            &text,
            r#"conduit_audio_realtime_sessions_total{provider="rt-models",disconnect_reason="server_close"}"#
        ),
        1.0
    );
}
