//! The metrics thread: serves the endpoint, and every ExportInterval recomputes the
//! windowed gauges, drains the facade's histograms, runs the probes and pushes.

use std::sync::{Arc, Mutex};

#[cfg(feature = "push-gateway")]
use crate::exposition::ExpositionFormat;
#[cfg(feature = "otlp")]
use crate::exposition::OtlpSource;
use crate::exposition::ScrapeSource;
#[cfg(feature = "otlp")]
use crate::serving::OtlpExporter;
#[cfg(feature = "push-gateway")]
use crate::serving::Pusher;
#[cfg(feature = "http-listener")]
use crate::serving::{Endpoint, Tls, serve};
use crate::serving::{HealthProbe, ProbeSchedule};
use crate::sync::lock;

pub(super) type Probes = Arc<Mutex<Vec<Arc<HealthProbe>>>>;

/// The bound socket of the built-in server and what it answers with.
#[cfg(feature = "http-listener")]
pub(super) struct Listener {
    pub(super) socket: std::net::TcpListener,
    pub(super) address: std::net::SocketAddr,
    pub(super) endpoint: Arc<Endpoint>,
    pub(super) tls: Option<Tls>,
}

/// What the metrics thread does.
pub(super) struct Background {
    pub(super) scrape: Arc<ScrapeSource>,
    #[cfg(feature = "http-listener")]
    pub(super) listener: Option<Listener>,
    #[cfg(feature = "push-gateway")]
    pub(super) pusher: Option<Pusher>,
    #[cfg(feature = "otlp")]
    pub(super) otlp: Option<(OtlpExporter, OtlpSource)>,
    /// How often the OTLP export runs.
    #[cfg(feature = "otlp")]
    pub(super) otlp_interval: std::time::Duration,
    pub(super) probes: Probes,
    /// Which intervals run the probes (`HealthProbeShare`).
    pub(super) probe_schedule: ProbeSchedule,
    pub(super) interval: std::time::Duration,
}

impl Background {
    pub(super) async fn run(
        #[cfg_attr(not(feature = "http-listener"), allow(unused_mut))] mut self,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        #[cfg(feature = "http-listener")]
        if let Some(listener) = self.listener.take() {
            match tokio::net::TcpListener::from_std(listener.socket) {
                Ok(socket) => {
                    tokio::spawn(serve(
                        socket,
                        listener.endpoint,
                        listener.tls,
                        shutdown.clone(),
                    ));
                }
                Err(error) => {
                    let address = listener.address;
                    tracing::error!(%error, %address, "conduit-metrics: cannot serve the endpoint");
                }
            }
        }
        let start = tokio::time::Instant::now() + self.interval;
        let mut ticks = tokio::time::interval_at(start, self.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        #[cfg(feature = "otlp")]
        let mut exports = {
            let interval = self.otlp_interval;
            let mut exports =
                tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
            exports.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            exports
        };
        loop {
            #[cfg(feature = "otlp")]
            tokio::select! {
                _ = ticks.tick() => self.on_tick(),
                _ = exports.tick(), if self.otlp.is_some() => self.on_export(),
                _ = shutdown.changed() => break,
            }
            #[cfg(not(feature = "otlp"))]
            tokio::select! {
                _ = ticks.tick() => self.on_tick(),
                _ = shutdown.changed() => break,
            }
        }
    }

    /// One OTLP export, as a task of its own: its retries delay nothing else.
    #[cfg(feature = "otlp")]
    fn on_export(&self) {
        let Some((exporter, source)) = self.otlp.clone() else {
            return;
        };
        let scrape = self.scrape.clone();
        tokio::spawn(async move {
            let registry = scrape.registry();
            let render = move || scrape.render_otlp(&source);
            if let Ok(request) = tokio::task::spawn_blocking(render).await {
                exporter.export(registry, request).await;
            }
        });
    }

    fn on_tick(&mut self) {
        let registry = self.scrape.registry();
        registry.tick();
        self.scrape.run_upkeep();
        // Probes and pushes run as their own tasks: a slow one delays nothing.
        if self.probe_schedule.next_interval() {
            let due = lock(&self.probes).clone();
            for probe in due {
                tokio::spawn(async move { probe.run(registry).await });
            }
        }
        #[cfg(feature = "push-gateway")]
        if let Some(pusher) = self.pusher.clone() {
            let scrape = self.scrape.clone();
            tokio::spawn(async move {
                let render = move || scrape.render_text(ExpositionFormat::Text);
                let Ok(body) = tokio::task::spawn_blocking(render).await else {
                    return;
                };
                if let Err(error) = pusher.push(body).await {
                    tracing::warn!(%error, "conduit-metrics: push failed; the next ExportInterval retries");
                }
            });
        }
    }
}
