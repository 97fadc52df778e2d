//! NAdam (Dozat, 2016), as PyTorch 1.13's `_single_tensor_nadam`:
//!
//! ```text
//! g ← -g if maximize;  g ← g + λ·p
//! μₜ = β1·(1 - ½·0.96^(t·ψ)),  μₜ₊₁ = β1·(1 - ½·0.96^((t+1)·ψ)),  Πₜ = Π μ₁..μₜ
//! m ← β1·m + (1-β1)·g
//! v ← β2·v + (1-β2)·g²
//! d = √(v / (1-β2ᵗ)) + ε
//! p ← p - lr·(1-μₜ)/(1-Πₜ) · g/d - lr·μₜ₊₁/(1-Πₜ·μₜ₊₁) · m/d
//! ```

use super::{grad_in, grad_ref, lanes, par_chunks, Lane, Simd, MAXIMIZE, P};

#[derive(Clone, Copy, Debug)]
pub struct NadamHp {
    pub beta1: f32,
    pub beta2: f32,
    /// 1 - β1, computed in double (see `one_minus`)
    pub one_minus_beta1: f32,
    /// 1 - β2, computed in double
    pub one_minus_beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
    /// 1 - β2ᵗ
    pub bc2: f32,
    /// -lr·(1-μₜ)/(1-Πₜ)
    pub c_grad: f32,
    /// -lr·μₜ₊₁/(1-Πₜ·μₜ₊₁)
    pub c_avg: f32,
    pub flags: u32,
}

#[inline(always)]
unsafe fn at<V: Lane>(pp: P, gp: P, mp: P, vp: P, i: usize, h: &NadamHp) {
    let p = V::load(pp.f().add(i));
    let g = grad_in(V::load(gp.f().add(i)), p, h.flags & MAXIMIZE != 0, h.weight_decay);
    let m = V::load(mp.f().add(i)).mul(V::splat(h.beta1)).add(V::splat(h.one_minus_beta1).mul(g));
    let v = V::load(vp.f().add(i)).mul(V::splat(h.beta2)).add(V::splat(h.one_minus_beta2).mul(g).mul(g));
    m.store(mp.f().add(i));
    v.store(vp.f().add(i));
    let d = v.div(V::splat(h.bc2)).sqrt().add(V::splat(h.eps));
    let p = p.add(V::splat(h.c_grad).mul(g).div(d));
    p.add(V::splat(h.c_avg).mul(m).div(d)).store(pp.f().add(i));
}

pub fn step(p: &mut [f32], g: &[f32], exp_avg: &mut [f32], exp_avg_sq: &mut [f32], h: &NadamHp) {
    let n = p.len();
    assert!(g.len() == n && exp_avg.len() == n && exp_avg_sq.len() == n, "nadam: buffer lengths differ");
    let (pp, gp, mp, vp) = (P::of_mut(p), P::of(g), P::of_mut(exp_avg), P::of_mut(exp_avg_sq));
    let h = *h;
    par_chunks(n, move |s, e| unsafe {
        lanes(s, e, |i| at::<Simd>(pp, gp, mp, vp, i, &h), |i| at::<f32>(pp, gp, mp, vp, i, &h));
    });
}

pub fn step_ref(p: &mut [f32], g: &[f32], exp_avg: &mut [f32], exp_avg_sq: &mut [f32], h: &NadamHp) {
    for i in 0..p.len() {
        let gi = grad_ref(g[i], p[i], h.flags & MAXIMIZE != 0, h.weight_decay);
        exp_avg[i] = exp_avg[i] * h.beta1 + h.one_minus_beta1 * gi;
        exp_avg_sq[i] = exp_avg_sq[i] * h.beta2 + h.one_minus_beta2 * gi * gi;
        let d = (exp_avg_sq[i] / h.bc2).sqrt() + h.eps;
        let pi = p[i] + h.c_grad * gi / d;
        p[i] = pi + h.c_avg * exp_avg[i] / d;
    }
}

#[cfg(test)]
mod tests {
    use super::super::one_minus;
    use super::super::testutil::*;
    use super::*;

    #[test]
    fn simd_matches_reference() {
        for &n in &LENS {
            let h = NadamHp { beta1: 0.9, beta2: 0.999, one_minus_beta1: one_minus(0.9), one_minus_beta2: one_minus(0.999), eps: 1e-8, weight_decay: 0.01, bc2: 0.002, c_grad: -0.01, c_avg: -0.05, flags: MAXIMIZE };
            let (mut p1, g, mut m1, mut v1) = (data(n, 1), data(n, 2), data(n, 3), pos(n, 4));
            let (mut p2, mut m2, mut v2) = (p1.clone(), m1.clone(), v1.clone());
            step(&mut p1, &g, &mut m1, &mut v1, &h);
            step_ref(&mut p2, &g, &mut m2, &mut v2, &h);
            assert!(max_rel(&p1, &p2) <= 1e-6 && max_rel(&v1, &v2) <= 1e-6);
        }
    }
}
