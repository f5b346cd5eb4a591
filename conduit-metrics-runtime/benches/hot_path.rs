//! Performance at scale (`cargo bench -p conduit-metrics-runtime --bench hot_path`).
//! Every group holds its own baseline, measured in the same run:
//!
//! - `clock`: `std::time::Instant::now()` against a raw `quanta` TSC read.
//! - `success_path`: the same function bare, with the floor (the same two clock reads
//!   and atomic updates written by hand on cells resolved once), with `#[audio_metric]`,
//!   and with naive `metrics::counter!`/`histogram!` per call and a `String` provider.
//! - `paths`: error, cancelled, a provider switch (call-site cache miss), a folded
//!   provider, the first call of a new provider, and calls with size, cost and cache hit.
//! - `contention`: one thread, and two threads calling the same operation and provider.
//! - `scrape`: fresh renders at 100, 1,000 and 10,000 series, and a cached scrape.
//! - `recording_while_scraping`: per-call cost with and without a thread rendering
//!   continuously.
//! - `native_buckets`: calls and turn latencies with native buckets on and off.
//! - `voice_turns`: a raw TSC read, a turn without marks, a turn with all five.
//! - `protobuf`: 10,000 series in our text and protobuf, and metrics-exporter-prometheus'.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Barrier, OnceLock};
use std::time::{Duration, Instant};

use conduit_metrics_runtime::registry::Registry;
use conduit_metrics_runtime::serving::{ExpositionFormat, ScrapeCache};
use conduit_metrics_runtime::{
    AudioStatus, CallSite, MetricsConfig, Operation, Status, audio_metric,
};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

#[inline(never)]
fn work(audio: &[u8]) -> u64 {
    audio.iter().map(|&b| u64::from(b)).sum()
}

fn bare(provider: &str, audio: &[u8]) -> Result<u64, ()> {
    black_box(provider);
    Ok(work(audio))
}

/// The floor: what any correct recording must do at least — two clock reads and the
/// same atomic updates (active up and down, one counter, one bucket, the sum) on cells
/// resolved once, with no provider lookup and no guard.
struct FloorCells {
    active: AtomicI64,
    requests: AtomicU64,
    buckets: [AtomicU64; 10],
    sum: AtomicU64,
}

static FLOOR: FloorCells = FloorCells {
    active: AtomicI64::new(0),
    requests: AtomicU64::new(0),
    buckets: [const { AtomicU64::new(0) }; 10],
    sum: AtomicU64::new(0),
};
const BOUNDS_NS: [u64; 10] = [
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
    30_000_000_000,
    60_000_000_000,
    u64::MAX,
];

fn clock() -> &'static quanta::Clock {
    static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
    CLOCK.get_or_init(quanta::Clock::new)
}

fn floor(provider: &str, audio: &[u8]) -> Result<u64, ()> {
    black_box(provider);
    let clock = clock();
    FLOOR.active.fetch_add(1, Relaxed);
    let start = clock.raw();
    let result = work(audio);
    let nanos = clock.delta_as_nanos(start, clock.raw());
    FLOOR.requests.fetch_add(1, Relaxed);
    FLOOR.buckets[BOUNDS_NS.partition_point(|&b| b < nanos)].fetch_add(1, Relaxed);
    FLOOR.sum.fetch_add(nanos, Relaxed);
    FLOOR.active.fetch_sub(1, Relaxed);
    Ok(result)
}

#[audio_metric(operation = "transcription")]
fn instrumented(provider: &str, audio: &[u8]) -> Result<u64, ()> {
    Ok(work(audio))
}

fn naive(provider: &str, audio: &[u8]) -> Result<u64, ()> {
    let provider = provider.to_string();
    metrics::gauge!("naive_active_operations", "operation" => "transcription").increment(1.0);
    let started = Instant::now();
    let result = work(audio);
    metrics::counter!("naive_requests_total", "operation" => "transcription", "provider" => provider.clone(), "status" => "success").increment(1);
    metrics::histogram!("naive_request_duration_seconds", "operation" => "transcription", "provider" => provider)
        .record(started.elapsed().as_secs_f64());
    metrics::gauge!("naive_active_operations", "operation" => "transcription").decrement(1.0);
    Ok(result)
}

