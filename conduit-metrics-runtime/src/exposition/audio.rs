//! The audio families of a [`Registry`], one short function per group of families, in
//! the order a scrape shows them. Adding a family means adding its lines to the group it
//! belongs to; how a line looks is `formatting`'s business.
//!
//! Every family of the catalogue gets its `# HELP` and `# TYPE` lines even before it has
//! series, so a scrape always shows the whole catalogue. Series are sorted by provider
//! label so consecutive scrapes are easy to diff.

use super::formatting::Value;
use super::series::{Models, call_series, turn_series};
use super::writer::{FamilyWriter, HistogramSeries};
use crate::catalogue::{self, Family};
use crate::labels::{
    DisconnectReason, ExportFailure, Operation, Status, TurnOutcome, TurnStage, UnknownDuration,
};
use crate::store::{
    ExemplarSlot, HistogramSnapshot, NativeSnapshot, ProviderSeries, Ratios, Registry,
};

/// Writes the audio families of `registry` to `out` (no `# EOF`: the scrape ends where
/// `scrape` says).
pub(super) fn write_audio_families<W: FamilyWriter>(registry: &Registry, out: &mut W) {
    let families = AudioFamilies::new(registry, out);
    families.write();
}

/// One pass over a registry: what every group reads, taken once.
struct AudioFamilies<'a, W> {
    registry: &'a Registry,
    /// (series, position in the registry's table) sorted by label; positions index the
    /// window ratios.
    providers: Vec<(&'a ProviderSeries, usize)>,
    /// The model label values, when `ModelLabel` is on.
    models: Models<'a>,
    ratios: Ratios,
    out: &'a mut W,
    /// (schema, bucket limit) of native buckets, when on and the writer serves them.
    native: Option<(i8, usize)>,
}

impl<'a, W: FamilyWriter> AudioFamilies<'a, W> {
    fn new(registry: &'a Registry, out: &'a mut W) -> Self {
        let mut providers: Vec<(&ProviderSeries, usize)> =
            registry.provider_series().into_iter().zip(0..).collect();
        providers.sort_by(|a, b| a.0.label().cmp(b.0.label()));
        AudioFamilies {
            registry,
            providers,
            models: registry.model_label().then(|| registry.model_labels()),
            ratios: registry.ratios(),
            native: registry
                .native_schema()
                .filter(|_| out.serves_native())
                .map(|schema| (schema, registry.native_max_buckets())),
            out,
        }
    }

    fn write(mut self) {
        self.requests();
        self.call_histograms();
        self.ratio_gauges();
        self.active();
        self.realtime();
        self.voice_turns();
        self.costs();
        self.streaming_totals();
        self.supporting_counters();
        self.build_info();
        self.export_failures();
    }

    fn header(&mut self, family: &Family) {
        self.out.header(family);
    }

    /// A latency series' native buckets, when the writer serves them and they are on:
    /// read before its classic buckets (see `protobuf`), and empty rather than absent
    /// before the first observation, so the series is native from its first scrape.
    fn native(
        &self,
        read: impl FnOnce(i8, usize) -> Option<NativeSnapshot>,
    ) -> Option<NativeSnapshot> {
        let (schema, max_buckets) = self.native?;
        Some(read(schema, max_buckets).unwrap_or_else(|| NativeSnapshot::empty(schema)))
    }

    /// `requests_total`: every status of every used call series.
    fn requests(&mut self) {
        self.header(&catalogue::REQUESTS_TOTAL);
        for (labels, calls) in call_series(&self.providers, &self.models) {
            for &status in Status::ALL {
                let labels = labels.with("status", status.as_str());
                let count = Value::Int(calls.requests(status));
                let family = &catalogue::REQUESTS_TOTAL;
                self.out.sample(family, labels.as_slice(), count);
            }
        }
    }

