//! Windowed ratios (cache hit ratio, provider error rate, provider uptime) computed off
//! the request path.
//!
//! The hot path only bumps cumulative counters. Every ExportInterval the background task
//! takes a snapshot of those totals; the window keeps the last `slots + 1` snapshots, and
//! a ratio over the window is the difference between the newest and the oldest. Memory is
//! O(providers × slots) whatever the traffic, and no per-call record is ever stored.

use std::collections::VecDeque;

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
    pub(crate) cache_hit_ratio: [Option<f64>; Operation::COUNT],
    /// Indexed like [`Totals::providers`].
    pub(crate) error_rate: Vec<Option<f64>>,
    /// Indexed like [`Totals::providers`].
    pub(crate) uptime: Vec<Option<f64>>,
}

/// The last `slots + 1` snapshots of the totals.
#[derive(Debug)]
pub(crate) struct Window {
    slots: usize,
    history: VecDeque<Totals>,
}

impl Window {
    /// A window of `slots` sub-intervals, starting from all-zero totals.
    pub(crate) fn new(slots: usize) -> Self {
        let slots = slots.max(1);
        let mut history = VecDeque::with_capacity(slots + 1);
        history.push_back(Totals::default());
        Window { slots, history }
    }

    /// Closes a sub-interval with the totals read now and returns the ratios over the
    /// last `slots` sub-intervals (fewer while the window is still filling).
    pub(crate) fn advance(&mut self, now: Totals) -> Ratios {
        self.history.push_back(now);
        while self.history.len() > self.slots + 1 {
            self.history.pop_front();
        }
        self.ratios()
    }

    fn ratios(&self) -> Ratios {
        let (Some(oldest), Some(newest)) = (self.history.front(), self.history.back()) else {
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
        for (earlier, later) in self.history.iter().zip(self.history.iter().skip(1)) {
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

    #[test]
    fn failures_age_out_after_exactly_the_window() {
        let mut window = Window::new(3);
        // Sub-interval 1: 4 calls, 2 failed.
        assert_eq!(window.advance(totals(&[(4, 2)])).error_rate, [Some(0.5)]);
        // Sub-intervals 2 and 3: 4 successes each; the failures are still inside.
        assert_eq!(window.advance(totals(&[(8, 2)])).error_rate, [Some(0.25)]);
        assert_eq!(
            window.advance(totals(&[(12, 2)])).error_rate,
            [Some(2.0 / 12.0)]
        );
        // Sub-interval 4: the first one leaves the window, and its failures with it.
        assert_eq!(window.advance(totals(&[(16, 2)])).error_rate, [Some(0.0)]);
        // No calls for three sub-intervals: no data, so no series.
        window.advance(totals(&[(16, 2)]));
        window.advance(totals(&[(16, 2)]));
        assert_eq!(window.advance(totals(&[(16, 2)])).error_rate, [None]);
    }

    #[test]
    fn uptime_falls_back_to_sub_intervals_with_calls() {
        let mut window = Window::new(4);
        window.advance(totals(&[(2, 2)])); // down: calls, none succeeded
        window.advance(totals(&[(2, 2)])); // silent: not counted
        window.advance(totals(&[(5, 4)])); // up: one success among failures
        let ratios = window.advance(totals(&[(6, 4)])); // up
        assert_eq!(ratios.uptime, [Some(2.0 / 3.0)]);
    }

    #[test]
    fn health_checks_take_precedence_over_calls() {
        let mut window = Window::new(2);
        let mut now = totals(&[(10, 10)]);
        now.providers[0].health_passed = 3;
        now.providers[0].health_failed = 1;
        now.cache[1] = (3, 1);
        let ratios = window.advance(now);
        assert_eq!(ratios.uptime, [Some(0.75)]);
        assert_eq!(ratios.cache_hit_ratio[1], Some(0.75));
        assert_eq!(ratios.cache_hit_ratio[0], None);
    }
}
