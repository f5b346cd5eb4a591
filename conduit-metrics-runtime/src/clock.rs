//! Clocks. Calls and sessions are timed with the TSC through `quanta` (one raw counter
//! read at each end, scaled once); the windowed gauges follow a [`Clock`] that tests can
//! replace with a [`ManualClock`], and so do voice turns on such a registry.
//!
//! Why `quanta`: every call reads the clock twice, and the clock was the largest share of
//! the hot path in the profile. On the reference VM a raw TSC read costs about 13 ns
//! against 34 ns for `std::time::Instant::now()` (a vDSO `clock_gettime`). Where the CPU
//! has no invariant TSC, `quanta` falls back to the OS monotonic clock by itself.

use std::sync::OnceLock;

static CALL_CLOCK: OnceLock<quanta::Clock> = OnceLock::new();

fn call_clock() -> &'static quanta::Clock {
    CALL_CLOCK.get_or_init(quanta::Clock::new)
}

/// A raw reading of the call clock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timestamp(u64);

impl Timestamp {
    #[inline]
    pub(crate) fn now() -> Self {
        Timestamp(call_clock().raw())
    }

    /// Nanoseconds since this timestamp (0 if the counter appears to go backwards, as
    /// two cores' TSCs may by a few cycles).
    #[inline]
    pub(crate) fn elapsed_nanos(self) -> u64 {
        let clock = call_clock();
        clock.delta_as_nanos(self.0, clock.raw())
    }
}

/// The moment of a voice turn's mark, on its registry's [`TurnClock`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TurnStamp(u64);

/// What voice turns are timed with: the call clock (the TSC), or the registry's own
/// [`Clock`] when it was given one ([`ManualClock`] in tests), so stages can be exact.
#[derive(Debug)]
pub(crate) enum TurnClock {
    Tsc,
    Follow {
        clock: std::sync::Arc<dyn Clock>,
        base: std::time::Instant,
    },
}

impl TurnClock {
    /// Follows `clock` from now.
    pub(crate) fn follow(clock: std::sync::Arc<dyn Clock>) -> Self {
        let base = clock.now();
        TurnClock::Follow { clock, base }
    }

    #[inline]
    pub(crate) fn stamp(&self) -> TurnStamp {
        match self {
            TurnClock::Tsc => TurnStamp(call_clock().raw()),
            TurnClock::Follow { clock, base } => {
                let since = clock.now().saturating_duration_since(*base);
                TurnStamp(u64::try_from(since.as_nanos()).unwrap_or(u64::MAX))
            }
        }
    }

    /// Nanoseconds from `from` to `to` (0 if `to` is not later).
    #[inline]
    pub(crate) fn nanos(&self, from: TurnStamp, to: TurnStamp) -> u64 {
        match self {
            TurnClock::Tsc => call_clock().delta_as_nanos(from.0, to.0),
            TurnClock::Follow { .. } => to.0.saturating_sub(from.0),
        }
    }
}

/// Calibrates the call clock now rather than inside the first recorded call.
pub(crate) fn calibrate() {
    let _ = call_clock();
}

/// The time source the windowed gauges are computed against. The runtime uses the
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
/// use conduit_metrics_runtime::{MetricsConfig, Operation, Status};
/// use conduit_metrics_runtime::clock::ManualClock;
/// use conduit_metrics_runtime::registry::Registry;
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
        *crate::sync::lock(&self.offset) += by;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> std::time::Instant {
        self.start + *crate::sync::lock(&self.offset)
    }
}
