//! The atomic cells behind every exported series: counters, gauges and the histograms of
//! `histogram`, per (operation, provider) pair, operation and realtime provider. Values
//! are kept as integers in the finest unit (nanoseconds, bytes) so each observation is
//! one `fetch_add` per cell and sums never lose precision.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use super::exemplars::ExemplarSlot;
#[cfg(feature = "opentelemetry")]
use super::exemplars::{Exemplar, wall_clock_seconds};
#[cfg(feature = "opentelemetry")]
use super::histogram::bucket_of;
use super::histogram::{
    DURATION_BOUNDS_NS, DURATION_CELLS, DURATION_CLASSIC, FIRST_BYTE_BOUNDS_NS, FIRST_BYTE_CELLS,
    FIRST_BYTE_CLASSIC, HistogramCells, HistogramSnapshot, LATENCY_BOUNDS_NS, LATENCY_CELLS,
    LATENCY_CLASSIC, NANOS_PER_SECOND, SESSION_BOUNDS_NS, SESSION_CELLS, SIZE_BOUNDS, SIZE_CELLS,
};
use super::native::NativeCell;
use super::native_snapshot::{NativeSnapshot, read_native};
use super::stripes::Striped;
use crate::labels::{DisconnectReason, Status, TurnOutcome, TurnStage, UnknownDuration};
#[cfg(feature = "opentelemetry")]
use crate::trace::TraceRef;

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
    audio_seconds_unknown: [AtomicU64; UnknownDuration::COUNT],
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

    /// Counts a payload whose audio duration could not be read.
    #[inline]
    pub(crate) fn count_unknown_audio_seconds(&self, reason: UnknownDuration) {
        self.audio_seconds_unknown[reason.index()].fetch_add(1, Relaxed);
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

    /// Payloads without a readable duration so far, by reason.
    pub(crate) fn unknown_audio_seconds(&self) -> [u64; UnknownDuration::COUNT] {
        UnknownDuration::ALL
            .map(|reason| sum_u64(self, |c| &c.audio_seconds_unknown[reason.index()]))
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

/// What one stripe holds for the voice turns of one realtime provider (allocated at its
/// first turn, so sessions that never use turns do not pay for them).
#[derive(Debug, Default)]
pub(crate) struct TurnCells {
    stages: [HistogramCells<LATENCY_CELLS>; TurnStage::COUNT],
    native_stages: [NativeCell; TurnStage::COUNT],
    outcomes: [AtomicU64; TurnOutcome::COUNT],
}

impl TurnCells {
    /// Observes one stage of a voice turn (in native buckets, if on).
    #[inline]
    pub(crate) fn observe_stage(&self, stage: TurnStage, nanos: u64, native: Option<i8>) {
        let native = (&self.native_stages[stage.index()], &LATENCY_CLASSIC, native);
        self.stages[stage.index()].observe_latency(&LATENCY_BOUNDS_NS, native, nanos);
    }

    /// Counts one ended voice turn.
    #[inline]
    pub(crate) fn count_turn(&self, outcome: TurnOutcome) {
        self.outcomes[outcome.index()].fetch_add(1, Relaxed);
    }
}

impl Striped<TurnCells> {
    /// Keeps `exemplar` as the latest traced observation of a stage bucket.
    #[cfg(feature = "opentelemetry")]
    #[cold]
    pub(crate) fn record_stage_exemplar(&self, stage: TurnStage, trace: TraceRef, nanos: u64) {
        let slot = LATENCY_CELLS * stage.index() + bucket_of(&LATENCY_BOUNDS_NS, nanos);
        self.exemplar_slots(LATENCY_CELLS * TurnStage::COUNT)[slot].write(exemplar(trace, nanos));
    }

    /// A stage's exemplar slots, if any traced turn came.
    pub(crate) fn stage_exemplars(&self, stage: TurnStage) -> Option<&[ExemplarSlot]> {
        let start = LATENCY_CELLS * stage.index();
        self.exemplar_slots_if_any()
            .map(|slots| &slots[start..start + LATENCY_CELLS])
    }

    /// A stage's histogram, in seconds.
    pub(crate) fn stage(&self, stage: TurnStage) -> HistogramSnapshot {
        let index = stage.index();
        let stripes = self.iter().map(|t| {
            let native = t.native_stages[index].get().map(|b| &**b);
            (&t.stages[index], native)
        });
        HistogramSnapshot::read_with_native(stripes, NANOS_PER_SECOND)
    }

    /// A stage's native buckets, if any were recorded.
    pub(crate) fn native_stage(
        &self,
        stage: TurnStage,
        schema: i8,
        max: usize,
    ) -> Option<NativeSnapshot> {
        let index = stage.index();
        read_native(
            self,
            move |t: &TurnCells| &t.native_stages[index],
            schema,
            max,
        )
    }

    /// Voice turns that ended with `outcome`, over all stripes.
    pub(crate) fn turns(&self, outcome: TurnOutcome) -> u64 {
        sum_u64(self, |t| &t.outcomes[outcome.index()])
    }
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
