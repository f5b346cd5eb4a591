//! `install`: errors for a taken port and a second install, the endpoint over real HTTP,
//! and the facade's metrics beside the audio families. One test function, because
//! install is once per process.

mod common;

use std::time::Duration;

use common::{get, http, value};
use conduit_metrics_runtime::serving::TEXT_FORMAT_CONTENT_TYPE;
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
    assert!(matches!(error, InstallError::Bind { address: a, .. } if a == address));
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
