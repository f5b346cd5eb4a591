//! The facade's metrics (what `metrics-exporter-prometheus` renders) appended after the
//! audio families, so that a name collision never breaks a scrape.
//!
//! Prometheus rejects a whole scrape when a family appears twice or two families claim
//! the same series name: one `metrics::counter!("conduit_audio_requests_total")` in an
//! application would cost every family. So a facade family is left out when a name it
//! claims (its own, or a series name such as `x_bucket`) is taken by an audio family, or
//! by another facade family (the same name recorded as two types). Each left-out name is
//! logged once, and `conduit_audio_facade_series_dropped_total` counts the series.
//!
//! [`FacadeSource`] is what a scrape reads the facade from: the recorder's handle, and
//! the process collector run just before each render.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use metrics_exporter_prometheus::PrometheusHandle;

use super::facade_text::{FacadeFamily, implied_series, split_families};
use super::formatting::Value;
use super::writer::FamilyWriter;
use crate::catalogue::{self, Family, FamilyType};
use crate::sync::lock;

/// Names warned about at most, so a flood of colliding names cannot grow memory.
const MAX_WARNED_NAMES: usize = 1024;

/// The facade's side of a scrape, when our recorder serves it: rendered after the audio
/// families, less colliding families, with the process metrics collected just before.
pub(crate) struct FacadeSource {
    prometheus: PrometheusHandle,
    #[cfg(feature = "process-metrics")]
    process: metrics_process::Collector,
    filter: FacadeFilter,
}

impl FacadeSource {
    /// Serves what `prometheus`'s recorder records (and, with `process-metrics`, the
    /// process metrics, described to it now).
    pub(crate) fn new(prometheus: PrometheusHandle) -> Self {
        #[cfg(feature = "process-metrics")]
        let process = metrics_process::Collector::default();
        #[cfg(feature = "process-metrics")]
        process.describe();
        FacadeSource {
            prometheus,
            #[cfg(feature = "process-metrics")]
            process,
            filter: FacadeFilter::default(),
        }
    }

    /// Writes the facade's families to `out`.
    pub(super) fn write_into<W: FamilyWriter>(&self, out: &mut W) {
        #[cfg(feature = "process-metrics")]
        self.process.collect();
        self.filter.append(&self.prometheus.render(), out);
    }

    /// Drains the facade's buffered histogram samples.
    pub(super) fn run_upkeep(&self) {
        self.prometheus.run_upkeep();
    }
}

/// Appends facade exposition text, leaving out colliding families.
#[derive(Debug, Default)]
pub(super) struct FacadeFilter {
    dropped: AtomicU64,
    warned: Mutex<BTreeSet<String>>,
}

impl FacadeFilter {
    /// Writes `facade` (text format 0.0.4, as metrics-exporter-prometheus renders it) to
    /// `out`: first the dropped-series counter, then every facade family whose names
    /// collide with nothing.
    pub(super) fn append<W: FamilyWriter>(&self, facade: &str, out: &mut W) {
        let families = split_families(facade);
        let reserved = audio_names();
        let claims: Vec<BTreeSet<String>> = families.iter().map(FacadeFamily::claims).collect();
        let mut owners: BTreeMap<&str, usize> = BTreeMap::new();
        for names in &claims {
            for name in names {
                *owners.entry(name).or_default() += 1;
            }
        }
        let mut kept = Vec::new();
        let mut dropped_series = 0u64;
        for (family, names) in families.iter().zip(&claims) {
            let taken_by_audio = names.iter().find_map(|name| reserved.get(name.as_str()));
            let shared = names.iter().any(|name| owners[name.as_str()] > 1);
            match (taken_by_audio, shared) {
                (None, false) => kept.push(family),
                (audio, _) => {
                    dropped_series += family.samples().count() as u64;
                    let reason = match audio {
                        Some(audio) => format!("the name is taken by the audio family {audio}"),
                        None => {
                            "another facade metric has the name with a different type".to_owned()
                        }
                    };
                    self.warn_once(family.name, family.kind, &reason);
                }
            }
        }
        let dropped = self.dropped.fetch_add(dropped_series, Relaxed) + dropped_series;
        let family = &catalogue::FACADE_SERIES_DROPPED_TOTAL;
        out.header(family);
        out.sample(family, &[], Value::Int(dropped));
        for family in kept {
            out.facade_family(family);
        }
    }

