//! The metrics thread: serves the endpoint, and every ExportInterval recomputes the
//! windowed gauges, drains the facade's histograms, runs the probes and pushes.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use metrics_exporter_prometheus::PrometheusHandle;

use crate::exposition::FacadeFilter;
use crate::serving::{Endpoint, HealthProbe, Pusher, serve};
use crate::store::Registry;
use crate::sync::lock;

pub(super) type Probes = Arc<Mutex<Vec<Arc<HealthProbe>>>>;

/// What the metrics thread does.
pub(super) struct Background {
    pub(super) renderer: Arc<Renderer>,
    pub(super) endpoint: Arc<Endpoint>,
    pub(super) pusher: Option<Pusher>,
    pub(super) probes: Probes,
    pub(super) interval: std::time::Duration,
}

impl Background {
    pub(super) async fn run(
        self,
        listener: Option<(std::net::TcpListener, SocketAddr)>,
        tls: Option<tokio_rustls::TlsAcceptor>,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        if let Some((listener, address)) = listener {
            match tokio::net::TcpListener::from_std(listener) {
                Ok(listener) => {
                    tokio::spawn(serve(
                        listener,
                        self.endpoint.clone(),
                        tls,
                        shutdown.clone(),
                    ));
                }
                Err(error) => {
                    tracing::error!(%error, %address, "conduit-metrics: cannot serve the endpoint");
                }
            }
        }
        let start = tokio::time::Instant::now() + self.interval;
        let mut ticks = tokio::time::interval_at(start, self.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => self.on_tick(),
                _ = shutdown.changed() => break,
            }
        }
    }

    fn on_tick(&self) {
        let registry = self.renderer.registry;
        registry.tick();
        self.renderer.run_upkeep();
        // Probes and pushes run as their own tasks: a slow one delays nothing.
        let due = lock(&self.probes).clone();
        for probe in due {
            tokio::spawn(async move { probe.run(registry).await });
        }
        if let Some(pusher) = self.pusher.clone() {
            let renderer = self.renderer.clone();
            tokio::task::spawn_blocking(move || {
                if let Err(error) = pusher.push(renderer.render().as_bytes()) {
                    tracing::warn!(%error, "conduit-metrics: push failed; the next ExportInterval retries");
                }
            });
        }
    }
}

/// Renders the audio families followed, when our recorder serves the facade, by
/// everything recorded through it: process CPU, memory, threads and file descriptors
/// (`metrics-process`), and the application's own metrics, less any family whose name
/// would collide.
pub(super) struct Renderer {
    pub(super) registry: &'static Registry,
    pub(super) prometheus: Option<PrometheusHandle>,
    pub(super) process: Option<metrics_process::Collector>,
    pub(super) facade_filter: FacadeFilter,
}

impl Renderer {
    pub(super) fn render(&self) -> String {
        if let Some(process) = &self.process {
            process.collect();
        }
        let mut text = self.registry.render();
        if let Some(prometheus) = &self.prometheus {
            self.facade_filter.append(&prometheus.render(), &mut text);
        }
        text
    }

    /// Drains the facade's buffered histogram samples.
    pub(super) fn run_upkeep(&self) {
        if let Some(prometheus) = &self.prometheus {
            prometheus.run_upkeep();
        }
    }
}
