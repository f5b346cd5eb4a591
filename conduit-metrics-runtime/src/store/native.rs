//! Native (exponential) histogram buckets, kept beside the classic buckets of the latency
//! histograms. At schema `s` bucket `k` holds the observations in
//! `(2^((k-1)/2^s), 2^(k/2^s)]` seconds, so every bucket is at most `2^(2^-s)` times as
//! wide as its lower bound (9% at the default schema 3); observations of exactly 0 go to
//! the zero bucket.
//!
//! Buckets live in chunks of `2^s` counters, one chunk per power of two of seconds,
//! allocated when the first observation lands in that power of two: a latency series that
//! spans 10 ms to 20 s touches 11 chunks. Durations are whole nanoseconds, so the chunks
//! of one stripe's histogram are bounded (66 powers of two from 1 ns to `u64::MAX` ns)
//! whatever the traffic. Recording is two `OnceLock` reads and one `fetch_add`, no lock.
//! When a series has more populated buckets than `NativeHistogramMaxBuckets`, a scrape
//! halves its resolution (merging bucket pairs, as client_golang does) until it fits;
//! counts only grow, so a series' exported schema never goes back up.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::stripes::Striped;
use crate::limits::{MAX_SCHEMA, MIN_SCHEMA};

/// The width of the zero bucket: client_golang's default, 2^-128, so that only
/// observations of exactly 0 land in it (the shortest non-zero duration is 1 ns).
#[cfg_attr(not(feature = "protobuf"), allow(dead_code))]
pub(crate) const ZERO_THRESHOLD: f64 = 2.938_735_877_055_719e-39;

/// The chunk of 1 ns (`2^-30 s < 1 ns < 2^-29 s`).
const LOWEST_CHUNK: i32 = -30;
/// Chunks from 1 ns up to `u64::MAX` ns (about `2^34.1` s, whose key can round up to the
/// first bucket of chunk 35).
const CHUNKS: usize = 66;

const NANOS_PER_SECOND: f64 = 1e9;

/// The native buckets of one histogram in one stripe.
#[derive(Debug)]
pub(crate) struct NativeBuckets {
    /// The schema the buckets are kept at (0 to 8; a lower configured schema is reached
    /// at scrape time by merging).
    schema: i8,
    /// Upper bounds, within `[0.5, 1)`, of the buckets of one power of two.
    bounds: &'static [f64],
    zero: AtomicU64,
    chunks: Box<[OnceLock<Box<[AtomicU64]>>]>,
}

impl NativeBuckets {
    /// Empty buckets for `schema` (clamped to what Prometheus accepts; schemas below 0
    /// are kept at 0 and merged when read).
    pub(crate) fn new(schema: i8) -> Self {
        let schema = schema.clamp(0, MAX_SCHEMA);
        NativeBuckets {
            schema,
            bounds: power_of_two_bounds(schema),
            zero: AtomicU64::new(0),
            chunks: (0..CHUNKS).map(|_| OnceLock::new()).collect(),
        }
    }

    /// Counts one observation of `nanos` nanoseconds.
    #[inline]
    pub(crate) fn observe(&self, nanos: u64) {
        if nanos == 0 {
            self.zero.fetch_add(1, Relaxed);
            return;
        }
        // The product is exact enough: 1e-9's representation error (6e-17) is under half
        // an ulp at every power of two, the only bucket bounds a whole number of
        // nanoseconds can equal.
        let key = bucket_key(
            nanos as f64 * (1.0 / NANOS_PER_SECOND),
            self.schema,
            self.bounds,
        );
        let chunk = (key >> self.schema) - LOWEST_CHUNK;
        let chunk = chunk.clamp(0, CHUNKS as i32 - 1) as usize;
        let width = 1usize << self.schema;
        let counters =
            self.chunks[chunk].get_or_init(|| (0..width).map(|_| AtomicU64::new(0)).collect());
        counters[key as usize & (width - 1)].fetch_add(1, Relaxed);
    }

