//! A fleet against the real servers, all on loopback.
//!
//! Alerting: an alert reaches someone, and so does its resolution. The gateway example is told to
//! fail a provider (`--admin`, `PUT /admin/providers/openai/outage`); a real Prometheus
//! (Debian `prometheus`) scrapes it and evaluates the shipped recording and alert rules;
//! a real Alertmanager (Debian `prometheus-alertmanager`) configured from
//! `docs/prometheus/alertmanager.yml` delivers to a webhook receiver this test runs; the
//! provider recovers (`DELETE`) and the resolved notification arrives. And the shipped
//! inhibition: while a provider is down, its error-rate alerts fire in Prometheus but
//! Alertmanager holds them back, while another provider's are delivered.
//!
//! What the test changes in its copies of the shipped files, to finish in well under a
//! minute: the rules' 5m windows become 15s and every `for:` 2s; Alertmanager's
//! `group_wait`/`group_interval` become 1s and its receivers' URLs point at the test's
//! webhook. Nothing else.
//!
//! The global view: two edge Prometheus servers (Debian `prometheus`), configured from
//! `docs/prometheus/prometheus-edge.yml`, each scrape one gateway replica and
//! remote-write into two global stores: a central Prometheus started with
//! `--web.enable-remote-write-receiver` (`prometheus-central.yml`) and VictoriaMetrics
//! (Debian `victoria-metrics`); in both, `sum by (provider)` equals what both replicas
//! counted. The test's copies change the addresses, the cluster names and the intervals
//! (15s to 1s), and add the second store's URL as a second `remote_write` entry.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{
    free_port, post, prometheus_series as query, repo, send, start_alertmanager, start_instance,
    start_instance_with, start_prometheus_with, start_victoria_metrics,
};

/// Notifications received by the webhook: (path, body).
type Received = Arc<Mutex<Vec<(String, serde_json::Value)>>>;

