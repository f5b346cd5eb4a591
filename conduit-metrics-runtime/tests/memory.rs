//! Memory is bounded by label cardinality, not by traffic: ten million calls over 32
//! providers and all statuses grow resident memory by no more than 2 MiB over the first
//! ten thousand; and the cost of a series is small and measured.

use conduit_metrics_runtime::registry::Registry;
use conduit_metrics_runtime::{CallOutcome, CallSite, MetricsConfig, Operation, Status};
use conduit_metrics_testkit::resident_bytes;

static SITES: [CallSite; 4] = [
    CallSite::new(Operation::Transcription),
    CallSite::new(Operation::Tts),
    CallSite::new(Operation::Translation),
    CallSite::new(Operation::Realtime),
];

fn calls(range: std::ops::Range<u64>) {
    let providers: Vec<String> = (0..32).map(|i| format!("provider-{i}")).collect();
    for i in range {
        let provider = &providers[(i % 32) as usize];
        let status = Status::ALL[((i / 32) % Status::ALL.len() as u64) as usize];
        let site = &SITES[((i / 256) % 4) as usize];
        site.start(provider).finish_with(
            CallOutcome::new(status)
                .size(i % 2_000_000)
                .cost(0.001)
                .cache_hit(i % 3 == 0),
        );
    }
}

