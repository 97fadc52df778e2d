//! The sums the normalizations take (GroupNorm/LayerNorm rows, BatchNorm channel runs): a
//! run's Σ in f32 lanes within blocks of `SUM_BLOCK` values, the blocks added in f64.

use crate::lanes::{Lane, Simd};

/// Values a block of f32 lane sums covers before it is added in f64.
const SUM_BLOCK: usize = 4096;

/// `(Σ f(x, y, z).0, Σ f(x, y, z).1)` over the values of three equally long runs (callers
/// with fewer pass one twice): `fv` on four lanes at a time into four accumulators per sum
/// (16 lanes), `fs` (the same terms on one lane) for what is left; lanes added pairwise per
/// block of `SUM_BLOCK` values, blocks added in f64. (Written with `Lane` because the compiler
/// left a plain 16-float accumulator array scalar in wasm, ~7 ns per value.)
#[inline(always)]
pub(super) fn lane_sums(
    x: &[f32],
    y: &[f32],
    z: &[f32],
    fv: impl Fn(Simd, Simd, Simd) -> (Simd, Simd),
    fs: impl Fn(f32, f32, f32) -> (f32, f32),
) -> (f64, f64) {
    let n = x.len();
    assert!(y.len() == n && z.len() == n);
    let (px, py, pz) = (x.as_ptr(), y.as_ptr(), z.as_ptr());
    let (mut t0, mut t1) = (0.0f64, 0.0f64);
    let mut start = 0;
    while start < n {
        let end = (start + SUM_BLOCK).min(n);
        let z4 = Simd::splat(0.0);
        let (mut a, mut b) = ([z4; 4], [z4; 4]);
        let mut i = start;
        // SAFETY: every load is of lanes below `end <= n`.
        unsafe {
            let at = |i: usize| fv(Simd::load(px.add(i)), Simd::load(py.add(i)), Simd::load(pz.add(i)));
            while i + 16 <= end {
                for k in 0..4 {
                    let (u, v) = at(i + 4 * k);
                    a[k] = a[k].add(u);
                    b[k] = b[k].add(v);
                }
                i += 16;
            }
            while i + 4 <= end {
                let (u, v) = at(i);
                a[0] = a[0].add(u);
                b[0] = b[0].add(v);
                i += 4;
            }
        }
        let (mut s0, mut s1) = (a[0].add(a[1]).add(a[2].add(a[3])).hsum(), b[0].add(b[1]).add(b[2].add(b[3])).hsum());
        for j in i..end {
            let (u, v) = fs(x[j], y[j], z[j]);
            s0 += u;
            s1 += v;
        }
        t0 += s0 as f64;
        t1 += s1 as f64;
        start = end;
    }
    (t0, t1)
}

/// `(x - μ)²`, and nothing.
#[inline(always)]
pub(super) fn dev2<V: Lane>(x: V, mu: f32) -> (V, V) {
    let e = x.sub(V::splat(mu));
    (e.mul(e), V::splat(0.0))
}

/// `(g, g·x̂)` with `g = dy·w`, `x̂ = (x - μ)·rstd`: the two sums of a row's input gradient and
/// the two parameter gradients.
#[inline(always)]
pub(super) fn grad_terms<V: Lane>(dy: V, x: V, w: V, mu: f32, rs: f32) -> (V, V) {
    let g = dy.mul(w);
    (g, g.mul(x.sub(V::splat(mu)).mul(V::splat(rs))))
}