/// A webhook receiver on an ephemeral loopback port, as a chat or paging bridge would
/// run one.
async fn start_webhook() -> (SocketAddr, Received) {
    let received = Received::default();
    let store = received.clone();
    let router =
        axum::Router::new().fallback(move |uri: axum::http::Uri, body: axum::body::Bytes| {
            let store = store.clone();
            async move {
                let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                store.lock().unwrap().push((uri.path().to_owned(), json));
                "ok"
            }
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (addr, received)
}

/// `text` with `from` replaced by `to`, failing if `from` is not there (so the shipped
/// file and the test cannot drift apart silently).
fn replaced(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "expected `{from}` in the shipped file");
    text.replace(from, to)
}

/// Waits for a notification at `path` with `status` that holds an alert named
/// `alertname` whose labels include `labels`; returns the alert.
async fn notification(
    received: &Received,
    path: &str,
    status: &str,
    alertname: &str,
    labels: &[(&str, &str)],
    deadline: Instant,
) -> serde_json::Value {
    loop {
        let found = received.lock().unwrap().iter().find_map(|(at, body)| {
            if at != path || body["status"] != status {
                return None;
            }
            body["alerts"].as_array()?.iter().find_map(|alert| {
                let matches = alert["labels"]["alertname"] == alertname
                    && alert["status"] == status
                    && labels
                        .iter()
                        .all(|(name, value)| alert["labels"][*name] == *value);
                matches.then(|| alert.clone())
            })
        });
        if let Some(alert) = found {
            return alert;
        }
        assert!(
            Instant::now() < deadline,
            "no {status} {alertname} notification at {path}; received: {:#?}",
            received.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The alerting path of the shipped files, on loopback: Alertmanager from
/// `alertmanager.yml` delivering to the test's webhook, a Prometheus evaluating the
/// shipped rules (shortened, see the module documentation) over one gateway with its admin
/// API, and that gateway.
struct AlertingStack {
    gateway: common::Instance,
    prometheus: SocketAddr,
    alertmanager: SocketAddr,
    received: Received,
    _servers: Vec<common::Process>,
    _dir: tempfile::TempDir,
}

/// [`start_alerting_stack_with`] the shipped alert and recording rules only.
async fn start_alerting_stack() -> AlertingStack {
    start_alerting_stack_with(&[], false).await
}

/// The alerting stack, the gateway started with `gateway_args` too, and with `objectives`
/// the generated objective rules loaded beside the others, time-compressed (see
/// [`compressed`]).
async fn start_alerting_stack_with(gateway_args: &[&str], objectives: bool) -> AlertingStack {
    let dir = tempfile::tempdir().unwrap();
    let (webhook, received) = start_webhook().await;

    // Alertmanager, from the shipped example.
    let shipped = std::fs::read_to_string(repo("docs/prometheus/alertmanager.yml")).unwrap();
    let config = replaced(&shipped, "group_wait: 30s", "group_wait: 1s");
    let config = replaced(&config, "group_interval: 5m", "group_interval: 1s");
    let config = replaced(
        &config,
        "http://alert-bridge.internal:5001",
        &format!("http://{webhook}"),
    );
    let config = replaced(
        &config,
        "http://pager-bridge.internal:5001",
        &format!("http://{webhook}"),
    );
    let alertmanager_config = dir.path().join("alertmanager.yml");
    std::fs::write(&alertmanager_config, config).unwrap();
    let alertmanager: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let alertmanager_data = dir.path().join("alertmanager");
    let alertmanager_process = tokio::task::block_in_place(|| {
        start_alertmanager(alertmanager, &alertmanager_config, &alertmanager_data)
    });

    // The gateway, with its admin API and a short window for its own gauges.
    let mut args = vec!["--admin"];
    args.extend_from_slice(gateway_args);
    let gateway = start_instance_with(&args, &[("CONDUIT_METRICS_METRICS_WINDOW", "10s")]).await;

    // The shipped rules with short windows and `for`s.
    let shorten = |file: &str| {
        let text = std::fs::read_to_string(repo(&format!("docs/prometheus/{file}"))).unwrap();
        let text = replaced(&text, "[5m]", "[15s]");
        ["for: 5m", "for: 10m", "for: 15m"]
            .iter()
            .fold(text, |text, long| text.replace(long, "for: 2s"))
    };
    let recording = dir.path().join("audio-recording-rules.yml");
    std::fs::write(&recording, shorten("audio-recording-rules.yml")).unwrap();
    let alerts = dir.path().join("audio-alerts.yml");
    std::fs::write(&alerts, shorten("audio-alerts.yml")).unwrap();
    let slo = dir.path().join("audio-slo-rules.yml");
    if objectives {
        let shipped = std::fs::read_to_string(repo("docs/prometheus/audio-slo-rules.yml")).unwrap();
        std::fs::write(&slo, compressed(&shipped)).unwrap();
    }
    let prometheus_config = dir.path().join("prometheus.yml");
    std::fs::write(
        &prometheus_config,
        format!(
            r#"global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {recording}
  - {alerts}{objectives}
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["{alertmanager}"]
scrape_configs:
  - job_name: conduit-audio
    static_configs:
      - targets: ["{metrics}"]
"#,
            recording = recording.display(),
            alerts = alerts.display(),
            objectives = if objectives {
                format!("\n  - {}", slo.display())
            } else {
                String::new()
            },
            metrics = gateway.metrics,
        ),
    )
    .unwrap();
    let prometheus: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let prometheus_process = tokio::task::block_in_place(|| {
        start_prometheus_with(
            prometheus,
            &prometheus_config,
            &dir.path().join("prometheus"),
            &["--rules.alert.resend-delay=1s"],
        )
    });
    AlertingStack {
        gateway,
        prometheus,
        alertmanager,
        received,
        _servers: vec![alertmanager_process, prometheus_process],
        _dir: dir,
    }
}

/// `rules` with every range selector 60 times shorter (`[5m]` becomes `[5s]`, `[1h]`
/// `[1m]`, `[30d]` `[720m]`), so an objective's month passes in 12 hours and its page's
/// hour in a minute. The expressions, factors and guard stay as generated.
fn compressed(rules: &str) -> String {
    let mut out = String::with_capacity(rules.len());
    let mut rest = rules;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let Some(close) = rest.find(']') else { break };
        let range = &rest[..close];
        let seconds = match range.split_at(range.len() - 1) {
            (n, "m") => n.parse::<u64>().ok().map(|n| n * 60),
            (n, "h") => n.parse::<u64>().ok().map(|n| n * 3600),
            (n, "d") => n.parse::<u64>().ok().map(|n| n * 86400),
            _ => None,
        };
        match seconds {
            Some(seconds) if seconds % 60 == 0 && seconds / 60 < 60 => {
                out.push_str(&format!("{}s", seconds / 60))
            }
            Some(seconds) => out.push_str(&format!("{}m", seconds / 3600)),
            None => out.push_str(range),
        }
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

/// `PUT` (start) or `DELETE` (end) an outage of `provider` through the gateway's admin API.
async fn outage(api: SocketAddr, method: &str, provider: &str) {
    let head = format!(
        "{method} /admin/providers/{provider}/outage?failure=unavailable HTTP/1.1\r\nHost: {api}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let (status, _, _) = send(api, &head, b"").await;
    assert_eq!(status, 200, "{method} outage of {provider}");
}

/// Calls to `provider` every 100 ms, with `headers`, until the task is aborted.
fn keep_calling(
    api: SocketAddr,
    provider: &'static str,
    headers: &'static str,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            post(
                api,
                &format!("/v1/audio/transcriptions?provider={provider}"),
                &format!("Content-Type: audio/wav\r\n{headers}"),
                &[0u8; 3200],
            )
            .await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

/// How long the outage alert may take to reach the webhook, and its resolution after the
/// recovery, with the test's shortened rules (15 s windows, 2 s `for`s, 1 s intervals).
const FIRING_WITHIN: Duration = Duration::from_secs(20);
const RESOLVED_WITHIN: Duration = Duration::from_secs(35);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_alert_reaches_the_webhook_then_resolves() {
    let stack = start_alerting_stack().await;
    let received = &stack.received;
    let gateway = &stack.gateway;

    // openai's health never flaps (azure's does, 8% of probes, which would hold the
    // resolution back at random): its calls keep flowing the whole time.
    let api = gateway.api;
    let traffic = keep_calling(api, "openai", "");
    tokio::time::sleep(Duration::from_secs(3)).await;

    outage(api, "PUT", "openai").await;
    let started = Instant::now();

    // The fleet rule pages: a critical alert with its provider, at the pager receiver.
    let fleet_down = [("provider", "openai"), ("severity", "critical")];
    let firing = notification(
        received,
        "/audio-pager",
        "firing",
        "AudioFleetProviderDown",
        &fleet_down,
        started + FIRING_WITHIN,
    )
    .await;
    eprintln!("firing after {:?}: {firing}", started.elapsed());
    assert_eq!(
        firing["annotations"]["summary"],
        "Provider openai fails its health checks across the fleet"
    );
    // The guide's per-instance rule pages too, with the instance that saw it.
    let instance = gateway.metrics.to_string();
    notification(
        received,
        "/audio-pager",
        "firing",
        "ProviderDown",
        &[
            ("provider", "openai"),
            ("severity", "critical"),
            ("instance", &instance),
        ],
        started + FIRING_WITHIN,
    )
    .await;

    // Recovery: the resolved notification follows.
    outage(api, "DELETE", "openai").await;
    let recovered = Instant::now();
    notification(
        received,
        "/audio-pager",
        "resolved",
        "AudioFleetProviderDown",
        &fleet_down,
        recovered + RESOLVED_WITHIN,
    )
    .await;
    eprintln!("resolved after {:?}", recovered.elapsed());
    traffic.abort();
}

/// An objective's page through the real Alertmanager: openai's outage burns its
/// transcription availability budget (the generated rules, time-compressed), the page
/// reaches the pager by its `severity`, and resolves after the recovery; deepgram, healthy
/// beside it, never pages. The gateway runs without random failures, so only the outage
/// burns budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_objective_pages_through_alertmanager_then_resolves_and_a_healthy_providers_stays_silent()
 {
    let stack = start_alerting_stack_with(&["--no-random-failures"], true).await;
    let received = &stack.received;
    let api = stack.gateway.api;
    let openai = keep_calling(api, "openai", "");
    let deepgram = keep_calling(api, "deepgram", "");
    // A compressed hour (a minute) of healthy traffic first.
    tokio::time::sleep(Duration::from_secs(10)).await;

    outage(api, "PUT", "openai").await;
    let started = Instant::now();
    let page = [
        ("provider", "openai"),
        ("severity", "critical"),
        ("sloth_severity", "page"),
        ("sloth_slo", "transcription-availability"),
    ];
    let paged = notification(
        received,
        "/audio-pager",
        "firing",
        "TranscriptionAvailabilityBudgetBurnPage",
        &page,
        started + OBJECTIVE_PAGE_WITHIN,
    )
    .await;
    eprintln!("paged after {:?}: {paged}", started.elapsed());
    assert!(
        paged["annotations"]["description"]
            .as_str()
            .unwrap()
            .contains("of the 30d error budget is spent"),
        "{paged}"
    );

    outage(api, "DELETE", "openai").await;
    let recovered = Instant::now();
    notification(
        received,
        "/audio-pager",
        "resolved",
        "TranscriptionAvailabilityBudgetBurnPage",
        &page,
        recovered + OBJECTIVE_RESOLVED_WITHIN,
    )
    .await;
    eprintln!("resolved after {:?}", recovered.elapsed());
    // deepgram's objective never paged.
    let deepgram_paged = received.lock().unwrap().iter().any(|(_, body)| {
        body["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|alert| {
                alert["labels"]["alertname"] == "TranscriptionAvailabilityBudgetBurnPage"
                    && alert["labels"]["provider"] == "deepgram"
            })
    });
    assert!(
        !deepgram_paged,
        "deepgram's objective paged: {:#?}",
        received.lock().unwrap()
    );
    openai.abort();
    deepgram.abort();
}

/// How long the objective's page may take after the outage starts, and its resolution after
/// the recovery, with the rules compressed 60 times (the page's hour is a minute).
const OBJECTIVE_PAGE_WITHIN: Duration = Duration::from_secs(30);
const OBJECTIVE_RESOLVED_WITHIN: Duration = Duration::from_secs(60);

/// The inhibition of the shipped `alertmanager.yml`: while azure is down, its error-rate
/// alerts fire in Prometheus and reach Alertmanager, which holds them back, while the
/// same alerts of openai, which is up but failing its calls, are delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_providers_lesser_alerts_are_held_back_while_another_providers_are_delivered() {
    let stack = start_alerting_stack().await;
    let received = &stack.received;
    let api = stack.gateway.api;
    let start = Instant::now();

    // azure goes down, with no traffic yet: its probes fail and it pages.
    outage(api, "PUT", "azure").await;
    notification(
        received,
        "/audio-pager",
        "firing",
        "ProviderDown",
        &[("provider", "azure"), ("severity", "critical")],
        start + FIRING_WITHIN,
    )
    .await;

    // During the outage, openai, healthy (its probes pass) but failing every call, has its
    // error-rate alerts delivered to the team.
    let openai = keep_calling(api, "openai", "X-Simulate-Failure: error\r\n");
    let azure = keep_calling(api, "azure", "");
    let failing = Instant::now();
    notification(
        received,
        "/audio-team",
        "firing",
        "HighErrorRate",
        &[("provider", "openai"), ("severity", "warning")],
        failing + FIRING_WITHIN,
    )
    .await;

    // azure's calls fail too. Its error-rate alert fires in Prometheus...
    let deadline = Instant::now() + FIRING_WITHIN;
    while !prometheus_fires(stack.prometheus, "HighErrorRate", "azure") {
        assert!(
            Instant::now() < deadline,
            "HighErrorRate for azure never fired in Prometheus"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // ...reaches Alertmanager, which marks it inhibited by the outage...
    let deadline = Instant::now() + FIRING_WITHIN;
    loop {
        match alertmanager_state(stack.alertmanager, "HighErrorRate", "azure") {
            Some((state, inhibited_by)) if state == "suppressed" && inhibited_by > 0 => break,
            other => assert!(
                Instant::now() < deadline,
                "HighErrorRate for azure in Alertmanager: {other:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // ...and is never delivered, over several group intervals (1 s each here).
    tokio::time::sleep(Duration::from_secs(5)).await;
    let delivered: Vec<String> = received
        .lock()
        .unwrap()
        .iter()
        .flat_map(|(path, body)| {
            body["alerts"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |alert| {
                    format!(
                        "{path} {} {} {}",
                        alert["status"], alert["labels"]["alertname"], alert["labels"]["provider"]
                    )
                })
        })
        .collect();
    for held_back in ["HighErrorRate", "AudioFleetErrorRateHigh"] {
        assert!(
            !delivered
                .iter()
                .any(|line| line.contains(&format!("\"{held_back}\" \"azure\""))),
            "{held_back} for azure was delivered during its outage: {delivered:#?}"
        );
    }
    // openai's fleet error-rate alert was delivered as well.
    notification(
        received,
        "/audio-team",
        "firing",
        "AudioFleetErrorRateHigh",
        &[("provider", "openai")],
        Instant::now() + FIRING_WITHIN,
    )
    .await;
    openai.abort();
    azure.abort();
}

/// Whether Prometheus reports `alertname` for `provider` firing (`/api/v1/alerts`).
fn prometheus_fires(prometheus: SocketAddr, alertname: &str, provider: &str) -> bool {
    let (status, _, body) = tokio::task::block_in_place(|| {
        conduit_metrics_testkit::http_get(prometheus, "/api/v1/alerts")
    })
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    answer["data"]["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|alert| {
            alert["labels"]["alertname"] == alertname
                && alert["labels"]["provider"] == provider
                && alert["state"] == "firing"
        })
}

/// The state Alertmanager gives `alertname` for `provider` (`/api/v2/alerts`), and how
/// many alerts inhibit it; `None` while it has not arrived.
fn alertmanager_state(
    alertmanager: SocketAddr,
    alertname: &str,
    provider: &str,
) -> Option<(String, usize)> {
    let (status, _, body) = tokio::task::block_in_place(|| {
        conduit_metrics_testkit::http_get(alertmanager, "/api/v2/alerts")
    })
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let alerts: serde_json::Value = serde_json::from_str(&body).unwrap();
    alerts.as_array()?.iter().find_map(|alert| {
        (alert["labels"]["alertname"] == alertname && alert["labels"]["provider"] == provider).then(
            || {
                let state = alert["status"]["state"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let inhibited_by = alert["status"]["inhibitedBy"]
                    .as_array()
                    .map_or(0, Vec::len);
                (state, inhibited_by)
            },
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edges_remote_write_into_a_central_prometheus_and_victoria_metrics_that_see_the_whole_fleet()
 {
    let dir = tempfile::tempdir().unwrap();
    for rules in ["audio-recording-rules.yml", "audio-alerts.yml"] {
        std::fs::copy(
            repo(&format!("docs/prometheus/{rules}")),
            dir.path().join(rules),
        )
        .unwrap();
    }
    let central: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let central_config = dir.path().join("prometheus-central.yml");
    std::fs::copy(
        repo("docs/prometheus/prometheus-central.yml"),
        &central_config,
    )
    .unwrap();
    let _central = tokio::task::block_in_place(|| {
        start_prometheus_with(
            central,
            &central_config,
            &dir.path().join("central"),
            &["--web.enable-remote-write-receiver"],
        )
    });

    let victoria: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let _victoria = tokio::task::block_in_place(|| {
        start_victoria_metrics(victoria, &dir.path().join("victoria-metrics"))
    });

    let replicas = [start_instance().await, start_instance().await];
    let shipped = std::fs::read_to_string(repo("docs/prometheus/prometheus-edge.yml")).unwrap();
    let mut edges = Vec::new();
    for (replica, cluster) in replicas.iter().zip(["edge-a", "edge-b"]) {
        let config = replaced(
            &shipped,
            "cluster: eu-west-1",
            &format!("cluster: {cluster}"),
        );
        let config = replaced(&config, "scrape_interval: 15s", "scrape_interval: 1s");
        let config = replaced(
            &config,
            "evaluation_interval: 15s",
            "evaluation_interval: 1s",
        );
        let config = replaced(
            &config,
            "- audio-gateway-1.internal:9000\n          - audio-gateway-2.internal:9000",
            &format!("- {}", replica.metrics),
        );
        let config = replaced(
            &config,
            "url: http://prometheus-central.internal:9090/api/v1/write",
            &format!("url: http://{central}/api/v1/write"),
        );
        // The same entry again, to VictoriaMetrics: the shipped `remote_write` entry is
        // the last thing in the file.
        let entry_start = config.rfind("  - url: ").unwrap();
        let entry = config[entry_start..].replace(
            &format!("url: http://{central}/api/v1/write"),
            &format!("url: http://{victoria}/api/v1/write"),
        );
        let config = format!("{config}{entry}");
        // No Alertmanager in this test: a port where nothing listens.
        let config = replaced(
            &config,
            "alertmanager.internal:9093",
            &format!("127.0.0.1:{}", free_port()),
        );
        let path = dir.path().join(format!("prometheus-{cluster}.yml"));
        std::fs::write(&path, config).unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let data = dir.path().join(cluster);
        edges.push(tokio::task::block_in_place(|| {
            start_prometheus_with(addr, &path, &data, &[])
        }));
    }

    // Known traffic: different providers and amounts on each replica.
    let mut sent = std::collections::BTreeMap::<&str, f64>::new();
    for (replica, calls) in replicas.iter().zip([[5, 3, 0], [2, 4, 6]]) {
        for (provider, count) in ["openai", "deepgram", "azure"].into_iter().zip(calls) {
            for _ in 0..count {
                let path = format!("/v1/audio/transcriptions?provider={provider}");
                let (status, _, _) = post(
                    replica.api,
                    &path,
                    "Content-Type: audio/wav\r\n",
                    &[0u8; 3200],
                )
                .await;
                assert_eq!(status, 200);
                *sent.entry(provider).or_default() += 1.0;
            }
        }
    }

    // Each global store sees exactly what both replicas counted, per provider, and both
    // clusters, told apart by their external label.
    let expected: std::collections::BTreeMap<String, f64> =
        sent.iter().map(|(p, n)| (p.to_string(), *n)).collect();
    for (store, addr) in [
        ("the central Prometheus", central),
        ("VictoriaMetrics", victoria),
    ] {
        let deadline = Instant::now() + Duration::from_secs(90);
        let fleet = "sum by (provider) (conduit_audio_requests_total)";
        loop {
            let seen: std::collections::BTreeMap<String, f64> = query(addr, fleet)
                .iter()
                .map(|s| (s.labels["provider"].clone(), s.value))
                .collect();
            if seen == expected {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{store} saw {seen:?}, the replicas counted {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let clusters = query(addr, "count by (cluster) (conduit_audio_requests_total)");
        let mut names: Vec<&str> = clusters
            .iter()
            .map(|s| s.labels["cluster"].as_str())
            .collect();
        names.sort();
        assert_eq!(names, ["edge-a", "edge-b"], "{store}");
        // The edges' recorded series stayed home (write_relabel_configs).
        assert!(
            query(addr, r#"{__name__=~".+:.+", cluster!=""}"#).is_empty(),
            "{store} received recorded series"
        );
    }
    // The central Prometheus records its own, over both clusters.
    let deadline = Instant::now() + Duration::from_secs(60);
    let recorded = r#"provider_operation:conduit_audio_requests:rate5m{provider="deepgram"}"#;
    while query(central, recorded).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the central store records nothing"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    drop(edges);
}
