//! Which native bucket a whole number of nanoseconds is in, at schemas 0 to 8: the
//! definition in floating point (`2^((k-1)/2^s) < seconds <= 2^(k/2^s)`), and the integer
//! tables built from it that the hot path reads ([`BucketIndexes`]).

use std::sync::OnceLock;

use crate::limits::MAX_SCHEMA;

/// The chunk of 1 ns (`2^-30 s < 1 ns < 2^-29 s`).
pub(super) const LOWEST_CHUNK: i32 = -30;
/// Chunks from 1 ns up to `u64::MAX` ns (about `2^34.1` s, whose key can round up to the
/// first bucket of chunk 35).
pub(super) const CHUNKS: usize = 66;
/// Schemas 0 to 8 are kept (lower ones are reached when read, by merging).
pub(super) const KEPT_SCHEMAS: usize = MAX_SCHEMA as usize + 1;

const NANOS_PER_SECOND: f64 = 1e9;

/// Bucket indexes by whole nanoseconds at one schema, with no floating point. Each power
/// of two of nanoseconds is cut into `2^(s+1)` equal slots, each narrower than any bucket
/// there, so a slot holds at most one bucket bound: an index is one table read and one
/// compare. Above schema 4 (slot tables past 32 KiB) the bounds of each power of two are
/// searched instead.
#[derive(Debug)]
pub(crate) struct BucketIndexes {
    /// log2 of the slots per power of two, up to schema 4; 0 above.
    slot_bits: u32,
    /// Up to schema 4: `64 << slot_bits` slots, by power of two then slot.
    slots: Box<[Slot]>,
    /// Above schema 4: per power of two, the bucket index of its first nanosecond and the
    /// upper bounds of the buckets that end inside it.
    ranges: Box<[(usize, Box<[u64]>)]>,
}

/// The buckets of one slot: the index of the first, and the largest nanosecond still in
/// it (`u64::MAX` when the next bucket does not start in the slot).
#[derive(Debug, Clone, Copy)]
struct Slot {
    last_nanos: u64,
    first: usize,
}

impl BucketIndexes {
    /// The indexes of `schema` (0 to 8), computed once.
    pub(super) fn of(schema: i8) -> &'static BucketIndexes {
        static INDEXES: [OnceLock<BucketIndexes>; KEPT_SCHEMAS] =
            [const { OnceLock::new() }; KEPT_SCHEMAS];
        INDEXES[schema as usize].get_or_init(|| BucketIndexes::new(schema))
    }

    /// Built from the floating-point definition, so both agree on every nanosecond:
    /// each bound is found by bisection over the (monotonic) definition.
    fn new(schema: i8) -> Self {
        if schema > 4 {
            let ranges = (0..64u32)
                .map(|power| {
                    let low = 1u64 << power;
                    let high = if power == 63 {
                        u64::MAX
                    } else {
                        (low << 1) - 1
                    };
                    let first = index_by_definition(low, schema);
                    let last = index_by_definition(high, schema);
                    let bounds = (first..last)
                        .map(|index| last_nanos_in(index, low, high, schema))
                        .collect();
                    (first, bounds)
                })
                .collect();
            return BucketIndexes {
                slot_bits: 0,
                slots: Box::new([]),
                ranges,
            };
        }
        let slot_bits = schema as u32 + 1;
        let mut slots = vec![
            Slot {
                last_nanos: u64::MAX,
                first: 0,
            };
            64 << slot_bits
        ];
        for power in 0..64u32 {
            if power < slot_bits {
                // Fewer nanoseconds than slots: one value a slot at most.
                for nanos in (1u64 << power)..(1u64 << (power + 1)) {
                    slots[slot_of(nanos, slot_bits)].first = index_by_definition(nanos, schema);
                }
                continue;
            }
            let width = 1u64 << (power - slot_bits);
            for slot in 0..(1u64 << slot_bits) {
                let low = ((1u64 << slot_bits) + slot) * width;
                let high = low + (width - 1);
                let first = index_by_definition(low, schema);
                let last = index_by_definition(high, schema);
                debug_assert!(last - first <= 1, "a slot narrower than any bucket");
                slots[slot_of(low, slot_bits)] = Slot {
                    last_nanos: if last > first {
                        last_nanos_in(first, low, high, schema)
                    } else {
                        u64::MAX
                    },
                    first,
                };
            }
        }
        BucketIndexes {
            slot_bits,
            slots: slots.into(),
            ranges: Box::new([]),
        }
    }

    /// The index of the bucket holding `nanos` (at least 1): its key counted from the
    /// lowest chunk's first bucket.
    #[inline]
    pub(super) fn index(&self, nanos: u64) -> usize {
        if let Some(slot) = self.slots.get(slot_of(nanos, self.slot_bits)) {
            return slot.first + usize::from(nanos > slot.last_nanos);
        }
        let (first, bounds) = &self.ranges[63 - nanos.leading_zeros() as usize];
        first + bounds.partition_point(|&bound| bound < nanos)
    }
}

