//! OTLP export against a real decoder: a small receiver built on the official
//! opentelemetry-proto Python classes (installed by the test command) gets the whole
//! registry, gzipped, with the headers of `OtlpHeaders`; its first answer is a 503 with
//! `Retry-After: 1`, which the exporter honours; the decoded values equal a scrape of the
//! same registry; the last export on shutdown carries a call recorded just before it.
#![cfg(feature = "otlp")]

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use conduit_metrics_runtime::config::ConfigOption;
use conduit_metrics_runtime::{CallOutcome, MetricsConfig, Operation, Status};
use serde_json::Value;

struct Receiver {
    child: Child,
    url: String,
    out: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The receiver, answering its first `failures` requests with `status`.
fn receiver(failures: u32, status: u16) -> Receiver {
    let dir = tempfile::tempdir().unwrap();
    let port_file = dir.path().join("port");
    let out = dir.path().join("requests.jsonl");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/otlp_receiver.py"
    );
    let child = Command::new("python3")
        .args([script, port_file.to_str().unwrap(), out.to_str().unwrap()])
        .args([failures.to_string(), status.to_string()])
        .spawn()
        .expect("python3 with opentelemetry-proto (the test command installs it)");
    let deadline = Instant::now() + Duration::from_secs(20);
    let port = loop {
        if let Ok(port) = std::fs::read_to_string(&port_file) {
            break port;
        }
        assert!(Instant::now() < deadline, "the OTLP receiver did not start");
        std::thread::sleep(Duration::from_millis(50));
    };
    Receiver {
        child,
        url: format!("http://127.0.0.1:{}/v1/metrics", port.trim()),
        out,
        _dir: dir,
    }
}

fn requests(receiver: &Receiver) -> Vec<Value> {
    std::fs::read_to_string(&receiver.out)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The metric named `name` of a decoded request.
fn metric<'a>(request: &'a Value, name: &str) -> &'a Value {
    request["request"]["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no metric {name}"))
}

/// The data point of `points` whose attributes are exactly `labels`.
fn point<'a>(points: &'a Value, labels: &[(&str, &str)]) -> &'a Value {
    points
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            let attributes = p["attributes"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            attributes.len() == labels.len()
                && labels.iter().all(|(k, v)| {
                    attributes
                        .iter()
                        .any(|a| a["key"] == *k && a["value"]["stringValue"] == *v)
                })
        })
        .unwrap_or_else(|| panic!("no point {labels:?} in {points}"))
}

fn number(value: &Value) -> f64 {
    match value {
        Value::String(text) => text.parse().unwrap(),
        other => other.as_f64().unwrap(),
    }
}

