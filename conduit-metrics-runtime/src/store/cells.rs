//! The atomic cells behind every exported series: counters, gauges and fixed-bucket
//! histograms. Values are kept as integers in the finest unit (nanoseconds, bytes) so
//! each observation is one `fetch_add` per cell and sums never lose precision.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use super::exemplars::ExemplarSlot;
#[cfg(feature = "opentelemetry")]
use super::exemplars::{Exemplar, wall_clock_seconds};
use super::native::{ClassicBounds, NativeBuckets, NativeCell, observe_native};
use super::native_snapshot::{NativeSnapshot, read_native};
use super::stripes::Striped;
use crate::catalogue;
use crate::labels::{DisconnectReason, Status};
#[cfg(feature = "opentelemetry")]
use crate::trace::TraceRef;

/// A histogram with fixed bucket bounds in integer units. `B` is the number of finite
/// bounds plus one overflow (`+Inf`) cell; counts are kept per bucket (not cumulative) so
/// one observation touches one bucket cell and the sum.
#[derive(Debug)]
struct HistogramCells<const B: usize> {
    buckets: [AtomicU64; B],
    sum: AtomicU64,
}

impl<const B: usize> Default for HistogramCells<B> {
    fn default() -> Self {
        HistogramCells {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum: AtomicU64::new(0),
        }
    }
}

impl<const B: usize> HistogramCells<B> {
    /// Records `value`; `bounds` has `B - 1` increasing entries in the same unit.
    #[inline]
    fn observe(&self, bounds: &[u64; B], value: u64) {
        self.buckets[bucket_of(bounds, value)].fetch_add(1, Relaxed);
        self.sum.fetch_add(value, Relaxed);
    }

    /// Records a latency `nanos`: in `native`'s buckets when on (they count for the
    /// classic buckets too, see `native`), else in the classic cells; the sum is kept
    /// here either way.
    #[inline]
    fn observe_latency(
        &self,
        bounds: &[u64; B],
        native: (&NativeCell, &'static ClassicBounds, Option<i8>),
        nanos: u64,
    ) {
        match native {
            (cell, classic, Some(schema)) => {
                observe_native(cell, schema, classic, nanos);
                self.sum.fetch_add(nanos, Relaxed);
            }
            (_, _, None) => self.observe(bounds, nanos),
        }
    }
}

/// The bucket `value` lands in. Prometheus buckets are inclusive (`le`), so a value equal
/// to a bound lands in it.
#[inline]
fn bucket_of<const B: usize>(bounds: &[u64; B], value: u64) -> usize {
    // bounds[B - 1] is u64::MAX (the +Inf cell), so some bucket always matches.
    bounds.partition_point(|&bound| bound < value).min(B - 1)
}

/// The finite bounds of `bounds` (all but the `u64::MAX` of `+Inf`).
const fn finite(bounds: &'static [u64]) -> &'static [u64] {
    match bounds.split_last() {
        Some((_, finite)) => finite,
        None => bounds,
    }
}

/// A point-in-time read of a striped histogram.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HistogramSnapshot {
    /// Per-bucket (not cumulative) counts, overflow last.
    buckets: Vec<u64>,
    /// Sum in the histogram's integer unit.
    sum: u64,
    /// Integer units per exported unit (nanoseconds per second, or 1 for bytes).
    scale: f64,
}

impl HistogramSnapshot {
    /// Observations in all buckets.
    pub(crate) fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// Per-bucket (not cumulative) counts in bound order, `+Inf` last.
    pub(crate) fn buckets(&self) -> &[u64] {
        &self.buckets
    }

    /// The sum of the observations in the exported unit (seconds or bytes).
    pub(crate) fn sum(&self) -> f64 {
        self.sum as f64 / self.scale
    }

    fn read<'a, const B: usize>(
        stripes: impl Iterator<Item = &'a HistogramCells<B>>,
        scale: f64,
    ) -> Self {
        Self::read_with_native(stripes.map(|cells| (cells, None)), scale)
    }

