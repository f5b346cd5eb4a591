//! What the process environment decides, as a .NET host would read it: the environment
//! name picks `appsettings.{Environment}.json` (`ASPNETCORE_ENVIRONMENT` before
//! `DOTNET_ENVIRONMENT`), and `PrometheusMetrics__*` variables apply as well as
//! `CONDUIT_METRICS_*` ones, which win. One test in this binary: it sets the environment.

use std::time::Duration;

use conduit_metrics_runtime::MetricsConfig;

#[test]
fn the_environment_names_the_file_and_overrides_options() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("appsettings.json");
    std::fs::write(
        &base,
        r#"{"PrometheusMetrics": {"ExportInterval": "00:00:15"}}"#,
    )
    .unwrap();
    for (name, seconds) in [("Staging", 20), ("Production", 40)] {
        std::fs::write(
            dir.path().join(format!("appsettings.{name}.json")),
            format!(r#"{{"PrometheusMetrics": {{"ExportInterval": "00:00:{seconds}"}}}}"#),
        )
        .unwrap();
    }
    // SAFETY: this test binary has one test, so no other thread reads the environment.
    unsafe {
        std::env::set_var("DOTNET_ENVIRONMENT", "Staging");
    }
    let staging = MetricsConfig::from_file(&base).unwrap();
    assert_eq!(staging.export_interval(), Duration::from_secs(20));
    // SAFETY: as above.
    unsafe {
        std::env::set_var("ASPNETCORE_ENVIRONMENT", "Production");
    }
    let production = MetricsConfig::from_file(&base).unwrap();
    assert_eq!(production.export_interval(), Duration::from_secs(40));

    // Variables of both forms; the crate's own form wins for the option both name.
    // SAFETY: as above.
    unsafe {
        std::env::set_var("PrometheusMetrics__MaxProviders", "12");
        std::env::set_var("PrometheusMetrics__ExportInterval", "00:00:30");
        std::env::set_var("CONDUIT_METRICS_EXPORT_INTERVAL", "45s");
    }
    let from_env = MetricsConfig::from_env().unwrap();
    assert_eq!(from_env.max_providers(), 12);
    assert_eq!(from_env.export_interval(), Duration::from_secs(45));
    // On top of the files, as .NET layers them: files, then the environment.
    let layered = production.with_env_overrides().unwrap();
    assert_eq!(layered.export_interval(), Duration::from_secs(45));
    assert_eq!(layered.max_providers(), 12);
}
