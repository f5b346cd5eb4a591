//! The registry: every cell of the audio families, the provider table, and the windowed
//! ratios computed from them. Recording and exposition reach the cells only through the
//! methods here and in `cells`.

use std::collections::BTreeMap;
use std::sync::atomic::{
    AtomicBool, AtomicI32, AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed,
};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::cells::OperationCells;
use super::label_table::Slot;
use super::models::{ModelId, ModelSlot, ModelTable};
use super::providers::{PROVIDERS, ProviderSeries, ProviderTable};
use super::stripes::Striped;
use super::window::{ProviderTotals, Ratios, Totals, Window};
use crate::clock::{Clock, SystemClock, TurnClock, TurnStamp};
use crate::config::MetricsConfig;
use crate::labels::{ExportFailure, Operation, Status};
use crate::sync::lock;

/// Holds everything recorded for the audio families.
///
/// Most programs use the process-wide registry ([`global`]) that `#[audio_metric]` and
/// [`install`](crate::install) use. A separate registry is useful in tests and for
/// rendering into a custom server:
///
/// ```
/// use conduit_metrics_runtime::{MetricsConfig, Operation, Status};
/// use conduit_metrics_runtime::registry::Registry;
///
/// let registry = Registry::new(&MetricsConfig::default());
/// registry.start_call(Operation::Tts, "openai").finish(Status::Success);
/// let text = registry.render();
/// assert!(text.contains(
///     r#"conduit_audio_requests_total{operation="tts",provider="openai",status="success"} 1"#
/// ));
/// ```
#[derive(Debug)]
pub struct Registry {
    providers: ProviderTable,
    models: ModelTable,
    /// Whether calls and turns keep their model (`ModelLabel`); once on, it stays on, so
    /// no series loses its label in the middle of a run.
    model_label: AtomicBool,
    operations: [Striped<OperationCells>; Operation::COUNT],
    resources: Mutex<BTreeMap<String, Arc<AtomicI64>>>,
    window: Mutex<Window>,
    ratios: Mutex<Ratios>,
    clock: Arc<dyn Clock>,
    /// What voice turns are timed with.
    turn_clock: TurnClock,
    /// Whether an exporter (OTLP) runs, so its failures are exported.
    exporting: AtomicBool,
    /// Failed OTLP exports by reason.
    export_failures: [AtomicU64; ExportFailure::COUNT],
    /// All rejected costs, for spacing out the warnings.
    costs_rejected: AtomicU64,
    /// All rejected audio durations, for spacing out the warnings.
    audio_seconds_rejected: AtomicU64,
    audio_seconds_unknown: AtomicU64,
    /// The application's (version, revision), once recorded.
    build: Mutex<Option<(String, String)>>,
    /// Schema of the native buckets, or `NATIVE_OFF`; read at every latency observation.
    native_schema: AtomicI32,
    native_max_buckets: AtomicUsize,
}

/// `native_schema` when native buckets are off.
const NATIVE_OFF: i32 = i32::MIN;

/// What the store needs of a configuration: the bound of the `provider` label and the
/// window of the ratio gauges, nothing else.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StoreBounds {
    max_providers: usize,
    model_label: bool,
    max_models: usize,
    metrics_window: Duration,
    export_interval: Duration,
    /// The schema of native buckets, if on (NativeHistograms and a format that serves
    /// them compiled in).
    native_schema: Option<i8>,
    native_max_buckets: usize,
}

impl StoreBounds {
    /// The bounds `config` sets (MaxProviders, MetricsWindow, ExportInterval).
    pub(crate) fn of(config: &MetricsConfig) -> Self {
        StoreBounds {
            max_providers: config.max_providers(),
            model_label: config.model_label(),
            max_models: config.max_models(),
            metrics_window: config.metrics_window(),
            export_interval: config.export_interval(),
            native_schema: (cfg!(feature = "protobuf") && config.native_histograms())
                .then(|| config.native_histogram_schema()),
            native_max_buckets: config.native_histogram_max_buckets(),
        }
    }

    fn native_schema(self) -> i32 {
        self.native_schema.map_or(NATIVE_OFF, i32::from)
    }

    fn window(self, now: Instant) -> Window {
        Window::new(self.metrics_window, self.export_interval, now)
    }
}

impl Registry {
    /// An empty registry bounded and windowed as `config` says.
    pub fn new(config: &MetricsConfig) -> Self {
        Self::with_bounds(
            StoreBounds::of(config),
            Arc::new(SystemClock),
            TurnClock::Tsc,
        )
    }

    /// An empty registry whose windowed gauges and voice turns follow `clock` (see
    /// [`ManualClock`](crate::clock::ManualClock)).
    pub fn with_clock(config: &MetricsConfig, clock: Arc<dyn Clock>) -> Self {
        let turns = TurnClock::follow(clock.clone());
        Self::with_bounds(StoreBounds::of(config), clock, turns)
    }

