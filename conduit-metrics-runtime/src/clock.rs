//! The clock that times calls and sessions: one place to choose it, so it can be measured
//! and swapped.

use std::time::Instant;

/// A point in time from the monotonic clock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timestamp(Instant);

impl Timestamp {
    #[inline]
    pub(crate) fn now() -> Self {
        Timestamp(Instant::now())
    }

    /// Nanoseconds since this timestamp, saturating (584 years fit in a u64).
    #[inline]
    pub(crate) fn elapsed_nanos(self) -> u64 {
        u64::try_from(self.0.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}
