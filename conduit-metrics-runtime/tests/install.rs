//! `install`: errors for a taken port and a second install, the endpoint over real HTTP,
//! the facade's metrics beside the audio families, and the health probes' share of the
//! intervals. Install is once per process: each test installs once, and the test command
//! (nextest) runs each test in a process of its own.

mod common;

use std::time::Duration;

use common::{get, http, value};
use conduit_metrics_runtime::serving::{ServeError, TEXT_FORMAT_CONTENT_TYPE};
use conduit_metrics_runtime::{HealthProbe, InstallError, MetricsConfig, Operation, Status};

fn config_on(listen: &str) -> MetricsConfig {
    MetricsConfig::builder()
        .listen(listen.parse().unwrap())
        .export_interval(Duration::from_millis(200))
        .metrics_window(Duration::from_secs(2))
        .cache_expiration(Duration::ZERO)
        .build()
        .unwrap()
}

#[test]
fn install_serves_once_and_fails_clearly_otherwise() {
    // A taken port is an error that names the address, and leaves nothing installed.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap();
    let error = config_on(&address.to_string()).install().unwrap_err();
    assert!(
        matches!(error, InstallError::Serve(ServeError::Bind { address: a, .. }) if a == address)
    );
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot listen on {address} (Listen): ")),
        "{error}"
    );

    let handle = config_on("127.0.0.1:0").install().unwrap();
    let addr = handle.local_addr().unwrap();
    assert_ne!(addr.port(), 0);

    // A second install is refused and says where the first one listens.
    let error = config_on("127.0.0.1:0").install().unwrap_err();
    assert!(matches!(error, InstallError::AlreadyInstalled(_)));
    assert!(error.to_string().contains(&addr.to_string()), "{error}");

    conduit_metrics_runtime::start_call(Operation::Tts, "install-test").finish(Status::Success);
    conduit_metrics_runtime::metrics::counter!("app_jobs_total").increment(3);

    let (status, head, body) = get(addr, "/metrics");
    assert_eq!(status, 200);
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("content-type: {TEXT_FORMAT_CONTENT_TYPE}")),
        "{head}"
    );
    assert_eq!(
        value(
            &body,
            "conduit_audio_requests_total{operation=\"tts\",provider=\"install-test\",status=\"success\"}"
        ),
        1.0
    );
    // Metrics recorded through the `metrics` facade are served beside the audio families.
    assert_eq!(value(&body, "app_jobs_total"), 3.0);
    // Process metrics (metrics-process) are served beside them: real values only.
    assert!(
        value(&body, "process_resident_memory_bytes") > 0.0,
        "{body}"
    );
    assert!(value(&body, "process_threads") >= 2.0);

    // A registered probe runs every ExportInterval on the metrics thread, and the
    // background task recomputes the windowed gauges from its results.
    handle.register_health_probe(HealthProbe::new(
        "probed",
        Duration::from_secs(1),
        || async { true },
    ));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let uptime = loop {
        let text = handle.render();
        if let Some(uptime) = common::sample(
            &text,
            "conduit_audio_provider_uptime_ratio{provider=\"probed\"}",
        ) {
            break uptime;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the probe never ran:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(uptime, 1.0);

    assert_eq!(get(addr, "/other").0, 404);
    assert_eq!(get(addr, "/health").0, 200);
    let (status, head, _) = http(
        addr,
        &format!(
            "POST /metrics HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
    );
    assert_eq!(status, 405);
    assert!(
        head.to_ascii_lowercase().contains("allow: get, head"),
        "{head}"
    );
    let (status, _, body) = http(
        addr,
        &format!("HEAD /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    );
    assert_eq!((status, body.as_str()), (200, ""));

    handle.shutdown().unwrap();
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the endpoint still accepts after shutdown"
    );
}

/// `HealthProbeShare = 0.25`: the probes run in a quarter of the ExportIntervals, evenly
/// spread, so four replicas probe a provider as often as one would.
#[test]
fn health_probes_run_in_their_share_of_the_intervals() {
    let handle = MetricsConfig::builder()
        .no_listener()
        .export_interval(Duration::from_millis(40))
        .health_probe_share(0.25)
        .build()
        .unwrap()
        .install()
        .unwrap();
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = runs.clone();
    let started = std::time::Instant::now();
    handle.register_health_probe(HealthProbe::new(
        "quarter",
        Duration::from_secs(1),
        move || {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            async { true }
        },
    ));
    std::thread::sleep(Duration::from_millis(2_000));
    let ran = runs.load(std::sync::atomic::Ordering::Relaxed);
    let intervals = started.elapsed().as_millis() as u64 / 40;
    // A quarter of the intervals that passed, give or take the first and last one; a
    // busy machine delays ticks (never adds them), so at most a quarter plus one.
    assert!(
        ran <= intervals / 4 + 1,
        "{ran} runs in {intervals} intervals"
    );
    assert!(ran >= 4, "{ran} runs in {intervals} intervals");
    let passed = common::value(
        &handle.render(),
        "conduit_audio_health_checks_total{provider=\"quarter\",result=\"pass\"}",
    );
    // A check in flight between the two reads may be counted in one and not the other.
    assert!(
        (passed - ran as f64).abs() <= 1.0,
        "{passed} recorded, {ran} run"
    );
    handle.shutdown().unwrap();

    let error = MetricsConfig::builder()
        .health_probe_share(1.5)
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("HealthProbeShare") && error.contains("1.5"),
        "{error}"
    );
}
