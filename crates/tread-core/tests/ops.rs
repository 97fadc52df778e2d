//! Element-wise, activation, reduction and softmax kernels against their `*_ref` beside
//! them, on odd and round sizes, on 1 thread and (with the `threads` feature) on several.

use std::sync::Mutex;
use tread_core::kernels::{activation as act, elementwise as ew, reduce, softmax};
use tread_core::parallel;

static LOCK: Mutex<()> = Mutex::new(());

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
    fn vec(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| self.next() * scale).collect()
    }
}

const SIZES: [usize; 9] = [1, 2, 7, 8, 63, 64, 129, 1000, 70_001];

fn close(got: &[f32], want: &[f32], rtol: f32, atol: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        if g.is_nan() && w.is_nan() {
            continue;
        }
        if g == w {
            continue;
        }
        assert!((g - w).abs() <= atol + rtol * w.abs(), "{what}: [{i}] = {g}, want {w}");
    }
}

fn with_threads(f: impl Fn()) {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    for t in [1usize, 2, 3] {
        if t > 1 && !cfg!(feature = "threads") {
            continue;
        }
        parallel::set_threads(t);
        f();
    }
    parallel::set_threads(1);
}

fn contiguous(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![0; shape.len()];
    let mut acc = 1;
    for d in (0..shape.len()).rev() {
        s[d] = acc;
        acc *= shape[d];
    }
    s
}

/// Strides of an operand of shape `small` (right-aligned) broadcast over `shape`.
fn bstrides(shape: &[usize], small: &[usize]) -> Vec<usize> {
    let off = shape.len() - small.len();
    let cs = contiguous(small);
    (0..shape.len())
        .map(|d| if d < off || small[d - off] == 1 { 0 } else { cs[d - off] })
        .collect()
}

#[test]
fn binary_broadcast_matches_reference() {
    with_threads(|| {
        let mut rng = Rng(7);
        let cases: Vec<(Vec<usize>, Vec<usize>, Vec<usize>)> = vec![
            (vec![7], vec![7], vec![7]),
            (vec![129], vec![129], vec![1]),
            (vec![63], vec![1], vec![63]),
            (vec![5, 7], vec![5, 7], vec![7]),
            (vec![129, 63], vec![129, 63], vec![63]),
            (vec![129, 63], vec![63], vec![129, 63]),
            (vec![129, 63], vec![129, 63], vec![129, 1]),
            (vec![129, 63], vec![129, 1], vec![129, 63]),
            (vec![129, 63], vec![129, 1], vec![1, 63]),
            (vec![3, 4, 5], vec![3, 4, 5], vec![4, 1]),
            (vec![3, 4, 5], vec![3, 1, 5], vec![1, 4, 5]),
            (vec![2, 3, 4, 5], vec![2, 1, 4, 1], vec![3, 1, 5]),
            (vec![1, 1], vec![1, 1], vec![1]),
            (vec![512, 300], vec![512, 300], vec![300]),
            (vec![512, 300], vec![512, 300], vec![512, 300]),
            (vec![300, 512], vec![300, 1], vec![300, 512]),
            (vec![64, 33, 40], vec![64, 1, 40], vec![33, 1]),
        ];
        for (shape, sa_shape, sb_shape) in &cases {
            let n: usize = shape.iter().product();
            let a = rng.vec(sa_shape.iter().product(), 2.0);
            let mut b = rng.vec(sb_shape.iter().product(), 2.0);
            b.iter_mut().for_each(|v| *v += 3.0); // away from 0 for div
            let (sa, sb) = (bstrides(shape, sa_shape), bstrides(shape, sb_shape));
            for op in [ew::ADD, ew::SUB, ew::MUL, ew::DIV, ew::MULNEG, ew::SCALE_A] {
                let mut got = vec![f32::NAN; n];
                let mut want = vec![0.0; n];
                ew::binary_bcast(op, 0.5, shape, &a, &sa, &b, &sb, &mut got);
                ew::binary_bcast_ref(op, 0.5, shape, &a, &sa, &b, &sb, &mut want);
                close(&got, &want, 1e-6, 0.0, &format!("op {op} {shape:?} {sa_shape:?} {sb_shape:?}"));
            }
        }
        // Same-shape on all sizes.
        for &n in &SIZES {
            let a = rng.vec(n, 3.0);
            let b = rng.vec(n, 3.0);
            let mut got = vec![0.0; n];
            let mut want = vec![0.0; n];
            ew::binary(ew::MUL, &a, &b, &mut got);
            ew::binary_bcast_ref(ew::MUL, 1.0, &[n], &a, &[1], &b, &[1], &mut want);
            close(&got, &want, 0.0, 0.0, "same-shape mul");
        }
    });
}

