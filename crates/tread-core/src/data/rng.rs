//! Counter-based random numbers: a hash of a key, no state. Threads cannot change results.

/// The splitmix64 finalizer: a bijective 64-bit mix with good avalanche.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// The key of one batch for one transform: (seed, epoch, batch index, salt).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchKey {
    base: u64,
}

impl BatchKey {
    pub fn new(seed: u32, epoch: u32, batch: u32, salt: u32) -> Self {
        let a = mix64(((seed as u64) << 32 | epoch as u64).wrapping_add(GOLDEN));
        let b = mix64(a ^ ((batch as u64) << 32 | salt as u64).wrapping_mul(GOLDEN));
        BatchKey { base: b }
    }

    /// 64 random bits for draw `draw` of sample `sample` of the batch.
    #[inline]
    pub fn bits(&self, sample: usize, draw: u32) -> u64 {
        mix64(self.base ^ mix64(((sample as u64) << 32 | draw as u64).wrapping_add(GOLDEN)))
    }

    /// A uniform integer in `0..n` (n >= 1), by multiply-shift on the top 32 bits.
    #[inline]
    pub fn below(&self, sample: usize, draw: u32, n: u32) -> u32 {
        (((self.bits(sample, draw) >> 32) * n as u64) >> 32) as u32
    }

    /// A uniform number in [0, 1) with 53 bits.
    #[inline]
    pub fn uniform(&self, sample: usize, draw: u32) -> f64 {
        (self.bits(sample, draw) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`.
    #[inline]
    pub fn bernoulli(&self, sample: usize, draw: u32, p: f64) -> bool {
        self.uniform(sample, draw) < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_roughly_uniform_and_keys_differ() {
        let k = BatchKey::new(1, 0, 0, 0);
        let mut counts = [0usize; 9];
        for s in 0..90_000 {
            counts[k.below(s, 0, 9) as usize] += 1;
        }
        for &c in &counts {
            assert!((c as f64 - 10_000.0).abs() < 400.0, "{counts:?}");
        }
        assert_ne!(BatchKey::new(1, 0, 0, 0).bits(0, 0), BatchKey::new(2, 0, 0, 0).bits(0, 0));
        assert_ne!(BatchKey::new(1, 0, 0, 0).bits(0, 0), BatchKey::new(1, 1, 0, 0).bits(0, 0));
        assert_ne!(BatchKey::new(1, 0, 0, 0).bits(0, 0), BatchKey::new(1, 0, 1, 0).bits(0, 0));
        assert_ne!(BatchKey::new(1, 0, 0, 0).bits(0, 0), BatchKey::new(1, 0, 0, 1).bits(0, 0));
    }
}