#[test]
fn ten_million_calls_cost_no_more_memory_than_ten_thousand() {
    calls(0..10_000);
    let _ = conduit_metrics_runtime::registry::global().render();
    let after_first = resident_bytes();
    // Two threads, as a server would record from several.
    let workers: Vec<_> = (0..2u64)
        .map(|half| {
            std::thread::spawn(move || {
                calls(10_000 + half * 4_995_000..10_000 + (half + 1) * 4_995_000)
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let text = conduit_metrics_runtime::registry::global().render();
    let after_all = resident_bytes();
    let growth = after_all.saturating_sub(after_first);
    // The cells exist after the first 10,000 calls; what is left is the two threads'
    // stacks and allocator noise (0.5 MiB measured).
    assert!(
        growth <= 2 * 1024 * 1024,
        "resident memory grew by {growth} bytes between 1e4 and 1e7 calls"
    );
    let total: f64 = text
        .lines()
        .filter(|l| l.starts_with("conduit_audio_requests_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(total, 10_000_000.0);
    eprintln!("resident memory growth from 1e4 to 1e7 calls: {growth} bytes");
}

#[test]
fn bytes_per_series() {
    const CELL_BLOCK_BYTES: u64 = 384;
    // Native buckets off: the classic cells alone.
    let classic = MetricsConfig::builder()
        .max_providers(1024)
        .native_histograms(false)
        .build()
        .unwrap();
    let per_series = measure_bytes_per_series(&classic);
    // Each pair holds one cell block per CPU stripe (the CPU count rounded up to a power
    // of two, at most 64): 8 status counters, the duration (10 buckets and a sum), size
    // (6 + 1) and time-to-first-byte (10 + 1) histograms, audio seconds and characters,
    // 39 cells of 8 bytes = 312, and two native-bucket slots (16 bytes each), padded to
    // 384 by the 128-byte stripe alignment. So 384 / 20 bytes per series per stripe, plus
    // the provider's entry, its name and the allocator's rounding: at most 24 bytes more
    // (docs/performance.md states this bound).
    let stripes = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .next_power_of_two()
        .min(64) as u64;
    let cells = stripes * CELL_BLOCK_BYTES / 20;
    assert!(
        (cells..=cells + 24).contains(&per_series),
        "{per_series} bytes per series with {stripes} stripes (cells alone: {cells})"
    );
    // Native buckets on (the default): a stripe that observed a duration also holds its
    // native buckets: 66 chunk slots (24 bytes each) and the struct around them (48
    // bytes), one 64-byte chunk per power of two of seconds observed (here one), and a
    // counter for each classic bound that splits a bucket (6 at schema 3, 48 bytes): 1,744
    // bytes per pair, about 87 per series (69 measured on 2 stripes: the resident size
    // counts pages, not allocations).
    let native = MetricsConfig::builder()
        .max_providers(1024)
        .build()
        .unwrap();
    let with_native = measure_bytes_per_series(&native);
    let extra = with_native.saturating_sub(per_series);
    assert!(
        (1744 / 20 - 24..=1744 / 20 + 8).contains(&extra),
        "{extra} bytes per series more with native buckets ({with_native} against {per_series})"
    );
}

/// Resident bytes per exported series of 4,096 (operation, provider) pairs with one call
/// each.
fn measure_bytes_per_series(config: &MetricsConfig) -> u64 {
    let before = resident_bytes();
    let registry = Box::leak(Box::new(Registry::new(config)));
    for provider in 0..1024 {
        for &operation in Operation::ALL {
            registry
                .start_call(operation, &format!("provider-{provider:04}"))
                .finish(Status::Success);
        }
    }
    let after = resident_bytes();
    let series = registry
        .render()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .count() as u64;
    let per_series = after.saturating_sub(before) / series;
    eprintln!("{series} series, {per_series} bytes per series");
    // 4,096 (operation, provider) pairs export 20 series each, beside the series an
    // empty registry already has.
    let empty = Registry::new(config)
        .render()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .count() as u64;
    assert_eq!(series, empty + 4096 * 20);
    per_series
}

/// `n` latencies from 10 µs to 100 s, log-uniform in a scrambled order: 23 powers of two
/// of seconds, 186 buckets at schema 3, more than the default limit of 160.
fn wide_latencies(range: std::ops::Range<u64>) -> impl Iterator<Item = std::time::Duration> {
    range.map(|i| {
        // A multiplicative hash spreads consecutive indexes over [0, 1).
        let unit = (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) as f64 / (1u64 << 53) as f64;
        std::time::Duration::from_secs_f64(1e-5 * 1e7f64.powf(unit))
    })
}

/// The schema and populated bucket count of the one native histogram of `family`.
fn native_shape(registry: &Registry, family: &str) -> (i64, i64, u64) {
    let body = registry.render_bytes(conduit_metrics_runtime::serving::ExpositionFormat::Protobuf);
    let families = conduit_metrics_testkit::python_protobuf_families(&body).unwrap();
    let histogram = families
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == family)
        .map(|f| f["metric"][0]["histogram"].clone())
        .unwrap();
    let buckets = histogram["positive_span"]
        .as_array()
        .unwrap()
        .iter()
        .map(|span| span["length"].as_i64().unwrap())
        .sum();
    let count = histogram["sample_count"].as_str().unwrap().parse().unwrap();
    (histogram["schema"].as_i64().unwrap(), buckets, count)
}

#[test]
fn a_native_series_keeps_to_its_bucket_limit_and_its_memory_from_10k_to_5m_observations() {
    let registry: &'static Registry = Box::leak(Box::new(Registry::new(&MetricsConfig::default())));
    let family = "conduit_audio_realtime_latency_seconds";
    for latency in wide_latencies(0..10_000) {
        registry.record_realtime_latency("openai", latency);
    }
    // 186 buckets at schema 3 are over the limit: one halving gives 93 at schema 2.
    let (schema, buckets, count) = native_shape(registry, family);
    assert_eq!((schema, count), (2, 10_000));
    assert!((90..=94).contains(&buckets), "{buckets} buckets at 10k");
    let after_first = resident_bytes();
    let workers: Vec<_> = (0..2u64)
        .map(|half| {
            std::thread::spawn(move || {
                let start = 10_000 + half * 2_495_000;
                for latency in wide_latencies(start..start + 2_495_000) {
                    registry.record_realtime_latency("openai", latency);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let (schema, buckets, count) = native_shape(registry, family);
    let growth = resident_bytes().saturating_sub(after_first);
    assert_eq!((schema, count), (2, 5_000_000));
    assert!(
        buckets <= 160 && (90..=94).contains(&buckets),
        "{buckets} buckets at 5M"
    );
    // A second stripe's buckets (at most 66 slots of 24 bytes and 23 chunks of 64) and
    // the threads' stacks: the observations themselves allocate nothing.
    assert!(
        growth <= 1024 * 1024,
        "resident memory grew by {growth} bytes between 1e4 and 5e6 observations"
    );
    eprintln!(
        "native series: {buckets} buckets at schema {schema}, {growth} bytes grown from 1e4 to 5e6"
    );
}