    /// Observations of exactly 0.
    fn zero_count(&self) -> u64 {
        self.zero.load(Relaxed)
    }

    /// The populated buckets as `(key, count)` in key order, at this stripe's schema.
    fn populated(&self, out: &mut Vec<(i32, u64)>) {
        for (index, chunk) in self.chunks.iter().enumerate() {
            let Some(counters) = chunk.get() else {
                continue;
            };
            let first = (index as i32 + LOWEST_CHUNK) << self.schema;
            for (offset, counter) in counters.iter().enumerate() {
                let count = counter.load(Relaxed);
                if count > 0 {
                    out.push((first + offset as i32, count));
                }
            }
        }
    }
}

/// The key of the bucket holding `seconds` (positive, normal) at `schema` (0 to 8).
#[inline]
fn bucket_key(seconds: f64, schema: i8, bounds: &[f64]) -> i32 {
    // seconds = frac * 2^exp with frac in [0.5, 1), read from the bits (frexp).
    let bits = seconds.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32 - 1022;
    let frac = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1022u64 << 52));
    if schema == 0 {
        // A power of two is the upper bound of the bucket below.
        return if frac == 0.5 { exp - 1 } else { exp };
    }
    // Up to 16 bounds a branchless count is faster than a binary search's mispredictions.
    let below = if bounds.len() <= 16 {
        bounds.iter().map(|&bound| usize::from(bound < frac)).sum()
    } else {
        bounds.partition_point(|&bound| bound < frac)
    };
    below as i32 + ((exp - 1) << schema)
}

/// The bucket upper bounds of one power of two at `schema`, scaled into `[0.5, 1)`:
/// `2^(i/2^schema - 1)` for `i` in `0..2^schema`. Computed once per schema.
fn power_of_two_bounds(schema: i8) -> &'static [f64] {
    static BOUNDS: [OnceLock<Box<[f64]>>; MAX_SCHEMA as usize + 1] =
        [const { OnceLock::new() }; MAX_SCHEMA as usize + 1];
    let schema = schema.clamp(0, MAX_SCHEMA) as usize;
    BOUNDS[schema].get_or_init(|| {
        let count = 1u32 << schema;
        (0..count)
            .map(|i| (f64::from(i) / f64::from(count) - 1.0).exp2())
            .collect()
    })
}

/// A native histogram as a scrape reads it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NativeSnapshot {
    pub(crate) schema: i8,
    pub(crate) zero_count: u64,
    /// Populated buckets as `(key, count)`, in key order.
    pub(crate) buckets: Vec<(i32, u64)>,
}

impl NativeSnapshot {
    /// Sums the stripes' buckets at `schema` (or the lowest schema a stripe keeps, if
    /// lower: resolution cannot be invented), halving the resolution until at most
    /// `max_buckets` are populated. `None` when no stripe has native buckets.
    pub(crate) fn read<'a>(
        stripes: impl Iterator<Item = &'a NativeBuckets> + Clone,
        schema: i8,
        max_buckets: usize,
    ) -> Option<Self> {
        let lowest_kept = stripes.clone().map(|stripe| stripe.schema).min()?;
        let mut target = schema.clamp(MIN_SCHEMA, MAX_SCHEMA).min(lowest_kept);
        let mut zero_count = 0;
        let mut buckets = Vec::new();
        let mut parts = 0;
        for stripe in stripes {
            zero_count += stripe.zero_count();
            let start = buckets.len();
            stripe.populated(&mut buckets);
            if buckets.len() > start {
                parts += 1;
            }
            let mut own = buckets.split_off(start);
            reduce(&mut own, stripe.schema, target);
            buckets.append(&mut own);
        }
        if parts > 1 {
            buckets.sort_unstable_by_key(|&(key, _)| key);
            merge_equal_keys(&mut buckets);
        }
        while buckets.len() > max_buckets.max(1) && target > MIN_SCHEMA {
            reduce(&mut buckets, target, target - 1);
            target -= 1;
        }
        Some(NativeSnapshot {
            schema: target,
            zero_count,
            buckets,
        })
    }

    /// No observation yet, at `schema`.
    pub(crate) fn empty(schema: i8) -> Self {
        NativeSnapshot {
            schema: schema.clamp(MIN_SCHEMA, MAX_SCHEMA),
            zero_count: 0,
            buckets: Vec::new(),
        }
    }

    /// Observations in all buckets, the zero bucket included.
    #[cfg_attr(not(feature = "protobuf"), allow(dead_code))]
    pub(crate) fn count(&self) -> u64 {
        self.zero_count + self.buckets.iter().map(|&(_, count)| count).sum::<u64>()
    }
}

