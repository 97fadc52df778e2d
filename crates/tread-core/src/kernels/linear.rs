//! Fully connected layer, `y = x·Wᵀ + b` (PyTorch's `Linear`: W is `[out, in]`), on SGEMM.
//!
//! Forward: the bias rows are written into y, then one GEMM adds `x·Wᵀ` (beta = 1).
//! Backward: `dx = dy·W`, `dW = beta·dW + dyᵀ·x` (beta = 1 accumulates straight into an
//! existing gradient), `db = beta·db + Σ_rows dy`.

use crate::kernels::gemm::sgemm;

/// `y[m, out] = x[m, in]·Wᵀ + b`.
pub fn linear_forward(m: usize, fin: usize, fout: usize, x: &[f32], w: &[f32], b: Option<&[f32]>, y: &mut [f32]) {
    assert!(x.len() >= m * fin && w.len() >= fout * fin && y.len() >= m * fout, "linear: buffers too short");
    let beta = match b {
        Some(b) => {
            for row in y[..m * fout].chunks_exact_mut(fout.max(1)) {
                row.copy_from_slice(&b[..fout]);
            }
            1.0
        }
        None => 0.0,
    };
    sgemm(false, true, m, fout, fin, 1.0, x, fin.max(1), w, fin.max(1), beta, y, fout.max(1));
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
}
