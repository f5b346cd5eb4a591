//! OpenMetrics and exemplars against a real Prometheus 2.42 (Debian `prometheus`) started
//! with `--enable-feature=exemplar-storage`, all on loopback:
//! - the gateway example is scraped (Prometheus asks for OpenMetrics); requests sent with
//!   `traceparent` headers of trace ids this test chose come back from
//!   `/api/v1/query_exemplars`, exactly those, each on its provider;
//! - one registry is served twice, by an endpoint that speaks OpenMetrics and by one
//!   that speaks only text 0.0.4: Prometheus stores the same series names and values from
//!   both (the guide's `conduit_audio_cost_dollars` keeps its name), and only the
//!   OpenMetrics one brings exemplars.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{
    free_port, get, post, prometheus_series as query, start_instance, start_prometheus_with,
};
use conduit_metrics_runtime::registry::Registry;
use conduit_metrics_runtime::serving::EndpointServer;
use conduit_metrics_runtime::{CallOutcome, MetricsConfig, Operation, Status};
use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};

/// `/api/v1/query_exemplars` over the last hour: (provider, trace_id) of every exemplar.
async fn exemplars(prometheus: SocketAddr, promql: &str) -> BTreeSet<(String, String)> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let path = format!(
        "/api/v1/query_exemplars?query={}&start={}&end={}",
        conduit_metrics_testkit::percent_encode(promql),
        now - 3600,
        now + 60
    );
    let (status, body) = get(prometheus, &path).await;
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut found = BTreeSet::new();
    for series in answer["data"].as_array().into_iter().flatten() {
        let provider = series["seriesLabels"]["provider"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        for exemplar in series["exemplars"].as_array().into_iter().flatten() {
            let trace = exemplar["labels"]["trace_id"].as_str().unwrap().to_owned();
            found.insert((provider.clone(), trace));
        }
    }
    found
}

fn sampled(trace_id: &str) -> Context {
    Context::current().with_remote_span_context(SpanContext::new(
        TraceId::from_hex(trace_id).unwrap(),
        SpanId::from_hex("00f067aa0ba902b7").unwrap(),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_stores_exemplars_and_the_same_series_from_both_formats() {
    let gateway = start_instance().await;

    // One registry, served in both formats.
    let registry: &'static Registry = Box::leak(Box::new(Registry::new(&MetricsConfig::default())));
    {
        let _traced = sampled("11111111111111111111111111111111").attach();
        registry
            .start_call(Operation::Tts, "both")
            .finish_with(CallOutcome::new(Status::Success).size(2048).cost(0.25));
    }
    registry
        .start_call(Operation::Transcription, "both")
        .finish(Status::Timeout);
    let config = MetricsConfig::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .build()
        .unwrap();
    let openmetrics =
        EndpointServer::start_with_formats(&config, |format| registry.render_bytes(format))
            .unwrap();
    let text_only = EndpointServer::start(&config, || registry.render()).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let prometheus: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let config_path = dir.path().join("prometheus.yml");
    std::fs::write(
        &config_path,
        format!(
            r#"global:
  scrape_interval: 1s
scrape_configs:
  - job_name: gateway
    static_configs:
      - targets: ["{gateway}"]
  - job_name: openmetrics
    static_configs:
      - targets: ["{openmetrics}"]
  - job_name: text
    static_configs:
      - targets: ["{text}"]
"#,
            gateway = gateway.metrics,
            openmetrics = openmetrics.local_addr(),
            text = text_only.local_addr(),
        ),
    )
    .unwrap();
    let _prometheus = tokio::task::block_in_place(|| {
        start_prometheus_with(
            prometheus,
            &config_path,
            &dir.path().join("data"),
            &["--enable-feature=exemplar-storage"],
        )
    });

    // Requests with trace ids of our choosing, one provider each, and one without.
    let chosen = [
        ("openai", "0af7651916cd43dd8448eb211c80319c"),
        ("deepgram", "4bf92f3577b34da6a3ce929d0e0e4736"),
        ("azure", "5b8aa5a2d2c872e8321cf37308d69df2"),
    ];
    for (provider, trace_id) in chosen {
        let (status, _, _) = post(
            gateway.api,
            &format!("/v1/audio/transcriptions?provider={provider}"),
            &format!(
                "Content-Type: audio/wav\r\ntraceparent: 00-{trace_id}-00f067aa0ba902b7-01\r\n"
            ),
            &[0u8; 3200],
        )
        .await;
        assert_eq!(status, 200);
    }
    let (status, _, _) = post(
        gateway.api,
        "/v1/audio/transcriptions?provider=elevenlabs",
        "Content-Type: audio/wav\r\n",
        &[0u8; 3200],
    )
    .await;
    assert_eq!(status, 200);

    // Exactly the chosen trace ids, on the right providers.
    let expected: BTreeSet<(String, String)> = chosen
        .iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect();
    let duration = r#"conduit_audio_request_duration_seconds_bucket{job="gateway"}"#;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let found = exemplars(prometheus, duration).await;
        if found == expected {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "exemplars {found:?}, expected {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Both formats give Prometheus the same series, names and values.
    let deadline = Instant::now() + Duration::from_secs(60);
    let by_job = |job: &str| -> BTreeMap<String, f64> {
        query(
            prometheus,
            &format!(r#"{{job="{job}",__name__=~"conduit_audio_.+"}}"#),
        )
        .into_iter()
        .map(|mut series| {
            series.labels.remove("job");
            series.labels.remove("instance");
            (format!("{:?}", series.labels), series.value)
        })
        .collect()
    };
    loop {
        let (from_openmetrics, from_text) = (by_job("openmetrics"), by_job("text"));
        if !from_text.is_empty() && from_openmetrics == from_text {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "OpenMetrics and text differ:\n{from_openmetrics:#?}\n{from_text:#?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let cost = query(
        prometheus,
        r#"conduit_audio_cost_dollars{job="openmetrics",operation="tts"}"#,
    );
    assert_eq!(cost.iter().map(|s| s.value).collect::<Vec<_>>(), [0.25]);
    assert!(
        query(
            prometheus,
            r#"{__name__="conduit_audio_cost_dollars_total"}"#
        )
        .is_empty()
    );
    // Only the OpenMetrics scrape carries exemplars.
    let from_openmetrics = exemplars(
        prometheus,
        r#"conduit_audio_request_duration_seconds_bucket{job="openmetrics"}"#,
    )
    .await;
    assert_eq!(
        from_openmetrics,
        BTreeSet::from([(
            "both".to_owned(),
            "11111111111111111111111111111111".to_owned()
        )])
    );
    let from_text = exemplars(
        prometheus,
        r#"conduit_audio_request_duration_seconds_bucket{job="text"}"#,
    )
    .await;
    assert!(from_text.is_empty(), "{from_text:?}");
    openmetrics.shutdown();
    text_only.shutdown();
}
