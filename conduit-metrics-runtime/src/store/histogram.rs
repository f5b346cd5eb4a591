//! Fixed-bucket histograms in integer units (nanoseconds, bytes): the striped cells, the
//! snapshot a scrape reads, and the bounds of every histogram family. A latency
//! histogram with native buckets on counts in its native buckets only (they count for
//! the classic buckets too, see `native`) and keeps its sum here.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::native::{ClassicBounds, NativeBuckets, NativeCell, observe_native};
use crate::catalogue;

/// A histogram with fixed bucket bounds in integer units. `B` is the number of finite
/// bounds plus one overflow (`+Inf`) cell; counts are kept per bucket (not cumulative) so
/// one observation touches one bucket cell and the sum.
#[derive(Debug)]
pub(super) struct HistogramCells<const B: usize> {
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
    pub(super) fn observe(&self, bounds: &[u64; B], value: u64) {
        self.buckets[bucket_of(bounds, value)].fetch_add(1, Relaxed);
        self.sum.fetch_add(value, Relaxed);
    }

    /// Records a latency `nanos`: in `native`'s buckets when on (they count for the
    /// classic buckets too, see `native`), else in the classic cells; the sum is kept
    /// here either way.
    #[inline(always)]
    pub(super) fn observe_latency(
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
pub(super) fn bucket_of<const B: usize>(bounds: &[u64; B], value: u64) -> usize {
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

    pub(super) fn read<'a, const B: usize>(
        stripes: impl Iterator<Item = &'a HistogramCells<B>>,
        scale: f64,
    ) -> Self {
        Self::read_with_native(stripes.map(|cells| (cells, None)), scale)
    }

    /// The classic cells of each stripe plus what its native buckets counted.
    pub(super) fn read_with_native<'a, const B: usize>(
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

pub(super) const NANOS_PER_SECOND: f64 = 1e9;

/// Buckets of the request duration histogram (9 bounds and +Inf).
pub(super) const DURATION_CELLS: usize = 10;
/// Buckets of the request size histogram (5 bounds and +Inf).
pub(super) const SIZE_CELLS: usize = 6;
/// Buckets of the realtime session duration histogram (10 bounds and +Inf).
pub(super) const SESSION_CELLS: usize = 11;
/// Buckets of the realtime latency histogram (9 bounds and +Inf).
pub(super) const LATENCY_CELLS: usize = 10;
/// Buckets of the time-to-first-byte histogram (9 bounds and +Inf).
pub(super) const FIRST_BYTE_CELLS: usize = 10;

pub(super) const DURATION_BOUNDS_NS: [u64; DURATION_CELLS] =
    integer_bounds(catalogue::REQUEST_DURATION_BUCKETS, NANOS_PER_SECOND);
pub(super) const SIZE_BOUNDS: [u64; SIZE_CELLS] =
    integer_bounds(catalogue::REQUEST_SIZE_BUCKETS, 1.0);
pub(super) const SESSION_BOUNDS_NS: [u64; SESSION_CELLS] =
    integer_bounds(catalogue::REALTIME_DURATION_BUCKETS, NANOS_PER_SECOND);
pub(super) const LATENCY_BOUNDS_NS: [u64; LATENCY_CELLS] =
    integer_bounds(catalogue::REALTIME_LATENCY_BUCKETS, NANOS_PER_SECOND);
pub(super) const FIRST_BYTE_BOUNDS_NS: [u64; FIRST_BYTE_CELLS] =
    integer_bounds(catalogue::TIME_TO_FIRST_BYTE_BUCKETS, NANOS_PER_SECOND);

/// The finite classic bounds of the latency histograms, where their native buckets split.
pub(super) static DURATION_CLASSIC: ClassicBounds = ClassicBounds::new(finite(&DURATION_BOUNDS_NS));
pub(super) static LATENCY_CLASSIC: ClassicBounds = ClassicBounds::new(finite(&LATENCY_BOUNDS_NS));
pub(super) static FIRST_BYTE_CLASSIC: ClassicBounds =
    ClassicBounds::new(finite(&FIRST_BYTE_BOUNDS_NS));

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
