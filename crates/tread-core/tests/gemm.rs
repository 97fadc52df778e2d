//! sgemm against sgemm_ref: all transpose forms, odd and round sizes, padded strides,
//! alpha/beta, beta = 0 over NaN, on 1 thread and (with the `threads` feature) on several;
//! and sgemm_ep (bias per column / per row, ReLU) against sgemm_ep_ref, which checks itself
//! against sgemm_ref plus a plain loop.

use tread_core::kernels::gemm::{sgemm, sgemm_ep, sgemm_ep_ref, sgemm_ref, Epilogue};
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

/// sgemm_ep vs sgemm_ep_ref; `bias`: 0 none, 1 per column, 2 per row, 3 both.
#[allow(clippy::too_many_arguments)]
fn check_ep(ta: bool, tb: bool, m: usize, n: usize, k: usize, alpha: f32, beta: f32, pad: usize, bias: u8, relu: bool) {
    let mut rng = Rng(0xD1B54A32D192ED03 ^ (m * 7_000_003 + n * 3001 + k * 7 + bias as usize) as u64);
    let (ar, ac) = if ta { (k, m) } else { (m, k) };
    let (br, bc) = if tb { (n, k) } else { (k, n) };
    let (lda, ldb, ldc) = (ac + pad, bc + 2 * pad, n + 3 * pad);
    let a = rng.vec(ar.max(1) * lda);
    let b = rng.vec(br.max(1) * ldb);
    let c0 = rng.vec(m.max(1) * ldc);
    let colb = rng.vec(n);
    let rowb = rng.vec(m);
    let ep = Epilogue {
        col_bias: (bias & 1 != 0).then_some(&colb[..]),
        row_bias: (bias & 2 != 0).then_some(&rowb[..]),
        relu,
    };
    let mut want = c0.clone();
    let mut got = c0.clone();
    sgemm_ep_ref(ta, tb, m, n, k, alpha, &a, lda, &b, ldb, beta, &mut want, ldc, ep);
    sgemm_ep(ta, tb, m, n, k, alpha, &a, lda, &b, ldb, beta, &mut got, ldc, ep);
    // The reference itself: sgemm_ref, then the epilogue by hand.
    let mut plain = c0.clone();
    sgemm_ref(ta, tb, m, n, k, alpha, &a, lda, &b, ldb, beta, &mut plain, ldc);
    let tol = 1e-5 * (k as f32 + 1.0) * (alpha.abs() + 1.0) + 1e-6;
    let mut negatives = 0;
    for i in 0..m {
        for j in 0..ldc {
            let idx = i * ldc + j;
            if j >= n {
                assert!(got[idx].to_bits() == c0[idx].to_bits(), "padding C[{i}][{j}] changed");
                continue;
            }
            let mut r = plain[idx] as f64;
            if bias & 1 != 0 {
                r += colb[j] as f64;
            }
            if bias & 2 != 0 {
                r += rowb[i] as f64;
            }
            if r < 0.0 {
                negatives += 1;
            }
            if relu && r < 0.0 {
                r = 0.0;
            }
            let w = want[idx];
            assert!((w as f64 - r).abs() <= 1e-5 * (1.0 + r.abs()), "ref C[{i}][{j}] = {w}, by hand {r}");
            let g = got[idx];
            assert!(
                (g - w).abs() <= tol * (1.0 + w.abs()),
                "ta={ta} tb={tb} m={m} n={n} k={k} alpha={alpha} beta={beta} bias={bias} relu={relu}: C[{i}][{j}] = {g}, want {w}"
            );
            if relu {
                assert!(g >= 0.0, "relu left C[{i}][{j}] = {g}");
            }
        }
    }
    // The data straddle zero, so ReLU really clamps something.
    assert!(m * n < 8 || negatives > 0);
}

fn sweep_ep(threads: usize) {
    parallel::set_threads(threads);
    for ta in [false, true] {
        for tb in [false, true] {
            for &(m, n, k) in &[(1, 1, 1), (3, 7, 5), (7, 9, 63), (33, 17, 40), (64, 64, 64), (130, 70, 300), (5, 300, 17), (261, 700, 520)] {
                for bias in 0..4u8 {
                    check_ep(ta, tb, m, n, k, 1.0, 0.0, 0, bias, true);
                    check_ep(ta, tb, m, n, k, -0.5, 2.0, 2, bias, bias == 1);
                }
            }
        }
    }
    parallel::set_threads(1);
}

#[test]
fn sgemm_ep_matches_reference_one_thread() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    sweep_ep(1);
}

#[test]
fn sgemm_ep_matches_reference_threads() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    sweep_ep(2);
    sweep_ep(3);
}

#[test]
fn sgemm_ep_degenerate_and_nan() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    // k = 0: C = act(beta·C + bias).
    let mut c = vec![f32::NAN, 1.0, -4.0, 2.0];
    let ep = Epilogue { col_bias: Some(&[1.0, -3.0]), row_bias: None, relu: true };
    sgemm_ep(false, false, 2, 2, 0, 1.0, &[], 1, &[], 2, 0.0, &mut c, 2, ep);
    assert_eq!(c, vec![1.0, 0.0, 1.0, 0.0]);
    // NaN in the product stays NaN through ReLU (as torch.relu).
    let a = vec![f32::NAN, 1.0];
    let b = vec![1.0, 1.0];
    let mut c = vec![0.0; 1];
    sgemm_ep(false, false, 1, 1, 2, 1.0, &a, 2, &b, 1, 0.0, &mut c, 1, Epilogue { relu: true, ..Default::default() });
    assert!(c[0].is_nan());
}

#[test]
#[should_panic(expected = "column bias")]
fn short_bias_panics() {
    let mut c = vec![0.0; 4];
    let ep = Epilogue { col_bias: Some(&[1.0]), ..Default::default() };
    sgemm_ep(false, false, 2, 2, 2, 1.0, &[1.0; 4], 2, &[1.0; 4], 2, 0.0, &mut c, 2, ep);
}

#[test]
fn macro_kernel_probe_does_the_work_it_is_timed_for() {
    // Ones times ones, accumulated: every element of C is reps · KC (exact in f32), so each
    // repetition ran the full depth over the block.
    use tread_core::kernels::gemm::{macro_kernel_probe, PROBE_FLOPS};
    let k = PROBE_FLOPS / (2 * 128 * 64);
    assert_eq!(k, 256);
    assert_eq!(macro_kernel_probe(0), 0.0);
    assert_eq!(macro_kernel_probe(3), (3 * k) as f32);
}
