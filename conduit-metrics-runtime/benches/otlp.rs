//! OTLP export against the text render of the same registry, in one run
//! (`cargo bench -p conduit-metrics-runtime --features otlp --bench otlp`):
//! - `text_5000_series`: `Registry::render()` of 5,000 series (the baseline);
//! - `otlp_5000_series`: `Registry::render_otlp` of the same registry (the request the
//!   exporter sends, before gzip);
//! - `otlp_gzip_5000_series`: the same, gzipped as the exporter sends it.
//!
//! The bodies' sizes (text, OTLP, OTLP gzipped) are written to
//! `target/criterion/otlp/sizes.json` for `scripts/bench_tables.py`.

use std::hint::black_box;
use std::io::Write as _;

use conduit_metrics_runtime::registry::Registry;
use conduit_metrics_runtime::{MetricsConfig, Operation, Status};
use criterion::{Criterion, criterion_group, criterion_main};

/// A registry exporting at least `series` sample lines: (operation, provider) pairs with
/// all statuses and the duration histogram (20 lines each), as `hot_path`'s scrape group.
fn populated_registry(series: usize) -> Registry {
    let config = MetricsConfig::builder()
        .max_providers(1024)
        .build()
        .unwrap();
    let registry = Registry::new(&config);
    for pair in 0..series.div_ceil(20) {
        let provider = format!("provider-{}", pair / 4);
        registry
            .start_call(Operation::ALL[pair % 4], &provider)
            .finish(Status::Success);
    }
    registry
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn benches(c: &mut Criterion) {
    let registry = populated_registry(5_000);
    let text = registry.render();
    let otlp = registry.render_otlp("bench", 0);
    let sizes = serde_json::json!({
        "series": text.lines().filter(|l| !l.starts_with('#')).count(),
        "text_bytes": text.len(),
        "otlp_bytes": otlp.len(),
        "otlp_gzip_bytes": gzip(&otlp).len(),
    });
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion/otlp");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("sizes.json"), sizes.to_string()).unwrap();
    let mut group = c.benchmark_group("otlp");
    group.bench_function("text_5000_series", |b| {
        b.iter(|| black_box(registry.render()))
    });
    group.bench_function("otlp_5000_series", |b| {
        b.iter(|| black_box(registry.render_otlp("bench", 0)))
    });
    group.bench_function("otlp_gzip_5000_series", |b| {
        b.iter(|| black_box(gzip(&registry.render_otlp("bench", 0))))
    });
    group.finish();
}

criterion_group!(otlp, benches);
criterion_main!(otlp);