    /// Duration of every call, and the request size of calls that gave one.
    fn call_histograms(&mut self) {
        self.header(&catalogue::REQUEST_DURATION_SECONDS);
        for (labels, calls) in call_series(&self.providers, &self.models) {
            let labels = labels.as_slice();
            let family = &catalogue::REQUEST_DURATION_SECONDS;
            let exemplars = calls.duration_exemplars();
            let native = self.native(|schema, max| calls.native_duration(schema, max));
            histogram(
                self.out,
                family,
                labels,
                &calls.duration(),
                exemplars,
                native,
            );
        }
        self.header(&catalogue::REQUEST_SIZE_BYTES);
        for (labels, calls) in call_series(&self.providers, &self.models) {
            let labels = labels.as_slice();
            let snapshot = calls.size();
            if snapshot.count() > 0 {
                let family = &catalogue::REQUEST_SIZE_BYTES;
                histogram(self.out, family, labels, &snapshot, None, None);
            }
        }
    }

    /// The windowed ratio gauges, as of the last tick; a ratio with no events is absent.
    fn ratio_gauges(&mut self) {
        self.header(&catalogue::CACHE_HIT_RATIO);
        for &operation in Operation::ALL {
            if let Some(ratio) = self.ratios.cache_hit_ratio(operation) {
                let labels = [("operation", operation.as_str())];
                let family = &catalogue::CACHE_HIT_RATIO;
                self.out.sample(family, &labels, Value::Float(ratio));
            }
        }
        for family in [
            &catalogue::PROVIDER_ERROR_RATE,
            &catalogue::PROVIDER_UPTIME_RATIO,
        ] {
            self.header(family);
            for (series, position) in &self.providers {
                let ratio = if family == &catalogue::PROVIDER_ERROR_RATE {
                    self.ratios.error_rate(*position)
                } else {
                    self.ratios.uptime(*position)
                };
                if let Some(ratio) = ratio {
                    let labels = [("provider", series.label())];
                    self.out.sample(family, &labels, Value::Float(ratio));
                }
            }
        }
    }

    /// Calls in flight per operation, then the application's own resources.
    fn active(&mut self) {
        let family = &catalogue::ACTIVE_OPERATIONS;
        self.header(family);
        for &operation in Operation::ALL {
            let active = Value::Signed(self.registry.operation(operation).active());
            self.out
                .sample(family, &[("operation", operation.as_str())], active);
        }
        for (resource, count) in self.registry.resources() {
            self.out
                .sample(family, &[("resource", &resource)], Value::Signed(count));
        }
    }

    /// Ended sessions by reason, session length and turn latency.
    fn realtime(&mut self) {
        self.header(&catalogue::REALTIME_SESSIONS_TOTAL);
        for (series, _) in &self.providers {
            let Some(realtime) = series.realtime_if_used() else {
                continue;
            };
            for &reason in DisconnectReason::ALL {
                let labels = [
                    ("provider", series.label()),
                    ("disconnect_reason", reason.as_str()),
                ];
                let count = Value::Int(realtime.sessions(reason));
                self.out
                    .sample(&catalogue::REALTIME_SESSIONS_TOTAL, &labels, count);
            }
        }
        for (family, latency) in [
            (&catalogue::REALTIME_DURATION_SECONDS, false),
            (&catalogue::REALTIME_LATENCY_SECONDS, true),
        ] {
            self.header(family);
            for (series, _) in &self.providers {
                let Some(realtime) = series.realtime_if_used() else {
                    continue;
                };
                let (native, snapshot, exemplars) = if latency {
                    let native = self.native(|schema, max| realtime.native_latency(schema, max));
                    (native, realtime.latency(), realtime.latency_exemplars())
                } else {
                    (None, realtime.duration(), None)
                };
                let labels = [("provider", series.label())];
                histogram(self.out, family, &labels, &snapshot, exemplars, native);
            }
        }
    }

