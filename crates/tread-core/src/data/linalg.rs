//! Linear algebra for PCA/ZCA whitening: the covariance of a data matrix, a symmetric
//! eigendecomposition (Householder tridiagonalisation + implicit QL, as in EISPACK's
//! tred2/tql2, in f64), the whitening matrix and its application.
//!
//! Conventions: the data matrix `x` is `n × d` row-major f32; covariance is the population
//! one (divided by n, as the fixtures use); eigenvalues come sorted in decreasing order and
//! eigenvector `k` is row `k` of `vecs` (`vecs[k*d + i]`); its sign is arbitrary.

use crate::kernels::gemm::sgemm;
use crate::parallel::{for_each_task, split_range, threads};

/// Above this many multiply-adds (n·d²) the covariance uses f32 SGEMM on centred blocks of
/// `BLOCK` rows, summing the blocks in f64; below it, plain f64 loops.
const GEMM_MIN: usize = 1 << 24;
const BLOCK: usize = 256;

/// Column means of `x` (n × d), in f64.
pub fn column_means(x: &[f32], n: usize, d: usize) -> Vec<f64> {
    let m = super::stats::channel_moments(x, n, d, 1);
    m.iter().map(|m| m.mean).collect()
}

/// The mean (length d) and the population covariance (d × d, row-major) of the rows of `x`.
pub fn covariance(x: &[f32], n: usize, d: usize) -> (Vec<f64>, Vec<f64>) {
    assert!(x.len() >= n * d, "covariance: input too short");
    let mean = column_means(x, n, d);
    let mut cov = vec![0f64; d * d];
    if n == 0 || d == 0 {
        return (mean, cov);
    }
    if n * d * d < GEMM_MIN {
        let parts = split_range(n, if n * d * d < (1 << 18) { 1 } else { threads() }, 1);
        let partial: Vec<std::sync::Mutex<Vec<f64>>> = parts.iter().map(|_| std::sync::Mutex::new(Vec::new())).collect();
        for_each_task(parts.len(), |t| {
            let (a, b) = parts[t];
            let mut acc = vec![0f64; d * d];
            let mut row = vec![0f64; d];
            for r in a..b {
                for j in 0..d {
                    row[j] = x[r * d + j] as f64 - mean[j];
                }
                for i in 0..d {
                    let ri = row[i];
                    let out = &mut acc[i * d..i * d + d];
                    for j in i..d {
                        out[j] += ri * row[j];
                    }
                }
            }
            *partial[t].lock().unwrap() = acc;
        });
        for p in partial {
            for (c, v) in cov.iter_mut().zip(p.into_inner().unwrap()) {
                *c += v;
            }
        }
    } else {
        let meanf: Vec<f32> = mean.iter().map(|&m| m as f32).collect();
        let mut block = vec![0f32; BLOCK * d];
        let mut prod = vec![0f32; d * d];
        let mut r0 = 0;
        while r0 < n {
            let rows = BLOCK.min(n - r0);
            for r in 0..rows {
                for j in 0..d {
                    block[r * d + j] = x[(r0 + r) * d + j] - meanf[j];
                }
            }
            sgemm(true, false, d, d, rows, 1.0, &block, d, &block, d, 0.0, &mut prod, d);
            for i in 0..d {
                for j in i..d {
                    cov[i * d + j] += prod[i * d + j] as f64;
                }
            }
            r0 += rows;
        }
        // Correct for centring on the f32-rounded mean: Σ(x-m')(x-m')ᵀ = Σ(x-m)(x-m)ᵀ + n·δδᵀ
        // with δ = m - m'; remove the n·δδᵀ term.
        for i in 0..d {
            let di = mean[i] - meanf[i] as f64;
            for j in i..d {
                let dj = mean[j] - meanf[j] as f64;
                cov[i * d + j] -= n as f64 * di * dj;
            }
        }
    }
    for i in 0..d {
        for j in i..d {
            let v = cov[i * d + j] / n as f64;
            cov[i * d + j] = v;
            cov[j * d + i] = v;
        }
    }
    (mean, cov)
}

