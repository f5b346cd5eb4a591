//! The audio gateway demo: `cargo run --release -p audio-gateway`.
//!
//! An OpenAI-style audio API routed to simulated providers, instrumented with
//! conduit-metrics, with a built-in traffic generator so `/metrics` fills up at once.
//!
//! Options: `--listen ADDR` (API, default 127.0.0.1:8080), `--rate N` (generated
//! requests a second, default 5), `--no-traffic`, `--latency-scale F` (default 1),
//! `--config FILE` (metrics configuration: appsettings.json or TOML; the
//! `CONDUIT_METRICS_*` environment variables apply on top), `--admin` (the outage API),
//! `--no-random-failures` (providers fail only when told to: by a request's
//! `X-Simulate-Failure` or an outage). Ctrl-C stops it gracefully.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use audio_gateway::{self as gateway, GatewayOptions};
use conduit_metrics_runtime::MetricsConfig;

struct Args {
    listen: SocketAddr,
    rate: f64,
    traffic: bool,
    latency_scale: f64,
    config: Option<String>,
    admin: bool,
    random_failures: bool,
}

const USAGE: &str = "usage: audio-gateway [--listen ADDR] [--rate N] [--no-traffic] [--latency-scale F] [--config FILE] [--admin] [--no-random-failures]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
        rate: 5.0,
        traffic: true,
        latency_scale: 1.0,
        config: None,
        admin: false,
        random_failures: true,
    };
    let mut words = std::env::args().skip(1);
    while let Some(word) = words.next() {
        let mut value = |name: &str| {
            words
                .next()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match word.as_str() {
            "--listen" => {
                args.listen = value("--listen")?
                    .parse()
                    .map_err(|_| "--listen expects IP:port, e.g. 127.0.0.1:8080".to_owned())?
            }
            "--rate" => {
                args.rate = value("--rate")?
                    .parse()
                    .ok()
                    .filter(|r: &f64| *r > 0.0 && r.is_finite())
                    .ok_or("--rate expects a positive number of requests a second")?
            }
            "--no-traffic" => args.traffic = false,
            "--latency-scale" => {
                args.latency_scale = value("--latency-scale")?
                    .parse()
                    .ok()
                    .filter(|s: &f64| *s >= 0.0 && s.is_finite())
                    .ok_or("--latency-scale expects a number ≥ 0")?
            }
            "--config" => args.config = Some(value("--config")?),
            "--admin" => args.admin = true,
            "--no-random-failures" => args.random_failures = false,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("audio-gateway: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let args = parse_args()?;
    let config = match &args.config {
        Some(path) => MetricsConfig::from_file(path).and_then(MetricsConfig::with_env_overrides),
        // The demo's providers serve two models each, so it shows the `model` label
        // (`CONDUIT_METRICS_MODEL_LABEL=false` turns it off).
        None => MetricsConfig::builder()
            .model_label(true)
            .build()
            .and_then(MetricsConfig::with_env_overrides),
    }
    .map_err(|e| e.to_string())?;
    let metrics = config.install().map_err(|e| e.to_string())?;
    // The demo's version on the dashboard's deploy annotation.
    conduit_metrics_runtime::build_info!();
    let running = gateway::start(GatewayOptions {
        listen: args.listen,
        latency_scale: args.latency_scale,
        admin: args.admin,
        random_failures: args.random_failures,
        ..GatewayOptions::default()
    })
    .await
    .map_err(|e| format!("cannot listen on {} (--listen): {e}", args.listen))?;
    running.gateway.register_health_probes(&metrics);

    let (stop_traffic, traffic_stopped) = tokio::sync::oneshot::channel::<()>();
    let traffic = args.traffic.then(|| {
        tokio::spawn(gateway::traffic::run(running.addr, args.rate, async move {
            let _ = traffic_stopped.await;
        }))
    });

    print_banner(&running.addr, &metrics, args.traffic.then_some(args.rate));

    wait_for_stop_signal().await;
    println!("\nshutting down: finishing requests in flight, then a final metrics flush");
    let _ = stop_traffic.send(());
    if let Some(traffic) = traffic {
        let _ = tokio::time::timeout(Duration::from_secs(5), traffic).await;
    }
    running.shutdown().await.map_err(|e| e.to_string())?;
    metrics
        .shutdown()
        .map_err(|e| format!("final metrics push failed: {e}"))?;
    println!("bye");
    Ok(())
}

/// Ctrl-C, or SIGTERM (how service managers and `kill` stop a process).
async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn print_banner(
    api: &SocketAddr,
    metrics: &conduit_metrics_runtime::MetricsHandle,
    rate: Option<f64>,
) {
    let scheme = if metrics.config().tls_files().is_some() {
        "https"
    } else {
        "http"
    };
    let metrics_url = metrics
        .local_addr()
        .map(|addr| format!("{scheme}://{addr}{}", metrics.config().path()))
        .unwrap_or_else(|| "(no listener: Listen = none)".to_owned());
    let traffic = match rate {
        Some(rate) => {
            format!("on, about {rate} requests/s (--no-traffic turns it off, --rate N changes it)")
        }
        None => "off".to_owned(),
    };
    println!(
        r#"
conduit-metrics audio gateway
  API        http://{api}
               POST /v1/audio/transcriptions   POST /v1/audio/translations
               POST /v1/audio/speech           GET  /v1/realtime (WebSocket)
  metrics    {metrics_url}
  traffic    {traffic}

  try:   curl -s {metrics_url} | grep conduit_audio_requests_total
  Prometheus: prometheus --config.file=docs/prometheus/prometheus.yml
              (scrapes this gateway at {metrics_addr}; alert rules in docs/prometheus/audio-alerts.yml)
  Grafana:    Dashboards -> Import -> docs/grafana-dashboards/audio-metrics.json
  Ctrl-C stops it gracefully (requests in flight finish, metrics are flushed).
"#,
        metrics_addr = metrics
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default(),
    );
}
