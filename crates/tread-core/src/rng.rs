//! Counter-based random numbers: Philox4x32-10 (Salmon et al., "Parallel random numbers:
//! as easy as 1, 2, 3", SC 2011). Block `b` of a stream seeded by `seed` is
//! `philox(counter = [b_lo, b_hi, 0, 0], key = [seed_lo, seed_hi])`, four 32-bit words.
//! Element `i` of a fill is word `i % 4` of block `i / 4` (normal fills use the block's four
//! words for four Box-Muller variates), so a value depends only on (seed, i): any split of
//! the work over threads gives the same tensor.

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

#[inline(always)]
fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = a as u64 * b as u64;
    ((p >> 32) as u32, p as u32)
}

/// Philox4x32 with 10 rounds.
#[inline]
pub fn philox4x32_10(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut c = ctr;
    let (mut k0, mut k1) = (key[0], key[1]);
    for round in 0..10 {
        if round > 0 {
            k0 = k0.wrapping_add(W0);
            k1 = k1.wrapping_add(W1);
        }
        let (hi0, lo0) = mulhilo(M0, c[0]);
        let (hi1, lo1) = mulhilo(M1, c[2]);
        c = [hi1 ^ c[1] ^ k0, lo1, hi0 ^ c[3] ^ k1, lo0];
    }
    c
}

/// The four words of block `block` of stream `seed`.
#[inline]
pub fn block(seed: u64, block: u64) -> [u32; 4] {
    philox4x32_10([block as u32, (block >> 32) as u32, 0, 0], [seed as u32, (seed >> 32) as u32])
}

/// A uniform in [0, 1) from 32 random bits (24-bit resolution, exact in f32).
#[inline(always)]
pub fn unit_f32(x: u32) -> f32 {
    (x >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// A uniform in (0, 1] from 32 random bits, in f64 (for the logarithm of Box-Muller).
#[inline(always)]
pub fn unit_open0_f64(x: u32) -> f64 {
    (x as f64 + 1.0) * (1.0 / 4_294_967_296.0)
}

/// Four standard normals from one block (Box-Muller on its two pairs of words).
#[inline]
pub fn normals4(w: [u32; 4]) -> [f64; 4] {
    let mut out = [0.0; 4];
    for p in 0..2 {
        let u1 = unit_open0_f64(w[2 * p]);
        let u2 = w[2 * p + 1] as f64 * (1.0 / 4_294_967_296.0);
        let r = (-2.0 * u1.ln()).sqrt();
        let t = std::f64::consts::TAU * u2;
        out[2 * p] = r * t.cos();
        out[2 * p + 1] = r * t.sin();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn philox_known_answers() {
        // Random123's kat_vectors for philox4x32_10.
        assert_eq!(philox4x32_10([0, 0, 0, 0], [0, 0]), [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]);
        assert_eq!(
            philox4x32_10([u32::MAX; 4], [u32::MAX; 2]),
            [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]
        );
        assert_eq!(
            philox4x32_10([0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344], [0xa409_3822, 0x299f_31d0]),
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]
        );
    }

    #[test]
    fn unit_ranges() {
        assert_eq!(unit_f32(0), 0.0);
        assert!(unit_f32(u32::MAX) < 1.0);
        assert!(unit_open0_f64(0) > 0.0);
        assert_eq!(unit_open0_f64(u32::MAX), 1.0);
    }
}
