//! What exemplars cost on the hot path, in one run
//! (`cargo bench -p conduit-metrics-runtime --features opentelemetry --bench exemplars`):
//! - `capture_off`: `#[audio_metric]` with exemplar capture turned off
//!   (`set_exemplar_capture(false)`): the path without the feature plus one relaxed load;
//! - `no_trace_context`: capture on, no OpenTelemetry context current (the cost every
//!   call pays once the feature is on);
//! - `sampled_trace_context`: inside a sampled span, so every call also reads the wall
//!   clock and writes its bucket's exemplar (the worst case: every call traced).

use std::hint::black_box;

use conduit_metrics_runtime::audio_metric;
use conduit_metrics_runtime::exemplars::set_exemplar_capture;
use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};

#[inline(never)]
fn work(audio: &[u8]) -> u64 {
    audio.iter().map(|&b| u64::from(b)).sum()
}

#[audio_metric(operation = "transcription")]
fn instrumented(provider: &str, audio: &[u8]) -> Result<u64, ()> {
    Ok(work(audio))
}

fn sampled_context() -> Context {
    let span = SpanContext::new(
        TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
        SpanId::from_hex("00f067aa0ba902b7").unwrap(),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    Context::current().with_remote_span_context(span)
}

fn exemplars(c: &mut Criterion) {
    let audio = vec![7u8; 64];
    let mut group = c.benchmark_group("exemplars");
    set_exemplar_capture(false);
    group.bench_function("capture_off", |b| {
        b.iter(|| instrumented(black_box("openai"), black_box(&audio)))
    });
    set_exemplar_capture(true);
    group.bench_function("no_trace_context", |b| {
        b.iter(|| instrumented(black_box("openai"), black_box(&audio)))
    });
    let _guard = sampled_context().attach();
    group.bench_function("sampled_trace_context", |b| {
        b.iter(|| instrumented(black_box("openai"), black_box(&audio)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(std::time::Duration::from_secs(4));
    targets = exemplars
}
criterion_main!(benches);
