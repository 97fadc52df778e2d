//! sgemm against sgemm_ref: all transpose forms, odd and round sizes, padded strides,
//! alpha/beta, beta = 0 over NaN, on 1 thread and (with the `threads` feature) on several.

use tread_core::kernels::gemm::{sgemm, sgemm_ref};
use tread_core::parallel;
use std::sync::Mutex;

// Tests in this file change the global thread setting; run them one at a time.
static LOCK: Mutex<()> = Mutex::new(());

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
    fn vec(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.next()).collect()
    }
}

#[allow(clippy::too_many_arguments)]
fn check(ta: bool, tb: bool, m: usize, n: usize, k: usize, alpha: f32, beta: f32, pad: usize, nan_c: bool) {
    let mut rng = Rng(0x9E3779B97F4A7C15 ^ (m * 1_000_003 + n * 1009 + k) as u64);
    let (ar, ac) = if ta { (k, m) } else { (m, k) };
    let (br, bc) = if tb { (n, k) } else { (k, n) };
    let (lda, ldb, ldc) = (ac + pad, bc + 2 * pad, n + 3 * pad);
    let a = rng.vec(ar.max(1) * lda);
    let b = rng.vec(br.max(1) * ldb);
    let mut c0 = rng.vec(m.max(1) * ldc);
    if nan_c {
        c0.iter_mut().for_each(|v| *v = f32::NAN);
    }
    let mut want = c0.clone();
    let mut got = c0.clone();
    sgemm_ref(ta, tb, m, n, k, alpha, &a, lda, &b, ldb, beta, &mut want, ldc);
    sgemm(ta, tb, m, n, k, alpha, &a, lda, &b, ldb, beta, &mut got, ldc);
    let tol = 1e-5 * (k as f32 + 1.0) * (alpha.abs() + 1.0) + 1e-6;
    for i in 0..m.max(1) {
        for j in 0..ldc {
            let idx = i * ldc + j;
            if idx >= got.len() {
                continue;
            }
            let (g, w) = (got[idx], want[idx]);
            if i < m && j < n {
                assert!(
                    (g - w).abs() <= tol * (1.0 + w.abs()),
                    "ta={ta} tb={tb} m={m} n={n} k={k} alpha={alpha} beta={beta} pad={pad}: C[{i}][{j}] = {g}, want {w}"
                );
            } else {
                // Outside the m×n window (padding), C must be untouched.
                assert!(g.to_bits() == c0[idx].to_bits(), "padding C[{i}][{j}] changed (m={m} n={n} k={k})");
            }
        }
    }
}

const SIZES: [usize; 7] = [1, 3, 7, 8, 63, 64, 129];

fn sweep(threads: usize) {
    parallel::set_threads(threads);
    for ta in [false, true] {
        for tb in [false, true] {
            for &m in &SIZES {
                for &n in &SIZES {
                    for &k in &[1usize, 7, 63, 129] {
                        check(ta, tb, m, n, k, 1.0, 0.0, 0, false);
                    }
                }
            }
            // Non-square, padded strides, alpha/beta, NaN in C with beta = 0.
            for &(m, n, k) in &[(5, 300, 17), (300, 5, 17), (37, 53, 300), (130, 70, 513), (257, 129, 65), (1, 1000, 3)] {
                check(ta, tb, m, n, k, 1.0, 0.0, 3, false);
                check(ta, tb, m, n, k, -0.5, 2.0, 1, false);
                check(ta, tb, m, n, k, 2.0, 1.0, 0, false);
                check(ta, tb, m, n, k, 1.5, 0.0, 2, true);
            }
            // Large enough to cross KC/MC/NC block edges and to be split across threads.
            check(ta, tb, 261, 2100, 520, 0.75, 0.25, 1, false);
            check(ta, tb, 517, 259, 300, 1.0, 0.0, 0, true);
        }
    }
    parallel::set_threads(1);
}

#[test]
fn sgemm_matches_reference_one_thread() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    sweep(1);
}

#[test]
fn sgemm_matches_reference_threads() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    sweep(2);
    sweep(3);
}

#[test]
fn degenerate_shapes() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    // k = 0: C = beta·C (beta = 0: zeros, even over NaN).
    let mut c = vec![f32::NAN; 6];
    sgemm(false, false, 2, 3, 0, 1.0, &[], 1, &[], 3, 0.0, &mut c, 3);
    assert!(c.iter().all(|&v| v == 0.0));
    let mut c = vec![2.0; 6];
    sgemm(true, true, 2, 3, 0, 1.0, &[], 2, &[], 1, 0.5, &mut c, 3);
    assert!(c.iter().all(|&v| v == 1.0));
    // alpha = 0 with NaN in A: C = beta·C.
    let a = vec![f32::NAN; 4];
    let b = vec![1.0; 4];
    let mut c = vec![3.0; 4];
    sgemm(false, false, 2, 2, 2, 0.0, &a, 2, &b, 2, 1.0, &mut c, 2);
    assert!(c.iter().all(|&v| v == 3.0));
    // m = 0 / n = 0: nothing happens.
    let mut c: Vec<f32> = vec![];
    sgemm(false, false, 0, 0, 5, 1.0, &[], 5, &[], 1, 0.0, &mut c, 1);
}

#[test]
#[should_panic]
fn short_slice_panics() {
    let mut c = vec![0.0; 4];
    sgemm(false, false, 2, 2, 2, 1.0, &[1.0; 3], 2, &[1.0; 4], 2, 0.0, &mut c, 2);
}
