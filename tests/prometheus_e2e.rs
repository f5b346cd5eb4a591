//! End to end against a real Prometheus (Debian `prometheus`) and a real Pushgateway
//! (Debian `prometheus-pushgateway`), all on loopback: two instances of the audio gateway
//! example and a batch job pushing to the gateway are scraped; then every dashboard query
//! and every alert expression runs through Prometheus' HTTP API, and the fleet totals
//! equal what was sent.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{free_port, get, post, repo, start_instance, start_prometheus, start_pushgateway};
use conduit_metrics_runtime::{MetricsConfig, Operation, Status};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

/// Requests sent per provider (every call is counted once, whatever its outcome).
type Sent = BTreeMap<&'static str, u64>;

async fn transcribe(api: SocketAddr, provider: &'static str, bytes: usize, sent: &mut Sent) {
    let path = format!("/v1/audio/transcriptions?provider={provider}");
    post(api, &path, "Content-Type: audio/wav\r\n", &vec![0u8; bytes]).await;
    *sent.entry(provider).or_default() += 1;
}

async fn translate(api: SocketAddr, provider: &'static str, sent: &mut Sent) {
    let path = format!("/v1/audio/translations?provider={provider}");
    post(api, &path, "Content-Type: audio/wav\r\n", &[0u8; 64_000]).await;
    *sent.entry(provider).or_default() += 1;
}

async fn speak(api: SocketAddr, provider: &'static str, text: &str, sent: &mut Sent) {
    let body =
        serde_json::json!({"input": text, "voice": "nova", "provider": provider}).to_string();
    post(
        api,
        "/v1/audio/speech",
        "Content-Type: application/json\r\n",
        body.as_bytes(),
    )
    .await;
    *sent.entry(provider).or_default() += 1;
}

async fn realtime(api: SocketAddr, provider: &'static str, turns: usize, sent: &mut Sent) {
    let url = format!("ws://{api}/v1/realtime?provider={provider}");
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    for turn in 0..turns {
        let message = serde_json::json!({"type": "input_text", "text": format!("turn {turn}")});
        if socket
            .send(Message::Text(message.to_string().into()))
            .await
            .is_err()
        {
            break;
        }
        if !matches!(socket.next().await, Some(Ok(Message::Text(_)))) {
            break;
        }
    }
    let _ = socket.close(None).await;
    while socket.next().await.is_some() {}
    *sent.entry(provider).or_default() += 1;
}

/// Speech streamed in chunks as it is synthesized.
async fn speak_streamed(api: SocketAddr, provider: &'static str, text: &str, sent: &mut Sent) {
    let body = serde_json::json!({"input": text, "provider": provider, "stream": true});
    post(
        api,
        "/v1/audio/speech",
        "Content-Type: application/json\r\n",
        body.to_string().as_bytes(),
    )
    .await;
    *sent.entry(provider).or_default() += 1;
}

/// A transcription streamed as Server-Sent Events of partial transcripts.
async fn transcribe_streamed(api: SocketAddr, provider: &'static str, sent: &mut Sent) {
    let path = format!("/v1/audio/transcriptions?provider={provider}&stream=true");
    post(api, &path, "Content-Type: audio/wav\r\n", &[0u8; 96_000]).await;
    *sent.entry(provider).or_default() += 1;
}

/// A mix of every kind of request.
async fn traffic(api: SocketAddr, round: u64, sent: &mut Sent) {
    transcribe(api, "deepgram", 20_000 + round as usize * 1000, sent).await;
    transcribe(api, "openai", 300_000, sent).await;
    translate(api, "azure", sent).await;
    speak(api, "elevenlabs", "Welcome back", sent).await; // repeated: cache hits
    speak(
        api,
        "elevenlabs",
        &format!("Order {round} has shipped"),
        sent,
    )
    .await; // misses
    speak_streamed(api, "openai", "Streaming to you live", sent).await;
    transcribe_streamed(api, "deepgram", sent).await;
    realtime(api, "openai", 2, sent).await;
}