/// Eigenvalues (decreasing) and eigenvectors (rows) of the symmetric `d × d` matrix `a`.
/// Err when the QL iteration does not converge (it practically always does).
pub fn sym_eigen(a: &[f64], d: usize) -> Result<(Vec<f64>, Vec<f64>), String> {
    assert!(a.len() >= d * d, "sym_eigen: matrix too short");
    if d == 0 {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut v = a[..d * d].to_vec();
    // Use the symmetric part, so a slightly asymmetric input still works.
    for i in 0..d {
        for j in 0..i {
            let s = 0.5 * (v[i * d + j] + v[j * d + i]);
            v[i * d + j] = s;
            v[j * d + i] = s;
        }
    }
    let mut diag = vec![0f64; d];
    let mut e = vec![0f64; d];
    tred2(d, &mut v, &mut diag, &mut e);
    // tql2 rotates columns of V; keep Vᵀ so that each rotation touches two contiguous rows.
    let mut vt = vec![0f64; d * d];
    for i in 0..d {
        for j in 0..d {
            vt[j * d + i] = v[i * d + j];
        }
    }
    tql2(d, &mut vt, &mut diag, &mut e)?;
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&i, &j| diag[j].partial_cmp(&diag[i]).unwrap_or(std::cmp::Ordering::Equal));
    let vals = order.iter().map(|&k| diag[k]).collect();
    let mut vecs = vec![0f64; d * d];
    for (r, &k) in order.iter().enumerate() {
        vecs[r * d..(r + 1) * d].copy_from_slice(&vt[k * d..(k + 1) * d]);
    }
    Ok((vals, vecs))
}

/// Householder reduction of the symmetric matrix in `v` to tridiagonal form (d: diagonal,
/// e: sub-diagonal); `v` becomes the accumulated orthogonal transform. (EISPACK tred2, via JAMA.)
fn tred2(n: usize, v: &mut [f64], d: &mut [f64], e: &mut [f64]) {
    let at = |i: usize, j: usize| i * n + j;
    for j in 0..n {
        d[j] = v[at(n - 1, j)];
    }
    for i in (1..n).rev() {
        let mut scale = 0.0;
        let mut h = 0.0;
        for k in 0..i {
            scale += d[k].abs();
        }
        if scale == 0.0 {
            e[i] = d[i - 1];
            for j in 0..i {
                d[j] = v[at(i - 1, j)];
                v[at(i, j)] = 0.0;
                v[at(j, i)] = 0.0;
            }
        } else {
            for k in 0..i {
                d[k] /= scale;
                h += d[k] * d[k];
            }
            let mut f = d[i - 1];
            let mut g = h.sqrt();
            if f > 0.0 {
                g = -g;
            }
            e[i] = scale * g;
            h -= f * g;
            d[i - 1] = f - g;
            for j in 0..i {
                e[j] = 0.0;
            }
            for j in 0..i {
                f = d[j];
                v[at(j, i)] = f;
                g = e[j] + v[at(j, j)] * f;
                for k in j + 1..i {
                    g += v[at(k, j)] * d[k];
                    e[k] += v[at(k, j)] * f;
                }
                e[j] = g;
            }
            f = 0.0;
            for j in 0..i {
                e[j] /= h;
                f += e[j] * d[j];
            }
            let hh = f / (h + h);
            for j in 0..i {
                e[j] -= hh * d[j];
            }
            for j in 0..i {
                f = d[j];
                g = e[j];
                for k in j..i {
                    v[at(k, j)] -= f * e[k] + g * d[k];
                }
                d[j] = v[at(i - 1, j)];
                v[at(i, j)] = 0.0;
            }
        }
        d[i] = h;
    }
    for i in 0..n - 1 {
        v[at(n - 1, i)] = v[at(i, i)];
        v[at(i, i)] = 1.0;
        let h = d[i + 1];
        if h != 0.0 {
            for k in 0..=i {
                d[k] = v[at(k, i + 1)] / h;
            }
            for j in 0..=i {
                let mut g = 0.0;
                for k in 0..=i {
                    g += v[at(k, i + 1)] * v[at(k, j)];
                }
                for k in 0..=i {
                    v[at(k, j)] -= g * d[k];
                }
            }
        }
        for k in 0..=i {
            v[at(k, i + 1)] = 0.0;
        }
    }
    for j in 0..n {
        d[j] = v[at(n - 1, j)];
        v[at(n - 1, j)] = 0.0;
    }
    v[at(n - 1, n - 1)] = 1.0;
    e[0] = 0.0;
}

