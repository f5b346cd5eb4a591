//! The atomic cells behind every exported series: counters, gauges and fixed-bucket
//! histograms. Values are kept as integers in the finest unit (nanoseconds, bytes) so
//! each observation is one `fetch_add` per cell and sums never lose precision.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use crate::labels::{DisconnectReason, Status};
use crate::shard::Striped;

/// A histogram with fixed bucket bounds in integer units. `B` is the number of finite
/// bounds plus one overflow (`+Inf`) cell; counts are kept per bucket (not cumulative) so
/// one observation touches one bucket cell and the sum.
#[derive(Debug)]
pub(crate) struct HistogramCells<const B: usize> {
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
    /// Prometheus buckets are inclusive (`le`), so a value equal to a bound lands in it.
    #[inline]
    pub(crate) fn observe(&self, bounds: &[u64; B], value: u64) {
        // bounds[B - 1] is u64::MAX (the +Inf cell), so some bucket always matches.
        let bucket = bounds.partition_point(|&bound| bound < value);
        self.buckets[bucket.min(B - 1)].fetch_add(1, Relaxed);
        self.sum.fetch_add(value, Relaxed);
    }
}

/// A point-in-time read of a striped histogram.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HistogramSnapshot {
    /// Per-bucket (not cumulative) counts, overflow last.
    pub(crate) buckets: Vec<u64>,
    /// Sum in the histogram's integer unit.
    pub(crate) sum: u64,
}

impl HistogramSnapshot {
    pub(crate) fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    pub(crate) fn read<'a, const B: usize>(
        stripes: impl Iterator<Item = &'a HistogramCells<B>>,
    ) -> Self {
        let mut snapshot = HistogramSnapshot {
            buckets: vec![0; B],
            sum: 0,
        };
        for cells in stripes {
            for (total, cell) in snapshot.buckets.iter_mut().zip(&cells.buckets) {
                *total += cell.load(Relaxed);
            }
            snapshot.sum = snapshot.sum.wrapping_add(cells.sum.load(Relaxed));
        }
        snapshot
    }
}

/// Converts bucket bounds in seconds (or bytes, with `scale` 1) to integer units with a
/// final `u64::MAX` overflow bound.
pub(crate) const fn integer_bounds<const N: usize, const B: usize>(
    bounds: [f64; N],
    scale: f64,
) -> [u64; B] {
    assert!(B == N + 1);
    let mut out = [u64::MAX; B];
    let mut i = 0;
    while i < N {
        out[i] = (bounds[i] * scale) as u64;
        i += 1;
    }
    out
}

pub(crate) const NANOS_PER_SECOND: f64 = 1e9;

/// Buckets of the request duration histogram (9 bounds and +Inf).
pub(crate) const DURATION_CELLS: usize = 10;
/// Buckets of the request size histogram (5 bounds and +Inf).
pub(crate) const SIZE_CELLS: usize = 6;
/// Buckets of the realtime session duration histogram (10 bounds and +Inf).
pub(crate) const SESSION_CELLS: usize = 11;
/// Buckets of the realtime latency histogram (9 bounds and +Inf).
pub(crate) const LATENCY_CELLS: usize = 10;

pub(crate) const DURATION_BOUNDS_NS: [u64; DURATION_CELLS] =
    integer_bounds(crate::catalogue::REQUEST_DURATION_BUCKETS, NANOS_PER_SECOND);
pub(crate) const SIZE_BOUNDS: [u64; SIZE_CELLS] =
    integer_bounds(crate::catalogue::REQUEST_SIZE_BUCKETS, 1.0);
pub(crate) const SESSION_BOUNDS_NS: [u64; SESSION_CELLS] = integer_bounds(
    crate::catalogue::REALTIME_DURATION_BUCKETS,
    NANOS_PER_SECOND,
);
pub(crate) const LATENCY_BOUNDS_NS: [u64; LATENCY_CELLS] =
    integer_bounds(crate::catalogue::REALTIME_LATENCY_BUCKETS, NANOS_PER_SECOND);

/// What one stripe holds for one (operation, provider) pair.
#[derive(Debug, Default)]
pub(crate) struct CallCells {
    pub(crate) requests: [AtomicU64; Status::COUNT],
    pub(crate) duration: HistogramCells<DURATION_CELLS>,
    pub(crate) size: HistogramCells<SIZE_CELLS>,
}

/// What one stripe holds for one operation, whatever the provider.
#[derive(Debug, Default)]
pub(crate) struct OperationCells {
    pub(crate) active: AtomicI64,
    /// Dollars as `f64` bits; only this stripe's writers add to it.
    pub(crate) cost: AtomicU64,
    pub(crate) cost_rejected: AtomicU64,
    pub(crate) cache_hits: AtomicU64,
    pub(crate) cache_misses: AtomicU64,
}

impl OperationCells {
    #[inline]
    pub(crate) fn add_cost(&self, dollars: f64) {
        // A CAS loop on a stripe-local cell: uncontended in practice, exact f64 addition.
        let _ = self.cost.fetch_update(Relaxed, Relaxed, |bits| {
            Some((f64::from_bits(bits) + dollars).to_bits())
        });
    }
}

/// What one stripe holds for the realtime sessions of one provider.
#[derive(Debug, Default)]
pub(crate) struct RealtimeCells {
    pub(crate) sessions: [AtomicU64; DisconnectReason::COUNT],
    pub(crate) duration: HistogramCells<SESSION_CELLS>,
    pub(crate) latency: HistogramCells<LATENCY_CELLS>,
}

/// Sums one counter cell over all stripes.
pub(crate) fn sum_u64<T>(stripes: &Striped<T>, cell: impl Fn(&T) -> &AtomicU64) -> u64 {
    stripes
        .iter()
        .fold(0u64, |total, s| total.wrapping_add(cell(s).load(Relaxed)))
}

/// Sums one gauge cell over all stripes.
pub(crate) fn sum_i64<T>(stripes: &Striped<T>, cell: impl Fn(&T) -> &AtomicI64) -> i64 {
    stripes
        .iter()
        .fold(0i64, |total, s| total.wrapping_add(cell(s).load(Relaxed)))
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
        assert_eq!(SESSION_BOUNDS_NS[9], 3_600_000_000_000);
    }

    #[test]
    fn observations_land_in_inclusive_buckets() {
        let cells = HistogramCells::<SIZE_CELLS>::default();
        for value in [0, 1024, 1025, 10485760, 10485761, u64::MAX / 4] {
            cells.observe(&SIZE_BOUNDS, value);
        }
        let snapshot = HistogramSnapshot::read(std::iter::once(&cells));
        assert_eq!(snapshot.buckets, vec![2, 1, 0, 0, 1, 2]);
        assert_eq!(snapshot.count(), 6);
    }
}
