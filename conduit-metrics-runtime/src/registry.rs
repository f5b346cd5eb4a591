//! The registry: every cell of the audio families, the provider table, and the windowed
//! ratios computed from them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};

use crate::cells::{OperationCells, sum_u64};
use crate::clock::{Clock, SystemClock};
use crate::config::MetricsConfig;
use crate::labels::{Operation, Status};
use crate::providers::{ProviderSeries, ProviderTable, Slot};
use crate::shard::Striped;
use crate::window::{ProviderTotals, Ratios, Totals, Window};

/// Holds everything recorded for the audio families.
///
/// Most programs use the process-wide registry ([`global`](crate::global)) that
/// `#[audio_metric]` and [`install`](crate::install) use. A separate registry is useful in
/// tests and for rendering into a custom server:
///
/// ```
/// use conduit_metrics_runtime::{MetricsConfig, Operation, Registry, Status};
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
    pub(crate) providers: ProviderTable,
    pub(crate) operations: [Striped<OperationCells>; Operation::COUNT],
    pub(crate) resources: Mutex<BTreeMap<String, Arc<AtomicI64>>>,
    window: Mutex<Window>,
    pub(crate) ratios: Mutex<Ratios>,
    clock: Arc<dyn Clock>,
    /// All rejected costs, for spacing out the warnings.
    costs_rejected: AtomicU64,
}

impl Registry {
    /// An empty registry bounded and windowed as `config` says.
    pub fn new(config: &MetricsConfig) -> Self {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// An empty registry whose windowed gauges follow `clock` (see [`ManualClock`](crate::ManualClock)).
    pub fn with_clock(config: &MetricsConfig, clock: Arc<dyn Clock>) -> Self {
        crate::clock::calibrate();
        Registry {
            providers: ProviderTable::new(config.max_providers()),
            operations: std::array::from_fn(|_| Striped::new()),
            resources: Mutex::new(BTreeMap::new()),
            window: Mutex::new(Window::new(
                config.metrics_window(),
                config.export_interval(),
                clock.now(),
            )),
            ratios: Mutex::new(Ratios::default()),
            clock,
            costs_rejected: AtomicU64::new(0),
        }
    }

    /// Applies a new configuration's bound and window (used when `install` configures the
    /// global registry after something was already recorded).
    pub(crate) fn reconfigure(&self, config: &MetricsConfig) {
        self.providers.set_max_providers(config.max_providers());
        // The new window starts from the totals as they are now, not from zero.
        let now = self.clock.now();
        let mut window = Window::new(config.metrics_window(), config.export_interval(), now);
        window.advance(now, self.totals());
        *lock(&self.window) = window;
    }

    /// The series of a provider name, resolving it (and folding it) if needed.
    #[inline]
    pub(crate) fn provider(&self, name: &str) -> &ProviderSeries {
        self.series_at(self.providers.resolve(name))
    }

    #[inline]
    pub(crate) fn series_at(&self, slot: Slot) -> &ProviderSeries {
        self.providers.series(slot)
    }

    #[inline]
    pub(crate) fn operation(&self, operation: Operation) -> &Striped<OperationCells> {
        &self.operations[operation.index()]
    }

    /// Adds to `conduit_audio_cost_dollars{operation}`. Negative, NaN and infinite
    /// amounts are not added: they are counted in `conduit_audio_cost_rejected_total`
    /// and logged (at the 1st, 2nd, 4th, 8th... rejection, so a flood of bad amounts
    /// cannot flood the log). Returns whether the amount was added.
    pub fn record_cost(&self, operation: Operation, dollars: f64) -> bool {
        self.record_cost_in(self.operation(operation).local(), operation, dollars)
    }

    #[inline]
    pub(crate) fn record_cost_in(
        &self,
        cells: &OperationCells,
        operation: Operation,
        dollars: f64,
    ) -> bool {
        if dollars.is_finite() && dollars >= 0.0 {
            cells.add_cost(dollars);
            true
        } else {
            // Counted per stripe; the log uses a process-wide count so a provider that
            // returns NaN on every call logs at the 1st, 2nd, 4th, 8th, ... rejection
            // rather than flooding the log from the hot path.
            cells.cost_rejected.fetch_add(1, Relaxed);
            let rejected = self.costs_rejected.fetch_add(1, Relaxed) + 1;
            if rejected.is_power_of_two() {
                tracing::warn!(
                    operation = operation.as_str(),
                    dollars,
                    rejected_so_far = rejected,
                    "conduit-metrics: rejected a cost that is negative or not finite (see conduit_audio_cost_rejected_total)"
                );
            }
            false
        }
    }

    /// Counts one cache lookup of `operation` as a hit or a miss.
    pub fn record_cache_lookup(&self, operation: Operation, hit: bool) {
        record_lookup_in(self.operation(operation).local(), hit);
    }

    /// Counts one health check of `provider` as passed or failed.
    pub fn record_health_check(&self, provider: &str, healthy: bool) {
        let series = self.provider(provider);
        if healthy {
            series.health_passed.fetch_add(1, Relaxed);
        } else {
            series.health_failed.fetch_add(1, Relaxed);
        }
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
                let mut totals = ProviderTotals {
                    health_passed: series.health_passed.load(Relaxed),
                    health_failed: series.health_failed.load(Relaxed),
                    ..ProviderTotals::default()
                };
                for &operation in Operation::ALL {
                    let Some(calls) = series.calls_if_used(operation) else {
                        continue;
                    };
                    for &status in Status::ALL {
                        let count = sum_u64(calls, |c| &c.requests[status.index()]);
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
        let cache = std::array::from_fn(|index| {
            let cells = &self.operations[index];
            (
                sum_u64(cells, |c| &c.cache_hits),
                sum_u64(cells, |c| &c.cache_misses),
            )
        });
        Totals { providers, cache }
    }

    /// The exposition text of the audio families (Prometheus text format 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        crate::exposition::write_registry(self, &mut out);
        out
    }
}

/// Counts a cache lookup in one stripe of an operation's cells.
#[inline]
pub(crate) fn record_lookup_in(cells: &OperationCells, hit: bool) {
    if hit {
        cells.cache_hits.fetch_add(1, Relaxed);
    } else {
        cells.cache_misses.fetch_add(1, Relaxed);
    }
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it: metrics must
/// keep working after a panic elsewhere.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

static GLOBAL: OnceLock<Registry> = OnceLock::new();

/// The process-wide registry that `#[audio_metric]`, the free recording functions and
/// [`install`](crate::install) use. Created with the default configuration on first use;
/// `install` applies its `MaxProviders` and window to it.
pub fn global() -> &'static Registry {
    GLOBAL.get_or_init(|| Registry::new(&MetricsConfig::default()))
}