/// Runs an instant query; returns the result vector (panics on a query error).
async fn query(prometheus: SocketAddr, promql: &str) -> Vec<serde_json::Value> {
    let mut encoded = String::new();
    for byte in promql.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    let (status, body) = get(prometheus, &format!("/api/v1/query?query={encoded}")).await;
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    assert_eq!(
        status, 200,
        "query failed to parse or run: {promql}\n{body}"
    );
    assert_eq!(answer["status"], "success", "{promql}\n{body}");
    answer["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Polls a query until it returns data, failing with the query after the deadline.
async fn query_with_data(
    prometheus: SocketAddr,
    promql: &str,
    deadline: Instant,
) -> Vec<serde_json::Value> {
    loop {
        let result = query(prometheus, promql).await;
        if !result.is_empty() {
            return result;
        }
        assert!(Instant::now() < deadline, "no data for: {promql}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn value(series: &serde_json::Value) -> f64 {
    series["value"][1].as_str().unwrap().parse().unwrap()
}

/// What the test knows of a query's values, or what is wrong with them: every one is a
/// finite number, not negative; ratios lie in [0, 1]; a rate of traffic that keeps
/// flowing is above zero somewhere; latencies of this traffic (scaled by 0.02) stay under
/// a second; the cache both hits and misses; nothing is folded or rejected; every
/// target is up.
fn check_values(expr: &str, result: &[serde_json::Value]) -> Result<(), String> {
    let ratio = expr.contains("_ratio")
        || expr.contains(":ratio")
        || expr.contains("error_rate")
        || (expr.contains(" / ") && !expr.contains("3600"));
    let mut values: Vec<f64> = result.iter().map(value).collect();
    // A ratio of rates, or a quantile, is NaN for a series idle over the range
    // (0/0): PromQL's answer, which the alert rules' comparisons treat as false. The
    // dashboard's own ratios filter idle series out (`> 0` on the denominator).
    let idle_is_nan = (ratio && expr.contains(" / ") && !expr.contains(") > 0)"))
        || expr.contains("histogram_quantile")
        // Recorded quantiles (`..._seconds:p95_rate5m`) of an idle series, likewise.
        || expr.contains("_seconds:p");
    if idle_is_nan {
        values.retain(|v| !v.is_nan());
    }
    // The objectives' series: an SLI ratio over an idle window is 0/0 as well.
    if expr.contains("slo:sli_error")
        || expr.contains("burn_rate")
        || expr.contains("budget_remaining")
    {
        values.retain(|v| !v.is_nan());
    }
    let fail = |what: &str| Err(format!("{what}: {values:?}"));
    if values.is_empty() {
        return fail("no data");
    }
    // A burn rate is any non-negative number; the budget left is at most 1 and below 0
    // once overspent (this traffic includes forced failures, so it can be).
    if expr.contains("burn_rate") {
        return if values.iter().all(|v| v.is_finite() && *v >= 0.0) {
            Ok(())
        } else {
            fail("a burn rate that is not a finite, non-negative number")
        };
    }
    if expr.contains("budget_remaining") {
        return if values.iter().all(|v| v.is_finite() && *v <= 1.0) {
            Ok(())
        } else {
            fail("a remaining budget that is not a finite number of at most 1")
        };
    }
    if !values.iter().all(|v| v.is_finite() && *v >= 0.0) {
        return fail("a value that is not a finite, non-negative number");
    }
    let cache = expr.contains("cache_lookups") || expr.contains("cache_hit");
    if ratio && !cache && values.iter().any(|v| *v > 1.0) {
        return fail("a ratio above 1");
    }
    // The trickle keeps requests, lookups and costs rising on the first instance.
    let flowing = (!ratio
        && (expr.contains("rate(conduit_audio_requests_total")
            || expr.contains("rate(conduit_audio_cost_dollars")))
        || expr.contains("increase(conduit_audio_cost_dollars");
    if flowing && !values.iter().any(|v| *v > 0.0) {
        return fail("traffic that keeps flowing shows no rate");
    }
    if (expr.contains("histogram_quantile") && expr.contains("_seconds_bucket"))
        || expr.contains("_seconds:p")
    {
        let bound = if expr.contains("realtime_duration") {
            60.0
        } else {
            1.0
        };
        if values.iter().any(|v| *v > bound) {
            return fail("a latency this traffic cannot have");
        }
    }
    if (expr.contains("conduit_audio_cache_hit_ratio")
        || expr.contains("cache_lookups_hit_per_lookups"))
        && !values.iter().all(|v| *v > 0.0 && *v < 1.0)
    {
        return fail("the cache should both hit and miss");
    }
    if (expr.contains("labels_folded_total") || expr.contains("cost_rejected_total"))
        && values.iter().any(|v| *v != 0.0)
    {
        return fail("nothing is folded or rejected here");
    }
    // Two gateway instances and the Pushgateway.
    if expr.starts_with("up{") && values != [1.0, 1.0, 1.0] {
        return fail("every target is up");
    }
    if expr.contains("process_resident_memory_bytes") && !values.iter().all(|v| *v > 1e6) {
        return fail("a real process has more memory than that");
    }
    Ok(())
}

/// Polls a query until its values are what `check_values` expects, failing with the
/// query and the last problem after the deadline.
async fn query_checked(prometheus: SocketAddr, title: &str, promql: &str, deadline: Instant) {
    loop {
        let result = query(prometheus, promql).await;
        match check_values(promql, &result) {
            Ok(()) => {
                eprintln!(
                    "{title}: {:?}",
                    result.iter().map(value).collect::<Vec<_>>()
                );
                return;
            }
            Err(problem) => assert!(
                Instant::now() < deadline,
                "{title}: {problem}\nfrom {promql}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The dashboard's queries with Grafana's variables filled in as Grafana would.
fn dashboard_queries() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo("docs/grafana-dashboards/audio-metrics.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut queries = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"]
                .as_str()
                .unwrap()
                .replace("$provider", ".*")
                .replace("$operation", ".*")
                .replace("$slo", ".*")
                .replace("$__rate_interval", "30s")
                .replace("$__range", "5m");
            let title = format!(
                "{} / {}",
                panel["title"].as_str().unwrap(),
                target["legendFormat"]
            );
            queries.push((title, expr));
        }
    }
    queries
}

/// The query of the dashboard's annotation named `name`.
fn dashboard_annotation(name: &str) -> String {
    let text = std::fs::read_to_string(repo("docs/grafana-dashboards/audio-metrics.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    dashboard["annotations"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|annotation| annotation["name"] == name)
        .and_then(|annotation| annotation["expr"].as_str())
        .unwrap_or_else(|| panic!("no annotation {name}"))
        .to_owned()
}

/// Each alert expression, and its measure: the expression without `<op> <number>`.
fn alert_expressions() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(repo("docs/prometheus/audio-alerts.yml")).unwrap();
    let mut alerts = Vec::new();
    let mut name = String::new();
    for line in text.lines().map(str::trim) {
        if let Some(alert) = line.strip_prefix("- alert: ") {
            name = alert.to_owned();
        } else if let Some(expr) = line.strip_prefix("expr: ") {
            let (measure, _threshold) = expr
                .rsplit_once([' '])
                .and_then(|(left, number)| {
                    number.parse::<f64>().ok()?;
                    let (measure, op) = left.trim_end().rsplit_once(' ')?;
                    ["<", ">", "==", "<=", ">=", "!="]
                        .contains(&op)
                        .then_some((measure, number))
                })
                .unwrap_or_else(|| panic!("{name}: expr is not `<measure> <op> <number>`: {expr}"));
            alerts.push((name.clone(), expr.to_owned(), measure.to_owned()));
        }
    }
    assert_eq!(alerts.len(), 14);
    alerts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_and_alerts_work_against_a_real_prometheus() {
    let first = start_instance().await;
    let second = start_instance().await;

    // A batch job: pushes its observations to a real Pushgateway.
    let pushgateway_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let _pushgateway = tokio::task::block_in_place(|| start_pushgateway(pushgateway_addr));
    let batch = MetricsConfig::builder()
        .no_listener()
        .push_gateway(&format!("http://{pushgateway_addr}"))
        .push_grouping("batch_transcriber", None)
        .build()
        .unwrap()
        .install()
        .unwrap();
    for _ in 0..3 {
        conduit_metrics_runtime::start_call(Operation::Transcription, "batch")
            .finish(Status::Success);
    }
    batch.flush().unwrap();

    // Prometheus with a generated config scraping both instances and the Pushgateway.
    let dir = tempfile::tempdir().unwrap();
    let prometheus_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let config = format!(
        r#"global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {recording}
  - {rules}
  - {objectives}
scrape_configs:
  - job_name: conduit-audio
    static_configs:
      - targets: ["{a}", "{b}"]
  - job_name: conduit-audio-batch
    honor_labels: true
    static_configs:
      - targets: ["{push}"]
"#,
        recording = repo("docs/prometheus/audio-recording-rules.yml").display(),
        rules = repo("docs/prometheus/audio-alerts.yml").display(),
        objectives = repo("docs/prometheus/audio-slo-rules.yml").display(),
        a = first.metrics,
        b = second.metrics,
        push = pushgateway_addr,
    );
    let config_path = dir.path().join("prometheus.yml");
    std::fs::write(&config_path, config).unwrap();
    let _prometheus = tokio::task::block_in_place(|| {
        start_prometheus(prometheus_addr, &config_path, &dir.path().join("data"))
    });

    // Known traffic to both instances.
    let mut sent = Sent::new();
    for round in 0..3 {
        traffic(first.api, round, &mut sent).await;
    }
    for round in 0..2 {
        traffic(second.api, round, &mut sent).await;
    }
    transcribe(second.api, "azure", 5_000, &mut sent).await;
    let total: u64 = sent.values().sum();

    // Fleet totals: sum by (provider) over the two instances equals what both were sent.
    let deadline = Instant::now() + Duration::from_secs(60);
    let total_query = r#"sum(conduit_audio_requests_total{job="conduit-audio"})"#;
    loop {
        let result = query(prometheus_addr, total_query).await;
        if result.first().map(value) == Some(total as f64) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus never saw all {total} requests: {result:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let by_provider = query(
        prometheus_addr,
        r#"sum by (provider) (conduit_audio_requests_total{job="conduit-audio"})"#,
    )
    .await;
    let seen: BTreeMap<String, f64> = by_provider
        .iter()
        .map(|s| {
            (
                s["metric"]["provider"].as_str().unwrap().to_owned(),
                value(s),
            )
        })
        .collect();
    let expected: BTreeMap<String, f64> = sent
        .iter()
        .map(|(p, n)| (p.to_string(), *n as f64))
        .collect();
    assert_eq!(seen, expected);
    let instances = query(
        prometheus_addr,
        r#"count by (instance) (conduit_audio_requests_total{job="conduit-audio"})"#,
    )
    .await;
    assert_eq!(instances.len(), 2, "both instances are scraped");
    // The pushed batch job keeps its own job label (honor_labels).
    let pushed = query_with_data(
        prometheus_addr,
        r#"conduit_audio_requests_total{job="batch_transcriber",provider="batch",status="success"}"#,
        Instant::now() + Duration::from_secs(30),
    )
    .await;
    assert_eq!(pushed.iter().map(value).collect::<Vec<_>>(), [3.0]);

    // Keep traffic flowing while the windowed queries are checked.
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let api = first.api;
    let trickle = tokio::spawn(async move {
        let mut sent = Sent::new();
        for round in 100.. {
            traffic(api, round, &mut sent).await;
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(300)) => {}
                _ = &mut stopped => return,
            }
        }
    });

    let deadline = Instant::now() + Duration::from_secs(90);
    for (title, expr) in dashboard_queries() {
        query_checked(prometheus_addr, &title, &expr, deadline).await;
    }
    for (name, expr, measure) in alert_expressions() {
        query(prometheus_addr, &expr).await; // the whole rule parses and runs
        query_checked(prometheus_addr, &name, &measure, deadline).await;
    }
    // The dashboard's deploy annotation finds the gateways' build (new within 5m).
    let deploys = query_with_data(
        prometheus_addr,
        &dashboard_annotation("Deploys"),
        Instant::now() + Duration::from_secs(30),
    )
    .await;
    assert_eq!(deploys.len(), 2, "{deploys:?}");
    assert!(
        deploys
            .iter()
            .all(|s| s["metric"]["version"] == env!("CARGO_PKG_VERSION"))
    );
    // Prometheus loaded and evaluates the rule files: 14 recording rules, 14 alerts, and
    // the objectives' 105 recording rules and 14 alerts.
    let (status, rules) = get(prometheus_addr, "/api/v1/rules").await;
    assert_eq!(status, 200);
    let rules: serde_json::Value = serde_json::from_str(&rules).unwrap();
    let loaded: Vec<&serde_json::Value> = rules["data"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|group| group["rules"].as_array().unwrap())
        .collect();
    assert_eq!(loaded.len(), 28 + 119);
    assert!(loaded.iter().all(|r| r["health"] == "ok"), "{loaded:#?}");

    let _ = stop.send(());
    let _ = trickle.await;
}
