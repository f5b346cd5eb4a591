//! Costs, audio seconds, cache lookups and health checks: the counters recorded beside
//! calls, by the macro's `cost`/`audio_seconds`/`cache_hit` arguments or by hand.

use crate::labels::Operation;
use crate::store::{CallCells, OperationCells, Registry, global};

impl Registry {
    /// Adds to `conduit_audio_cost_dollars{operation}`. Negative, NaN and infinite
    /// amounts are not added: they are counted in `conduit_audio_cost_rejected_total`
    /// and logged (at the 1st, 2nd, 4th, 8th... rejection, so a flood of bad amounts
    /// cannot flood the log). Returns whether the amount was added.
    pub fn record_cost(&self, operation: Operation, dollars: f64) -> bool {
        record_cost_in(self, self.operation(operation).local(), operation, dollars)
    }

    /// Counts one cache lookup of `operation` as a hit or a miss.
    pub fn record_cache_lookup(&self, operation: Operation, hit: bool) {
        self.operation(operation).local().count_lookup(hit);
    }

    /// Counts one health check of `provider` as passed or failed.
    pub fn record_health_check(&self, provider: &str, healthy: bool) {
        self.provider(provider).count_health_check(healthy);
    }
}

/// Adds a cost to one stripe of an operation's cells, or refuses it.
#[inline]
pub(crate) fn record_cost_in(
    registry: &Registry,
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
        cells.count_rejected_cost();
        let rejected = registry.count_rejected_cost();
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

/// Adds seconds of audio to one stripe of a call series, or refuses them: negative, NaN
/// and infinite durations are counted in `conduit_audio_audio_seconds_rejected_total`
/// and logged as rejected costs are.
#[inline]
pub(crate) fn record_audio_seconds_in(
    registry: &Registry,
    calls: &CallCells,
    operation_cells: &OperationCells,
    operation: Operation,
    seconds: f64,
) -> bool {
    if seconds.is_finite() && seconds >= 0.0 {
        calls.add_audio_seconds(seconds);
        true
    } else {
        operation_cells.count_rejected_audio_seconds();
        let rejected = registry.count_rejected_audio_seconds();
        if rejected.is_power_of_two() {
            tracing::warn!(
                operation = operation.as_str(),
                seconds,
                rejected_so_far = rejected,
                "conduit-metrics: rejected an audio duration that is negative or not finite (see conduit_audio_audio_seconds_rejected_total)"
            );
        }
        false
    }
}

/// Adds to `conduit_audio_cost_dollars{operation}` on the global registry; see
/// [`Registry::record_cost`].
pub fn record_cost(operation: Operation, dollars: f64) -> bool {
    global().record_cost(operation, dollars)
}

/// Counts a cache lookup on the global registry; see [`Registry::record_cache_lookup`].
pub fn record_cache_lookup(operation: Operation, hit: bool) {
    global().record_cache_lookup(operation, hit)
}

/// Counts a health check on the global registry; see [`Registry::record_health_check`].
pub fn record_health_check(provider: &str, healthy: bool) {
    global().record_health_check(provider, healthy)
}
