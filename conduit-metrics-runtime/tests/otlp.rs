//! OTLP export against a real decoder: a small receiver built on the official
//! opentelemetry-proto Python classes (installed by the test command) gets the whole
//! registry, gzipped, with the headers of `OTEL_EXPORTER_OTLP_HEADERS`; its first answer is a 503 with
//! `Retry-After: 1`, which the exporter honours; the decoded values equal a scrape of the
//! same registry; the last export on shutdown carries a call recorded just before it.
#![cfg(feature = "otlp")]

mod common;

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
    receiver_on(0, failures, status)
}

/// [`receiver`] on `port` (0: an ephemeral one).
fn receiver_on(port: u16, failures: u32, status: u16) -> Receiver {
    receiver_with(port, failures, status, &[])
}

/// [`receiver_on`] with more arguments (HTTPS: certificate, key, client CA).
fn receiver_with(port: u16, failures: u32, status: u16, tls: &[&std::path::Path]) -> Receiver {
    let dir = tempfile::tempdir().unwrap();
    let port_file = dir.path().join("port");
    let out = dir.path().join("requests.jsonl");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/otlp_receiver.py"
    );
    let child = Command::new("python3")
        .args([script, port_file.to_str().unwrap(), out.to_str().unwrap()])
        .args([failures.to_string(), status.to_string(), port.to_string()])
        .args(tls)
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
    let scheme = if tls.is_empty() { "http" } else { "https" };
    Receiver {
        child,
        url: format!("{scheme}://localhost:{}/v1/metrics", port.trim()),
        out,
        _dir: dir,
    }
}

/// Installs the metrics with no endpoint of their own, exporting to `url` every
/// `interval` (long: only flushes export).
fn install_exporting_to(url: &str, interval: &str) -> conduit_metrics_runtime::MetricsHandle {
    MetricsConfig::builder()
        .no_listener()
        .option(ConfigOption::OtlpEndpoint, url)
        .option(ConfigOption::OtlpExportInterval, interval)
        .build()
        .unwrap()
        .install()
        .unwrap()
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
        .option(ConfigOption::OtlpServiceName, "otlp-test")
        .option(
            ConfigOption::OtlpResourceAttributes,
            "deployment.environment=test",
        )
        .option(ConfigOption::OtlpExportInterval, "1h")
        .build()
        .unwrap()
        // The API keys an OpenTelemetry deployment already sets.
        .with_vars(vars(&[(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "x-api-key=secret%20key,x-tenant=audio",
        )]))
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
    let handle = install_exporting_to(&receiver.url, "1h");
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

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn opentelemetry_variables_configure_the_export_as_sdks_read_them() {
    let config = MetricsConfig::default()
        .with_vars(vars(&[
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "https://collector.example:4318/",
            ),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "api-key=a%3Db%20c, x-tenant = voice",
            ),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "5000"),
            ("OTEL_SERVICE_NAME", "gateway"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=prod,region=eu-west-1",
            ),
        ]))
        .unwrap();
    let endpoint = config.otlp_endpoint().unwrap();
    assert_eq!(
        endpoint.base_url(),
        "https://collector.example:4318/v1/metrics"
    );
    // Their values are secrets (decoded, they arrive as the real-decoder test shows).
    let keys: Vec<&str> = config
        .otlp_headers()
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(keys, ["api-key", "x-tenant"]);
    // Headers are secrets: never shown.
    assert!(!format!("{config:?}").contains("a=b c"));
    assert_eq!(config.otlp_timeout(), Duration::from_millis(2500));
    assert_eq!(config.otlp_export_interval(), Duration::from_secs(5));
    assert_eq!(config.otlp_service_name(), Some("gateway"));
    assert_eq!(config.otlp_resource_attributes().len(), 2);

    // The metrics-specific endpoint is taken as it is; our own variable wins over both.
    let config = MetricsConfig::default()
        .with_vars(vars(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4318"),
            (
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                "http://metrics:4318/custom",
            ),
        ]))
        .unwrap();
    assert_eq!(
        config.otlp_endpoint().unwrap().base_url(),
        "http://metrics:4318/custom"
    );
    let config = MetricsConfig::default()
        .with_vars(vars(&[
            (
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                "http://metrics:4318/v1/metrics",
            ),
            (
                "CONDUIT_METRICS_OTLP_ENDPOINT",
                "http://ours:4318/v1/metrics",
            ),
        ]))
        .unwrap();
    assert_eq!(config.otlp_endpoint().unwrap().authority, "ours:4318");
    // Unset, no export; the default interval is ExportInterval.
    let config = MetricsConfig::default();
    assert!(config.otlp_endpoint().is_none());
    assert_eq!(config.otlp_export_interval(), config.export_interval());
}

