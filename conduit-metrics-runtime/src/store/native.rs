//! Native (exponential) histogram buckets of the latency histograms. At schema `s` bucket
//! `k` holds the observations in `(2^((k-1)/2^s), 2^(k/2^s)]` seconds, so every bucket is
//! at most `2^(2^-s)` times as wide as its lower bound (9% at the default schema 3);
//! observations of exactly 0 go to the zero bucket.
//!
//! Buckets live in chunks of `2^s` counters, one chunk per power of two of seconds,
//! allocated when the first observation lands in that power of two: a latency series that
//! spans 10 ms to 20 s touches 11 chunks. Durations are whole nanoseconds, so the chunks
//! of one stripe's histogram are bounded (66 powers of two from 1 ns to `u64::MAX` ns)
//! whatever the traffic.
//!
//! One counter serves both forms. A native bucket that holds one of the family's classic
//! bounds below its own upper bound is split there ([`ClassicSplits`]), its parts counted
//! apart; so every native counter lies within one classic bucket, and the classic buckets
//! are exact sums of native counters (bounds compared in whole nanoseconds). Recording is
//! one `fetch_add` for the count, as with classic buckets alone, no lock.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::native_index::{BucketIndexes, CHUNKS, KEPT_SCHEMAS, LOWEST_CHUNK};
use crate::limits::MAX_SCHEMA;

/// The width of the zero bucket: client_golang's default, 2^-128, so that only
/// observations of exactly 0 land in it (the shortest non-zero duration is 1 ns).
#[cfg_attr(not(feature = "protobuf"), allow(dead_code))]
pub(crate) const ZERO_THRESHOLD: f64 = 2.938_735_877_055_719e-39;

/// The finite classic bounds of a family, in nanoseconds, with their split layouts
/// (computed at the first observation at each schema).
#[derive(Debug)]
pub(crate) struct ClassicBounds {
    nanos: &'static [u64],
    layouts: [OnceLock<ClassicSplits>; KEPT_SCHEMAS],
}

impl ClassicBounds {
    /// `nanos` must increase.
    pub(crate) const fn new(nanos: &'static [u64]) -> Self {
        ClassicBounds {
            nanos,
            layouts: [const { OnceLock::new() }; KEPT_SCHEMAS],
        }
    }
}

/// The native buckets of one histogram in one stripe.
#[derive(Debug)]
pub(crate) struct NativeBuckets {
    /// The schema the buckets are kept at (0 to 8).
    schema: i8,
    indexes: &'static BucketIndexes,
    splits: &'static ClassicSplits,
    zero: AtomicU64,
    /// Observations in the upper parts of split buckets, one counter per split point.
    split_counts: Box<[AtomicU64]>,
    /// Inline, not boxed: one pointer fewer between an observation and its counter.
    chunks: [OnceLock<Box<[AtomicU64]>>; CHUNKS],
}

impl NativeBuckets {
    /// Empty buckets for `schema` (clamped to 0..=8; schemas below 0 are kept at 0 and
    /// merged when read), split at `classic`'s bounds.
    pub(crate) fn new(schema: i8, classic: &'static ClassicBounds) -> Self {
        let schema = schema.clamp(0, MAX_SCHEMA);
        let splits = ClassicSplits::of(classic, schema);
        NativeBuckets {
            schema,
            indexes: BucketIndexes::of(schema),
            splits,
            zero: AtomicU64::new(0),
            split_counts: splits.points.iter().map(|_| AtomicU64::new(0)).collect(),
            chunks: [const { OnceLock::new() }; CHUNKS],
        }
    }

    pub(super) fn schema(&self) -> i8 {
        self.schema
    }

    /// Counts one observation of `nanos` nanoseconds.
    #[inline(always)]
    pub(crate) fn observe(&self, nanos: u64) {
        if nanos == 0 {
            self.zero.fetch_add(1, Relaxed);
            return;
        }
        let index = self.indexes.index(nanos);
        if self.splits.is_split(index) {
            if let Some(point) = self.splits.part_above(index, nanos) {
                self.split_counts[point].fetch_add(1, Relaxed);
                return;
            }
        }
        let width = 1usize << self.schema;
        let counters = self.chunks[index >> self.schema]
            .get_or_init(|| (0..width).map(|_| AtomicU64::new(0)).collect());
        counters[index & (width - 1)].fetch_add(1, Relaxed);
    }

    /// Observations of exactly 0.
    pub(super) fn zero_count(&self) -> u64 {
        self.zero.load(Relaxed)
    }

