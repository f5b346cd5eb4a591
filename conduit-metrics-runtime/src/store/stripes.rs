//! Striping of hot counters across cache lines, so threads on different CPUs never write
//! the same cache line when they record into the same series.

use std::ops::Deref;
use std::sync::OnceLock;

use super::exemplars::ExemplarSlot;

/// Aligns a value to 128 bytes: two cache lines, because x86 prefetches lines in pairs.
#[derive(Debug, Default)]
#[repr(align(128))]
struct CachePadded<T>(pub(crate) T);

impl<T> Deref for CachePadded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Number of stripes: the CPU count rounded up to a power of two, at most 64.
fn stripe_count() -> usize {
    static COUNT: OnceLock<usize> = OnceLock::new();
    *COUNT.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .next_power_of_two()
            .min(64)
    })
}

/// The stripe the calling thread should write to now.
///
/// On Linux this is the CPU the thread runs on (glibc reads it from the rseq area, a
/// couple of nanoseconds), so two threads running at the same time use different stripes
/// whatever their number. A migration between reading it and writing only means two
/// CPUs may share a stripe for one update: the atomics keep every count exact.
#[inline]
pub(crate) fn current_stripe() -> usize {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sched_getcpu takes no arguments and touches no memory of ours.
        #[allow(unsafe_code)]
        let cpu = unsafe { libc::sched_getcpu() };
        if cpu >= 0 {
            return cpu as usize;
        }
    }
    thread_stripe()
}

/// Fallback: a stripe fixed per thread, handed out round-robin.
fn thread_stripe() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static STRIPE: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    STRIPE.with(|stripe| *stripe)
}

/// A value replicated once per stripe; writers use their CPU's copy, readers sum them.
/// Beside the stripes, once a traced observation came, the series' exemplar slots: one a
/// histogram bucket, not a stripe (see `exemplars`).
#[derive(Debug)]
pub(crate) struct Striped<T> {
    stripes: Box<[CachePadded<T>]>,
    exemplars: OnceLock<Box<[ExemplarSlot]>>,
}

impl<T: Default> Striped<T> {
    pub(crate) fn new() -> Self {
        Striped {
            stripes: (0..stripe_count())
                .map(|_| CachePadded(T::default()))
                .collect(),
            exemplars: OnceLock::new(),
        }
    }
}

impl<T> Striped<T> {
    /// The copy the calling thread writes to.
    #[inline]
    pub(crate) fn local(&self) -> &T {
        self.at(current_stripe())
    }

    /// The copy for a stripe number from [`current_stripe`] (read once per call and
    /// reused for all of its cells).
    #[inline]
    pub(crate) fn at(&self, stripe: usize) -> &T {
        // The length is a power of two, so masking keeps the index in bounds.
        &self.stripes[stripe & (self.stripes.len() - 1)]
    }

    /// Every copy, for readers that sum them.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> + Clone {
        self.stripes.iter().map(|stripe| &stripe.0)
    }

    /// The series' exemplar slots, `count` of them, allocated on first use.
    #[cfg(feature = "opentelemetry")]
    #[cold]
    pub(crate) fn exemplar_slots(&self, count: usize) -> &[ExemplarSlot] {
        self.exemplars
            .get_or_init(|| (0..count).map(|_| ExemplarSlot::default()).collect())
    }

    /// The series' exemplar slots, if a traced observation ever came.
    pub(crate) fn exemplar_slots_if_any(&self) -> Option<&[ExemplarSlot]> {
        self.exemplars.get().map(|slots| &slots[..])
    }
}

impl<T: Default> Default for Striped<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{CallCells, RealtimeCells, TurnCells};

    /// The per-stripe block sizes that `tests/memory.rs` and the memory figures of docs/performance.md
    /// are computed from.
    #[test]
    fn cell_blocks_have_the_documented_sizes() {
        assert_eq!(std::mem::size_of::<CallCells>(), 344);
        assert_eq!(std::mem::size_of::<CachePadded<CallCells>>(), 384);
        assert_eq!(std::mem::size_of::<CachePadded<RealtimeCells>>(), 256);
        assert_eq!(std::mem::size_of::<CachePadded<TurnCells>>(), 512);
    }
}