#[test]
fn strided_copy_transposes_and_permutes() {
    with_threads(|| {
        let mut rng = Rng(11);
        for &(r, c) in &[(1usize, 1usize), (7, 3), (63, 129), (300, 512)] {
            let x = rng.vec(r * c, 1.0);
            let mut got = vec![0.0; r * c];
            ew::strided_copy(&[c, r], &x, &[1, c], 1.0, &mut got);
            for i in 0..r {
                for j in 0..c {
                    assert_eq!(got[j * r + i], x[i * c + j]);
                }
            }
        }
        let shape = [4usize, 5, 6];
        let x = rng.vec(120, 1.0);
        // permute(2, 0, 1) of a [4, 5, 6] tensor: out shape [6, 4, 5], strides [1, 30, 6].
        let mut got = vec![0.0; 120];
        let mut want = vec![0.0; 120];
        ew::strided_copy(&[6, 4, 5], &x, &[1, 30, 6], 2.0, &mut got);
        ew::strided_copy_ref(&[6, 4, 5], &x, &[1, 30, 6], 2.0, &mut want);
        assert_eq!(got, want);
        let _ = shape;
    });
}

#[test]
fn unary_matches_reference() {
    with_threads(|| {
        let mut rng = Rng(3);
        for &n in &SIZES {
            let x = rng.vec(n, 4.0);
            let pos: Vec<f32> = x.iter().map(|v| v.abs() + 0.1).collect();
            let cases: [(u32, f32, f32, &Vec<f32>, f32); 12] = [
                (ew::EXP, 0.0, 0.0, &x, 2e-7),
                (ew::LOG, 0.0, 0.0, &pos, 1e-7),
                (ew::SQRT, 0.0, 0.0, &pos, 1e-7),
                (ew::ABS, 0.0, 0.0, &x, 0.0),
                (ew::POW, 2.0, 0.0, &x, 1e-7),
                (ew::POW, 3.0, 0.0, &x, 1e-6),
                (ew::POW, 1.7, 0.0, &pos, 1e-6),
                (ew::POW, -0.5, 0.0, &pos, 1e-6),
                (ew::AFFINE, -2.0, 0.5, &x, 0.0),
                (ew::RDIV, 3.0, 0.0, &pos, 1e-7),
                (ew::CLAMP, -1.0, 0.5, &x, 0.0),
                (ew::COPY, 0.0, 0.0, &x, 0.0),
            ];
            for (op, p1, p2, input, tol) in cases {
                let mut got = vec![0.0; n];
                let mut want = vec![0.0; n];
                ew::unary(op, p1, p2, input, &mut got);
                ew::unary_ref(op, p1, p2, input, &mut want);
                close(&got, &want, tol * 2.0, 1e-30, &format!("unary {op} n={n}"));
                let g = rng.vec(n, 1.0);
                let mut dg = vec![0.0; n];
                let mut dw = vec![0.0; n];
                ew::unary_backward(op, p1, p2, input, &want, &g, &mut dg);
                ew::unary_backward_ref(op, p1, p2, input, &want, &g, &mut dw);
                close(&dg, &dw, 1e-5, 1e-30, &format!("unary backward {op} n={n}"));
            }
        }
    });
}

#[test]
fn exp_is_accurate_over_its_range() {
    let mut x = -110.0f32;
    while x < 90.0 {
        let got = act::exp_f32(x);
        let want = (x as f64).exp();
        if want > f32::MAX as f64 {
            assert!(got.is_infinite(), "exp({x}) = {got}, want inf");
        } else if want >= f32::MIN_POSITIVE as f64 {
            assert!(((got as f64 - want) / want).abs() < 3e-7, "exp({x}) = {got}, want {want}");
        } else {
            assert!((got as f64 - want).abs() < 3e-45, "exp({x}) = {got}, want {want} (denormal)");
        }
        x += 0.0137;
    }
    assert!(act::exp_f32(f32::NAN).is_nan());
    assert_eq!(act::exp_f32(f32::NEG_INFINITY), 0.0);
    assert_eq!(act::exp_f32(f32::INFINITY), f32::INFINITY);
    assert_eq!(act::exp_f32(0.0), 1.0);
}

