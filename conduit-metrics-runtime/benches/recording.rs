//! Per-call cost of recording, in one run, against two baselines:
//! - `bare`: the same function with no instrumentation;
//! - `naive_metrics_macros`: the same recording written with `metrics::counter!` /
//!   `histogram!` / `gauge!` per call and a `String` provider label, into the
//!   `metrics-exporter-prometheus` recorder that `install()` sets up;
//! - `hand_written_call_site`: the runtime's recording API with a cached call site,
//!   written by hand;
//! - `audio_metric_macro`: the same function with `#[audio_metric]`;
//! - `start_call`: the runtime's API resolving the provider in the table each call.

use std::hint::black_box;
use std::time::{Duration, Instant};

use conduit_metrics_runtime::{CallSite, MetricsConfig, Operation, Status, audio_metric};
use criterion::{Criterion, criterion_group, criterion_main};

/// Stand-in for a provider call: a little real work the optimiser cannot remove.
#[inline(never)]
fn work(audio: &[u8]) -> Result<u64, ()> {
    Ok(audio.iter().map(|&b| u64::from(b)).sum())
}

fn bare(provider: &str, audio: &[u8]) -> Result<u64, ()> {
    black_box(provider);
    work(audio)
}

fn naive(provider: &str, audio: &[u8]) -> Result<u64, ()> {
    let provider = provider.to_string();
    metrics::gauge!("naive_active_operations", "operation" => "transcription").increment(1.0);
    let started = Instant::now();
    let result = work(audio);
    let status = if result.is_ok() { "success" } else { "error" };
    metrics::counter!("naive_requests_total", "operation" => "transcription", "provider" => provider.clone(), "status" => status).increment(1);
    metrics::histogram!("naive_request_duration_seconds", "operation" => "transcription", "provider" => provider)
        .record(started.elapsed().as_secs_f64());
    metrics::gauge!("naive_active_operations", "operation" => "transcription").decrement(1.0);
    result
}

static SITE: CallSite = CallSite::new(Operation::Transcription);

fn call_site(provider: &str, audio: &[u8]) -> Result<u64, ()> {
    let call = SITE.start(provider);
    let result = work(audio);
    call.finish(if result.is_ok() {
        Status::Success
    } else {
        Status::Error
    });
    result
}

#[audio_metric(operation = "transcription")]
fn with_macro(provider: &str, audio: &[u8]) -> Result<u64, ()> {
    work(audio)
}

fn start_call(provider: &str, audio: &[u8]) -> Result<u64, ()> {
    let call = conduit_metrics_runtime::start_call(Operation::Transcription, provider);
    let result = work(audio);
    call.finish(if result.is_ok() {
        Status::Success
    } else {
        Status::Error
    });
    result
}

fn per_call(c: &mut Criterion) {
    // The Prometheus recorder must be installed for the naive baseline to be real.
    let handle = MetricsConfig::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .build()
        .unwrap()
        .install()
        .unwrap();
    let audio = vec![7u8; 64];
    let mut group = c.benchmark_group("per_call");
    type Instrumented = fn(&str, &[u8]) -> Result<u64, ()>;
    let variants: [(&str, Instrumented); 5] = [
        ("bare", bare),
        ("naive_metrics_macros", naive),
        ("hand_written_call_site", call_site),
        ("audio_metric_macro", with_macro),
        ("start_call", start_call),
    ];
    for (name, function) in variants {
        group.bench_function(name, |b| {
            b.iter(|| function(black_box("openai"), black_box(&audio)))
        });
    }
    group.finish();
    // Keep the recorder's histogram buffers drained as the background task would.
    handle.flush().unwrap();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = per_call
}
criterion_main!(benches);
