//! Costs, audio seconds, cache lookups and health checks: the counters recorded beside
//! calls, by the macro's `cost`/`audio_seconds`/`cache_hit` arguments or by hand.

use crate::catalogue;
use crate::labels::{Operation, UnknownDuration};
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

/// Whether an amount can be added to a counter: finite and not negative.
#[inline]
fn is_addable(amount: f64) -> bool {
    amount.is_finite() && amount >= 0.0
}

/// Logs a refused amount. `rejected_so_far` is a process-wide count, so a provider that
/// returns NaN on every call logs at the 1st, 2nd, 4th, 8th, ... rejection rather than
/// flooding the log from the hot path.
#[cold]
fn warn_rejected(
    operation: Operation,
    what: &'static str,
    counted_in: &'static str,
    amount: f64,
    rejected_so_far: u64,
) {
    if rejected_so_far.is_power_of_two() {
        tracing::warn!(
            operation = operation.as_str(),
            amount,
            rejected_so_far,
            counted_in,
            "conduit-metrics: rejected {what} that is negative or not finite"
        );
    }
}

/// Adds a cost to one stripe of an operation's cells, or refuses it (counted in
/// `conduit_audio_cost_rejected_total`, and logged).
#[inline]
pub(crate) fn record_cost_in(
    registry: &Registry,
    cells: &OperationCells,
    operation: Operation,
    dollars: f64,
) -> bool {
    if is_addable(dollars) {
        cells.add_cost(dollars);
        return true;
    }
    cells.count_rejected_cost();
    let rejected = registry.count_rejected_cost();
    let counted_in = catalogue::COST_REJECTED_TOTAL.name;
    warn_rejected(operation, "a cost", counted_in, dollars, rejected);
    false
}

/// Adds seconds of audio to one stripe of a call series, or refuses them (counted in
/// `conduit_audio_audio_seconds_rejected_total`, and logged as rejected costs are).
#[inline]
pub(crate) fn record_audio_seconds_in(
    registry: &Registry,
    calls: &CallCells,
    operation_cells: &OperationCells,
    operation: Operation,
    seconds: f64,
) -> bool {
    if is_addable(seconds) {
        calls.add_audio_seconds(seconds);
        return true;
    }
    operation_cells.count_rejected_audio_seconds();
    let rejected = registry.count_rejected_audio_seconds();
    let counted_in = catalogue::AUDIO_SECONDS_REJECTED_TOTAL.name;
    warn_rejected(
        operation,
        "an audio duration",
        counted_in,
        seconds,
        rejected,
    );
    false
}

/// Counts a payload without a readable duration in
/// `conduit_audio_audio_seconds_unknown_total{operation,reason}`, logged (at the 1st, 2nd,
/// 4th... such payload process-wide, as refused amounts are).
pub(crate) fn record_unknown_audio_seconds_in(
    registry: &Registry,
    operation_cells: &OperationCells,
    operation: Operation,
    reason: UnknownDuration,
) {
    operation_cells.count_unknown_audio_seconds(reason);
    let so_far = registry.count_unknown_audio_seconds();
    if so_far.is_power_of_two() {
        warn_unknown(operation, reason, so_far);
    }
}

#[cold]
fn warn_unknown(operation: Operation, reason: UnknownDuration, so_far: u64) {
    tracing::warn!(
        operation = operation.as_str(),
        reason = reason.as_str(),
        so_far,
        counted_in = catalogue::AUDIO_SECONDS_UNKNOWN_TOTAL.name,
        "conduit-metrics: a payload had no readable audio duration; no audio seconds added"
    );
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