/// Implicit QL on the tridiagonal (d, e); `vt` holds Vᵀ (row k = column k of V).
/// (EISPACK tql2, via JAMA.) Afterwards d holds the eigenvalues, row k of vt the vector of d[k].
fn tql2(n: usize, vt: &mut [f64], d: &mut [f64], e: &mut [f64]) -> Result<(), String> {
    for i in 1..n {
        e[i - 1] = e[i];
    }
    e[n - 1] = 0.0;
    let mut f = 0.0f64;
    let mut tst1 = 0.0f64;
    let eps = f64::EPSILON;
    for l in 0..n {
        tst1 = tst1.max(d[l].abs() + e[l].abs());
        let mut m = l;
        while m < n {
            if e[m].abs() <= eps * tst1 {
                break;
            }
            m += 1;
        }
        if m > l {
            let mut iter = 0;
            loop {
                iter += 1;
                if iter > 60 {
                    return Err(format!("eigendecomposition did not converge (eigenvalue {l} of {n})"));
                }
                let mut g = d[l];
                let mut p = (d[l + 1] - g) / (2.0 * e[l]);
                let mut r = p.hypot(1.0);
                if p < 0.0 {
                    r = -r;
                }
                d[l] = e[l] / (p + r);
                d[l + 1] = e[l] * (p + r);
                let dl1 = d[l + 1];
                let mut h = g - d[l];
                for x in d.iter_mut().take(n).skip(l + 2) {
                    *x -= h;
                }
                f += h;
                p = d[m];
                let mut c = 1.0;
                let mut c2 = c;
                let mut c3 = c;
                let el1 = e[l + 1];
                let mut s = 0.0;
                let mut s2 = 0.0;
                for i in (l..m).rev() {
                    c3 = c2;
                    c2 = c;
                    s2 = s;
                    g = c * e[i];
                    h = c * p;
                    r = p.hypot(e[i]);
                    e[i + 1] = s * r;
                    s = e[i] / r;
                    c = p / r;
                    p = c * d[i] - s * g;
                    d[i + 1] = h + s * (c * g + s * d[i]);
                    let (lo, hi) = vt.split_at_mut((i + 1) * n);
                    let ri = &mut lo[i * n..(i + 1) * n];
                    let ri1 = &mut hi[..n];
                    for k in 0..n {
                        let hk = ri1[k];
                        ri1[k] = s * ri[k] + c * hk;
                        ri[k] = c * ri[k] - s * hk;
                    }
                }
                p = -s * s2 * c3 * el1 * e[l] / dl1;
                e[l] = s * p;
                d[l] = c * p;
                if e[l].abs() <= eps * tst1 {
                    break;
                }
            }
        }
        d[l] += f;
        e[l] = 0.0;
    }
    Ok(())
}

/// The `d × k` matrix W with `out = (x - mean) · W`: PCA keeps the first k components and
/// scales each by 1/sqrt(λ + eps); ZCA (k = d) rotates back: W = V·diag(1/sqrt(λ+eps))·Vᵀ.
/// Eigenvalues below zero (rounding on rank-deficient data) count as zero.
pub fn whitening_matrix(vals: &[f64], vecs: &[f64], d: usize, k: usize, eps: f64, zca: bool) -> Vec<f32> {
    let inv: Vec<f64> = vals.iter().map(|&l| 1.0 / (l.max(0.0) + eps).sqrt()).collect();
    if !zca {
        let mut w = vec![0f32; d * k];
        for i in 0..d {
            for j in 0..k {
                w[i * k + j] = (vecs[j * d + i] * inv[j]) as f32;
            }
        }
        return w;
    }
    let mut w = vec![0f32; d * d];
    let parts = split_range(d, if d < 64 { 1 } else { threads() }, 1);
    let out = crate::parallel::SharedMut(w.as_mut_ptr());
    for_each_task(parts.len(), |t| {
        let (a, b) = parts[t];
        let rows = unsafe { out.slice(a * d, (b - a) * d) };
        let mut acc = vec![0f64; d];
        for i in a..b {
            acc.fill(0.0);
            for (kk, &s) in inv.iter().enumerate().take(d) {
                let vi = vecs[kk * d + i] * s;
                let row = &vecs[kk * d..(kk + 1) * d];
                for j in 0..d {
                    acc[j] += vi * row[j];
                }
            }
            for j in 0..d {
                rows[(i - a) * d + j] = acc[j] as f32;
            }
        }
    });
    w
}