    /// Appends the populated buckets as `(key, count)` in key order, at this stripe's
    /// schema, each split bucket's parts added together.
    pub(super) fn populated(&self, out: &mut Vec<(i32, u64)>) {
        let start = out.len();
        self.for_each_counter(|index, count| out.push((self.key_of(index), count)));
        let mut parts = false;
        for (point, counter) in self.splits.points.iter().zip(&self.split_counts) {
            let count = counter.load(Relaxed);
            if count > 0 {
                out.push((self.key_of(point.index), count));
                parts = true;
            }
        }
        if parts {
            let own = &mut out[start..];
            own.sort_unstable_by_key(|&(key, _)| key);
            let mut merged = out.split_off(start);
            merge_equal_keys(&mut merged);
            out.append(&mut merged);
        }
    }

    /// Adds this stripe's observations to per-bucket (not cumulative) classic counts,
    /// one entry per finite bound and `+Inf`.
    pub(crate) fn add_classic(&self, classic: &mut [u64]) {
        classic[0] += self.zero_count();
        self.for_each_counter(|index, count| classic[self.splits.classic_of(index)] += count);
        for (point, counter) in self.splits.points.iter().zip(&self.split_counts) {
            classic[point.classic_above] += counter.load(Relaxed);
        }
    }

    /// Every non-zero bucket counter (the lower part of a split bucket) by bucket index.
    fn for_each_counter(&self, mut each: impl FnMut(usize, u64)) {
        for (chunk, counters) in self.chunks.iter().enumerate() {
            let Some(counters) = counters.get() else {
                continue;
            };
            let first = chunk << self.schema;
            for (offset, counter) in counters.iter().enumerate() {
                let count = counter.load(Relaxed);
                if count > 0 {
                    each(first + offset, count);
                }
            }
        }
    }

    /// The bucket key of a bucket index.
    fn key_of(&self, index: usize) -> i32 {
        index as i32 + (LOWEST_CHUNK << self.schema)
    }
}

/// Merges adjacent entries with equal keys, adding their counts.
pub(super) fn merge_equal_keys(buckets: &mut Vec<(i32, u64)>) {
    buckets.dedup_by(|later, kept| {
        if later.0 == kept.0 {
            kept.1 += later.1;
            true
        } else {
            false
        }
    });
}

/// Where a family's classic bounds fall among the native buckets of one schema.
#[derive(Debug)]
pub(crate) struct ClassicSplits {
    /// One bit per bucket index, set when the bucket is split.
    split: Box<[u64]>,
    /// The bounds that split a bucket, in order.
    points: Box<[SplitPoint]>,
    /// The bucket index of each finite classic bound, in order (non-decreasing).
    bound_index: Box<[usize]>,
}

/// A classic bound strictly inside a native bucket: the bucket's observations above it
/// (and at or under the next such bound) are counted apart.
#[derive(Debug)]
struct SplitPoint {
    index: usize,
    nanos: u64,
    /// The classic bucket of those observations.
    classic_above: usize,
}

impl ClassicSplits {
    /// The layout of `classic` at `schema` (0 to 8), computed once.
    fn of(classic: &'static ClassicBounds, schema: i8) -> &'static ClassicSplits {
        classic.layouts[schema as usize].get_or_init(|| ClassicSplits::new(classic, schema))
    }

    fn new(classic: &ClassicBounds, schema: i8) -> Self {
        let indexes = BucketIndexes::of(schema);
        let index = |nanos: u64| indexes.index(nanos);
        let mut split = vec![0u64; (CHUNKS << schema).div_ceil(64)].into_boxed_slice();
        let mut points = Vec::new();
        for (position, &nanos) in classic.nanos.iter().enumerate() {
            let bucket = index(nanos);
            // Split when a longer duration is still in the bucket: the bound is not its
            // upper bound.
            if index(nanos + 1) == bucket {
                split[bucket / 64] |= 1 << (bucket % 64);
                points.push(SplitPoint {
                    index: bucket,
                    nanos,
                    classic_above: position + 1,
                });
            }
        }
        ClassicSplits {
            split,
            points: points.into_boxed_slice(),
            bound_index: classic.nanos.iter().map(|&nanos| index(nanos)).collect(),
        }
    }

    #[inline]
    fn is_split(&self, index: usize) -> bool {
        (self.split[index / 64] >> (index % 64)) & 1 != 0
    }

    /// The split point whose part of bucket `index` holds `nanos`, or `None` for the
    /// bucket's lowest part (its own counter).
    #[cold]
    fn part_above(&self, index: usize, nanos: u64) -> Option<usize> {
        self.points
            .iter()
            .rposition(|point| point.index == index && nanos > point.nanos)
    }

    /// The classic bucket of the observations counted by bucket `index`'s own counter:
    /// the bounds in lower buckets are below them, the bounds in this bucket (a split
    /// one's, or its upper bound) at or above.
    fn classic_of(&self, index: usize) -> usize {
        self.bound_index.partition_point(|&bound| bound < index)
    }
}

/// A latency histogram's native buckets in one stripe, allocated at its first
/// observation with native buckets on.
pub(super) type NativeCell = OnceLock<Box<NativeBuckets>>;

/// Counts `nanos` in `cell`'s native buckets, allocating them at `schema` on first use.
#[inline]
pub(super) fn observe_native(
    cell: &NativeCell,
    schema: i8,
    classic: &'static ClassicBounds,
    nanos: u64,
) {
    cell.get_or_init(|| Box::new(NativeBuckets::new(schema, classic)))
        .observe(nanos);
}

#[cfg(test)]
mod tests {
    use super::super::native_index::key_by_definition;
    use super::*;