    /// The classic cells of each stripe plus what its native buckets counted.
    fn read_with_native<'a, const B: usize>(
        stripes: impl Iterator<Item = (&'a HistogramCells<B>, Option<&'a NativeBuckets>)>,
        scale: f64,
    ) -> Self {
        let mut snapshot = HistogramSnapshot {
            buckets: vec![0; B],
            sum: 0,
            scale,
        };
        for (cells, native) in stripes {
            for (total, cell) in snapshot.buckets.iter_mut().zip(&cells.buckets) {
                *total += cell.load(Relaxed);
            }
            if let Some(native) = native {
                native.add_classic(&mut snapshot.buckets);
            }
            snapshot.sum = snapshot.sum.wrapping_add(cells.sum.load(Relaxed));
        }
        snapshot
    }
}

/// Converts bucket bounds in seconds (or bytes, with `scale` 1) to integer units with a
/// final `u64::MAX` overflow bound.
const fn integer_bounds<const N: usize, const B: usize>(bounds: [f64; N], scale: f64) -> [u64; B] {
    assert!(B == N + 1);
    let mut out = [u64::MAX; B];
    let mut i = 0;
    while i < N {
        out[i] = (bounds[i] * scale) as u64;
        i += 1;
    }
    out
}

const NANOS_PER_SECOND: f64 = 1e9;

/// Buckets of the request duration histogram (9 bounds and +Inf).
const DURATION_CELLS: usize = 10;
/// Buckets of the request size histogram (5 bounds and +Inf).
const SIZE_CELLS: usize = 6;
/// Buckets of the realtime session duration histogram (10 bounds and +Inf).
const SESSION_CELLS: usize = 11;
/// Buckets of the realtime latency histogram (9 bounds and +Inf).
const LATENCY_CELLS: usize = 10;
/// Buckets of the time-to-first-byte histogram (9 bounds and +Inf).
const FIRST_BYTE_CELLS: usize = 10;

const DURATION_BOUNDS_NS: [u64; DURATION_CELLS] =
    integer_bounds(catalogue::REQUEST_DURATION_BUCKETS, NANOS_PER_SECOND);
const SIZE_BOUNDS: [u64; SIZE_CELLS] = integer_bounds(catalogue::REQUEST_SIZE_BUCKETS, 1.0);
const SESSION_BOUNDS_NS: [u64; SESSION_CELLS] =
    integer_bounds(catalogue::REALTIME_DURATION_BUCKETS, NANOS_PER_SECOND);
const LATENCY_BOUNDS_NS: [u64; LATENCY_CELLS] =
    integer_bounds(catalogue::REALTIME_LATENCY_BUCKETS, NANOS_PER_SECOND);
const FIRST_BYTE_BOUNDS_NS: [u64; FIRST_BYTE_CELLS] =
    integer_bounds(catalogue::TIME_TO_FIRST_BYTE_BUCKETS, NANOS_PER_SECOND);

/// The finite classic bounds of the latency histograms, where their native buckets split.
static DURATION_CLASSIC: ClassicBounds = ClassicBounds::new(finite(&DURATION_BOUNDS_NS));
static LATENCY_CLASSIC: ClassicBounds = ClassicBounds::new(finite(&LATENCY_BOUNDS_NS));
static FIRST_BYTE_CLASSIC: ClassicBounds = ClassicBounds::new(finite(&FIRST_BYTE_BOUNDS_NS));

/// Audio seconds are kept in microseconds: exact sums of chunk durations (which are
/// whole samples, far coarser than a nanosecond) and 584,000 years before a stripe's
/// cell wraps.
const MICROS_PER_SECOND: f64 = 1e6;

/// What one stripe holds for one (operation, provider) pair.
#[derive(Debug, Default)]
pub(crate) struct CallCells {
    requests: [AtomicU64; Status::COUNT],
    duration: HistogramCells<DURATION_CELLS>,
    size: HistogramCells<SIZE_CELLS>,
    first_byte: HistogramCells<FIRST_BYTE_CELLS>,
    audio_micros: AtomicU64,
    characters: AtomicU64,
    native_duration: NativeCell,
    native_first_byte: NativeCell,
}

impl CallCells {
    /// Counts one call that ended with `status`.
    #[inline]
    pub(crate) fn count(&self, status: Status) {
        self.requests[status.index()].fetch_add(1, Relaxed);
    }

