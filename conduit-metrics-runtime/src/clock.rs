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

/// The wall of time the windowed gauges are computed against. The runtime uses the
/// monotonic clock; tests (yours too) can drive a [`ManualClock`] instead.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> std::time::Instant;
}

/// The monotonic system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> std::time::Instant {
        std::time::Instant::now()
    }
}

/// A clock that only moves when told to, for deterministic tests of the windowed gauges.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use conduit_metrics_runtime::{ManualClock, MetricsConfig, Operation, Registry, Status};
///
/// let clock = Arc::new(ManualClock::new());
/// let config = MetricsConfig::builder()
///     .export_interval(Duration::from_secs(15))
///     .metrics_window(Duration::from_secs(60))
///     .build()?;
/// let registry = Registry::with_clock(&config, clock.clone());
/// registry.start_call(Operation::Tts, "openai").finish(Status::Error);
/// clock.advance(Duration::from_secs(15));
/// registry.tick();
/// assert!(registry.render().contains(r#"conduit_audio_provider_error_rate{provider="openai"} 1"#));
/// # Ok::<(), conduit_metrics_runtime::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct ManualClock {
    start: std::time::Instant,
    offset: std::sync::Mutex<std::time::Duration>,
}

impl ManualClock {
    /// A clock standing at the moment it is created.
    pub fn new() -> Self {
        ManualClock {
            start: std::time::Instant::now(),
            offset: std::sync::Mutex::new(std::time::Duration::ZERO),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: std::time::Duration) {
        *crate::registry::lock(&self.offset) += by;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> std::time::Instant {
        self.start + *crate::registry::lock(&self.offset)
    }
}
