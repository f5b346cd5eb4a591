//! `install()` reads `CONDUIT_METRICS_*`, so a deployment configures it without code.

mod common;

#[test]
fn install_reads_the_environment() {
    // SAFETY: this test binary has one test, so no other thread reads the environment.
    unsafe {
        std::env::set_var("CONDUIT_METRICS_LISTEN", "127.0.0.1:0");
        std::env::set_var("CONDUIT_METRICS_PATH", "/internal/metrics");
        std::env::set_var("CONDUIT_METRICS_MAX_PROVIDERS", "7");
    }
    let handle = conduit_metrics_runtime::install().unwrap();
    let addr = handle.local_addr().unwrap();
    assert_ne!(addr.port(), 0);
    assert_eq!(handle.config().max_providers(), 7);
    let (status, _, body) = common::get(addr, "/internal/metrics");
    assert_eq!(status, 200);
    assert!(body.contains("# TYPE conduit_audio_requests_total counter"));
    assert_eq!(common::get(addr, "/metrics").0, 404);

    // A bad variable is an error naming it, not a silent default.
    unsafe { std::env::set_var("CONDUIT_METRICS_EXPORT_INTERVAL", "often") };
    let error = conduit_metrics_runtime::MetricsConfig::from_env().unwrap_err();
    assert!(
        error
            .to_string()
            .contains("CONDUIT_METRICS_EXPORT_INTERVAL"),
        "{error}"
    );
}