/// `out (n × k) = (x - mean) · W` for `x` n × d, centring in blocks then SGEMM.
pub fn whiten_apply(x: &[f32], n: usize, d: usize, mean: &[f64], w: &[f32], k: usize, out: &mut [f32]) {
    assert!(x.len() >= n * d && w.len() >= d * k && out.len() >= n * k && mean.len() >= d, "whiten_apply: buffers too short");
    if n == 0 || k == 0 {
        return;
    }
    const ROWS: usize = 1024;
    let mut block = vec![0f32; ROWS.min(n) * d];
    let mut r0 = 0;
    while r0 < n {
        let rows = ROWS.min(n - r0);
        for r in 0..rows {
            for j in 0..d {
                block[r * d + j] = (x[(r0 + r) * d + j] as f64 - mean[j]) as f32;
            }
        }
        sgemm(false, false, rows, k, d, 1.0, &block, d, w, k, 0.0, &mut out[r0 * k..(r0 + rows) * k], k);
        r0 += rows;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((*seed >> 11) as f64) / ((1u64 << 53) as f64) - 0.5
    }

    #[test]
    fn eigen_decomposes_random_symmetric_matrices() {
        for &d in &[1usize, 2, 3, 7, 40] {
            let mut s = d as u64;
            let mut a = vec![0f64; d * d];
            for i in 0..d {
                for j in 0..=i {
                    let v = lcg(&mut s);
                    a[i * d + j] = v;
                    a[j * d + i] = v;
                }
            }
            let (vals, vecs) = sym_eigen(&a, d).unwrap();
            for k in 0..d {
                if k > 0 {
                    assert!(vals[k] <= vals[k - 1]);
                }
                for i in 0..d {
                    let av: f64 = (0..d).map(|j| a[i * d + j] * vecs[k * d + j]).sum();
                    assert!((av - vals[k] * vecs[k * d + i]).abs() < 1e-12, "d={d}");
                }
                for k2 in 0..d {
                    let dot: f64 = (0..d).map(|i| vecs[k * d + i] * vecs[k2 * d + i]).sum();
                    assert!((dot - if k == k2 { 1.0 } else { 0.0 }).abs() < 1e-12);
                }
            }
        }
        // repeated eigenvalues and a zero matrix
        let (vals, _) = sym_eigen(&[2.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 2.0], 3).unwrap();
        assert_eq!(vals, vec![2.0, 2.0, 2.0]);
        let (vals, _) = sym_eigen(&[0.0; 4], 2).unwrap();
        assert_eq!(vals, vec![0.0, 0.0]);
    }

    #[test]
    fn covariance_paths_agree_and_whitening_whitens() {
        let (n, d) = (3000usize, 24usize);
        let mut s = 5u64;
        let mut x = vec![0f32; n * d];
        for r in 0..n {
            let z: Vec<f64> = (0..d).map(|_| lcg(&mut s)).collect();
            for j in 0..d {
                // correlated columns with offsets
                x[r * d + j] = (z[j] + 0.5 * z[(j + 1) % d] + 0.1 * j as f64 + 3.0) as f32;
            }
        }
        let (mean, cov) = covariance(&x, n, d);
        // the f32 SGEMM path on the same data (forced by a big n·d² in a second layout)
        assert!(n * d * d < GEMM_MIN);
        let mut big = Vec::with_capacity(n * 12 * d);
        for _ in 0..12 {
            big.extend_from_slice(&x);
        }
        let (m2, cov2) = covariance(&big, n * 12, d);
        assert!(n * 12 * d * d >= GEMM_MIN);
        for i in 0..d {
            assert!((mean[i] - m2[i]).abs() < 1e-6);
        }
        for i in 0..d * d {
            assert!((cov[i] - cov2[i]).abs() < 2e-5 * (cov[i].abs() + 1e-2), "{} vs {}", cov[i], cov2[i]);
        }
        let (vals, vecs) = sym_eigen(&cov, d).unwrap();
        for zca in [false, true] {
            let w = whitening_matrix(&vals, &vecs, d, d, 1e-5, zca);
            let mut out = vec![0f32; n * d];
            whiten_apply(&x, n, d, &mean, &w, d, &mut out);
            let (_, c) = covariance(&out, n, d);
            for i in 0..d {
                for j in 0..d {
                    let want = if i == j { 1.0 } else { 0.0 };
                    assert!((c[i * d + j] - want).abs() < 1e-3, "zca={zca} {i},{j}: {}", c[i * d + j]);
                }
            }
        }
    }
}
