//! Fully connected layer, `y = x·Wᵀ + b` (PyTorch's `Linear`: W is `[out, in]`), on SGEMM.
//!
//! Forward: one GEMM whose epilogue adds the bias (and, for `linear_forward_act` with
//! `relu`, clamps) as each register tile of y is stored, so y is written once and never
//! re-read. (Before: the bias rows were written into y, then a beta = 1 GEMM read them back.)
//! Backward: `dx = dy·W`, `dW = beta·dW + dyᵀ·x` (beta = 1 accumulates straight into an
//! existing gradient), `db = beta·db + Σ_rows dy`.

use crate::kernels::gemm::{sgemm, sgemm_ep, Epilogue};

/// `y[m, out] = x[m, in]·Wᵀ + b`.
pub fn linear_forward(m: usize, fin: usize, fout: usize, x: &[f32], w: &[f32], b: Option<&[f32]>, y: &mut [f32]) {
    linear_forward_act(m, fin, fout, x, w, b, false, y);
}

/// `y[m, out] = x[m, in]·Wᵀ + b`, then ReLU when `relu` (`y < 0 ? 0 : y`, NaN stays NaN):
/// bias and activation fused into the GEMM's epilogue. The ReLU's backward needs only y
/// (its mask is `y > 0`), so the pre-activation is never stored.
#[allow(clippy::too_many_arguments)]
pub fn linear_forward_act(
    m: usize,
    fin: usize,
    fout: usize,
    x: &[f32],
    w: &[f32],
    b: Option<&[f32]>,
    relu: bool,
    y: &mut [f32],
) {
    assert!(x.len() >= m * fin && w.len() >= fout * fin && y.len() >= m * fout, "linear: buffers too short");
    if let Some(b) = b {
        assert!(b.len() >= fout, "linear: bias has {} elements, needs {fout}", b.len());
    }
    let ep = Epilogue { col_bias: b.map(|b| &b[..fout]), row_bias: None, relu };
    sgemm_ep(false, true, m, fout, fin, 1.0, x, fin.max(1), w, fin.max(1), 0.0, y, fout.max(1), ep);
}

/// Gradients of `linear_forward`; each is skipped when not asked for.
#[allow(clippy::too_many_arguments)]
pub fn linear_backward(
    m: usize,
    fin: usize,
    fout: usize,
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    dx: Option<&mut [f32]>,
    dw: Option<(&mut [f32], f32)>,
    db: Option<(&mut [f32], f32)>,
) {
    if let Some(dx) = dx {
        sgemm(false, false, m, fin, fout, 1.0, dy, fout.max(1), w, fin.max(1), 0.0, dx, fin.max(1));
    }
    if let Some((dw, beta)) = dw {
        sgemm(true, false, fout, fin, m, 1.0, dy, fout.max(1), x, fin.max(1), beta, dw, fin.max(1));
    }
    if let Some((db, beta)) = db {
        let db = &mut db[..fout];
        if beta == 0.0 {
            db.fill(0.0);
        } else if beta != 1.0 {
            db.iter_mut().for_each(|v| *v *= beta);
        }
        // Column sums in blocks of rows, each block's sum added in f32 (short runs).
        let mut acc = vec![0.0f32; fout];
        for blk in dy[..m * fout].chunks(64 * fout.max(1)) {
            acc.fill(0.0);
            for row in blk.chunks_exact(fout.max(1)) {
                for (a, v) in acc.iter_mut().zip(row) {
                    *a += *v;
                }
            }
            for (d, a) in db.iter_mut().zip(&acc) {
                *d += *a;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_matches_loops() {
        let (m, fin, fout) = (5, 7, 3);
        let x: Vec<f32> = (0..m * fin).map(|i| (i as f32 * 0.37).sin()).collect();
        let w: Vec<f32> = (0..fout * fin).map(|i| (i as f32 * 0.71).cos()).collect();
        let b = vec![0.5, -1.0, 2.0];
        let mut y = vec![0.0; m * fout];
        linear_forward(m, fin, fout, &x, &w, Some(&b), &mut y);
        for i in 0..m {
            for j in 0..fout {
                let s: f32 = (0..fin).map(|k| x[i * fin + k] * w[j * fin + k]).sum::<f32>() + b[j];
                assert!((y[i * fout + j] - s).abs() < 1e-5);
            }
        }
        let dy: Vec<f32> = (0..m * fout).map(|i| (i as f32 * 1.3).sin()).collect();
        let (mut dx, mut dw, mut db) = (vec![0.0; m * fin], vec![1.0; fout * fin], vec![1.0; fout]);
        linear_backward(m, fin, fout, &x, &w, &dy, Some(&mut dx), Some((&mut dw, 1.0)), Some((&mut db, 0.0)));
        for i in 0..m {
            for k in 0..fin {
                let s: f32 = (0..fout).map(|j| dy[i * fout + j] * w[j * fin + k]).sum();
                assert!((dx[i * fin + k] - s).abs() < 1e-5);
            }
        }
        for j in 0..fout {
            for k in 0..fin {
                let s: f32 = (0..m).map(|i| dy[i * fout + j] * x[i * fin + k]).sum::<f32>() + 1.0;
                assert!((dw[j * fin + k] - s).abs() < 1e-5);
            }
            let s: f32 = (0..m).map(|i| dy[i * fout + j]).sum();
            assert!((db[j] - s).abs() < 1e-5);
        }
    }

    /// The fused forward against loops: bias, ReLU (with negatives present), no bias, fin = 0,
    /// and shapes that cross register-tile and block edges, on 1 and 2 threads.
    #[test]
    fn linear_forward_act_matches_loops() {
        for &(m, fin, fout) in &[(1, 1, 1), (5, 7, 3), (33, 130, 17), (128, 300, 70), (3, 0, 5)] {
            let x: Vec<f32> = (0..m * fin).map(|i| (i as f32 * 0.37).sin()).collect();
            let w: Vec<f32> = (0..fout * fin).map(|i| (i as f32 * 0.71).cos() * 0.2).collect();
            let b: Vec<f32> = (0..fout).map(|j| (j as f32 * 0.9).sin()).collect();
            for threads in [1, 2] {
                crate::parallel::set_threads(threads);
                for (bias, relu) in [(true, true), (true, false), (false, true), (false, false)] {
                    let mut y = vec![f32::NAN; m * fout];
                    linear_forward_act(m, fin, fout, &x, &w, bias.then_some(&b[..]), relu, &mut y);
                    let mut negatives = 0;
                    for i in 0..m {
                        for j in 0..fout {
                            let mut s: f64 = (0..fin).map(|k| x[i * fin + k] as f64 * w[j * fin + k] as f64).sum();
                            if bias {
                                s += b[j] as f64;
                            }
                            negatives += (s < 0.0) as usize;
                            if relu && s < 0.0 {
                                s = 0.0;
                            }
                            let got = y[i * fout + j] as f64;
                            assert!((got - s).abs() < 1e-4 * (1.0 + s.abs()), "m={m} fin={fin} fout={fout} bias={bias} relu={relu}: y[{i}][{j}] = {got}, want {s}");
                        }
                    }
                    assert!(fin == 0 || m * fout < 4 || negatives > 0, "no negative pre-activations: ReLU untested");
                }
            }
            crate::parallel::set_threads(1);
        }
    }
}
