//! Windowed ratios (cache hit ratio, provider error rate, provider uptime) computed off
//! the request path.
//!
//! The hot path only bumps cumulative counters. Every ExportInterval the background task
//! takes a snapshot of those totals, stamped with the time it was taken. A ratio over the
//! window is the difference between the newest snapshot and the baseline: the newest
//! snapshot taken at or before `now - MetricsWindow` (or the first one, while the window
//! is still filling). Snapshots older than the baseline are dropped, so memory is
//! O(providers × sub-intervals) whatever the traffic, and no per-call record is stored.
//! Stamping snapshots with time (rather than counting ticks) keeps the window exact when
//! a tick comes late.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::labels::Operation;

/// Cumulative totals of one provider at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ProviderTotals {
    /// Calls that ran to an end (every status but `cancelled`).
    pub(crate) completed: u64,
    /// Completed calls that did not succeed.
    pub(crate) failed: u64,
    /// Health checks that passed.
    pub(crate) health_passed: u64,
    /// Health checks that failed.
    pub(crate) health_failed: u64,
}

impl ProviderTotals {
    fn since(self, earlier: ProviderTotals) -> ProviderTotals {
        ProviderTotals {
            completed: self.completed.wrapping_sub(earlier.completed),
            failed: self.failed.wrapping_sub(earlier.failed),
            health_passed: self.health_passed.wrapping_sub(earlier.health_passed),
            health_failed: self.health_failed.wrapping_sub(earlier.health_failed),
        }
    }
}

/// Cumulative totals of everything the ratios are computed from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    /// Indexed by the provider's position in the table (stable: entries only append).
    pub(crate) providers: Vec<ProviderTotals>,
    /// (hits, misses) per operation.
    pub(crate) cache: [(u64, u64); Operation::COUNT],
}

impl Totals {
    fn provider(&self, position: usize) -> ProviderTotals {
        self.providers.get(position).copied().unwrap_or_default()
    }
}

/// The ratio gauges' current values; `None` means "no data in the window": the series
/// is not exported rather than exported as a misleading 0 or 1.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Ratios {
    cache_hit_ratio: [Option<f64>; Operation::COUNT],
    /// Indexed like [`Totals::providers`].
    error_rate: Vec<Option<f64>>,
    /// Indexed like [`Totals::providers`].
    uptime: Vec<Option<f64>>,
}

impl Ratios {
    /// Cache hits / lookups of `operation` over the window.
    pub(crate) fn cache_hit_ratio(&self, operation: Operation) -> Option<f64> {
        self.cache_hit_ratio[operation.index()]
    }

    /// Failed / completed calls of the provider at `position` over the window.
    pub(crate) fn error_rate(&self, position: usize) -> Option<f64> {
        self.error_rate.get(position).copied().flatten()
    }

    /// Uptime of the provider at `position` over the window.
    pub(crate) fn uptime(&self, position: usize) -> Option<f64> {
        self.uptime.get(position).copied().flatten()
    }
}

/// Time-stamped snapshots of the totals, from the window's baseline to the newest.
#[derive(Debug)]
pub(crate) struct Window {
    length: Duration,
    /// A snapshot taken closer than this after the one before it (an extra flush) is
    /// replaced by the next one, so the history stays about `length / ExportInterval`
    /// long however often `flush` is called.
    min_spacing: Duration,
    history: VecDeque<(Instant, Totals)>,
}

impl Window {
    /// A window of `length` with sub-intervals of `interval`, starting at `start` from
    /// all-zero totals.
    pub(crate) fn new(length: Duration, interval: Duration, start: Instant) -> Self {
        let mut history = VecDeque::new();
        history.push_back((start, Totals::default()));
        Window {
            length,
            min_spacing: interval / 2,
            history,
        }
    }

    /// Closes a sub-interval with the totals read at `now` and returns the ratios over
    /// `(now - length, now]` (since the start while the window is still filling).
    pub(crate) fn advance(&mut self, now: Instant, totals: Totals) -> Ratios {
        // The newest snapshot was an extra one (taken too soon after the one before it):
        // this one supersedes it, so each sub-interval keeps at most one extra snapshot.
        let newest_is_extra = match (self.history.iter().rev().nth(1), self.history.back()) {
            (Some((before, _)), Some((newest, _))) => {
                newest.saturating_duration_since(*before) < self.min_spacing
            }
            _ => false,
        };
        if newest_is_extra {
            self.history.pop_back();
        }
        self.history.push_back((now, totals));
        if let Some(window_start) = now.checked_sub(self.length) {
            // Keep exactly one snapshot at or before the window start: the baseline.
            while self
                .history
                .get(1)
                .is_some_and(|(taken, _)| *taken <= window_start)
            {
                self.history.pop_front();
            }
        }
        self.ratios()
    }

    fn ratios(&self) -> Ratios {
        let (Some((_, oldest)), Some((_, newest))) = (self.history.front(), self.history.back())
        else {
            return Ratios::default();
        };
        let mut ratios = Ratios::default();
        for (operation, ratio) in ratios.cache_hit_ratio.iter_mut().enumerate() {
            let hits = newest.cache[operation]
                .0
                .wrapping_sub(oldest.cache[operation].0);
            let misses = newest.cache[operation]
                .1
                .wrapping_sub(oldest.cache[operation].1);
            *ratio = ratio_of(hits, hits.wrapping_add(misses));
        }
        for position in 0..newest.providers.len() {
            let delta = newest.provider(position).since(oldest.provider(position));
            ratios
                .error_rate
                .push(ratio_of(delta.failed, delta.completed));
            let checks = delta.health_passed.wrapping_add(delta.health_failed);
            let uptime = if checks > 0 {
                ratio_of(delta.health_passed, checks)
            } else {
                self.uptime_from_calls(position)
            };
            ratios.uptime.push(uptime);
        }
        ratios
    }

