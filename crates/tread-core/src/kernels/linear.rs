//! Fully connected layer, `y = x·Wᵀ + b` (PyTorch's `Linear`: W is `[out, in]`), on SGEMM.
//!
//! Forward: one GEMM whose epilogue adds the bias (and, for `linear_forward_act` with
//! `relu`, clamps) as each register tile of y is stored, so y is written once and never
//! re-read. (Before: the bias rows were written into y, then a beta = 1 GEMM read them back.)
//! Backward: `dx = dy·W`, `dW = beta·dW + dyᵀ·x` (beta = 1 accumulates straight into an
//! existing gradient), `db = beta·db + Σ_rows dy`.

use crate::kernels::activation::relu_mask;
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

/// Gradients of `linear_forward_act` with `relu`, from the layer's output `y` (the ReLU's
/// mask is `y > 0`; NaN and zero pass no gradient, as `torch.relu`'s backward). One pass masks
/// `dy` into `dz` (scratch, `m × fout`) and sums its columns into `db`; then the two GEMMs of
/// `linear_backward` run on `dz`. The results are bit for bit those of the ReLU's backward
/// followed by `linear_backward` (the same masked values, the same order of sums).
#[allow(clippy::too_many_arguments)]
pub fn linear_relu_backward(
    m: usize,
    fin: usize,
    fout: usize,
    x: &[f32],
    w: &[f32],
    y: &[f32],
    dy: &[f32],
    dz: &mut [f32],
    dx: Option<&mut [f32]>,
    dw: Option<(&mut [f32], f32)>,
    db: Option<(&mut [f32], f32)>,
) {
    let len = m * fout;
    assert!(y.len() >= len && dy.len() >= len && dz.len() >= len, "linear_relu_backward: buffers too short");
    let mut db = db.map(|(d, beta)| {
        let d = &mut d[..fout];
        scale_bias_grad(d, beta);
        d
    });
    let mut acc = vec![0.0f32; if db.is_some() { fout } else { 0 }];
    for ((zb, gb), yb) in dz[..len].chunks_mut(DB_ROWS * fout.max(1)).zip(dy[..len].chunks(DB_ROWS * fout.max(1))).zip(y[..len].chunks(DB_ROWS * fout.max(1))) {
        acc.fill(0.0);
        for ((z, g), v) in zb.chunks_exact_mut(fout.max(1)).zip(gb.chunks_exact(fout.max(1))).zip(yb.chunks_exact(fout.max(1))) {
            relu_mask(v, g, z);
            for (a, z) in acc.iter_mut().zip(z.iter()) {
                *a += *z;
            }
        }
        if let Some(d) = db.as_deref_mut() {
            for (d, a) in d.iter_mut().zip(&acc) {
                *d += *a;
            }
        }
    }
    linear_backward(m, fin, fout, x, w, &dz[..len], dx, dw, None);
}

/// Rows per block of the bias gradient's column sums (each block summed in f32, then added).
const DB_ROWS: usize = 64;

/// `db = beta·db` before the sums are added (beta = 0 overwrites, never reading db).
fn scale_bias_grad(db: &mut [f32], beta: f32) {
    if beta == 0.0 {
        db.fill(0.0);
    } else if beta != 1.0 {
        db.iter_mut().for_each(|v| *v *= beta);
    }
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
        scale_bias_grad(db, beta);
        // Column sums in blocks of rows, each block's sum added in f32 (short runs).
        let mut acc = vec![0.0f32; fout];
        for blk in dy[..m * fout].chunks(DB_ROWS * fout.max(1)) {
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
        let _settings = crate::parallel::test_settings_lock();
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

    /// The fused ReLU + Linear backward against its composition (mask, then
    /// `linear_backward`), bit for bit, with zeros and NaN in y, beta 0 and 1, and parts not
    /// asked for; on 1 and 2 threads.
    #[test]
    fn linear_relu_backward_is_the_composition() {
        let _settings = crate::parallel::test_settings_lock();
        for &(m, fin, fout) in &[(1, 1, 1), (5, 7, 3), (130, 33, 70), (200, 16, 9)] {
            let x: Vec<f32> = (0..m * fin).map(|i| (i as f32 * 0.37).sin()).collect();
            let w: Vec<f32> = (0..fout * fin).map(|i| (i as f32 * 0.71).cos() * 0.2).collect();
            let mut y: Vec<f32> = (0..m * fout).map(|i| (i as f32 * 0.53).sin().max(0.0)).collect();
            y[0] = f32::NAN;
            let dy: Vec<f32> = (0..m * fout).map(|i| (i as f32 * 1.3).cos()).collect();
            for threads in [1, 2] {
                crate::parallel::set_threads(threads);
                for (beta, parts) in [(0.0, [true, true, true]), (1.0, [true, true, true]), (1.0, [false, true, false]), (0.0, [true, false, true])] {
                    let masked: Vec<f32> = dy.iter().zip(&y).map(|(g, v)| if *v > 0.0 { *g } else { 0.0 }).collect();
                    let fresh = |n: usize| (0..n).map(|i| (i as f32 * 0.1).sin()).collect::<Vec<f32>>();
                    let (mut dx1, mut dw1, mut db1) = (fresh(m * fin), fresh(fout * fin), fresh(fout));
                    let (mut dx2, mut dw2, mut db2) = (dx1.clone(), dw1.clone(), db1.clone());
                    linear_backward(m, fin, fout, &x, &w, &masked, parts[0].then_some(&mut dx1[..]), parts[1].then_some((&mut dw1[..], beta)), parts[2].then_some((&mut db1[..], beta)));
                    let mut dz = vec![f32::NAN; m * fout];
                    linear_relu_backward(m, fin, fout, &x, &w, &y, &dy, &mut dz, parts[0].then_some(&mut dx2[..]), parts[1].then_some((&mut dw2[..], beta)), parts[2].then_some((&mut db2[..], beta)));
                    for (a, b) in [(&dx1, &dx2), (&dw1, &dw2), (&db1, &db2), (&masked, &dz)] {
                        assert_eq!(a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), b.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), "m={m} fin={fin} fout={fout} beta={beta} parts={parts:?}");
                    }
                }
            }
            crate::parallel::set_threads(1);
        }
    }
}
