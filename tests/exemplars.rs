//! Exemplars (feature `opentelemetry`): each duration, first-byte and turn-latency bucket
//! carries, in OpenMetrics, the trace of its latest observation made inside a sampled
//! trace, from plain OpenTelemetry or from `tracing` spans (tracing-opentelemetry); never
//! in text format 0.0.4, never for an unsampled trace or none; at most one a bucket.

use std::time::Duration;

use conduit_metrics_runtime::registry::global;
use conduit_metrics_runtime::serving::ExpositionFormat;
use conduit_metrics_runtime::{audio_metric, record_realtime_latency};
use opentelemetry::Context;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, Tracer,
    TracerProvider as _,
};

fn openmetrics() -> String {
    global().render_format(ExpositionFormat::OpenMetrics)
}

/// The exemplars on the buckets of `family` for `provider`: (le, trace_id, span_id).
fn exemplars(text: &str, family: &str, provider: &str) -> Vec<(String, String, String)> {
    text.lines()
        .filter(|line| line.starts_with(&format!("{family}_bucket{{")))
        .filter(|line| line.contains(&format!("provider=\"{provider}\"")))
        .filter_map(|line| {
            let (series, exemplar) = line.split_once(" # ")?;
            let le = series.split("le=\"").nth(1)?.split('"').next()?.to_owned();
            let trace = exemplar
                .split("trace_id=\"")
                .nth(1)?
                .split('"')
                .next()?
                .to_owned();
            let span = exemplar
                .split("span_id=\"")
                .nth(1)?
                .split('"')
                .next()?
                .to_owned();
            Some((le, trace, span))
        })
        .collect()
}

fn tracer() -> opentelemetry_sdk::trace::SdkTracer {
    opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .build()
        .tracer("exemplars-test")
}

#[audio_metric(operation = "transcription")]
fn transcribe(provider: &str) -> Result<(), std::io::Error> {
    std::thread::sleep(Duration::from_millis(120));
    Ok(())
}

#[test]
fn a_call_inside_a_sampled_span_leaves_its_trace_on_its_bucket() {
    let tracer = tracer();
    let span_context = tracer.in_span("POST /v1/audio/transcriptions", |cx| {
        transcribe("ex-otel").unwrap();
        cx.span().span_context().clone()
    });
    let text = openmetrics();
    let found = exemplars(&text, "conduit_audio_request_duration_seconds", "ex-otel");
    // One exemplar, with the span's ids, on the bucket the call landed in: at least
    // 120 ms, so above 0.1 (a busy machine may stretch it further).
    assert_eq!(found.len(), 1, "{text}");
    let (le, trace_id, span_id) = &found[0];
    assert_eq!(trace_id, &span_context.trace_id().to_string());
    assert_eq!(span_id, &span_context.span_id().to_string());
    assert_ne!(le, "0.1");
    let landed = format!(
        "conduit_audio_request_duration_seconds_bucket{{operation=\"transcription\",provider=\"ex-otel\",le=\"{le}\"}} 1 # "
    );
    let below = text
        .lines()
        .filter(|line| line.contains("provider=\"ex-otel\"") && line.ends_with("} 0"))
        .count();
    assert!(text.contains(&landed), "{text}");
    assert!(below >= 1, "{text}");
    // Never in text format 0.0.4.
    assert!(!global().render().contains(" # {trace_id"));
    // An independent parser accepts the exemplars.
    let families = conduit_metrics_testkit::python_openmetrics_families(&text, true);
    assert!(families.is_ok(), "{families:?}");
}

#[test]
fn no_exemplar_without_a_sampled_trace() {
    transcribe("ex-none").unwrap();
    let unsampled = SpanContext::new(
        TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap(),
        SpanId::from_hex("b7ad6b7169203331").unwrap(),
        TraceFlags::default(),
        true,
        TraceState::default(),
    );
    let _guard = Context::current()
        .with_remote_span_context(unsampled)
        .attach();
    transcribe("ex-unsampled").unwrap();
    let text = openmetrics();
    assert!(exemplars(&text, "conduit_audio_request_duration_seconds", "ex-none").is_empty());
    assert!(
        exemplars(
            &text,
            "conduit_audio_request_duration_seconds",
            "ex-unsampled"
        )
        .is_empty()
    );
    // The calls were counted all the same.
    assert!(text.contains(
        "conduit_audio_request_duration_seconds_count{operation=\"transcription\",provider=\"ex-unsampled\"} 1"
    ));
}

#[test]
fn with_capture_off_a_sampled_span_leaves_nothing() {
    conduit_metrics_runtime::exemplars::set_exemplar_capture(false);
    assert!(!conduit_metrics_runtime::exemplars::exemplar_capture());
    tracer().in_span("untracked", |_| transcribe("ex-capture-off").unwrap());
    conduit_metrics_runtime::exemplars::set_exemplar_capture(true);
    assert!(conduit_metrics_runtime::exemplars::exemplar_capture());
    tracer().in_span("tracked", |_| transcribe("ex-capture-on").unwrap());
    let text = openmetrics();
    let family = "conduit_audio_request_duration_seconds";
    assert!(
        exemplars(&text, family, "ex-capture-off").is_empty(),
        "{text}"
    );
    assert_eq!(exemplars(&text, family, "ex-capture-on").len(), 1, "{text}");
}

