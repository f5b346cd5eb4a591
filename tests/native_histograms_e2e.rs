//! Native histograms against a real Prometheus 2.42 (Debian `prometheus`), all on
//! loopback. One Prometheus runs with `--enable-feature=native-histograms` (it asks for
//! protobuf), a second one without it (it gets OpenMetrics with classic buckets):
//! - a registry holds a known distribution of 2,000 turn latencies recorded through the
//!   public API; over the native series `histogram_quantile` gives p50, p95 and p99
//!   within the schema's relative error (9.05% at schema 3) of the true quantiles, and
//!   `histogram_count` and `histogram_sum` equal what was recorded; the classic buckets'
//!   error is reported beside them;
//! - exemplars recorded inside a sampled trace arrive through the native scrape;
//! - the gateway demo is scraped over protobuf: its latency families are native, and an
//!   independent decoder (Google's Python protobuf) accepts every family of its body,
//!   the facade's (process metrics) included.

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{
    free_port, get, post, prometheus_series as query, start_instance, start_prometheus_with,
};
use conduit_metrics_runtime::MetricsConfig;
use conduit_metrics_runtime::registry::Registry;
use conduit_metrics_runtime::serving::EndpointServer;
use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};

const TRACE: &str = "6e0c63257de34c926f9efcd03899c7a2";
const NATIVE_ACCEPT: &str =
    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited";

/// 2,000 latencies spread log-uniformly from 20 ms to 4 s (a long tail, as turns have).
fn latencies() -> Vec<f64> {
    (0..2000)
        .map(|i| 0.02 * 200f64.powf((f64::from(i) + 0.5) / 2000.0))
        .collect()
}

/// The `q` quantile of sorted `values` as Prometheus defines it over a distribution: the
/// value with `q * n` observations at or below it.
fn true_quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.saturating_sub(1)]
}

fn one(prometheus: SocketAddr, promql: &str) -> Option<f64> {
    let series = query(prometheus, promql);
    (series.len() == 1).then(|| series[0].value)
}