    /// Observes a call's duration (in native buckets at `native`'s schema, if on).
    #[inline]
    pub(crate) fn observe_duration(&self, nanos: u64, native: Option<i8>) {
        let native = (&self.native_duration, &DURATION_CLASSIC, native);
        self.duration
            .observe_latency(&DURATION_BOUNDS_NS, native, nanos);
    }

    /// Observes a call's audio size.
    #[inline]
    pub(crate) fn observe_size(&self, bytes: u64) {
        self.size.observe(&SIZE_BOUNDS, bytes);
    }

    /// Observes the time from a streamed call's start to its first item (in native
    /// buckets, if on).
    #[inline]
    pub(crate) fn observe_first_byte(&self, nanos: u64, native: Option<i8>) {
        let native = (&self.native_first_byte, &FIRST_BYTE_CLASSIC, native);
        self.first_byte
            .observe_latency(&FIRST_BYTE_BOUNDS_NS, native, nanos);
    }

    /// Adds seconds of audio (already checked to be finite and not negative).
    #[inline]
    pub(crate) fn add_audio_seconds(&self, seconds: f64) {
        // `as` saturates, so an absurdly large value cannot wrap the cell.
        let micros = (seconds * MICROS_PER_SECOND).round() as u64;
        self.audio_micros.fetch_add(micros, Relaxed);
    }

    /// Adds characters sent to the call.
    #[inline]
    pub(crate) fn add_characters(&self, characters: u64) {
        self.characters.fetch_add(characters, Relaxed);
    }
}

impl Striped<CallCells> {
    /// Calls that ended with `status`, over all stripes.
    pub(crate) fn requests(&self, status: Status) -> u64 {
        sum_u64(self, |c| &c.requests[status.index()])
    }

    /// The duration histogram, in seconds.
    pub(crate) fn duration(&self) -> HistogramSnapshot {
        let stripes = self
            .iter()
            .map(|c| (&c.duration, c.native_duration.get().map(|b| &**b)));
        HistogramSnapshot::read_with_native(stripes, NANOS_PER_SECOND)
    }

    /// The size histogram, in bytes.
    pub(crate) fn size(&self) -> HistogramSnapshot {
        HistogramSnapshot::read(self.iter().map(|c| &c.size), 1.0)
    }

    /// The time-to-first-byte histogram, in seconds.
    pub(crate) fn first_byte(&self) -> HistogramSnapshot {
        let stripes = self
            .iter()
            .map(|c| (&c.first_byte, c.native_first_byte.get().map(|b| &**b)));
        HistogramSnapshot::read_with_native(stripes, NANOS_PER_SECOND)
    }

    /// The duration histogram's native buckets, if any were recorded.
    pub(crate) fn native_duration(&self, schema: i8, max: usize) -> Option<NativeSnapshot> {
        read_native(self, |c: &CallCells| &c.native_duration, schema, max)
    }

    /// The time-to-first-byte histogram's native buckets, if any were recorded.
    pub(crate) fn native_first_byte(&self, schema: i8, max: usize) -> Option<NativeSnapshot> {
        read_native(self, |c: &CallCells| &c.native_first_byte, schema, max)
    }

    /// Keeps `exemplar` as the latest traced observation of a duration bucket.
    #[cfg(feature = "opentelemetry")]
    #[cold]
    pub(crate) fn record_duration_exemplar(&self, trace: TraceRef, nanos: u64) {
        let bucket = bucket_of(&DURATION_BOUNDS_NS, nanos);
        self.exemplar_slots(DURATION_CELLS + FIRST_BYTE_CELLS)[bucket]
            .write(exemplar(trace, nanos));
    }

    /// Keeps `exemplar` as the latest traced observation of a first-byte bucket.
    #[cfg(feature = "opentelemetry")]
    #[cold]
    pub(crate) fn record_first_byte_exemplar(&self, trace: TraceRef, nanos: u64) {
        let bucket = bucket_of(&FIRST_BYTE_BOUNDS_NS, nanos);
        self.exemplar_slots(DURATION_CELLS + FIRST_BYTE_CELLS)[DURATION_CELLS + bucket]
            .write(exemplar(trace, nanos));
    }

    /// The duration buckets' exemplar slots, if any traced call came.
    pub(crate) fn duration_exemplars(&self) -> Option<&[ExemplarSlot]> {
        self.exemplar_slots_if_any()
            .map(|slots| &slots[..DURATION_CELLS])
    }