#[test]
fn the_registry_reaches_a_real_otlp_decoder_after_a_503_with_the_scrapes_values() {
    let receiver = receiver(1, 503);
    let handle = MetricsConfig::builder()
        .no_listener()
        .option(ConfigOption::OtlpEndpoint, &receiver.url)
        .option(
            ConfigOption::OtlpHeaders,
            "x-api-key=secret%20key,x-tenant=audio",
        )
        .option(ConfigOption::OtlpServiceName, "otlp-test")
        .option(
            ConfigOption::OtlpResourceAttributes,
            "deployment.environment=test",
        )
        .option(ConfigOption::OtlpExportInterval, "1h")
        .build()
        .unwrap()
        .install()
        .unwrap();
    for status in [Status::Success, Status::Success, Status::Timeout] {
        conduit_metrics_runtime::start_call(Operation::Transcription, "openai")
            .finish_with(CallOutcome::new(status).size(48_000).audio_seconds(1.5));
    }
    let started = Instant::now();
    handle.flush().unwrap();
    // The 503 asked for a second's wait, and the export waited for it.
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    let scrape = handle.render();
    let got = requests(&receiver);
    assert_eq!(got.len(), 2, "{got:#?}");
    assert_eq!(
        (got[0]["status"].as_u64(), got[1]["status"].as_u64()),
        (Some(503), Some(200))
    );
    let export = &got[1];
    assert_eq!(export["path"], "/v1/metrics");
    assert_eq!(export["headers"]["x-api-key"], "secret key");
    assert_eq!(export["headers"]["x-tenant"], "audio");
    assert_eq!(export["headers"]["content-encoding"], "gzip");
    assert_eq!(export["headers"]["content-type"], "application/x-protobuf");

    let resource = &export["request"]["resourceMetrics"][0]["resource"]["attributes"];
    let attribute = |key: &str| {
        resource
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == key)
            .map(|a| a["value"]["stringValue"].as_str().unwrap().to_owned())
    };
    assert_eq!(attribute("service.name").as_deref(), Some("otlp-test"));
    assert_eq!(attribute("deployment.environment").as_deref(), Some("test"));
    assert!(attribute("service.instance.id").is_some_and(|id| !id.is_empty()));
    let scope = &export["request"]["resourceMetrics"][0]["scopeMetrics"][0]["scope"];
    assert_eq!(scope["name"], "conduit-metrics-runtime");

    // Counters: monotonic cumulative sums named without `_total`, one point a series,
    // each equal to the scrape's sample.
    let requests = metric(export, "conduit_audio_requests");
    assert_eq!(requests["sum"]["isMonotonic"], true);
    assert_eq!(
        requests["sum"]["aggregationTemporality"],
        "AGGREGATION_TEMPORALITY_CUMULATIVE"
    );
    for status in ["success", "timeout", "error"] {
        let labels = [
            ("operation", "transcription"),
            ("provider", "openai"),
            ("status", status),
        ];
        let series = format!(
            r#"conduit_audio_requests_total{{operation="transcription",provider="openai",status="{status}"}}"#
        );
        let expected = conduit_metrics_testkit::value(&scrape, &series);
        let point = point(&requests["sum"]["dataPoints"], &labels);
        assert_eq!(number(&point["asInt"]), expected, "{status}");
        assert!(number(&point["startTimeUnixNano"]) <= number(&point["timeUnixNano"]));
    }
    // A classic histogram: the guide's bounds, per-bucket counts, the scrape's sum.
    let size = metric(export, "conduit_audio_request_size_bytes");
    assert_eq!(size["unit"], "By");
    let labels = [("operation", "transcription"), ("provider", "openai")];
    let size_point = point(&size["histogram"]["dataPoints"], &labels);
    let bounds: Vec<f64> = size_point["explicitBounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(number)
        .collect();
    assert_eq!(
        bounds,
        conduit_metrics_runtime::catalogue::REQUEST_SIZE_BUCKETS
    );
    let counts: Vec<f64> = size_point["bucketCounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(number)
        .collect();
    assert_eq!(counts, [0.0, 0.0, 3.0, 0.0, 0.0, 0.0]);
    assert_eq!(number(&size_point["sum"]), 144_000.0);
    // A latency histogram with native buckets: exponential, the scrape's count and sum.
    let duration = metric(export, "conduit_audio_request_duration_seconds");
    assert_eq!(duration["unit"], "s");
    let duration_point = point(&duration["exponentialHistogram"]["dataPoints"], &labels);
    let count = conduit_metrics_testkit::value(
        &scrape,
        r#"conduit_audio_request_duration_seconds_count{operation="transcription",provider="openai"}"#,
    );
    let sum = conduit_metrics_testkit::value(
        &scrape,
        r#"conduit_audio_request_duration_seconds_sum{operation="transcription",provider="openai"}"#,
    );
    assert_eq!(number(&duration_point["count"]), count);
    assert!((number(&duration_point["sum"]) - sum).abs() < 1e-9);
    assert_eq!(duration_point["scale"], 3);
    let buckets: f64 = duration_point["positive"]["bucketCounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(number)
        .sum();
    let zero = duration_point.get("zeroCount").map_or(0.0, number);
    assert_eq!(buckets + zero, count);
    // Audio seconds: a float sum.
    let seconds = metric(export, "conduit_audio_audio_seconds");
    assert_eq!(
        number(&point(&seconds["sum"]["dataPoints"], &labels)["asDouble"]),
        4.5
    );
    // No failure counted: the retry succeeded.
    assert_eq!(
        conduit_metrics_testkit::value(
            &scrape,
            r#"conduit_audio_export_failures_total{exporter="otlp",reason="retries_exhausted"}"#
        ),
        0.0
    );

    // The last export on shutdown carries a call recorded just before it.
    conduit_metrics_runtime::start_call(Operation::Tts, "elevenlabs").finish(Status::Success);
    handle.shutdown().unwrap();
    let got = self::requests(&receiver);
    let last = got.last().unwrap();
    let tts = [
        ("operation", "tts"),
        ("provider", "elevenlabs"),
        ("status", "success"),
    ];
    assert_eq!(
        number(
            &point(
                &metric(last, "conduit_audio_requests")["sum"]["dataPoints"],
                &tts
            )["asInt"]
        ),
        1.0
    );
}

#[test]
fn a_refused_export_is_counted_and_not_retried() {
    let receiver = receiver(10, 400);
    let handle = MetricsConfig::builder()
        .no_listener()
        .option(ConfigOption::OtlpEndpoint, &receiver.url)
        .option(ConfigOption::OtlpExportInterval, "1h")
        .build()
        .unwrap()
        .install()
        .unwrap();
    conduit_metrics_runtime::start_call(Operation::Tts, "openai").finish(Status::Success);
    let started = Instant::now();
    handle.flush().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(requests(&receiver).len(), 1);
    let scrape = handle.render();
    let failures = |reason: &str| {
        conduit_metrics_testkit::value(
            &scrape,
            &format!(r#"conduit_audio_export_failures_total{{exporter="otlp",reason="{reason}"}}"#),
        )
    };
    assert_eq!(failures("rejected"), 1.0);
    assert_eq!(failures("retries_exhausted"), 0.0);
    assert_eq!(failures("unreachable"), 0.0);
}