/// Φ (GELU's CDF) against the f64 erfc: relative error below 1e-6 for |x| < 4, and within
/// the x²-growing part that the f32 rounding of x² puts in the tails; exact symmetry
/// `Φ(x) + Φ(-x) = 1` to an ulp of 1; NaN, ±inf and ±0.
#[test]
fn phi_is_accurate() {
    let mut x = -14.0f32;
    let mut worst_mid = 0.0f64;
    while x < 8.0 {
        let want = 0.5 * act::erfc_f64(-(x as f64) / std::f64::consts::SQRT_2);
        let got = act::phi_f32(x) as f64;
        if want > 1e-37 {
            let rel = ((got - want) / want).abs();
            let xx = (x as f64) * (x as f64);
            assert!(rel < 1e-6 + 6e-8 * xx, "phi({x}) = {got}, want {want} (relative error {rel:e})");
            if x.abs() < 4.0 {
                worst_mid = worst_mid.max(rel);
            }
        }
        assert!((act::phi_f32(x) + act::phi_f32(-x) - 1.0).abs() <= f32::EPSILON, "phi({x}) + phi(-{x})");
        x += 0.00731;
    }
    assert!(worst_mid < 1e-6, "{worst_mid:e}");
    assert!(act::phi_f32(f32::NAN).is_nan());
    assert_eq!((act::phi_f32(f32::NEG_INFINITY), act::phi_f32(f32::INFINITY)), (0.0, 1.0));
    assert_eq!((act::phi_f32(0.0), act::phi_f32(-0.0)), (0.5, 0.5));
}

#[test]
fn activations_match_reference() {
    with_threads(|| {
        let mut rng = Rng(5);
        let ops = [
            (act::RELU, 0.0, 0.0),
            (act::LEAKY_RELU, 0.01, 0.0),
            (act::LEAKY_RELU, 0.2, 0.0),
            (act::ELU, 1.0, 0.0),
            (act::ELU, 0.5, 0.0),
            (act::GELU, 0.0, 0.0),
            (act::SILU, 0.0, 0.0),
            (act::SIGMOID, 0.0, 0.0),
            (act::TANH, 0.0, 0.0),
            (act::SOFTPLUS, 1.0, 20.0),
            (act::SOFTPLUS, 2.0, 3.0),
        ];
        for &n in &SIZES {
            let mut x = rng.vec(n, 6.0);
            if n > 10 {
                x[3] = 0.0;
                x[4] = -30.0;
                x[5] = 25.0;
            }
            for &(op, p1, p2) in &ops {
                let mut got = vec![0.0; n];
                let mut want = vec![0.0; n];
                act::forward(op, p1, p2, &x, &mut got);
                act::forward_ref(op, p1, p2, &x, &mut want);
                close(&got, &want, 2e-6, 1e-7, &format!("act {op} n={n}"));
                let g = rng.vec(n, 1.0);
                let mut dg = vec![0.0; n];
                let mut dw = vec![0.0; n];
                act::backward(op, p1, p2, &x, &got, &g, &mut dg);
                act::backward_ref(op, p1, p2, &x, &want, &g, &mut dw);
                close(&dg, &dw, 1e-5, 1e-6, &format!("act backward {op} n={n}"));
            }
        }
    });
}

#[test]
fn axpy_matches_reference() {
    with_threads(|| {
        let mut rng = Rng(9);
        for &n in &SIZES {
            let x = rng.vec(n, 1.0);
            let y0 = rng.vec(n, 1.0);
            let (mut got, mut want) = (y0.clone(), y0);
            ew::axpy(-0.75, &x, &mut got);
            ew::axpy_ref(-0.75, &x, &mut want);
            close(&got, &want, 0.0, 0.0, "axpy");
        }
    });
}

const AXES: [(usize, usize, usize); 12] = [
    (1, 1, 1),
    (1, 7, 1),
    (7, 1, 1),
    (1, 129, 1),
    (63, 129, 1),
    (1, 63, 7),
    (7, 63, 129),
    (129, 7, 63),
    (1, 128, 256),
    (2, 1000, 300),
    (1, 70_001, 1),
    (300, 2, 400),
];

