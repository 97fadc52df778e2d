//! Winograd F(m×m, 3×3) tile transforms (Lavin & Gray, "Fast Algorithms for Convolutional
//! Neural Networks", 2015), on lanes of four channels (`f32x4.rs`).
//!
//! An `m × m` block of outputs of a 3×3 stride-1 correlation reads an `α × α` input tile
//! (`α = m + 2`) and is `Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`: after the transforms each output
//! block costs `α²` multiplies per (input, output) channel pair instead of `9·m²`. The
//! backward pass uses the adjoints of the same linear maps:
//!
//! - `dM = A dY Aᵀ` (output gradient into the transformed domain),
//! - `dd = B dV Bᵀ` (transformed input gradient back to an input tile, tiles overlapping),
//! - `dg = Gᵀ dU G` (transformed weight gradient back to a 3×3 kernel).
//!
//! Every 2-D transform is two passes of one 1-D transform (columns, then rows). The
//! matrices are constants, so once a 1-D transform is inlined and unrolled its zero and ±1
//! coefficients fold away ([`F4::madd`]).

use super::f32x4::F4;

/// The three matrices of one F(m, 3): `bt` (`α × α`), `g` (`α × 3`), `at` (`m × α`).
pub struct Mats<const A: usize, const M: usize> {
    pub bt: [[f32; A]; A],
    pub g: [[f32; 3]; A],
    pub at: [[f32; A]; M],
}

/// One F(m, 3) as a type, so that its matrices are constants in every function generic
/// over it (a `&Mats` argument would be a runtime pointer inside the thread pool's task
/// closures, and the transforms' coefficients would no longer fold).
pub trait Wino<const A: usize, const M: usize> {
    const MATS: Mats<A, M>;
}

/// F(2×2, 3×3).
pub struct W2;
impl Wino<4, 2> for W2 {
    const MATS: Mats<4, 2> = F2;
}

/// F(4×4, 3×3).
pub struct W4;
impl Wino<6, 4> for W4 {
    const MATS: Mats<6, 4> = F4X4;
}

/// F(2×2, 3×3): 4×4 tiles, 16 products per 4 outputs (2.25x fewer than direct).
pub const F2: Mats<4, 2> = Mats {
    bt: [[1.0, 0.0, -1.0, 0.0], [0.0, 1.0, 1.0, 0.0], [0.0, -1.0, 1.0, 0.0], [0.0, 1.0, 0.0, -1.0]],
    g: [[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]],
    at: [[1.0, 1.0, 1.0, 0.0], [0.0, 1.0, -1.0, -1.0]],
};

