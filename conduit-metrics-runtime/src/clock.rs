//! The clock that times calls and sessions: one place to choose it, so it can be measured
//! and swapped.
//!
//! `quanta` reads the TSC and scales it (about 13 ns here) where the CPU has an invariant
//! TSC, and falls back to the OS monotonic clock elsewhere; `std::time::Instant` costs a
//! `clock_gettime` call (about 34 ns on the reference VM). Every call reads the clock
//! twice, so this is the largest single share of the hot path.

/// A point in time from the monotonic clock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timestamp(quanta::Instant);

impl Timestamp {
    #[inline]
    pub(crate) fn now() -> Self {
        Timestamp(quanta::Instant::now())
    }

    /// Nanoseconds since this timestamp, saturating (584 years fit in a u64).
    #[inline]
    pub(crate) fn elapsed_nanos(self) -> u64 {
        u64::try_from(self.0.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// Calibrates the clock now rather than inside the first recorded call.
pub(crate) fn calibrate() {
    let _ = quanta::Instant::now();
}