#[test]
fn bad_opentelemetry_variables_are_errors_that_name_the_variable() {
    for (variable, value, option, reason) in [
        (
            "OTEL_METRIC_EXPORT_INTERVAL",
            "5s",
            ConfigOption::OtlpExportInterval,
            "milliseconds",
        ),
        (
            "OTEL_EXPORTER_OTLP_TIMEOUT",
            "soon",
            ConfigOption::OtlpTimeout,
            "milliseconds",
        ),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "collector:4318",
            ConfigOption::OtlpEndpoint,
            "http or https URL",
        ),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "api-key",
            ConfigOption::OtlpHeaders,
            "no `=`",
        ),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "a=%zz",
            ConfigOption::OtlpResourceAttributes,
            "two hex digits",
        ),
    ] {
        let error = MetricsConfig::default()
            .with_vars(vars(&[(variable, value)]))
            .unwrap_err();
        match error {
            conduit_metrics_runtime::ConfigError::InvalidValue {
                option: named,
                origin,
                reason: said,
                ..
            } => {
                assert_eq!(named, option, "{variable}");
                assert_eq!(origin, variable);
                assert!(said.contains(reason), "{variable}: {said}");
            }
            other => panic!("{variable}: {other:?}"),
        }
    }
}

/// The scrape's samples of the audio families, as `name{labels}` to value.
fn scrape_samples(text: &str) -> std::collections::BTreeMap<String, f64> {
    text.lines()
        .filter(|line| line.starts_with("conduit_audio_"))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// The same samples rebuilt from a decoded export, as Prometheus' OTLP receiver names
/// them: `_total` back on monotonic sums, histograms as cumulative `_bucket{le}`, `_sum`
/// and `_count`, exponential histograms as `_sum` and `_count`.
fn export_samples(export: &Value) -> std::collections::BTreeMap<String, f64> {
    let mut samples = std::collections::BTreeMap::new();
    let metrics = export["request"]["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]
        .as_array()
        .unwrap();
    let labels_of = |point: &Value, extra: Option<String>| {
        let mut pairs: Vec<String> = point["attributes"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(|a| {
                let value = a["value"]["stringValue"].as_str().unwrap_or_default();
                let escaped = value
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n");
                format!("{}=\"{escaped}\"", a["key"].as_str().unwrap())
            })
            .collect();
        pairs.extend(extra);
        if pairs.is_empty() {
            String::new()
        } else {
            format!("{{{}}}", pairs.join(","))
        }
    };
    for metric in metrics {
        let name = metric["name"].as_str().unwrap();
        if !name.starts_with("conduit_audio_") {
            continue;
        }
        if let Some(sum) = metric.get("sum") {
            let name = if name == "conduit_audio_cost_dollars" {
                name.to_owned()
            } else {
                format!("{name}_total")
            };
            for point in sum["dataPoints"].as_array().unwrap() {
                let value = point
                    .get("asInt")
                    .or(point.get("asDouble"))
                    .map_or(0.0, number);
                samples.insert(format!("{name}{}", labels_of(point, None)), value);
            }
        } else if let Some(gauge) = metric.get("gauge") {
            for point in gauge["dataPoints"].as_array().unwrap() {
                let value = point
                    .get("asInt")
                    .or(point.get("asDouble"))
                    .map_or(0.0, number);
                samples.insert(format!("{name}{}", labels_of(point, None)), value);
            }
        } else if let Some(histogram) = metric.get("histogram") {
            for point in histogram["dataPoints"].as_array().unwrap() {
                let bounds = point["explicitBounds"].as_array().unwrap();
                let counts = point["bucketCounts"].as_array().unwrap();
                let mut cumulative = 0.0;
                for (index, count) in counts.iter().enumerate() {
                    cumulative += number(count);
                    let le = bounds
                        .get(index)
                        .map_or("+Inf".to_owned(), |b| format_bound(number(b)));
                    let labels = labels_of(point, Some(format!("le=\"{le}\"")));
                    samples.insert(format!("{name}_bucket{labels}"), cumulative);
                }
                samples.insert(
                    format!("{name}_sum{}", labels_of(point, None)),
                    point.get("sum").map_or(0.0, number),
                );
                samples.insert(
                    format!("{name}_count{}", labels_of(point, None)),
                    point.get("count").map_or(0.0, number),
                );
            }
        } else if let Some(histogram) = metric.get("exponentialHistogram") {
            for point in histogram["dataPoints"].as_array().unwrap() {
                samples.insert(
                    format!("{name}_sum{}", labels_of(point, None)),
                    point.get("sum").map_or(0.0, number),
                );
                samples.insert(
                    format!("{name}_count{}", labels_of(point, None)),
                    point.get("count").map_or(0.0, number),
                );
            }
        }
    }
    samples
}

/// A bucket bound as the text format writes it.
fn format_bound(bound: f64) -> String {
    if bound.fract() == 0.0 && bound.abs() < 1e15 {
        format!("{bound:.0}")
    } else {
        format!("{bound}")
    }
}

#[test]
fn every_audio_series_of_the_scrape_arrives_with_its_value() {
    let receiver = receiver(0, 503);
    let handle = MetricsConfig::builder()
        .no_listener()
        .model_label(true)
        .option(ConfigOption::OtlpEndpoint, &receiver.url)
        .option(ConfigOption::OtlpExportInterval, "1h")
        .build()
        .unwrap()
        .install()
        .unwrap();
    let registry = conduit_metrics_runtime::registry::global();
    for &operation in Operation::ALL {
        for &status in Status::ALL {
            registry
                .start_call_with_model(operation, "openai", "model-a")
                .finish_with(
                    CallOutcome::new(status)
                        .size(4096)
                        .cost(0.01)
                        .cache_hit(true)
                        .audio_seconds(1.5),
                );
        }
    }
    let mut streamed = registry.start_call(Operation::Tts, "quote\"back\\slash\nnewline");
    streamed.add_characters(120);
    streamed.mark_first_byte();
    streamed.finish(Status::Success);
    let session = registry.realtime_session("openai").with_model("realtime-a");
    session.record_turn_latency(Duration::from_millis(250));
    let mut turn = session.turn();
    turn.user_speech_ended();
    turn.end_of_turn();
    turn.agent_audio_started();
    turn.end();
    session.end(conduit_metrics_runtime::DisconnectReason::Timeout);
    registry.record_health_check("openai", false);
    registry.record_build_info("1.4.2", "9f3c2e1");
    // Nothing moves between the scrape and the export: both read the same values.
    registry.tick();
    let scrape = handle.render();
    handle.flush().unwrap();
    let got = requests(&receiver);
    let exported = export_samples(got.last().unwrap());
    let scraped = scrape_samples(&scrape);
    // Latency histograms travel as exponential histograms: their classic buckets do not.
    let exponential = [
        "request_duration_seconds_bucket",
        "time_to_first_byte_seconds_bucket",
        "realtime_latency_seconds_bucket",
        "turn_stage_seconds_bucket",
    ];
    let mut compared = 0;
    for (series, value) in &scraped {
        if exponential.iter().any(|f| series.contains(f)) {
            continue;
        }
        let got = exported
            .get(series)
            .unwrap_or_else(|| panic!("{series} was not exported"));
        assert!(
            (got - value).abs() <= 1e-9 * value.abs().max(1.0),
            "{series}: {got} exported, {value} scraped"
        );
        compared += 1;
    }
    // Every family of this registry, each series of them (158 here).
    assert!(compared >= 150, "{compared}");
    // And nothing the scrape lacks.
    for series in exported.keys() {
        assert!(
            scraped.contains_key(series),
            "{series} was exported but not scraped"
        );
    }
    // The facade's metrics (the process collector) go too.
    let names: Vec<&str> = got.last().unwrap()["request"]["resourceMetrics"][0]["scopeMetrics"][0]
        ["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert!(names.iter().any(|n| n.starts_with("process_")), "{names:?}");
    handle.shutdown().unwrap();
}

#[test]
fn a_receiver_down_for_a_while_gets_the_cumulative_totals_when_back() {
    // A port nothing listens on yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/v1/metrics");
    let handle = install_exporting_to(&url, "2s");
    conduit_metrics_runtime::start_call(Operation::Tts, "openai").finish(Status::Success);
    let started = Instant::now();
    handle.flush().unwrap();
    // Retried within the budget (the export interval here), then counted: bounded.
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    let failures = conduit_metrics_testkit::value(
        &handle.render(),
        r#"conduit_audio_export_failures_total{exporter="otlp",reason="unreachable"}"#,
    );
    assert!(failures >= 1.0, "{failures}");
    conduit_metrics_runtime::start_call(Operation::Tts, "openai").finish(Status::Success);
    // The receiver comes back: the next export carries both calls.
    let receiver = receiver_on(port, 0, 503);
    handle.flush().unwrap();
    let got = requests(&receiver);
    let labels = [
        ("operation", "tts"),
        ("provider", "openai"),
        ("status", "success"),
    ];
    let last = got.last().expect("an export after the receiver came back");
    assert_eq!(
        number(
            &point(
                &metric(last, "conduit_audio_requests")["sum"]["dataPoints"],
                &labels
            )["asInt"]
        ),
        2.0
    );
    handle.shutdown().unwrap();
}

/// Exemplars travel with their trace and span ids (features `otlp` and `opentelemetry`).
#[cfg(feature = "opentelemetry")]
#[test]
fn exemplars_arrive_with_their_trace_and_span_ids() {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    };
    let receiver = receiver(0, 503);
    let handle = install_exporting_to(&receiver.url, "1h");
    let trace_id = 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736u128;
    let span_id = 0x00f0_67aa_0ba9_02b7u64;
    let span = SpanContext::new(
        TraceId::from_bytes(trace_id.to_be_bytes()),
        SpanId::from_bytes(span_id.to_be_bytes()),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    {
        let _attached = opentelemetry::Context::current()
            .with_remote_span_context(span)
            .attach();
        conduit_metrics_runtime::start_call(Operation::Transcription, "traced")
            .finish_with(CallOutcome::new(Status::Success).size(2048));
    }
    handle.flush().unwrap();
    let got = requests(&receiver);
    let export = got.last().unwrap();
    let labels = [("operation", "transcription"), ("provider", "traced")];
    let duration = metric(export, "conduit_audio_request_duration_seconds");
    let point = point(&duration["exponentialHistogram"]["dataPoints"], &labels);
    let exemplar = &point["exemplars"][0];
    // MessageToDict writes bytes as base64.
    let decode = |text: &str| -> Vec<u8> {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut bits = 0u32;
        let mut count = 0;
        let mut out = Vec::new();
        for byte in text.bytes().filter(|b| *b != b'=') {
            let value = alphabet.iter().position(|a| *a == byte).unwrap() as u32;
            bits = bits << 6 | value;
            count += 6;
            if count >= 8 {
                count -= 8;
                out.push((bits >> count) as u8);
            }
        }
        out
    };
    assert_eq!(
        decode(exemplar["traceId"].as_str().unwrap()),
        trace_id.to_be_bytes()
    );
    assert_eq!(
        decode(exemplar["spanId"].as_str().unwrap()),
        span_id.to_be_bytes()
    );
    assert!(number(&exemplar["asDouble"]) >= 0.0);
    assert!(number(&exemplar["timeUnixNano"]) > 1.6e18);
    handle.shutdown().unwrap();
}

/// A receiver over HTTPS that requires a client certificate of a test CA, and the files
/// of a client certificate that CA signed: (receiver, CA, client certificate, key).
fn mutual_tls_receiver(dir: &std::path::Path) -> (Receiver, String, String, String) {
    let ca = common::pki::TestCa::new(dir, "otlp");
    let server = ca.issue(dir, "receiver");
    let client = ca.issue(dir, "client");
    let tls = [
        server.certificate.as_path(),
        server.key.as_path(),
        ca.certificate.as_path(),
    ];
    let receiver = receiver_with(0, 0, 503, &tls);
    let path = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    (
        receiver,
        path(&ca.certificate),
        path(&client.certificate),
        path(&client.key),
    )
}

#[test]
fn over_mutual_tls_the_client_certificate_gets_the_export_through() {
    let dir = tempfile::tempdir().unwrap();
    let (receiver, ca, certificate, key) = mutual_tls_receiver(dir.path());
    // As OpenTelemetry's variables give them.
    let handle = MetricsConfig::builder()
        .no_listener()
        .option(ConfigOption::OtlpExportInterval, "2s")
        .build()
        .unwrap()
        .with_vars(vars(&[
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", &receiver.url),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", &ca),
            ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", &certificate),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", &key),
        ]))
        .unwrap()
        .install()
        .unwrap();
    conduit_metrics_runtime::start_call(Operation::Tts, "openai").finish(Status::Success);
    handle.flush().unwrap();
    let got = requests(&receiver);
    assert_eq!(got.len(), 1, "{got:#?}");
    let labels = [
        ("operation", "tts"),
        ("provider", "openai"),
        ("status", "success"),
    ];
    let requests = metric(&got[0], "conduit_audio_requests");
    assert_eq!(
        number(&point(&requests["sum"]["dataPoints"], &labels)["asInt"]),
        1.0
    );
    handle.shutdown().unwrap();
}

#[test]
fn over_mutual_tls_no_client_certificate_is_counted_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let (receiver, ca, _, _) = mutual_tls_receiver(dir.path());
    let handle = MetricsConfig::builder()
        .no_listener()
        .option(ConfigOption::OtlpEndpoint, &receiver.url)
        .option(ConfigOption::OtlpCaCertificate, &ca)
        .option(ConfigOption::OtlpExportInterval, "2s")
        .build()
        .unwrap()
        .install()
        .unwrap();
    conduit_metrics_runtime::start_call(Operation::Tts, "openai").finish(Status::Success);
    handle.flush().unwrap();
    assert!(requests(&receiver).is_empty());
    let failures = conduit_metrics_testkit::value(
        &handle.render(),
        r#"conduit_audio_export_failures_total{exporter="otlp",reason="unreachable"}"#,
    );
    assert_eq!(failures, 1.0);
}

#[test]
fn a_client_certificate_without_its_key_is_an_error_naming_the_option() {
    let error = MetricsConfig::builder()
        .option(ConfigOption::OtlpClientCertificate, "/etc/otlp/client.pem")
        .build()
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("OtlpClientKey"), "{text}");
    assert!(
        text.contains("OtlpClientCertificate (/etc/otlp/client.pem) is set"),
        "{text}"
    );
}