/// F(4×4, 3×3): 6×6 tiles, 36 products per 16 outputs (4x fewer than direct), points
/// 0, ±1, ±2, ∞.
pub const F4X4: Mats<6, 4> = Mats {
    bt: [
        [4.0, 0.0, -5.0, 0.0, 1.0, 0.0],
        [0.0, -4.0, -4.0, 1.0, 1.0, 0.0],
        [0.0, 4.0, -4.0, -1.0, 1.0, 0.0],
        [0.0, -2.0, -1.0, 2.0, 1.0, 0.0],
        [0.0, 2.0, -1.0, -2.0, 1.0, 0.0],
        [0.0, 4.0, 0.0, -5.0, 0.0, 1.0],
    ],
    g: [
        [1.0 / 4.0, 0.0, 0.0],
        [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
        [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
        [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
        [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
        [0.0, 0.0, 1.0],
    ],
    at: [
        [1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
        [0.0, 1.0, -1.0, 2.0, -2.0, 0.0],
        [0.0, 1.0, 1.0, 4.0, 4.0, 0.0],
        [0.0, 1.0, -1.0, 8.0, -8.0, 1.0],
    ],
};

/// `out[r] = Σ_k mat[r][k] · x[k]` (`R × K` matrix).
#[inline(always)]
fn apply<const R: usize, const K: usize>(mat: &[[f32; K]; R], x: &[F4; K]) -> [F4; R] {
    let mut out = [F4::zero(); R];
    for r in 0..R {
        let mut acc = F4::zero();
        for k in 0..K {
            acc = acc.madd(mat[r][k], x[k]);
        }
        out[r] = acc;
    }
    out
}

/// `out[r] = Σ_k mat[k][r] · x[k]` (the transpose of a `K × R` matrix).
#[inline(always)]
fn apply_t<const R: usize, const K: usize>(mat: &[[f32; R]; K], x: &[F4; K]) -> [F4; R] {
    let mut out = [F4::zero(); R];
    for r in 0..R {
        let mut acc = F4::zero();
        for k in 0..K {
            acc = acc.madd(mat[k][r], x[k]);
        }
        out[r] = acc;
    }
    out
}

/// `P X Qᵀ` for a square tile `x` (`K × K`) with `P = Q = mat` (`R × K`): columns, then rows.
#[inline(always)]
fn two_pass<const R: usize, const K: usize>(mat: &[[f32; K]; R], x: &[[F4; K]; K]) -> [[F4; R]; R] {
    // cols[j] = mat · (column j of x), i.e. t[r][j].
    let mut t = [[F4::zero(); K]; R];
    for j in 0..K {
        let col: [F4; K] = std::array::from_fn(|i| x[i][j]);
        let c = apply(mat, &col);
        for r in 0..R {
            t[r][j] = c[r];
        }
    }
    std::array::from_fn(|r| apply(mat, &t[r]))
}

/// `Pᵀ X P` for a square tile `x` (`K × K`) with `P = mat` (`K × R`).
#[inline(always)]
fn two_pass_t<const R: usize, const K: usize>(mat: &[[f32; R]; K], x: &[[F4; K]; K]) -> [[F4; R]; R] {
    let mut t = [[F4::zero(); K]; R];
    for j in 0..K {
        let col: [F4; K] = std::array::from_fn(|i| x[i][j]);
        let c = apply_t(mat, &col);
        for r in 0..R {
            t[r][j] = c[r];
        }
    }
    std::array::from_fn(|r| apply_t(mat, &t[r]))
}

/// Input tile to the transformed domain: `V = Bᵀ d B`.
#[inline(always)]
pub fn input<W: Wino<A, M>, const A: usize, const M: usize>(d: &[[F4; A]; A]) -> [[F4; A]; A] {
    two_pass(&W::MATS.bt, d)
}

/// Products back to an output block: `Y = Aᵀ M A`.
#[inline(always)]
pub fn output<W: Wino<A, M>, const A: usize, const M: usize>(x: &[[F4; A]; A]) -> [[F4; M]; M] {
    two_pass(&W::MATS.at, x)
}

/// Output-block gradient to the transformed domain: `dM = A dY Aᵀ`.
#[inline(always)]
pub fn output_adjoint<W: Wino<A, M>, const A: usize, const M: usize>(dy: &[[F4; M]; M]) -> [[F4; A]; A] {
    two_pass_t(&W::MATS.at, dy)
}

/// Transformed input gradient back to an input tile: `dd = B dV Bᵀ`.
#[inline(always)]
pub fn input_adjoint<W: Wino<A, M>, const A: usize, const M: usize>(dv: &[[F4; A]; A]) -> [[F4; A]; A] {
    two_pass_t(&W::MATS.bt, dv)
}

/// A 3×3 kernel to the transformed domain, scalar (once per call): `U = G g Gᵀ`.
pub fn kernel<const A: usize, const M: usize>(m: &Mats<A, M>, g: &[f32; 9]) -> [[f32; A]; A] {
    let mut t = [[0.0f32; 3]; A];
    for p in 0..A {
        for j in 0..3 {
            t[p][j] = (0..3).map(|i| m.g[p][i] * g[i * 3 + j]).sum();
        }
    }
    std::array::from_fn(|p| std::array::from_fn(|q| (0..3).map(|j| t[p][j] * m.g[q][j]).sum()))
}

/// Transformed kernel gradient back to a 3×3 kernel, scalar: `dg = Gᵀ dU G`.
pub fn kernel_adjoint<const A: usize, const M: usize>(m: &Mats<A, M>, du: &[[f32; A]; A]) -> [f32; 9] {
    let mut t = [[0.0f32; A]; 3];
    for i in 0..3 {
        for q in 0..A {
            t[i][q] = (0..A).map(|p| m.g[p][i] * du[p][q]).sum();
        }
    }
    std::array::from_fn(|k| (0..A).map(|q| t[k / 3][q] * m.g[q][k % 3]).sum())
}