    /// Uptime of a provider without health checks: each sub-interval in which it
    /// completed calls counts as up if one of them succeeded, down if none did; silent
    /// sub-intervals do not count.
    fn uptime_from_calls(&self, position: usize) -> Option<f64> {
        let (mut up, mut counted) = (0u64, 0u64);
        for ((_, earlier), (_, later)) in self.history.iter().zip(self.history.iter().skip(1)) {
            let delta = later.provider(position).since(earlier.provider(position));
            if delta.completed > 0 {
                counted += 1;
                if delta.failed < delta.completed {
                    up += 1;
                }
            }
        }
        ratio_of(up, counted)
    }
}

fn ratio_of(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(providers: &[(u64, u64)]) -> Totals {
        Totals {
            providers: providers
                .iter()
                .map(|&(completed, failed)| ProviderTotals {
                    completed,
                    failed,
                    ..ProviderTotals::default()
                })
                .collect(),
            cache: Default::default(),
        }
    }

    /// A window of three 10-second sub-intervals and a function giving tick `n`'s time.
    fn thirty_seconds() -> (Window, impl Fn(u64) -> Instant) {
        let start = Instant::now();
        let at = move |tick: u64| start + Duration::from_secs(10 * tick);
        (
            Window::new(Duration::from_secs(30), Duration::from_secs(10), start),
            at,
        )
    }

    #[test]
    fn failures_age_out_after_exactly_the_window() {
        let (mut window, at) = thirty_seconds();
        // Sub-interval 1: 4 calls, 2 failed.
        assert_eq!(
            window.advance(at(1), totals(&[(4, 2)])).error_rate,
            [Some(0.5)]
        );
        // Sub-intervals 2 and 3: 4 successes each; the failures are still inside.
        assert_eq!(
            window.advance(at(2), totals(&[(8, 2)])).error_rate,
            [Some(0.25)]
        );
        assert_eq!(
            window.advance(at(3), totals(&[(12, 2)])).error_rate,
            [Some(2.0 / 12.0)]
        );
        // Sub-interval 4: the first one leaves the window, and its failures with it.
        assert_eq!(
            window.advance(at(4), totals(&[(16, 2)])).error_rate,
            [Some(0.0)]
        );
        // No calls for three sub-intervals: no data, so no series.
        window.advance(at(5), totals(&[(16, 2)]));
        window.advance(at(6), totals(&[(16, 2)]));
        assert_eq!(window.advance(at(7), totals(&[(16, 2)])).error_rate, [None]);
        assert!(window.history.len() <= 4);
    }

    #[test]
    fn a_late_tick_still_covers_exactly_the_window() {
        let (mut window, at) = thirty_seconds();
        window.advance(at(1), totals(&[(1, 1)]));
        window.advance(at(2), totals(&[(2, 1)]));
        // The tick at 30s never came; at 45s the window is (15s, 45s]: the snapshot at
        // 10s is the baseline, so the failure before it is out.
        let ratios = window.advance(at(4) + Duration::from_secs(5), totals(&[(3, 1)]));
        assert_eq!(ratios.error_rate, [Some(0.0)]);
    }

    #[test]
    fn extra_ticks_do_not_grow_the_history() {
        let (mut window, at) = thirty_seconds();
        window.advance(at(1), totals(&[(1, 1)]));
        // A flush every millisecond for a whole sub-interval.
        for ms in 1..10_000u64 {
            window.advance(at(1) + Duration::from_millis(ms), totals(&[(1 + ms, 1)]));
        }
        assert!(window.history.len() <= 4, "{}", window.history.len());
        let ratios = window.advance(at(2), totals(&[(10_001, 1)]));
        assert_eq!(ratios.error_rate, [Some(1.0 / 10_001.0)]);
    }

    #[test]
    fn uptime_falls_back_to_sub_intervals_with_calls() {
        let start = Instant::now();
        let at = |tick: u64| start + Duration::from_secs(10 * tick);
        let mut window = Window::new(Duration::from_secs(40), Duration::from_secs(10), start);
        window.advance(at(1), totals(&[(2, 2)])); // down: calls, none succeeded
        window.advance(at(2), totals(&[(2, 2)])); // silent: not counted
        window.advance(at(3), totals(&[(5, 4)])); // up: one success among failures
        let ratios = window.advance(at(4), totals(&[(6, 4)])); // up
        assert_eq!(ratios.uptime, [Some(2.0 / 3.0)]);
        // The down sub-interval leaves the window.
        let ratios = window.advance(at(5), totals(&[(6, 4)]));
        assert_eq!(ratios.uptime, [Some(1.0)]);
    }

    #[test]
    fn health_checks_take_precedence_over_calls() {
        let (mut window, at) = thirty_seconds();
        let mut now = totals(&[(10, 10)]);
        now.providers[0].health_passed = 3;
        now.providers[0].health_failed = 1;
        now.cache[1] = (3, 1);
        let ratios = window.advance(at(1), now);
        assert_eq!(ratios.uptime, [Some(0.75)]);
        assert_eq!(ratios.cache_hit_ratio[1], Some(0.75));
        assert_eq!(ratios.cache_hit_ratio[0], None);
    }
}