    pub(crate) fn with_bounds(
        bounds: StoreBounds,
        clock: Arc<dyn Clock>,
        turn_clock: TurnClock,
    ) -> Self {
        crate::clock::calibrate();
        Registry {
            providers: ProviderTable::new(PROVIDERS, bounds.max_providers),
            models: ModelTable::new(bounds.max_models),
            model_label: AtomicBool::new(bounds.model_label),
            operations: std::array::from_fn(|_| Striped::new()),
            resources: Mutex::new(BTreeMap::new()),
            window: Mutex::new(bounds.window(clock.now())),
            ratios: Mutex::new(Ratios::default()),
            clock,
            turn_clock,
            exporting: AtomicBool::new(false),
            export_failures: std::array::from_fn(|_| AtomicU64::new(0)),
            costs_rejected: AtomicU64::new(0),
            audio_seconds_rejected: AtomicU64::new(0),
            audio_seconds_unknown: AtomicU64::new(0),
            build: Mutex::new(None),
            native_schema: AtomicI32::new(bounds.native_schema()),
            native_max_buckets: AtomicUsize::new(bounds.native_max_buckets),
        }
    }

    /// Applies new bounds (used when `install` configures the global registry after
    /// something was already recorded).
    pub(crate) fn reconfigure(&self, bounds: StoreBounds) {
        self.providers.set_max(bounds.max_providers);
        self.models.set_max(bounds.max_models);
        self.model_label.fetch_or(bounds.model_label, Relaxed);
        // Native buckets already allocated keep their schema; a lower one is reached
        // when they are read, a higher one only by series allocated from now on.
        self.native_schema.store(bounds.native_schema(), Relaxed);
        self.native_max_buckets
            .store(bounds.native_max_buckets, Relaxed);
        // The new window starts from the totals as they are now, not from zero.
        let now = self.clock.now();
        let mut window = bounds.window(now);
        window.advance(now, self.totals());
        *lock(&self.window) = window;
    }

    /// The series of a provider name, resolving it (and folding it) if needed.
    #[inline]
    pub(crate) fn provider(&self, name: &str) -> &ProviderSeries {
        self.series_at(self.providers.resolve(name))
    }

    /// Where a provider name resolves to (adding it, or folding it, if needed).
    #[inline]
    pub(crate) fn resolve(&self, name: &str) -> Slot {
        self.providers.resolve(name)
    }

    /// Whether `slot` currently holds the series of `name` (a call site's cache check).
    #[inline]
    pub(crate) fn holds(&self, slot: Slot, name: &str) -> bool {
        self.providers.holds(slot, name)
    }

    /// The series at a resolved slot.
    #[inline]
    pub(crate) fn series_at(&self, slot: Slot) -> &ProviderSeries {
        self.providers.entry(slot)
    }

    /// Every provider series, `other` first, then in the order providers appeared. A
    /// series' position in this list is stable and indexes the window's ratios.
    pub(crate) fn provider_series(&self) -> Vec<&ProviderSeries> {
        self.providers.all()
    }

    /// Calls whose provider was folded into `other` so far.
    pub(crate) fn folded_calls(&self) -> u64 {
        self.providers.folded()
    }

    /// Whether calls and turns keep their model.
    #[inline]
    pub(crate) fn model_label(&self) -> bool {
        self.model_label.load(Relaxed)
    }

    /// Where a model name resolves to (adding it, or folding it, if needed).
    #[inline]
    pub(crate) fn resolve_model(&self, name: &str) -> ModelSlot {
        self.models.resolve(name)
    }

    /// Whether `slot` currently holds the model `name` (a call site's cache check).
    #[inline]
    pub(crate) fn holds_model(&self, slot: ModelSlot, name: &str) -> bool {
        self.models.holds(slot, name)
    }

    /// The number of a resolved model.
    #[inline]
    pub(crate) fn model_id(&self, slot: ModelSlot) -> ModelId {
        self.models.id(slot)
    }

    /// The number of a model name, or `unknown` while the model label is off.
    #[inline]
    pub(crate) fn model(&self, name: &str) -> ModelId {
        if self.model_label() {
            self.models.id(self.models.resolve(name))
        } else {
            ModelId::UNKNOWN
        }
    }

    /// Every model label value with its number, sorted by label.
    pub(crate) fn model_labels(&self) -> Vec<(&str, ModelId)> {
        self.models.labels()
    }

    /// Calls whose model was folded into `other` so far.
    pub(crate) fn folded_models(&self) -> u64 {
        self.models.folded()
    }

    /// Now, on the clock voice turns are timed with.
    #[inline]
    pub(crate) fn turn_stamp(&self) -> TurnStamp {
        self.turn_clock.stamp()
    }

    /// Nanoseconds between two turn stamps.
    #[inline]
    pub(crate) fn turn_nanos(&self, from: TurnStamp, to: TurnStamp) -> u64 {
        self.turn_clock.nanos(from, to)
    }