async fn wait_for(prometheus: SocketAddr, promql: &str, wanted: impl Fn(f64) -> bool) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = one(prometheus, promql).filter(|v| wanted(*v)) {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "{promql}: {:?}",
            query(prometheus, promql)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_reads_native_histograms_within_their_relative_error() {
    let registry: &'static Registry = Box::leak(Box::new(Registry::new(&MetricsConfig::default())));
    let values = latencies();
    let sampled = Context::current().with_remote_span_context(SpanContext::new(
        TraceId::from_hex(TRACE).unwrap(),
        SpanId::from_hex("00f067aa0ba902b7").unwrap(),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    ));
    for (i, &seconds) in values.iter().enumerate() {
        let latency = Duration::from_secs_f64(seconds);
        if i % 100 == 0 {
            let _traced = sampled.clone().attach();
            registry.record_realtime_latency("openai", latency);
        } else {
            registry.record_realtime_latency("openai", latency);
        }
    }
    // What was recorded, as the registry keeps it (whole nanoseconds).
    let recorded: Vec<f64> = values
        .iter()
        .map(|&s| Duration::from_secs_f64(s).as_nanos() as f64 / 1e9)
        .collect();
    let config = MetricsConfig::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .build()
        .unwrap();
    let endpoint =
        EndpointServer::start_with_formats(&config, |format| registry.render_bytes(format))
            .unwrap();
    let gateway = start_instance().await;

    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("prometheus.yml");
    std::fs::write(
        &config_path,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: registry\n    static_configs:\n      - targets: [\"{}\"]\n  - job_name: gateway\n    static_configs:\n      - targets: [\"{}\"]\n",
            endpoint.local_addr(),
            gateway.metrics
        ),
    )
    .unwrap();
    let native: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let classic: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let (_native, _classic) = tokio::task::block_in_place(|| {
        (
            start_prometheus_with(
                native,
                &config_path,
                &dir.path().join("native"),
                &["--enable-feature=native-histograms,exemplar-storage"],
            ),
            start_prometheus_with(classic, &config_path, &dir.path().join("classic"), &[]),
        )
    });

    let family = r#"conduit_audio_realtime_latency_seconds{job="registry",provider="openai"}"#;
    let count = wait_for(native, &format!("histogram_count({family})"), |v| v > 0.0).await;
    assert_eq!(count, recorded.len() as f64);
    let sum = one(native, &format!("histogram_sum({family})")).unwrap();
    let true_sum: f64 = recorded.iter().sum();
    assert!(
        (sum - true_sum).abs() < 1e-6 * true_sum,
        "sum {sum}, recorded {true_sum}"
    );
    // Stored as native only on 2.42: no classic bucket series from this Prometheus.
    assert!(
        query(
            native,
            r#"conduit_audio_realtime_latency_seconds_bucket{job="registry"}"#
        )
        .is_empty()
    );

    let classic_buckets =
        r#"conduit_audio_realtime_latency_seconds_bucket{job="registry",provider="openai"}"#;
    wait_for(classic, &format!("sum({classic_buckets})"), |v| v > 0.0).await;
    let relative_error_bound = 2f64.powf(0.125) - 1.0;
    let mut sorted = recorded.clone();
    sorted.sort_by(f64::total_cmp);
    for q in [0.5, 0.95, 0.99] {
        let truth = true_quantile(&sorted, q);
        let from_native = one(native, &format!("histogram_quantile({q}, {family})")).unwrap();
        let from_classic = one(
            classic,
            &format!("histogram_quantile({q}, {classic_buckets})"),
        )
        .unwrap();
        let native_error = (from_native - truth).abs() / truth;
        let classic_error = (from_classic - truth).abs() / truth;
        eprintln!(
            "p{}: true {truth:.4} s, native {from_native:.4} s ({:.2}% off), classic {from_classic:.4} s ({:.2}% off)",
            q * 100.0,
            native_error * 100.0,
            classic_error * 100.0
        );
        assert!(
            native_error <= relative_error_bound,
            "p{q}: native {from_native} is {native_error} off {truth} (bound {relative_error_bound})"
        );
    }

    // The exemplars recorded inside the sampled trace arrive through the native scrape.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let path = format!(
        "/api/v1/query_exemplars?query={}&start={}&end={}",
        conduit_metrics_testkit::percent_encode(family),
        now - 3600,
        now + 60
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = get(native, &path).await;
        assert_eq!(status, 200, "{body}");
        if body.contains(TRACE) {
            break;
        }
        assert!(Instant::now() < deadline, "no exemplar of {TRACE}: {body}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // The gateway over protobuf: its latency families are native.
    let (status, _, _) = post(
        gateway.api,
        "/v1/audio/transcriptions?provider=openai",
        "Content-Type: audio/wav\r\n",
        &[0u8; 3200],
    )
    .await;
    assert_eq!(status, 200);
    let duration = r#"histogram_count(conduit_audio_request_duration_seconds{job="gateway",operation="transcription",provider="openai"})"#;
    wait_for(native, duration, |v| v >= 1.0).await;
    assert_eq!(one(native, r#"up{job="gateway"}"#), Some(1.0));

    // An independent decoder accepts every family of the gateway's protobuf body, and it
    // holds every family of its text body, the facade's included. A family can get its
    // first series between two scrapes (the ratios are computed at the export interval's
    // tick), so the protobuf scrape is compared with text scrapes just before and after
    // it that agree.
    let mut attempts = 0;
    let (protobuf_families, text_families) = loop {
        let before = text_families(gateway.metrics).await;
        let protobuf = protobuf_families(gateway.metrics).await;
        let after = text_families(gateway.metrics).await;
        attempts += 1;
        if before == after || attempts == 10 {
            break (protobuf, after);
        }
    };
    assert_eq!(
        protobuf_families,
        text_families,
        "only in protobuf: {:?}; only in text: {:?}",
        protobuf_families
            .difference(&text_families)
            .collect::<Vec<_>>(),
        text_families
            .difference(&protobuf_families)
            .collect::<Vec<_>>()
    );
    assert!(
        protobuf_families
            .iter()
            .any(|name| name.starts_with("process_")),
        "{protobuf_families:?}"
    );
}

/// The families of `metrics`' protobuf body, as Google's Python protobuf decodes them.
async fn protobuf_families(metrics: SocketAddr) -> BTreeSet<String> {
    let head = format!(
        "GET /metrics HTTP/1.1\r\nHost: {metrics}\r\nAccept: {NATIVE_ACCEPT}\r\nConnection: close\r\n\r\n"
    );
    let (status, _, body) = conduit_metrics_testkit::client::send(metrics, &head, b"").await;
    assert_eq!(status, 200);
    let decoded =
        tokio::task::block_in_place(|| conduit_metrics_testkit::python_protobuf_families(&body))
            .unwrap();
    decoded
        .as_array()
        .unwrap()
        .iter()
        .map(|family| family["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The families of `metrics`' text body (a histogram's series under its family's name).
async fn text_families(metrics: SocketAddr) -> BTreeSet<String> {
    let (_, text) = get(metrics, "/metrics").await;
    conduit_metrics_testkit::exposition::parse(&text)
        .unwrap()
        .iter()
        .map(|sample| {
            let name = sample.name.as_str();
            ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| {
                    name.strip_suffix(suffix)
                        .filter(|stem| text.contains(&format!("# TYPE {stem} histogram")))
                })
                .unwrap_or(name)
                .to_owned()
        })
        .collect()
}