#[derive(Debug, AudioStatus)]
enum BenchError {
    #[audio_status("timeout")]
    Timeout,
}

#[audio_metric(operation = "transcription")]
fn failing(provider: &str, audio: &[u8]) -> Result<u64, BenchError> {
    black_box(work(audio));
    Err(BenchError::Timeout)
}

struct Speech {
    audio: Vec<u8>,
    cost: f64,
    cached: bool,
}

#[audio_metric(operation = "tts", size = |s| s.audio.len(), cost = |s| s.cost, cache_hit = |s| s.cached)]
fn speak<'a>(provider: &str, speech: &'a Speech) -> Result<&'a Speech, ()> {
    black_box(work(&speech.audio[..64]));
    Ok(speech)
}

static CANCEL_SITE: CallSite = CallSite::new(Operation::Translation);

fn install() -> conduit_metrics_runtime::MetricsHandle {
    MetricsConfig::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .build()
        .unwrap()
        .install()
        .unwrap()
}

/// A voice turn with all five marks, ended.
fn answered_turn(session: &conduit_metrics_runtime::RealtimeSession<'_>) {
    let mut turn = session.turn();
    turn.user_speech_ended();
    turn.end_of_turn();
    turn.transcript_final();
    turn.response_started();
    turn.agent_audio_started();
    turn.end();
}

fn config(c: &mut Criterion) -> &mut Criterion {
    c
}