/// Re-keys sorted `buckets` from schema `from` to the lower schema `to`: each step merges
/// bucket `k` into `ceil(k / 2)`, which keeps the order, so equal keys end up adjacent.
fn reduce(buckets: &mut Vec<(i32, u64)>, from: i8, to: i8) {
    if to >= from {
        return;
    }
    let steps = i32::from(from - to);
    for (key, _) in buckets.iter_mut() {
        // ceil(key / 2^steps), for negative keys too (arithmetic shift floors).
        *key = (*key + (1 << steps) - 1) >> steps;
    }
    merge_equal_keys(buckets);
}

/// Merges adjacent entries with equal keys, adding their counts.
fn merge_equal_keys(buckets: &mut Vec<(i32, u64)>) {
    buckets.dedup_by(|later, kept| {
        if later.0 == kept.0 {
            kept.1 += later.1;
            true
        } else {
            false
        }
    });
}

/// A latency histogram's native buckets in one stripe, allocated at its first
/// observation with native buckets on.
pub(super) type NativeCell = OnceLock<Box<NativeBuckets>>;

/// Counts `nanos` in `cell`'s native buckets, allocating them at `schema` on first use.
#[inline]
pub(super) fn observe_native(cell: &NativeCell, schema: Option<i8>, nanos: u64) {
    if let Some(schema) = schema {
        cell.get_or_init(|| Box::new(NativeBuckets::new(schema)))
            .observe(nanos);
    }
}

