//! RAdam (Liu et al., 2020), as PyTorch 1.13's `_single_tensor_radam`:
//!
//! ```text
//! g ← -g if maximize;  g ← g + λ·p
//! m ← β1·m + (1-β1)·g;   v ← β2·v + (1-β2)·g²
//! m̂ = m / (1-β1ᵗ)
//! ρ∞ = 2/(1-β2) - 1;   ρₜ = ρ∞ - 2t·β2ᵗ/(1-β2ᵗ)
//! if ρₜ > 5:  r = √((ρₜ-4)(ρₜ-2)ρ∞ / ((ρ∞-4)(ρ∞-2)ρₜ));  p ← p - m̂·lr·(√(1-β2ᵗ)/(√v + ε))·r
//! else:       p ← p - m̂·lr
//! ```

use super::{grad_in, grad_ref, lanes, par_chunks, Lane, Simd, MAXIMIZE, P};

#[derive(Clone, Copy, Debug)]
pub struct RadamHp {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    /// 1 - β1, computed in double (see `one_minus`)
    pub one_minus_beta1: f32,
    /// 1 - β2, computed in double
    pub one_minus_beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
    /// 1 - β1ᵗ
    pub bc1: f32,
    /// √(1 - β2ᵗ)
    pub bc2_sqrt: f32,
    /// The rectification term r, or 0 when ρₜ <= 5 (un-rectified step).
    pub rect: f32,
    pub flags: u32,
}

#[inline(always)]
unsafe fn at<V: Lane>(pp: P, gp: P, mp: P, vp: P, i: usize, h: &RadamHp) {
    let p = V::load(pp.f().add(i));
    let g = grad_in(V::load(gp.f().add(i)), p, h.flags & MAXIMIZE != 0, h.weight_decay);
    let m = V::load(mp.f().add(i)).mul(V::splat(h.beta1)).add(V::splat(h.one_minus_beta1).mul(g));
    let v = V::load(vp.f().add(i)).mul(V::splat(h.beta2)).add(V::splat(h.one_minus_beta2).mul(g).mul(g));
    m.store(mp.f().add(i));
    v.store(vp.f().add(i));
    let mhat_lr = m.div(V::splat(h.bc1)).mul(V::splat(h.lr));
    let upd = if h.rect > 0.0 {
        let adaptive = V::splat(h.bc2_sqrt).div(v.sqrt().add(V::splat(h.eps)));
        mhat_lr.mul(adaptive).mul(V::splat(h.rect))
    } else {
        mhat_lr
    };
    p.add(V::splat(-1.0).mul(upd)).store(pp.f().add(i));
}

pub fn step(p: &mut [f32], g: &[f32], exp_avg: &mut [f32], exp_avg_sq: &mut [f32], h: &RadamHp) {
    let n = p.len();
    assert!(g.len() == n && exp_avg.len() == n && exp_avg_sq.len() == n, "radam: buffer lengths differ");
    let (pp, gp, mp, vp) = (P::of_mut(p), P::of(g), P::of_mut(exp_avg), P::of_mut(exp_avg_sq));
    let h = *h;
    par_chunks(n, move |s, e| unsafe {
        lanes(s, e, |i| at::<Simd>(pp, gp, mp, vp, i, &h), |i| at::<f32>(pp, gp, mp, vp, i, &h));
    });
}

pub fn step_ref(p: &mut [f32], g: &[f32], exp_avg: &mut [f32], exp_avg_sq: &mut [f32], h: &RadamHp) {
    for i in 0..p.len() {
        let gi = grad_ref(g[i], p[i], h.flags & MAXIMIZE != 0, h.weight_decay);
        exp_avg[i] = exp_avg[i] * h.beta1 + h.one_minus_beta1 * gi;
        exp_avg_sq[i] = exp_avg_sq[i] * h.beta2 + h.one_minus_beta2 * gi * gi;
        let mhat_lr = exp_avg[i] / h.bc1 * h.lr;
        let upd = if h.rect > 0.0 { mhat_lr * (h.bc2_sqrt / (exp_avg_sq[i].sqrt() + h.eps)) * h.rect } else { mhat_lr };
        p[i] += -1.0 * upd;
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
            for rect in [0.0, 0.3] {
                let h = RadamHp { lr: 0.01, beta1: 0.9, beta2: 0.999, one_minus_beta1: one_minus(0.9), one_minus_beta2: one_minus(0.999), eps: 1e-8, weight_decay: 0.0, bc1: 0.2, bc2_sqrt: 0.05, rect, flags: 0 };
                let (mut p1, g, mut m1, mut v1) = (data(n, 1), data(n, 2), data(n, 3), pos(n, 4));
                let (mut p2, mut m2, mut v2) = (p1.clone(), m1.clone(), v1.clone());
                step(&mut p1, &g, &mut m1, &mut v1, &h);
                step_ref(&mut p2, &g, &mut m2, &mut v2, &h);
                assert!(max_rel(&p1, &p2) <= 1e-6, "{}", max_rel(&p1, &p2));
            }
        }
    }
}
