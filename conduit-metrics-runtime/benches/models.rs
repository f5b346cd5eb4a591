//! Cost of the `model` label (`cargo bench -p conduit-metrics-runtime --bench models`), in
//! one run with `ModelLabel` on:
//! - `attribute_without_model`: `#[audio_metric]` without `model` (the baseline: the same
//!   code path as with the label off, which never looks at models);
//! - `attribute_with_model`: the same with `model = ".."`, one model every call (the call
//!   site's model cache hits);
//! - `attribute_model_switch_every_call`: eight models in turn (the cache misses every
//!   call, so each call looks its model up in the table);
//! - `start_call` on a registry with the label off against `start_call_with_model` on
//!   one with it on (no call site: both resolve the provider every call).

use std::hint::black_box;

use conduit_metrics_runtime::registry::Registry;
use conduit_metrics_runtime::{MetricsConfig, Operation, Status, audio_metric};
use criterion::{Criterion, criterion_group, criterion_main};

#[audio_metric(operation = "transcription")]
fn without_model(provider: &str) -> Result<(), ()> {
    Ok(())
}

#[audio_metric(operation = "transcription", model = model)]
fn with_model(provider: &str, model: &str) -> Result<(), ()> {
    Ok(())
}

fn benches(c: &mut Criterion) {
    let _handle = MetricsConfig::builder()
        .no_listener()
        .model_label(true)
        .build()
        .unwrap()
        .install()
        .unwrap();
    let models: Vec<String> = (0..8).map(|i| format!("model-{i}")).collect();
    let mut group = c.benchmark_group("model_label");
    group.bench_function("attribute_without_model", |b| {
        b.iter(|| without_model(black_box("openai")))
    });
    group.bench_function("attribute_with_model", |b| {
        b.iter(|| with_model(black_box("openai"), black_box("whisper-1")))
    });
    let mut next = 0;
    group.bench_function("attribute_model_switch_every_call", |b| {
        b.iter(|| {
            next = (next + 1) % models.len();
            with_model(black_box("openai"), black_box(&models[next]))
        })
    });
    let off = Registry::new(&MetricsConfig::default());
    let on = Registry::new(&MetricsConfig::builder().model_label(true).build().unwrap());
    group.bench_function("start_call_label_off", |b| {
        b.iter(|| {
            off.start_call(Operation::Tts, black_box("openai"))
                .finish(Status::Success)
        })
    });
    group.bench_function("start_call_with_model_label_on", |b| {
        b.iter(|| {
            on.start_call_with_model(Operation::Tts, black_box("openai"), black_box("tts-1"))
                .finish(Status::Success)
        })
    });
    group.finish();
}

criterion_group!(models, benches);
criterion_main!(models);