    /// Each stage of the voice turns that had one, and turns by outcome, for the
    /// providers (and models) that had a turn.
    fn voice_turns(&mut self) {
        self.header(&catalogue::TURN_STAGE_SECONDS);
        for (labels, turns) in turn_series(&self.providers, &self.models) {
            for &stage in TurnStage::ALL {
                let snapshot = turns.stage(stage);
                if snapshot.count() == 0 {
                    continue;
                }
                let native = self.native(|schema, max| turns.native_stage(stage, schema, max));
                let labels = labels.with("stage", stage.as_str());
                let exemplars = turns.stage_exemplars(stage);
                let family = &catalogue::TURN_STAGE_SECONDS;
                histogram(
                    self.out,
                    family,
                    labels.as_slice(),
                    &snapshot,
                    exemplars,
                    native,
                );
            }
        }
        self.header(&catalogue::TURNS_TOTAL);
        for (labels, turns) in turn_series(&self.providers, &self.models) {
            let counts: [u64; TurnOutcome::COUNT] =
                std::array::from_fn(|index| turns.turns(TurnOutcome::ALL[index]));
            if counts.iter().all(|&count| count == 0) {
                continue;
            }
            for (&outcome, count) in TurnOutcome::ALL.iter().zip(counts) {
                let labels = labels.with("outcome", outcome.as_str());
                let family = &catalogue::TURNS_TOTAL;
                self.out
                    .sample(family, labels.as_slice(), Value::Int(count));
            }
        }
    }

    /// Dollars per operation.
    fn costs(&mut self) {
        self.header(&catalogue::COST_DOLLARS);
        for &operation in Operation::ALL {
            let dollars = Value::Float(self.registry.operation(operation).cost());
            let labels = [("operation", operation.as_str())];
            self.out.sample(&catalogue::COST_DOLLARS, &labels, dollars);
        }
    }

    /// Time to first byte, audio seconds and characters. They appear per series on first
    /// use: most call sites never stream or count audio seconds, and a series of zeros
    /// would only cost memory.
    fn streaming_totals(&mut self) {
        self.header(&catalogue::TIME_TO_FIRST_BYTE_SECONDS);
        for (labels, calls) in call_series(&self.providers, &self.models) {
            let labels = labels.as_slice();
            let native = self.native(|schema, max| calls.native_first_byte(schema, max));
            let snapshot = calls.first_byte();
            if snapshot.count() > 0 {
                let family = &catalogue::TIME_TO_FIRST_BYTE_SECONDS;
                let exemplars = calls.first_byte_exemplars();
                histogram(self.out, family, labels, &snapshot, exemplars, native);
            }
        }
        self.header(&catalogue::AUDIO_SECONDS_TOTAL);
        for (labels, calls) in call_series(&self.providers, &self.models) {
            let labels = labels.as_slice();
            let seconds = calls.audio_seconds();
            if seconds > 0.0 {
                let family = &catalogue::AUDIO_SECONDS_TOTAL;
                self.out.sample(family, labels, Value::Float(seconds));
            }
        }
        self.header(&catalogue::CHARACTERS_TOTAL);
        for (labels, calls) in call_series(&self.providers, &self.models) {
            let labels = labels.as_slice();
            let characters = calls.characters();
            if characters > 0 {
                let family = &catalogue::CHARACTERS_TOTAL;
                self.out.sample(family, labels, Value::Int(characters));
            }
        }
    }