    /// The first-byte buckets' exemplar slots, if any traced call came.
    pub(crate) fn first_byte_exemplars(&self) -> Option<&[ExemplarSlot]> {
        self.exemplar_slots_if_any()
            .map(|slots| &slots[DURATION_CELLS..])
    }

    /// Seconds of audio so far.
    pub(crate) fn audio_seconds(&self) -> f64 {
        sum_u64(self, |c| &c.audio_micros) as f64 / MICROS_PER_SECOND
    }

    /// Characters so far.
    pub(crate) fn characters(&self) -> u64 {
        sum_u64(self, |c| &c.characters)
    }
}

/// What one stripe holds for one operation, whatever the provider.
#[derive(Debug, Default)]
pub(crate) struct OperationCells {
    active: AtomicI64,
    /// Dollars as `f64` bits; only this stripe's writers add to it.
    cost: AtomicU64,
    cost_rejected: AtomicU64,
    audio_seconds_rejected: AtomicU64,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
}

impl OperationCells {
    /// One more operation in flight.
    #[inline]
    pub(crate) fn enter(&self) {
        self.active.fetch_add(1, Relaxed);
    }

    /// One operation fewer in flight.
    #[inline]
    pub(crate) fn leave(&self) {
        self.active.fetch_sub(1, Relaxed);
    }

    /// Adds dollars (already checked to be finite and not negative).
    #[inline]
    pub(crate) fn add_cost(&self, dollars: f64) {
        // A CAS loop on a stripe-local cell: uncontended in practice, exact f64 addition.
        let _ = self.cost.fetch_update(Relaxed, Relaxed, |bits| {
            Some((f64::from_bits(bits) + dollars).to_bits())
        });
    }

    /// Counts a cost that was refused.
    #[inline]
    pub(crate) fn count_rejected_cost(&self) {
        self.cost_rejected.fetch_add(1, Relaxed);
    }

    /// Counts an audio duration that was refused.
    #[inline]
    pub(crate) fn count_rejected_audio_seconds(&self) {
        self.audio_seconds_rejected.fetch_add(1, Relaxed);
    }

    /// Counts a cache lookup as a hit or a miss.
    #[inline]
    pub(crate) fn count_lookup(&self, hit: bool) {
        if hit {
            self.cache_hits.fetch_add(1, Relaxed);
        } else {
            self.cache_misses.fetch_add(1, Relaxed);
        }
    }
}

impl Striped<OperationCells> {
    /// Operations in flight now.
    pub(crate) fn active(&self) -> i64 {
        self.iter()
            .fold(0i64, |total, s| total.wrapping_add(s.active.load(Relaxed)))
    }

    /// Dollars added so far.
    pub(crate) fn cost(&self) -> f64 {
        self.iter()
            .map(|c| f64::from_bits(c.cost.load(Relaxed)))
            .sum()
    }

    /// Costs refused so far.
    pub(crate) fn rejected_costs(&self) -> u64 {
        sum_u64(self, |c| &c.cost_rejected)
    }

    /// Audio durations refused so far.
    pub(crate) fn rejected_audio_seconds(&self) -> u64 {
        sum_u64(self, |c| &c.audio_seconds_rejected)
    }

    /// Cache lookups so far: (hits, misses).
    pub(crate) fn lookups(&self) -> (u64, u64) {
        (
            sum_u64(self, |c| &c.cache_hits),
            sum_u64(self, |c| &c.cache_misses),
        )
    }
}

/// What one stripe holds for the realtime sessions of one provider.
#[derive(Debug, Default)]
pub(crate) struct RealtimeCells {
    sessions: [AtomicU64; DisconnectReason::COUNT],
    duration: HistogramCells<SESSION_CELLS>,
    latency: HistogramCells<LATENCY_CELLS>,
    native_latency: NativeCell,
}

impl RealtimeCells {
    /// Counts one ended session.
    #[inline]
    pub(crate) fn count_session(&self, reason: DisconnectReason) {
        self.sessions[reason.index()].fetch_add(1, Relaxed);
    }