#[test]
fn a_tracing_span_carries_its_trace_through_tracing_opentelemetry() {
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer()));
    let trace_id = tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("synthesize request");
        let _entered = span.enter();
        transcribe("ex-tracing").unwrap();
        span.context().span().span_context().trace_id().to_string()
    });
    let found = exemplars(
        &openmetrics(),
        "conduit_audio_request_duration_seconds",
        "ex-tracing",
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].1, trace_id);
}

#[audio_metric(operation = "tts")]
async fn speak(provider: &str, millis: u64) -> Result<(), std::io::Error> {
    tokio::time::sleep(Duration::from_millis(millis)).await;
    Ok(())
}

#[tokio::test]
async fn an_async_call_keeps_the_context_it_was_polled_in_and_each_bucket_keeps_its_latest() {
    use opentelemetry::context::FutureExt as _;
    let tracer = tracer();
    let mut last_in_fast_bucket = String::new();
    for round in 0..20 {
        let span = tracer.start(format!("request {round}"));
        let cx = Context::current_with_span(span);
        last_in_fast_bucket = cx.span().span_context().trace_id().to_string();
        speak("ex-async", 1).with_context(cx).await.unwrap();
    }
    let span = tracer.start("slow request");
    let cx = Context::current_with_span(span);
    let slow = cx.span().span_context().trace_id().to_string();
    speak("ex-async", 300).with_context(cx).await.unwrap();
    let found = exemplars(
        &openmetrics(),
        "conduit_audio_request_duration_seconds",
        "ex-async",
    );
    // One exemplar a bucket: on 0.1 the latest of the 20 fast calls (1 ms each), and the
    // slow one (300 ms) on a bucket of 0.5 or above.
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].1.as_str()),
        ("0.1", last_in_fast_bucket.as_str())
    );
    assert_eq!(found[1].1, slow);
    let slow_bucket = found[1].0.parse::<f64>().unwrap_or(f64::INFINITY);
    assert!(slow_bucket >= 0.5, "{found:?}");
}

#[test]
fn realtime_turns_leave_their_trace_on_the_latency_buckets() {
    let tracer = tracer();
    let trace_id = tracer.in_span("realtime turn", |cx| {
        record_realtime_latency("ex-realtime", Duration::from_millis(280));
        cx.span().span_context().trace_id().to_string()
    });
    let found = exemplars(
        &openmetrics(),
        "conduit_audio_realtime_latency_seconds",
        "ex-realtime",
    );
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].0.as_str(), found[0].1.as_str()),
        ("0.3", trace_id.as_str())
    );
}

#[test]
fn a_voice_turn_leaves_its_trace_on_each_stage_bucket_and_the_whole_turn() {
    let tracer = tracer();
    let session = conduit_metrics_runtime::realtime_session("ex-turns");
    let trace_id = tracer.in_span("voice turn", |cx| {
        let mut turn = session.turn();
        turn.user_speech_ended();
        std::thread::sleep(Duration::from_millis(60));
        turn.end_of_turn();
        std::thread::sleep(Duration::from_millis(60));
        turn.agent_audio_started();
        turn.end();
        cx.span().span_context().trace_id().to_string()
    });
    // Outside the span: no exemplar.
    let mut untraced = session.turn();
    untraced.user_speech_ended();
    untraced.transcript_final();
    untraced.end();
    drop(session);
    let text = openmetrics();
    for stage in ["end_of_turn", "synthesis"] {
        let prefix = format!(
            "conduit_audio_turn_stage_seconds_bucket{{provider=\"ex-turns\",stage=\"{stage}\","
        );
        assert!(
            text.lines().any(|line| line.starts_with(&prefix)
                && line.contains(&format!("trace_id=\"{trace_id}\""))),
            "{stage} has no exemplar of {trace_id}"
        );
    }
    // The two traced stages and nothing from the untraced turn's transcription.
    let found = exemplars(&text, "conduit_audio_turn_stage_seconds", "ex-turns");
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.iter().all(|(_, trace, _)| *trace == trace_id));
    let whole = exemplars(&text, "conduit_audio_realtime_latency_seconds", "ex-turns");
    assert_eq!(whole.len(), 1);
    assert_eq!(whole[0].1, trace_id);
}

#[audio_metric(operation = "tts", stream)]
fn synthesize(
    provider: &str,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + use<> {
    futures_util::stream::iter(vec![Ok(vec![0u8; 960]), Ok(vec![0u8; 960])])
}

#[tokio::test]
async fn a_stream_started_in_a_span_leaves_its_trace_on_the_first_byte_bucket() {
    use futures_util::StreamExt as _;
    let tracer = tracer();
    let span = tracer.start("streamed speech");
    let cx = Context::current_with_span(span);
    let trace_id = cx.span().span_context().trace_id().to_string();
    let stream = {
        let _guard = cx.attach();
        synthesize("ex-stream")
    };
    // Consumed outside the span: the call's trace is the one current when it started.
    assert_eq!(stream.collect::<Vec<_>>().await.len(), 2);
    let text = openmetrics();
    for family in [
        "conduit_audio_time_to_first_byte_seconds",
        "conduit_audio_request_duration_seconds",
    ] {
        let found = exemplars(&text, family, "ex-stream");
        assert_eq!(found.len(), 1, "{family}");
        assert_eq!(found[0].1, trace_id, "{family}");
    }
}