    fn warn_once(&self, name: &str, kind: &str, reason: &str) {
        let mut warned = lock(&self.warned);
        if warned.len() < MAX_WARNED_NAMES && warned.insert(name.to_owned()) {
            tracing::warn!(
                metric = name,
                kind,
                "conduit-metrics: left the facade metric `{name}` ({kind}) out of the exposition: {reason}; rename it (see conduit_audio_facade_series_dropped_total)"
            );
        }
    }
}

/// Every name the audio families claim, with the family that claims it: built once, not
/// at every render.
fn audio_names() -> &'static BTreeMap<String, &'static str> {
    static NAMES: std::sync::OnceLock<BTreeMap<String, &'static str>> = std::sync::OnceLock::new();
    NAMES.get_or_init(build_audio_names)
}

fn build_audio_names() -> BTreeMap<String, &'static str> {
    let mut names = BTreeMap::new();
    for family in &catalogue::ALL_FAMILIES {
        names.insert(family.name.to_owned(), family.name);
        for series in implied_series(family.name, kind_word(family)) {
            names.insert(series, family.name);
        }
    }
    names
}

fn kind_word(family: &Family) -> &'static str {
    match family.kind {
        FamilyType::Histogram => "histogram",
        FamilyType::Counter | FamilyType::Gauge => "",
    }
}

#[cfg(test)]
mod tests {
    use super::super::format::ExpositionFormat;
    use super::super::writer::TextWriter;
    use super::*;

    fn text_of(filter: &FacadeFilter, facade: &str) -> String {
        let mut out = TextWriter::new(ExpositionFormat::Text);
        filter.append(facade, &mut out);
        out.into_string()
    }

    const FACADE: &str = "\
# TYPE conduit_audio_requests_total counter
conduit_audio_requests_total{operation=\"tts\"} 1
conduit_audio_requests_total{operation=\"stt\"} 4

# HELP app_jobs_total Jobs.
# TYPE app_jobs_total counter
app_jobs_total{kind=\"a\"} 2

# TYPE same counter
same 1

# TYPE same gauge
same 3

# TYPE lat_seconds histogram
lat_seconds_bucket{le=\"1\"} 1
lat_seconds_bucket{le=\"+Inf\"} 1
lat_seconds_sum 0.5
lat_seconds_count 1

# TYPE lat_seconds_count gauge
lat_seconds_count 7

# TYPE conduit_audio_request_duration_seconds_count gauge
conduit_audio_request_duration_seconds_count 2
";

    #[test]
    fn colliding_families_are_left_out_and_counted() {
        let filter = FacadeFilter::default();
        let out = text_of(&filter, FACADE);
        // Kept: the families that collide with nothing.
        assert!(out.contains("# HELP app_jobs_total Jobs.\n# TYPE app_jobs_total counter\napp_jobs_total{kind=\"a\"} 2\n"));
        // Left out: an audio family's name, a name recorded as two types (both), a
        // histogram's series name claimed by a gauge (both), an audio series name.
        for gone in [
            "conduit_audio_requests_total{",
            "# TYPE same",
            "lat_seconds",
            "conduit_audio_request_duration_seconds_count",
        ] {
            assert!(!out.contains(gone), "{gone} in\n{out}");
        }
        // 2 + 1 + 1 + 4 + 1 + 1 series.
        assert!(out.starts_with("# HELP conduit_audio_facade_series_dropped_total "));
        assert!(
            out.contains("\nconduit_audio_facade_series_dropped_total 10\n"),
            "{out}"
        );
        // Added at each render.
        let again = text_of(&filter, FACADE);
        assert!(again.contains("\nconduit_audio_facade_series_dropped_total 20\n"));
        // Each name is warned about once.
        assert_eq!(lock(&filter.warned).len(), 5);
    }

    #[test]
    fn families_split_at_help_and_type_lines() {
        let families = split_families(FACADE);
        let names: Vec<_> = families.iter().map(|f| (f.name, f.kind)).collect();
        assert_eq!(
            names,
            [
                ("conduit_audio_requests_total", "counter"),
                ("app_jobs_total", "counter"),
                ("same", "counter"),
                ("same", "gauge"),
                ("lat_seconds", "histogram"),
                ("lat_seconds_count", "gauge"),
                ("conduit_audio_request_duration_seconds_count", "gauge"),
            ]
        );
        assert_eq!(families[4].samples().count(), 4);
    }

    #[test]
    fn nothing_is_dropped_from_a_clean_facade() {
        let filter = FacadeFilter::default();
        let out = text_of(&filter, "# TYPE app_up gauge\napp_up 1\n");
        assert!(out.contains("\nconduit_audio_facade_series_dropped_total 0\n"));
        assert!(out.ends_with("# TYPE app_up gauge\napp_up 1\n"));
    }
}