/// The slot of `nanos` (at least 1): its power of two, then the `slot_bits` bits below
/// its leading one.
#[inline]
fn slot_of(nanos: u64, slot_bits: u32) -> usize {
    let leading = nanos.leading_zeros();
    let below_leading_one = (nanos << leading) << 1;
    let slot = if slot_bits == 0 {
        0
    } else {
        (below_leading_one >> (64 - slot_bits)) as usize
    };
    (((63 - leading) as usize) << slot_bits) | slot
}

/// The largest nanosecond of `low..=high` still in bucket `index`, by bisection.
fn last_nanos_in(index: usize, low: u64, high: u64, schema: i8) -> u64 {
    let (mut inside, mut outside) = (low, high);
    while outside - inside > 1 {
        let middle = inside + (outside - inside) / 2;
        if index_by_definition(middle, schema) <= index {
            inside = middle;
        } else {
            outside = middle;
        }
    }
    inside
}

/// The index of the bucket holding `nanos` (at least 1) at `schema` (0 to 8), by the
/// definition in floating point. Monotonic in `nanos`.
fn index_by_definition(nanos: u64, schema: i8) -> usize {
    // The product is exact enough: 1e-9's representation error (6e-17) is under half an
    // ulp at every power of two, the only bucket bounds a whole number of nanoseconds can
    // equal.
    let key = bucket_key(nanos as f64 * (1.0 / NANOS_PER_SECOND), schema);
    let index = key - (LOWEST_CHUNK << schema);
    // 1 ns and u64::MAX ns are inside the chunks; the clamp only proves it.
    index.clamp(0, ((CHUNKS as i32) << schema) - 1) as usize
}

/// The key of the bucket holding `seconds` (positive, normal) at `schema` (0 to 8).
fn bucket_key(seconds: f64, schema: i8) -> i32 {
    // seconds = frac * 2^exp with frac in [0.5, 1), read from the bits (frexp).
    let bits = seconds.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32 - 1022;
    let frac = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1022u64 << 52));
    if schema == 0 {
        // A power of two is the upper bound of the bucket below.
        return if frac == 0.5 { exp - 1 } else { exp };
    }
    let below = power_of_two_bounds(schema).partition_point(|&bound| bound < frac);
    below as i32 + ((exp - 1) << schema)
}

/// The bucket upper bounds of one power of two at `schema`, scaled into `[0.5, 1)`:
/// `2^(i/2^schema - 1)` for `i` in `0..2^schema`. Computed once per schema.
fn power_of_two_bounds(schema: i8) -> &'static [f64] {
    static BOUNDS: [OnceLock<Box<[f64]>>; KEPT_SCHEMAS] = [const { OnceLock::new() }; KEPT_SCHEMAS];
    let schema = schema.clamp(0, MAX_SCHEMA) as usize;
    BOUNDS[schema].get_or_init(|| {
        let count = 1u32 << schema;
        (0..count)
            .map(|i| (f64::from(i) / f64::from(count) - 1.0).exp2())
            .collect()
    })
}

#[cfg(test)]
/// The bucket `seconds` belongs in by the definition, computed with logarithms.
pub(super) fn key_by_definition(seconds: f64, schema: i8) -> i32 {
    (seconds.log2() * f64::from(1u32 << schema)).ceil() as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_definition_at_every_schema() {
        for schema in 0..=MAX_SCHEMA {
            assert_eq!(power_of_two_bounds(schema).len(), 1 << schema);
            for nanos in [1u64, 7, 999, 12_345, 1_000_000, 43_210_987, 2_718_281_828] {
                let seconds = nanos as f64 * 1e-9;
                assert_eq!(
                    bucket_key(seconds, schema),
                    key_by_definition(seconds, schema),
                    "{seconds} s at schema {schema}"
                );
            }
            // Powers of two are the upper bound of their bucket (inclusive).
            for power in [-3, 0, 1, 5] {
                let seconds = 2f64.powi(power);
                assert_eq!(bucket_key(seconds, schema), power << schema);
            }
        }
    }

    #[test]
    fn integer_indexes_agree_with_the_definition_on_every_nanosecond_tried() {
        for schema in 0..=MAX_SCHEMA {
            let indexes = BucketIndexes::of(schema);
            // Every bucket bound in whole nanoseconds and its neighbours, powers of two
            // of nanoseconds, and a spread of other values.
            let mut values = vec![1u64, 2, 3, u64::MAX, u64::MAX - 1, 1 << 63];
            let bounds = indexes
                .slots
                .iter()
                .map(|slot| slot.last_nanos)
                .chain(indexes.ranges.iter().flat_map(|(_, b)| b.iter().copied()));
            for bound in bounds.filter(|&b| b != u64::MAX) {
                values.extend([bound - 1, bound, bound + 1]);
            }
            let mut x = 0x9E37_79B9_7F4A_7C15u64;
            for _ in 0..20_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                values.push(x >> (x % 64));
            }
            for nanos in values.into_iter().filter(|&n| n > 0) {
                assert_eq!(
                    indexes.index(nanos),
                    index_by_definition(nanos, schema),
                    "{nanos} ns at schema {schema}"
                );
            }
        }
    }
}