    /// 0.1 s and 0.3 s split a bucket at every schema; 1 s is a bucket's upper bound.
    static BOUNDS: ClassicBounds = ClassicBounds::new(&[100_000_000, 300_000_000, 1_000_000_000]);

    #[test]
    fn memory_is_bounded_by_the_powers_of_two_touched() {
        let buckets = NativeBuckets::new(3, &BOUNDS);
        for nanos in (0..100_000u64).map(|i| 10_000_000 + i * 199_990) {
            buckets.observe(nanos);
        }
        // 10 ms to 20 s: chunks 2^-7 to 2^5, and nothing else.
        let allocated = buckets.chunks.iter().filter(|c| c.get().is_some()).count();
        assert_eq!(allocated, 12);
    }

    /// The classic bucket of `nanos` by its definition: the bounds below it.
    fn classic_by_definition(nanos: u64) -> usize {
        BOUNDS.nanos.iter().filter(|&&bound| bound < nanos).count()
    }

    #[test]
    fn classic_counts_from_native_counters_are_exact_at_every_schema() {
        // Around every bound (equal is inside: `le`), in split and unsplit buckets.
        let mut values = vec![0u64, 1, 50_000_000, 2_000_000_000, u64::MAX];
        for &bound in BOUNDS.nanos {
            values.extend([bound - 1, bound, bound + 1, bound + bound / 50]);
        }
        for schema in 0..=MAX_SCHEMA {
            let buckets = NativeBuckets::new(schema, &BOUNDS);
            let mut expected = [0u64; 4];
            for &nanos in &values {
                buckets.observe(nanos);
                expected[classic_by_definition(nanos)] += 1;
            }
            let mut classic = [0u64; 4];
            buckets.add_classic(&mut classic);
            assert_eq!(classic, expected, "schema {schema}");
            // The native buckets hold every observation in the bucket its definition
            // says, the parts of a split bucket added together.
            let mut native = Vec::new();
            buckets.populated(&mut native);
            let mut by_definition: Vec<(i32, u64)> = Vec::new();
            for &nanos in values.iter().filter(|&&n| n > 0) {
                let key = key_by_definition(nanos as f64 * 1e-9, schema);
                match by_definition.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, count)) => *count += 1,
                    None => by_definition.push((key, 1)),
                }
            }
            by_definition.sort_unstable();
            assert_eq!(native, by_definition, "schema {schema}");
        }
    }

    #[test]
    fn a_stripes_native_buckets_cost_what_the_docs_say() {
        // docs/performance.md: 66 chunk slots of 24 bytes and the fields around them,
        // 1,632 bytes on a 64-bit target.
        if cfg!(target_pointer_width = "64") {
            assert_eq!(std::mem::size_of::<NativeBuckets>(), 1_632);
        }
    }

    #[test]
    fn only_bounds_inside_a_bucket_split_it() {
        let splits = ClassicSplits::of(&BOUNDS, 3);
        let bounds: Vec<u64> = splits.points.iter().map(|p| p.nanos).collect();
        assert_eq!(bounds, [100_000_000, 300_000_000]);
        let above: Vec<usize> = splits.points.iter().map(|p| p.classic_above).collect();
        assert_eq!(above, [1, 2]);
        // At schema 0 the bucket (0.25 s, 0.5 s] holds 0.3 s; (0.0625 s, 0.125 s] 0.1 s.
        assert_eq!(ClassicSplits::of(&BOUNDS, 0).points.len(), 2);
    }
}
