//! The only source of randomness in the engine: Xoshiro256++ (rand_xoshiro)
//! seeded from `Scenario::seed`. Nothing else may draw random numbers.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Cloneable so a read-only observer (the diagnosis terminal) can draw from
/// a copy and leave the run's own stream untouched.
#[derive(Clone)]
pub struct SimRng(Xoshiro256PlusPlus);

impl SimRng {
    pub fn seeded(seed: u64) -> Self {
        SimRng(Xoshiro256PlusPlus::seed_from_u64(seed))
    }

    /// Independent stream number `n` of the same seed (`n` jumps of 2^128
    /// draws ahead: the streams never overlap). Stream 0 is `seeded(seed)`.
    pub fn stream(seed: u64, n: u32) -> Self {
        let mut r = Xoshiro256PlusPlus::seed_from_u64(seed);
        for _ in 0..n {
            r.jump();
        }
        SimRng(r)
    }

    /// Uniform integer in `[lo, hi]` (returns `lo` when `hi <= lo`).
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            self.0.random_range(lo..=hi)
        }
    }

    /// True with probability `p` (clamped to [0, 1]).
    pub fn chance(&mut self, p: f64) -> bool {
        if p >= 1.0 {
            true
        } else if p <= 0.0 || p.is_nan() {
            false
        } else {
            self.0.random::<f64>() < p
        }
    }
}
