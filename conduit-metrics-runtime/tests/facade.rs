//! The `metrics` facade on the recorder `install` installs: histograms are real
//! histograms, a facade metric whose name collides never breaks the scrape, and the
//! recorder can be turned off so the application keeps the facade. One test a process
//! (nextest), since the recorder is process-wide.

mod common;

use std::time::Duration;

use common::promtool_findings;
use conduit_metrics_runtime::{FacadeMetrics, MetricsConfig, MetricsHandle, Operation, Status};
use conduit_metrics_testkit::{LogCapture, exposition, http_get, sample, value};

fn install(config: conduit_metrics_runtime::MetricsConfigBuilder) -> MetricsHandle {
    config
        .listen("127.0.0.1:0".parse().unwrap())
        .cache_expiration(Duration::ZERO)
        .build()
        .unwrap()
        .install()
        .unwrap()
}

fn scrape(handle: &MetricsHandle) -> String {
    let (status, _, body) = http_get(handle.local_addr().unwrap(), "/metrics").unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

#[test]
fn facade_histograms_are_histograms_with_the_default_buckets() {
    let handle = install(MetricsConfig::builder());
    assert_eq!(handle.facade_metrics(), FacadeMetrics::Served);
    for seconds in [0.003, 0.2, 0.2, 7.0, 30.0] {
        metrics::histogram!("app_queue_wait_seconds", "queue" => "tts").record(seconds);
    }
    let body = scrape(&handle);
    assert!(
        body.contains("# TYPE app_queue_wait_seconds histogram\n"),
        "{body}"
    );
    let bucket = |le: &str| {
        value(
            &body,
            &format!("app_queue_wait_seconds_bucket{{queue=\"tts\",le=\"{le}\"}}"),
        )
    };
    // The Prometheus client defaults, cumulative.
    assert_eq!(bucket("0.005"), 1.0);
    assert_eq!(bucket("0.1"), 1.0);
    assert_eq!(bucket("0.25"), 3.0);
    assert_eq!(bucket("10"), 4.0);
    assert_eq!(bucket("+Inf"), 5.0);
    assert_eq!(
        value(&body, "app_queue_wait_seconds_count{queue=\"tts\"}"),
        5.0
    );
    assert!((value(&body, "app_queue_wait_seconds_sum{queue=\"tts\"}") - 37.403).abs() < 1e-9);
    // No summary quantiles.
    assert!(!body.contains("quantile="), "{body}");
    exposition::parse(&body).unwrap();
}

#[test]
fn facade_histogram_buckets_are_configurable() {
    let handle = install(MetricsConfig::builder().facade_histogram_buckets([0.5, 2.0]));
    metrics::histogram!("app_job_seconds").record(1.0);
    let body = scrape(&handle);
    assert_eq!(value(&body, "app_job_seconds_bucket{le=\"0.5\"}"), 0.0);
    assert_eq!(value(&body, "app_job_seconds_bucket{le=\"2\"}"), 1.0);
    assert_eq!(sample(&body, "app_job_seconds_bucket{le=\"0.005\"}"), None);
}

#[test]
fn a_facade_metric_that_collides_never_breaks_the_scrape() {
    let logs = LogCapture::default();
    let writer = logs.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish(),
    )
    .unwrap();
    let handle = install(MetricsConfig::builder());
    conduit_metrics_runtime::start_call(Operation::Tts, "openai").finish(Status::Success);
    // Easy to do when migrating hand-written metrics: the audio family's own name.
    metrics::counter!("conduit_audio_requests_total", "operation" => "tts", "provider" => "openai", "status" => "success").increment(5);
    // One name recorded as two types.
    metrics::counter!("app_dual").increment(1);
    metrics::gauge!("app_dual").set(2.0);
    // A clean one.
    metrics::counter!("app_orders_total").increment(3);

    for _ in 0..2 {
        let body = scrape(&handle);
        // The strict parser and promtool accept the whole body: one family, one TYPE.
        exposition::parse(&body).unwrap_or_else(|e| panic!("{e}\n{body}"));
        // Lint findings on the guide's cost counter and on the application's undescribed
        // metrics are accepted; anything about the body's structure is not.
        let findings: Vec<_> = promtool_findings(&body)
            .into_iter()
            .filter(|f| f != common::ACCEPTED_PROMTOOL_FINDING)
            .filter(|f| !(f.starts_with("app_") && f.ends_with("no help text")))
            .collect();
        assert!(findings.is_empty(), "{findings:?}\n{body}");
        assert_eq!(
            body.matches("# TYPE conduit_audio_requests_total ").count(),
            1
        );
        assert_eq!(
            value(
                &body,
                "conduit_audio_requests_total{operation=\"tts\",provider=\"openai\",status=\"success\"}"
            ),
            1.0,
            "the audio family's value, not the facade's 5"
        );
        assert!(!body.contains("app_dual"), "{body}");
        assert_eq!(value(&body, "app_orders_total"), 3.0);
    }
    // 1 + 2 series left out at each of the two scrapes.
    let body = scrape(&handle);
    assert_eq!(
        value(&body, "conduit_audio_facade_series_dropped_total"),
        9.0
    );

    // One warning per colliding metric, naming it, however many scrapes.
    let logged = logs.text();
    let warnings: Vec<_> = logged
        .lines()
        .filter(|l| l.contains("left the facade metric"))
        .collect();
    assert_eq!(warnings.len(), 2, "{logged}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("`conduit_audio_requests_total` (counter)"))
    );
    assert!(warnings.iter().any(|w| w.contains("`app_dual`")));
}