#[test]
fn axis_reductions_match_reference() {
    with_threads(|| {
        let mut rng = Rng(13);
        for &(outer, n, inner) in &AXES {
            let x = rng.vec(outer * n * inner, 1.0);
            let m = outer * inner;
            let (mut got, mut want) = (vec![0.0; m], vec![0.0; m]);
            reduce::sum_axis(&x, outer, n, inner, 1.0 / n as f32, &mut got);
            reduce::sum_axis_ref(&x, outer, n, inner, 1.0 / n as f32, &mut want);
            close(&got, &want, 1e-5, 2e-6, &format!("mean {outer}x{n}x{inner}"));
            let (mut gi, mut wi) = (vec![0; m], vec![0; m]);
            reduce::max_axis(&x, outer, n, inner, &mut got, &mut gi);
            reduce::max_axis_ref(&x, outer, n, inner, &mut want, &mut wi);
            assert_eq!(got, want);
            assert_eq!(gi, wi);
            let g = rng.vec(m, 1.0);
            let mut dx = vec![1.0; x.len()];
            reduce::max_axis_backward(&g, &gi, outer, n, inner, &mut dx);
            assert!((dx.iter().map(|&v| v as f64).sum::<f64>() - g.iter().map(|&v| v as f64).sum::<f64>()).abs() < 1e-3);
        }
        for &n in &SIZES {
            let x = rng.vec(n, 1.0);
            let (g, w) = (reduce::sum_all(&x), reduce::sum_all_ref(&x));
            assert!((g - w).abs() <= 1e-4 * (1.0 + w.abs()), "sum_all n={n}: {g} vs {w}");
        }
        // Ties keep the first index; NaN wins.
        let (mut v, mut i) = ([0.0f32], [0i32]);
        reduce::max_axis(&[1.0, 3.0, 3.0, 2.0], 1, 4, 1, &mut v, &mut i);
        assert_eq!((v[0], i[0]), (3.0, 1));
        reduce::max_axis(&[1.0, f32::NAN, 3.0], 1, 3, 1, &mut v, &mut i);
        assert!(v[0].is_nan() && i[0] == 1);
    });
}

#[test]
fn reduce_to_matches_reference() {
    with_threads(|| {
        let mut rng = Rng(17);
        let cases: Vec<(Vec<usize>, Vec<usize>)> = vec![
            (vec![7], vec![1]),
            (vec![7], vec![7]),
            (vec![128, 256], vec![256]),
            (vec![129, 63], vec![129, 1]),
            (vec![129, 63], vec![1, 1]),
            (vec![3, 4, 5], vec![4, 1]),
            (vec![3, 4, 5], vec![3, 1, 5]),
            (vec![2, 3, 4, 5], vec![3, 1, 5]),
            (vec![2, 3, 4, 5], vec![2, 1, 4, 1]),
            (vec![64, 32, 9, 9], vec![32, 1, 1]),
            (vec![1000, 300], vec![300]),
        ];
        for (shape, small) in &cases {
            let n: usize = shape.iter().product();
            let g = rng.vec(n, 1.0);
            let st = bstrides(shape, small);
            let m: usize = small.iter().product();
            let (mut got, mut want) = (vec![f32::NAN; m], vec![0.0; m]);
            reduce::reduce_to(shape, &g, &st, &mut got);
            reduce::reduce_to_ref(shape, &g, &st, &mut want);
            close(&got, &want, 1e-5, 2e-4, &format!("reduce_to {shape:?} -> {small:?}"));
        }
    });
}

#[test]
fn softmax_matches_reference() {
    with_threads(|| {
        let mut rng = Rng(19);
        for &(outer, n, inner) in &AXES {
            let x = rng.vec(outer * n * inner, 8.0);
            let len = x.len();
            for log in [false, true] {
                let (mut got, mut want) = (vec![0.0; len], vec![0.0; len]);
                softmax::softmax(&x, outer, n, inner, log, &mut got);
                softmax::softmax_ref(&x, outer, n, inner, log, &mut want);
                close(&got, &want, 1e-5, 2e-6, &format!("softmax log={log} {outer}x{n}x{inner}"));
                let g = rng.vec(len, 1.0);
                let (mut dg, mut dw) = (vec![0.0; len], vec![0.0; len]);
                softmax::softmax_backward(&got, &g, outer, n, inner, log, &mut dg);
                softmax::softmax_backward_ref(&want, &g, outer, n, inner, log, &mut dw);
                close(&dg, &dw, 1e-4, 1e-5, &format!("softmax backward log={log} {outer}x{n}x{inner}"));
            }
        }
        // Large logits do not overflow.
        let x = [1000.0f32, 1001.0, 999.0];
        let mut y = [0.0; 3];
        softmax::softmax(&x, 1, 3, 1, false, &mut y);
        assert!((y.iter().sum::<f32>() - 1.0).abs() < 1e-6 && y[1] > y[0]);
        softmax::softmax(&x, 1, 3, 1, true, &mut y);
        assert!(y.iter().all(|v| v.is_finite()));
    });
}
