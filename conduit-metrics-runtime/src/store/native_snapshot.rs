//! A native histogram as a scrape reads it: the stripes' buckets summed at one schema,
//! the resolution halved (merging bucket pairs, as client_golang does) while a series has
//! more populated buckets than `NativeHistogramMaxBuckets`. Counts only grow, so a
//! series' exported schema never goes back up.

use super::native::{NativeBuckets, NativeCell, merge_equal_keys};
use super::stripes::Striped;
use crate::limits::{MAX_SCHEMA, MIN_SCHEMA};

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
        let lowest_kept = stripes.clone().map(|stripe| stripe.schema()).min()?;
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
            reduce(&mut own, stripe.schema(), target);
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
    use super::super::native::ClassicBounds;
    use super::super::native_index::key_by_definition;
    use super::*;

    static BOUNDS: ClassicBounds = ClassicBounds::new(&[100_000_000, 300_000_000, 1_000_000_000]);

    #[test]
    fn whole_seconds_from_nanoseconds_land_on_their_bound() {
        let buckets = NativeBuckets::new(3, &BOUNDS);
        for nanos in [250_000_000, 500_000_000, 1_000_000_000, 2_000_000_000] {
            buckets.observe(nanos);
        }
        let snapshot = NativeSnapshot::read(std::iter::once(&buckets), 3, 160).unwrap();
        assert_eq!(snapshot.buckets, [(-16, 1), (-8, 1), (0, 1), (8, 1)]);
    }

    #[test]
    fn stripes_add_up_and_zero_has_its_bucket() {
        let stripes = [
            NativeBuckets::new(3, &BOUNDS),
            NativeBuckets::new(3, &BOUNDS),
        ];
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
        let buckets = NativeBuckets::new(3, &BOUNDS);
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
        let buckets = NativeBuckets::new(3, &BOUNDS);
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
}