#[test]
fn the_facade_recorder_can_be_turned_off() {
    let handle = install(MetricsConfig::builder().facade_recorder(false));
    assert_eq!(handle.facade_metrics(), FacadeMetrics::Disabled);
    // The facade is the application's: it can install its own recorder afterwards.
    let application = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let application_handle = application.handle();
    metrics::set_global_recorder(application).unwrap();
    metrics::counter!("app_orders_total").increment(1);
    conduit_metrics_runtime::start_call(Operation::Tts, "off").finish(Status::Success);

    let body = scrape(&handle);
    assert!(body.contains("# TYPE conduit_audio_requests_total counter"));
    assert_eq!(sample(&body, "app_orders_total"), None);
    assert!(
        !body.contains("conduit_audio_facade_series_dropped_total"),
        "{body}"
    );
    assert!(!body.contains("process_"), "{body}");
    assert_eq!(value(&application_handle.render(), "app_orders_total"), 1.0);
}

/// The facade's metrics (rendered by metrics-exporter-prometheus in text 0.0.4) are valid
/// OpenMetrics too: counters named as OpenMetrics wants, or `unknown` when their name has
/// no `_total` (so the stored name does not change), help escaped, one `# EOF` last.
#[test]
fn facade_metrics_are_valid_in_both_formats() {
    let handle = install(MetricsConfig::builder());
    conduit_metrics_runtime::start_call(Operation::Tts, "openai").finish(Status::Success);
    metrics::describe_counter!("app_orders_total", "Orders \"placed\", by shop\\region");
    metrics::counter!("app_orders_total", "shop" => "eu").increment(3);
    metrics::counter!("app_retries").increment(2);
    metrics::gauge!("app_queue_depth").set(7.0);
    metrics::histogram!("app_job_seconds").record(0.2);
    let openmetrics =
        handle.render_format(conduit_metrics_runtime::serving::ExpositionFormat::OpenMetrics);
    let families = common::python_openmetrics_families(&openmetrics)
        .unwrap_or_else(|error| panic!("{error}\n{openmetrics}"));
    assert!(families > 20, "{families}");
    assert!(openmetrics.ends_with("# EOF\n") && openmetrics.matches("# EOF").count() == 1);
    assert!(
        openmetrics.contains("# TYPE app_orders counter\n"),
        "{openmetrics}"
    );
    assert!(
        openmetrics.contains(r#"# HELP app_orders Orders \"placed\", by shop\\region"#),
        "{openmetrics}"
    );
    assert!(openmetrics.contains("app_orders_total{shop=\"eu\"} 3\n"));
    assert!(openmetrics.contains("# TYPE app_retries unknown\n"));
    assert!(openmetrics.contains("\napp_retries 2\n"));
    assert!(openmetrics.contains("# TYPE conduit_audio_facade_series_dropped counter\n"));
    // The same samples as text 0.0.4, which promtool accepts.
    let text = handle.render();
    let samples = |body: &str| -> std::collections::BTreeSet<String> {
        body.lines()
            .filter(|l| !l.starts_with('#'))
            // Process metrics move between the two renders.
            .filter(|l| !l.starts_with("process_"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(samples(&text), samples(&openmetrics));
    let findings = promtool_findings(&text);
    assert!(
        findings
            .iter()
            .all(|f| f == common::ACCEPTED_PROMTOOL_FINDING || f.contains("app_")),
        "{findings:#?}"
    );
}
