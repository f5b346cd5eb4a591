//! Exemplars: for each histogram bucket of a series, the latest observation made inside a
//! sampled trace. One slot a bucket (not a stripe), allocated the first time a traced
//! observation comes, so a series without traces costs nothing, and memory is bounded
//! at one exemplar a bucket a series.
//!
//! A slot is a seqlock: a writer makes the sequence odd, writes, makes it even again; a
//! reader retries while it changed. Two writers at once: the second skips (the first's is
//! as recent), so writing never waits.

use std::sync::atomic::{AtomicU64, Ordering, fence};

use crate::trace::TraceRef;

/// One exemplar as read back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Exemplar {
    pub(crate) trace: TraceRef,
    /// The observed value, in the histogram's exported unit (seconds).
    pub(crate) value: f64,
    /// When it was observed, in seconds since the Unix epoch.
    pub(crate) timestamp: f64,
}

/// The exemplar of one bucket.
#[derive(Debug, Default)]
pub(crate) struct ExemplarSlot {
    /// 0: never written; odd: being written.
    sequence: AtomicU64,
    trace_high: AtomicU64,
    trace_low: AtomicU64,
    span: AtomicU64,
    value: AtomicU64,
    timestamp: AtomicU64,
}

impl ExemplarSlot {
    /// Replaces the exemplar, unless another thread is writing it right now.
    #[cfg_attr(not(feature = "opentelemetry"), allow(dead_code))]
    pub(crate) fn write(&self, exemplar: Exemplar) {
        let sequence = self.sequence.load(Ordering::Relaxed);
        if sequence % 2 == 1
            || self
                .sequence
                .compare_exchange(sequence, sequence + 1, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        self.trace_high
            .store((exemplar.trace.trace_id >> 64) as u64, Ordering::Relaxed);
        self.trace_low
            .store(exemplar.trace.trace_id as u64, Ordering::Relaxed);
        self.span.store(exemplar.trace.span_id, Ordering::Relaxed);
        self.value
            .store(exemplar.value.to_bits(), Ordering::Relaxed);
        self.timestamp
            .store(exemplar.timestamp.to_bits(), Ordering::Relaxed);
        self.sequence.store(sequence + 2, Ordering::Release);
    }

    /// The exemplar, if one was ever written.
    pub(crate) fn read(&self) -> Option<Exemplar> {
        for _ in 0..64 {
            let before = self.sequence.load(Ordering::Acquire);
            if before == 0 {
                return None;
            }
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let exemplar = Exemplar {
                trace: TraceRef {
                    trace_id: (u128::from(self.trace_high.load(Ordering::Relaxed)) << 64)
                        | u128::from(self.trace_low.load(Ordering::Relaxed)),
                    span_id: self.span.load(Ordering::Relaxed),
                },
                value: f64::from_bits(self.value.load(Ordering::Relaxed)),
                timestamp: f64::from_bits(self.timestamp.load(Ordering::Relaxed)),
            };
            fence(Ordering::Acquire);
            if self.sequence.load(Ordering::Relaxed) == before {
                return Some(exemplar);
            }
        }
        // A writer kept the slot busy: leave this exemplar out of one scrape.
        None
    }
}

/// Seconds since the Unix epoch now, for an exemplar's timestamp.
#[cfg(feature = "opentelemetry")]
pub(crate) fn wall_clock_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exemplar(n: u64) -> Exemplar {
        Exemplar {
            trace: TraceRef {
                trace_id: (u128::from(n) << 64) | u128::from(n),
                span_id: n,
            },
            value: n as f64,
            timestamp: n as f64,
        }
    }

    #[test]
    fn a_slot_holds_the_latest_exemplar() {
        let slot = ExemplarSlot::default();
        assert_eq!(slot.read(), None);
        slot.write(exemplar(1));
        slot.write(exemplar(2));
        assert_eq!(slot.read(), Some(exemplar(2)));
    }

    #[test]
    fn readers_never_see_a_torn_exemplar() {
        use std::sync::atomic::AtomicBool;
        // The writer keeps writing until the reader has checked enough reads made while
        // it ran, so a writer that finishes before the reader is scheduled (a loaded
        // machine) cannot leave the test with nothing checked.
        let slot = std::sync::Arc::new(ExemplarSlot::default());
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let writer = {
            let (slot, stop) = (slot.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 1;
                while !stop.load(Ordering::Relaxed) {
                    slot.write(exemplar(n));
                    n += 1;
                }
                n
            })
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let (mut seen, mut distinct, mut last) = (0, 0, 0);
        while distinct < 1_000 && std::time::Instant::now() < deadline {
            if let Some(read) = slot.read() {
                // Every field of one exemplar comes from the same write.
                let n = read.trace.span_id;
                assert_eq!(read, exemplar(n));
                seen += 1;
                if n != last {
                    distinct += 1;
                    last = n;
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
        let written = writer.join().unwrap();
        assert!(
            distinct >= 1_000,
            "only {distinct} different exemplars in {seen} reads while {written} were written"
        );
    }
}