    /// The counters behind the ratios (cache lookups, health checks) and the counters of
    /// what was folded or refused.
    fn supporting_counters(&mut self) {
        self.header(&catalogue::CACHE_LOOKUPS_TOTAL);
        for &operation in Operation::ALL {
            let (hits, misses) = self.registry.operation(operation).lookups();
            for (result, count) in [("hit", hits), ("miss", misses)] {
                let labels = [("operation", operation.as_str()), ("result", result)];
                let family = &catalogue::CACHE_LOOKUPS_TOTAL;
                self.out.sample(family, &labels, Value::Int(count));
            }
        }
        self.header(&catalogue::HEALTH_CHECKS_TOTAL);
        for (series, _) in &self.providers {
            let (passed, failed) = series.health_checks();
            if passed + failed > 0 {
                for (result, count) in [("pass", passed), ("fail", failed)] {
                    let labels = [("provider", series.label()), ("result", result)];
                    let family = &catalogue::HEALTH_CHECKS_TOTAL;
                    self.out.sample(family, &labels, Value::Int(count));
                }
            }
        }
        self.header(&catalogue::PROVIDER_LABELS_FOLDED_TOTAL);
        let folded = Value::Int(self.registry.folded_calls());
        self.out
            .sample(&catalogue::PROVIDER_LABELS_FOLDED_TOTAL, &[], folded);
        // Only with the model label on, so that off the scrape is the guide's exactly.
        if self.models.is_some() {
            let family = &catalogue::MODEL_LABELS_FOLDED_TOTAL;
            self.header(family);
            let folded = Value::Int(self.registry.folded_models());
            self.out.sample(family, &[], folded);
        }
        for family in [
            &catalogue::COST_REJECTED_TOTAL,
            &catalogue::AUDIO_SECONDS_REJECTED_TOTAL,
        ] {
            self.header(family);
            for &operation in Operation::ALL {
                let cells = self.registry.operation(operation);
                let rejected = if family == &catalogue::COST_REJECTED_TOTAL {
                    cells.rejected_costs()
                } else {
                    cells.rejected_audio_seconds()
                };
                let labels = [("operation", operation.as_str())];
                self.out.sample(family, &labels, Value::Int(rejected));
            }
        }
        self.unknown_audio_seconds();
    }

    /// Payloads without a readable duration: an operation's reasons appear once one of
    /// its payloads had none, so a scrape of a service that never hits one is unchanged.
    fn unknown_audio_seconds(&mut self) {
        let family = &catalogue::AUDIO_SECONDS_UNKNOWN_TOTAL;
        let counts: Vec<_> = Operation::ALL
            .iter()
            .map(|&operation| {
                let counts = self.registry.operation(operation).unknown_audio_seconds();
                (operation, counts)
            })
            .collect();
        if counts
            .iter()
            .all(|(_, counts)| counts.iter().all(|&n| n == 0))
        {
            return;
        }
        self.header(family);
        for (operation, counts) in counts {
            if counts.iter().all(|&n| n == 0) {
                continue;
            }
            for (reason, count) in UnknownDuration::ALL.iter().zip(counts) {
                let labels = [
                    ("operation", operation.as_str()),
                    ("reason", reason.as_str()),
                ];
                self.out.sample(family, &labels, Value::Int(count));
            }
        }
    }

    /// Failed exports by reason, while an exporter runs.
    fn export_failures(&mut self) {
        if !self.registry.exporting() {
            return;
        }
        let family = &catalogue::EXPORT_FAILURES_TOTAL;
        self.header(family);
        for reason in ExportFailure::ALL {
            let labels = [("exporter", "otlp"), ("reason", reason.as_str())];
            let failures = Value::Int(self.registry.export_failures(reason));
            self.out.sample(family, &labels, failures);
        }
    }

    /// The application's build, once it recorded one.
    fn build_info(&mut self) {
        self.header(&catalogue::BUILD_INFO);
        if let Some((version, revision)) = self.registry.build() {
            let labels = [
                ("version", version.as_str()),
                ("revision", revision.as_str()),
            ];
            self.out
                .sample(&catalogue::BUILD_INFO, &labels, Value::Int(1));
        }
    }
}

/// Writes one histogram series.
fn histogram<W: FamilyWriter>(
    out: &mut W,
    family: &Family,
    labels: &[(&str, &str)],
    snapshot: &HistogramSnapshot,
    exemplars: Option<&[ExemplarSlot]>,
    native: Option<NativeSnapshot>,
) {
    let series = HistogramSeries {
        snapshot,
        exemplars,
        native,
    };
    out.histogram(family, labels, series);
}