    /// The schema latency observations keep native buckets at, if on.
    #[inline]
    pub(crate) fn native_schema(&self) -> Option<i8> {
        i8::try_from(self.native_schema.load(Relaxed)).ok()
    }

    /// Most populated native buckets a series exports.
    pub(crate) fn native_max_buckets(&self) -> usize {
        self.native_max_buckets.load(Relaxed)
    }

    /// The cells of one operation, whatever the provider.
    #[inline]
    pub(crate) fn operation(&self, operation: Operation) -> &Striped<OperationCells> {
        &self.operations[operation.index()]
    }

    /// Marks the registry as exported by an exporter, whose failures are then exported.
    #[cfg_attr(not(feature = "otlp"), allow(dead_code))]
    pub(crate) fn set_exporting(&self) {
        self.exporting.store(true, Relaxed);
    }

    /// Whether an exporter runs.
    pub(crate) fn exporting(&self) -> bool {
        self.exporting.load(Relaxed)
    }

    /// Counts one failed export.
    #[cfg_attr(not(feature = "otlp"), allow(dead_code))]
    pub(crate) fn count_export_failure(&self, reason: ExportFailure) {
        self.export_failures[reason.index()].fetch_add(1, Relaxed);
    }

    /// Failed exports for `reason` so far.
    pub(crate) fn export_failures(&self, reason: ExportFailure) -> u64 {
        self.export_failures[reason.index()].load(Relaxed)
    }

    /// Counts one refused cost process-wide and returns how many were refused so far
    /// (the log is spaced out on it).
    pub(crate) fn count_rejected_cost(&self) -> u64 {
        self.costs_rejected.fetch_add(1, Relaxed) + 1
    }

    /// Counts one refused audio duration process-wide and returns how many were refused
    /// so far (the log is spaced out on it).
    pub(crate) fn count_rejected_audio_seconds(&self) -> u64 {
        self.audio_seconds_rejected.fetch_add(1, Relaxed) + 1
    }

    /// Counts one payload without a readable duration process-wide and returns how many
    /// so far (the log is spaced out on it).
    pub(crate) fn count_unknown_audio_seconds(&self) -> u64 {
        self.audio_seconds_unknown.fetch_add(1, Relaxed) + 1
    }

    /// The held count of a resource name, created at zero on first use.
    pub(crate) fn resource(&self, name: String) -> Arc<AtomicI64> {
        lock(&self.resources).entry(name).or_default().clone()
    }

    /// Every resource name with its held count now, sorted by name.
    pub(crate) fn resources(&self) -> Vec<(String, i64)> {
        lock(&self.resources)
            .iter()
            .map(|(name, count)| (name.clone(), count.load(Relaxed)))
            .collect()
    }

    /// Records the application's build, replacing any recorded before (one build runs).
    pub(crate) fn set_build(&self, version: String, revision: String) {
        *lock(&self.build) = Some((version, revision));
    }

    /// The application's (version, revision), if recorded.
    pub(crate) fn build(&self) -> Option<(String, String)> {
        lock(&self.build).clone()
    }

    /// The ratio gauges as of the last [`tick`](Self::tick).
    pub(crate) fn ratios(&self) -> Ratios {
        lock(&self.ratios).clone()
    }

    /// Closes the current ExportInterval sub-interval of the ratio gauges and recomputes
    /// them. The background task of [`install`](crate::install) calls this every
    /// ExportInterval; call it yourself only on a registry you drive by hand.
    pub fn tick(&self) {
        let now = self.clock.now();
        let totals = self.totals();
        let ratios = lock(&self.window).advance(now, totals);
        *lock(&self.ratios) = ratios;
    }

    fn totals(&self) -> Totals {
        let providers = self
            .providers
            .all()
            .into_iter()
            .map(|series| {
                let (health_passed, health_failed) = series.health_checks();
                let mut totals = ProviderTotals {
                    health_passed,
                    health_failed,
                    ..ProviderTotals::default()
                };
                let calls = Operation::ALL
                    .iter()
                    .flat_map(|&operation| series.calls_by_model(operation));
                for (_, calls) in calls {
                    for &status in Status::ALL {
                        let count = calls.requests(status);
                        if status.is_completed() {
                            totals.completed += count;
                        }
                        if status.is_failure() {
                            totals.failed += count;
                        }
                    }
                }
                totals
            })
            .collect();
        let cache = std::array::from_fn(|index| self.operations[index].lookups());
        Totals { providers, cache }
    }
}

static GLOBAL: OnceLock<Registry> = OnceLock::new();

/// The process-wide registry that `#[audio_metric]`, the free recording functions and
/// [`install`](crate::install) use. Created with the default configuration on first use;
/// `install` applies its `MaxProviders` and window to it.
pub fn global() -> &'static Registry {
    GLOBAL.get_or_init(|| Registry::new(&MetricsConfig::default()))
}
