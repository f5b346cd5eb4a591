//! Randomness for the simulated providers: a small seeded generator (no global state, so
//! a test can make a provider deterministic) and the distributions the profiles use.

use std::time::Duration;

/// SplitMix64: tiny, fast, good enough for simulated latencies and failures.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }

    /// A log-normal latency with the given median and spread (sigma of the log).
    pub fn latency(&mut self, median: Duration, sigma: f64) -> Duration {
        // Box-Muller for a standard normal.
        let u1 = self.unit().max(f64::MIN_POSITIVE);
        let u2 = self.unit();
        let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        median.mul_f64((sigma * normal).exp().min(50.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_center_on_the_median() {
        let mut rng = Rng::new(7);
        let median = Duration::from_millis(100);
        let mut samples: Vec<Duration> = (0..2001).map(|_| rng.latency(median, 0.5)).collect();
        samples.sort();
        let observed = samples[1000].as_secs_f64();
        assert!((0.08..0.12).contains(&observed), "{observed}");
        assert!(rng.below(3) < 3);
    }
}