    /// Observes a session's length.
    #[inline]
    pub(crate) fn observe_session(&self, nanos: u64) {
        self.duration.observe(&SESSION_BOUNDS_NS, nanos);
    }

    /// Observes one turn's latency (in native buckets, if on).
    #[inline]
    pub(crate) fn observe_latency(&self, nanos: u64, native: Option<i8>) {
        let native = (&self.native_latency, &LATENCY_CLASSIC, native);
        self.latency
            .observe_latency(&LATENCY_BOUNDS_NS, native, nanos);
    }
}

impl Striped<RealtimeCells> {
    /// Sessions that ended for `reason`, over all stripes.
    pub(crate) fn sessions(&self, reason: DisconnectReason) -> u64 {
        sum_u64(self, |c| &c.sessions[reason.index()])
    }

    /// The session length histogram, in seconds.
    pub(crate) fn duration(&self) -> HistogramSnapshot {
        HistogramSnapshot::read(self.iter().map(|c| &c.duration), NANOS_PER_SECOND)
    }

    /// Keeps `exemplar` as the latest traced observation of a latency bucket.
    #[cfg(feature = "opentelemetry")]
    #[cold]
    pub(crate) fn record_latency_exemplar(&self, trace: TraceRef, nanos: u64) {
        let bucket = bucket_of(&LATENCY_BOUNDS_NS, nanos);
        self.exemplar_slots(LATENCY_CELLS)[bucket].write(exemplar(trace, nanos));
    }

    /// The latency buckets' exemplar slots, if any traced turn came.
    pub(crate) fn latency_exemplars(&self) -> Option<&[ExemplarSlot]> {
        self.exemplar_slots_if_any()
    }

    /// The turn latency histogram, in seconds.
    pub(crate) fn latency(&self) -> HistogramSnapshot {
        let stripes = self
            .iter()
            .map(|c| (&c.latency, c.native_latency.get().map(|b| &**b)));
        HistogramSnapshot::read_with_native(stripes, NANOS_PER_SECOND)
    }

    /// The turn latency histogram's native buckets, if any were recorded.
    pub(crate) fn native_latency(&self, schema: i8, max: usize) -> Option<NativeSnapshot> {
        read_native(self, |c: &RealtimeCells| &c.native_latency, schema, max)
    }
}

/// An exemplar of a duration observed now.
#[cfg(feature = "opentelemetry")]
fn exemplar(trace: TraceRef, nanos: u64) -> Exemplar {
    Exemplar {
        trace,
        value: nanos as f64 / NANOS_PER_SECOND,
        timestamp: wall_clock_seconds(),
    }
}

/// Sums one counter cell over all stripes.
fn sum_u64<T>(stripes: &Striped<T>, cell: impl Fn(&T) -> &AtomicU64) -> u64 {
    stripes
        .iter()
        .fold(0u64, |total, s| total.wrapping_add(cell(s).load(Relaxed)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_bounds_are_exact() {
        assert_eq!(
            DURATION_BOUNDS_NS,
            [
                100_000_000,
                250_000_000,
                500_000_000,
                1_000_000_000,
                2_500_000_000,
                5_000_000_000,
                10_000_000_000,
                30_000_000_000,
                60_000_000_000,
                u64::MAX
            ]
        );
        assert_eq!(
            SIZE_BOUNDS,
            [1024, 10240, 102400, 1048576, 10485760, u64::MAX]
        );
        assert_eq!(LATENCY_BOUNDS_NS[0], 50_000_000);
        assert_eq!(FIRST_BYTE_BOUNDS_NS[0], 50_000_000);
        assert_eq!(FIRST_BYTE_BOUNDS_NS[8], 5_000_000_000);
        assert_eq!(SESSION_BOUNDS_NS[9], 3_600_000_000_000);
    }

    #[test]
    fn observations_land_in_inclusive_buckets() {
        let cells = HistogramCells::<SIZE_CELLS>::default();
        for value in [0, 1024, 1025, 10485760, 10485761, u64::MAX / 4] {
            cells.observe(&SIZE_BOUNDS, value);
        }
        let snapshot = HistogramSnapshot::read(std::iter::once(&cells), 1.0);
        assert_eq!(snapshot.buckets(), [2, 1, 0, 0, 1, 2]);
        assert_eq!(snapshot.count(), 6);
    }
}