/// The native buckets of one histogram over all stripes (see `NativeSnapshot::read`).
pub(super) fn read_native<'a, T: 'a>(
    stripes: &'a Striped<T>,
    cell: impl Fn(&T) -> &NativeCell + Clone + 'a,
    schema: i8,
    max_buckets: usize,
) -> Option<NativeSnapshot> {
    let buckets = stripes
        .iter()
        .filter_map(move |stripe| cell(stripe).get().map(|buckets| &**buckets));
    NativeSnapshot::read(buckets, schema, max_buckets)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bucket `seconds` belongs in by the definition, computed with logarithms.
    fn key_by_definition(seconds: f64, schema: i8) -> i32 {
        (seconds.log2() * f64::from(1u32 << schema)).ceil() as i32
    }

    #[test]
    fn keys_follow_the_definition_at_every_schema() {
        for schema in 0..=MAX_SCHEMA {
            let bounds = power_of_two_bounds(schema);
            assert_eq!(bounds.len(), 1 << schema);
            for nanos in [1u64, 7, 999, 12_345, 1_000_000, 43_210_987, 2_718_281_828] {
                let seconds = nanos as f64 * 1e-9;
                assert_eq!(
                    bucket_key(seconds, schema, bounds),
                    key_by_definition(seconds, schema),
                    "{seconds} s at schema {schema}"
                );
            }
            // Powers of two are the upper bound of their bucket (inclusive).
            for power in [-3, 0, 1, 5] {
                let seconds = 2f64.powi(power);
                assert_eq!(bucket_key(seconds, schema, bounds), power << schema);
            }
        }
    }

    #[test]
    fn whole_seconds_from_nanoseconds_land_on_their_bound() {
        let buckets = NativeBuckets::new(3);
        for nanos in [250_000_000, 500_000_000, 1_000_000_000, 2_000_000_000] {
            buckets.observe(nanos);
        }
        let snapshot = NativeSnapshot::read(std::iter::once(&buckets), 3, 160).unwrap();
        assert_eq!(snapshot.buckets, [(-16, 1), (-8, 1), (0, 1), (8, 1)]);
    }

    #[test]
    fn stripes_add_up_and_zero_has_its_bucket() {
        let stripes = [NativeBuckets::new(3), NativeBuckets::new(3)];
        stripes[0].observe(0);
        stripes[0].observe(1_000_000_000);
        stripes[1].observe(1_000_000_000);
        stripes[1].observe(1);
        stripes[1].observe(u64::MAX);
        let snapshot = NativeSnapshot::read(stripes.iter(), 3, 160).unwrap();
        assert_eq!(snapshot.zero_count, 1);
        assert_eq!(snapshot.count(), 5);
        let keys: Vec<i32> = snapshot.buckets.iter().map(|b| b.0).collect();
        assert_eq!(
            keys,
            [
                key_by_definition(1e-9, 3),
                0,
                key_by_definition(u64::MAX as f64 * 1e-9, 3)
            ]
        );
        assert_eq!(snapshot.buckets[1], (0, 2));
    }

    #[test]
    fn a_lower_schema_merges_pairs_of_buckets() {
        let buckets = NativeBuckets::new(3);
        for nanos in (1..=2000).map(|ms| ms * 1_000_000) {
            buckets.observe(nanos);
        }
        let fine = NativeSnapshot::read(std::iter::once(&buckets), 3, 1000).unwrap();
        for schema in [2, 1, 0, -1, -4] {
            let coarse = NativeSnapshot::read(std::iter::once(&buckets), schema, 1000).unwrap();
            assert_eq!(coarse.schema, schema);
            assert_eq!(coarse.count(), 2000);
            // Every observation is in the bucket the definition gives at that schema.
            for nanos in [1_000_000u64, 777_000_000, 2_000_000_000] {
                let seconds = nanos as f64 * 1e-9;
                let key = (seconds.log2() * 2f64.powi(i32::from(schema))).ceil() as i32;
                assert!(
                    coarse.buckets.iter().any(|b| b.0 == key),
                    "{seconds} at {schema}"
                );
            }
            assert!(coarse.buckets.len() < fine.buckets.len());
        }
    }

    #[test]
    fn past_the_bucket_limit_the_resolution_halves_until_it_fits() {
        let buckets = NativeBuckets::new(3);
        // 1 µs to 1000 s: 30 powers of two, about 240 buckets at schema 3.
        let mut nanos = 1_000u64;
        while nanos < 1_000_000_000_000 {
            buckets.observe(nanos);
            nanos += nanos / 50 + 1;
        }
        let full = NativeSnapshot::read(std::iter::once(&buckets), 3, 1000).unwrap();
        assert!(full.buckets.len() > 160, "{}", full.buckets.len());
        let limited = NativeSnapshot::read(std::iter::once(&buckets), 3, 160).unwrap();
        assert_eq!(limited.schema, 2);
        assert!(limited.buckets.len() <= 160);
        assert_eq!(limited.count(), full.count());
        let tiny = NativeSnapshot::read(std::iter::once(&buckets), 3, 10).unwrap();
        assert!(tiny.buckets.len() <= 10, "{}", tiny.buckets.len());
        assert_eq!(tiny.schema, -2);
    }

    #[test]
    fn memory_is_bounded_by_the_powers_of_two_touched() {
        let buckets = NativeBuckets::new(3);
        for nanos in (0..100_000u64).map(|i| 10_000_000 + i * 199_990) {
            buckets.observe(nanos);
        }
        // 10 ms to 20 s: chunks 2^-7 to 2^5, and nothing else.
        let allocated = buckets.chunks.iter().filter(|c| c.get().is_some()).count();
        assert_eq!(allocated, 12);
    }
}