fn benches(c: &mut Criterion) {
    // The Prometheus recorder must be installed for the naive baseline to be real.
    let handle = install();
    let audio = [7u8; 64];

    let mut group = config(c).benchmark_group("clock");
    group.bench_function("std_instant_now", |b| b.iter(|| black_box(Instant::now())));
    group.bench_function("quanta_raw", |b| b.iter(|| black_box(clock().raw())));
    group.finish();

    type Instrumented = fn(&str, &[u8]) -> Result<u64, ()>;
    let variants: [(&str, Instrumented); 4] = [
        ("bare", bare),
        ("floor", floor),
        ("audio_metric", instrumented),
        ("naive_metrics_macros", naive),
    ];
    let mut group = c.benchmark_group("success_path");
    for (name, function) in variants {
        group.bench_function(name, |b| {
            b.iter(|| function(black_box("openai"), black_box(&audio)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("paths");
    group.bench_function("success", |b| {
        b.iter(|| instrumented(black_box("openai"), black_box(&audio)))
    });
    group.bench_function("error", |b| {
        b.iter(|| failing(black_box("openai"), black_box(&audio)))
    });
    group.bench_function("cancelled", |b| {
        b.iter(|| drop(black_box(CANCEL_SITE.start(black_box("openai")))))
    });
    let speech = Speech {
        audio: vec![0; 48_000],
        cost: 0.002,
        cached: false,
    };
    group.bench_function("size_cost_cache_hit", |b| {
        b.iter(|| speak(black_box("openai"), black_box(&speech)))
    });
    let switching: Vec<String> = (0..16).map(|i| format!("provider-{i}")).collect();
    let mut next = 0;
    group.bench_function("provider_switch_every_call", |b| {
        b.iter(|| {
            next = (next + 1) % switching.len();
            instrumented(black_box(&switching[next]), black_box(&audio))
        })
    });
    // Fill the bound, then every new name folds into "other".
    for i in 0..64 {
        let _ = instrumented(&format!("filler-{i}"), &audio);
    }
    let folded: Vec<String> = (0..1024).map(|i| format!("tenant-{i}")).collect();
    let mut next = 0;
    group.bench_function("folded_provider", |b| {
        b.iter(|| {
            next = (next + 1) % folded.len();
            instrumented(black_box(&folded[next]), black_box(&audio))
        })
    });
    let names: Vec<String> = (0..1000).map(|i| format!("fresh-{i}")).collect();
    group.bench_function("first_call_of_provider", |b| {
        b.iter_batched(
            || Registry::new(&MetricsConfig::default()),
            |registry| {
                for name in &names[..16] {
                    registry
                        .start_call(Operation::Tts, name)
                        .finish(Status::Success);
                }
                registry
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();

    // Contention: each thread makes `iters` calls; the time is the wall time of all.
    let mut group = c.benchmark_group("contention");
    for threads in [1usize, 2] {
        for (name, function) in [
            ("audio_metric", instrumented as Instrumented),
            ("floor_shared_cells", floor),
        ] {
            group.bench_function(format!("{name}/{threads}_threads"), |b| {
                b.iter_custom(|iters| {
                    let start = Arc::new(Barrier::new(threads + 1));
                    let workers: Vec<_> = (0..threads)
                        .map(|_| {
                            let start = start.clone();
                            std::thread::spawn(move || {
                                let audio = [7u8; 64];
                                start.wait();
                                for _ in 0..iters {
                                    black_box(
                                        function(black_box("openai"), black_box(&audio)).ok(),
                                    );
                                }
                            })
                        })
                        .collect();
                    start.wait();
                    let begun = Instant::now();
                    for worker in workers {
                        worker.join().unwrap();
                    }
                    begun.elapsed()
                })
            });
        }
    }
    group.finish();

    // Native buckets: the same call recorded with classic buckets only and with native
    // buckets beside them (the default), each on a registry of its own.
    let classic_only = Registry::new(
        &MetricsConfig::builder()
            .native_histograms(false)
            .build()
            .unwrap(),
    );
    let with_native = Registry::new(&MetricsConfig::default());
    let mut group = c.benchmark_group("native_buckets");
    for (name, registry) in [
        ("classic_only", &classic_only),
        ("classic_and_native", &with_native),
    ] {
        group.bench_function(format!("call/{name}"), |b| {
            b.iter(|| {
                registry
                    .start_call(Operation::Tts, black_box("openai"))
                    .finish(Status::Success)
            })
        });
        let latency = Duration::from_millis(180);
        group.bench_function(format!("turn_latency/{name}"), |b| {
            b.iter(|| registry.record_realtime_latency(black_box("openai"), black_box(latency)))
        });
    }
    group.finish();

    // Voice turns: a raw TSC read (what a mark is made of), a turn with no mark (its
    // record: the outcome alone), and a turn with all five marks (four stages and the
    // whole turn recorded).
    let turns_registry = Registry::new(&MetricsConfig::default());
    let session = turns_registry.realtime_session("openai");
    let mut group = c.benchmark_group("voice_turns");
    group.bench_function("tsc_read", |b| b.iter(|| black_box(clock().raw())));
    group.bench_function("turn_without_marks", |b| b.iter(|| session.turn().end()));
    group.bench_function("turn_with_five_marks", |b| {
        b.iter(|| {
            answered_turn(&session);
        })
    });
    // The same turn with classic buckets only (NativeHistograms = false).
    let classic_registry = Registry::new(
        &MetricsConfig::builder()
            .native_histograms(false)
            .build()
            .unwrap(),
    );
    let classic_session = classic_registry.realtime_session("openai");
    group.bench_function("turn_with_five_marks_classic_only", |b| {
        b.iter(|| {
            answered_turn(&classic_session);
        })
    });
    group.finish();
    drop(classic_session);
    drop(session);

    // Protobuf against text for the same 10,000 series, and metrics-exporter-prometheus'
    // protobuf render of the same series (8 counters and a 9-bucket histogram per pair).
    let mut group = c.benchmark_group("protobuf");
    let registry = populated_registry(10_000);
    group.bench_function("text_10000_series", |b| {
        b.iter(|| black_box(registry.render()))
    });
    group.bench_function("protobuf_10000_series", |b| {
        b.iter(|| black_box(registry.render_bytes(ExpositionFormat::Protobuf)))
    });
    let exporter = exporter_with_the_same_series(10_000);
    group.bench_function("metrics_exporter_prometheus_protobuf_10000_series", |b| {
        b.iter(|| black_box(exporter.render_protobuf()))
    });
    group.bench_function("metrics_exporter_prometheus_text_10000_series", |b| {
        b.iter(|| black_box(exporter.render()))
    });
    group.finish();

    // Scrapes: a registry with about N exported series (sample lines).
    let mut group = c.benchmark_group("scrape");
    for series in [100usize, 1_000, 10_000] {
        let registry = populated_registry(series);
        let lines = registry
            .render()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .count();
        assert!(lines >= series, "{lines} < {series}");
        group.bench_function(format!("render_{series}_series"), |b| {
            b.iter(|| black_box(registry.render()))
        });
        if series == 10_000 {
            let registry: &'static Registry = Box::leak(Box::new(registry));
            let cache = ScrapeCache::new(
                Box::new(move || registry.render()),
                Duration::from_secs(3600),
            );
            cache.body(false);
            group.bench_function("cached_10000_series", |b| {
                b.iter(|| black_box(cache.body(false)))
            });
        }
    }
    group.finish();

    // Recording while another thread renders the global registry (about 1,000 series)
    // as fast as it can.
    for i in 0..50 {
        for &operation in Operation::ALL {
            conduit_metrics_runtime::start_call(operation, &format!("scraped-{i}"))
                .finish(Status::Success);
        }
    }
    let mut group = c.benchmark_group("recording_while_scraping");
    group.bench_function("no_scraper", |b| {
        b.iter(|| instrumented(black_box("openai"), black_box(&audio)))
    });
    let stop = Arc::new(AtomicBool::new(false));
    let scraper = {
        let stop = stop.clone();
        let handle = handle.clone();
        std::thread::spawn(move || {
            let mut renders = 0u64;
            while !stop.load(Relaxed) {
                black_box(handle.registry().render());
                renders += 1;
            }
            renders
        })
    };
    let mut measured = false;
    group.bench_function("scraper_rendering_continuously", |b| {
        measured = true;
        b.iter(|| instrumented(black_box("openai"), black_box(&audio)))
    });
    stop.store(true, Relaxed);
    let renders = scraper.join().unwrap();
    // A filtered run (`cargo bench -- success_path`) skips the measurement: nothing to check.
    assert!(!measured || renders > 10, "the scraper did not run");
    group.finish();
    let _ = handle.flush();
}

/// A registry exporting at least `series` sample lines: (operation, provider) pairs with
/// all statuses and the duration histogram (20 lines each).
fn populated_registry(series: usize) -> Registry {
    let config = MetricsConfig::builder()
        .max_providers(1024)
        .build()
        .unwrap();
    let registry = Registry::new(&config);
    let pairs = series.div_ceil(20);
    for pair in 0..pairs {
        let provider = format!("provider-{}", pair / 4);
        let operation = Operation::ALL[pair % 4];
        registry
            .start_call(operation, &provider)
            .finish(Status::Success);
    }
    registry
}

/// A metrics-exporter-prometheus handle holding the series of [`populated_registry`]: per
/// (operation, provider) pair, a counter for each of the 8 statuses and the duration
/// histogram with the guide's buckets.
fn exporter_with_the_same_series(series: usize) -> metrics_exporter_prometheus::PrometheusHandle {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(&conduit_metrics_runtime::catalogue::REQUEST_DURATION_BUCKETS)
        .unwrap()
        .build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        for pair in 0..series.div_ceil(20) {
            let provider = format!("provider-{}", pair / 4);
            let operation = Operation::ALL[pair % 4].as_str();
            for &status in Status::ALL {
                metrics::counter!("conduit_audio_requests_total", "operation" => operation, "provider" => provider.clone(), "status" => status.as_str())
                    .increment(u64::from(status == Status::Success));
            }
            metrics::histogram!("conduit_audio_request_duration_seconds", "operation" => operation, "provider" => provider.clone())
                .record(0.000_001);
        }
    });
    handle
}

criterion_group! {
    name = hot_path;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(hot_path);
