//! Helpers shared by the workspace-level integration tests.
#![allow(dead_code, unused_imports)]

use std::net::SocketAddr;

pub use conduit_metrics_testkit::client::{get, post, send};
pub use conduit_metrics_testkit::{
    Process, free_port, pair_series, requests_series, resident_bytes, sample, spawn,
    start_alertmanager, start_prometheus, start_prometheus_with, start_pushgateway,
    start_victoria_metrics, value,
};

/// Polls `GET path` until it answers 200 (see [`conduit_metrics_testkit::wait_ready`]),
/// without stalling the other tasks of the (multi-thread) runtime.
pub async fn wait_ready(process: &mut Process, addr: SocketAddr, path: &str) {
    tokio::task::block_in_place(|| conduit_metrics_testkit::wait_ready(process, addr, path));
}

/// A path in the repository.
pub fn repo(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The demo's binary (package `audio-gateway`), built now if cargo finds it out of date
/// (a test target built alone would otherwise run a stale demo), once per test process.
pub fn example_binary() -> std::path::PathBuf {
    static BUILT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().unwrap();
            let profile_dir = exe.parent().and_then(std::path::Path::parent).unwrap();
            let status = std::process::Command::new(env!("CARGO"))
                .args([
                    "build",
                    "-q",
                    "-p",
                    "audio-gateway",
                    "--bin",
                    "audio-gateway",
                ])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .unwrap();
            assert!(status.success(), "cannot build the audio-gateway demo");
            profile_dir.join("audio-gateway")
        })
        .clone()
}

/// A running instance of the gateway example: its API and metrics addresses.
pub struct Instance {
    pub api: SocketAddr,
    pub metrics: SocketAddr,
    _process: Process,
}

/// Starts the gateway example on ephemeral ports, without traffic, latencies scaled by
/// 0.02, windowed gauges recomputed every second over a minute, no scrape cache.
pub async fn start_instance() -> Instance {
    start_instance_with(&[], &[]).await
}

/// [`start_instance`] with more arguments and `CONDUIT_METRICS_*` variables.
pub async fn start_instance_with(args: &[&str], env: &[(&str, &str)]) -> Instance {
    let api: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let metrics: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let mut command = std::process::Command::new(example_binary());
    command
        .args([
            "--listen",
            &api.to_string(),
            "--no-traffic",
            "--latency-scale",
            "0.02",
        ])
        .args(args)
        .env("CONDUIT_METRICS_LISTEN", metrics.to_string())
        .env("CONDUIT_METRICS_EXPORT_INTERVAL", "1s")
        .env("CONDUIT_METRICS_METRICS_WINDOW", "1m")
        .env("CONDUIT_METRICS_CACHE_EXPIRATION", "0s")
        .envs(env.iter().copied());
    let mut process = spawn("audio-gateway", &mut command, "(built by cargo)");
    wait_ready(&mut process, api, "/health").await;
    wait_ready(&mut process, metrics, "/health").await;
    Instance {
        api,
        metrics,
        _process: process,
    }
}

/// A sample of the global registry's exposition now (`None` when there is no such
/// series).
pub fn global_sample(series: &str) -> Option<f64> {
    sample(
        &conduit_metrics_runtime::registry::global().render(),
        series,
    )
}

/// A sample of the global registry's exposition now; fails the test when it is absent.
pub fn global_value(series: &str) -> f64 {
    global_sample(series).unwrap_or_else(|| panic!("no series {series}"))
}

/// Calls of one operation, provider and status in the global registry. A pair exports
/// every status from its first call, so a missing series fails the test: it never reads
/// as 0.
pub fn global_requests(operation: &str, provider: &str, status: &str) -> f64 {
    global_value(&requests_series(operation, provider, status))
}

/// A sample of a family that appears per series on first use (request sizes, time to
/// first byte, audio seconds, characters): 0 while the series is absent, but only while
/// the family itself is exported (its `# TYPE` line), so a renamed family fails the test
/// instead of reading 0.
pub fn global_first_use_sample(family: &str, series: &str) -> f64 {
    let text = conduit_metrics_runtime::registry::global().render();
    assert!(
        text.lines()
            .any(|line| line.starts_with(&format!("# TYPE {family} "))),
        "no family {family} in the exposition"
    );
    assert!(
        series.starts_with(family),
        "{series} is not a series of {family}"
    );
    sample(&text, series).unwrap_or(0.0)
}

/// An instant Prometheus query from async code (on a thread that may block).
pub fn prometheus_series(
    prometheus: SocketAddr,
    promql: &str,
) -> Vec<conduit_metrics_testkit::Series> {
    tokio::task::block_in_place(|| conduit_metrics_testkit::prometheus_query(prometheus, promql))
        .unwrap_or_else(|error| panic!("{promql}: {error}"))
}
