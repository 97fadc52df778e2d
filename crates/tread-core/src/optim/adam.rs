//! Adam (Kingma & Ba, 2015), with AMSGrad, as PyTorch 1.13's `_single_tensor_adam`:
//!
//! ```text
//! g ← -g if maximize;  g ← g + λ·p            (L2 weight decay; AdamW decays p instead)
//! m ← β1·m + (1-β1)·g
//! v ← β2·v + (1-β2)·g²
//! v̂ ← max(v̂, v) if amsgrad, else v
//! p ← p - (lr/(1-β1ᵗ)) · m / (√v̂/√(1-β2ᵗ) + ε)
//! ```

use super::{grad_in, grad_ref, lanes, par_chunks, Lane, Simd, AMSGRAD, MAXIMIZE, P};

/// One step's constants (computed by the caller from lr, betas and the step count t).
#[derive(Clone, Copy, Debug)]
pub struct AdamHp {
    pub beta1: f32,
    pub beta2: f32,
    /// 1 - β1, computed in double (see `one_minus`)
    pub one_minus_beta1: f32,
    /// 1 - β2, computed in double
    pub one_minus_beta2: f32,
    pub eps: f32,
    /// L2 weight decay added to the gradient (Adam); 0 for AdamW.
    pub weight_decay: f32,
    /// Factor applied to the parameter before the update: 1 - lr·λ for AdamW, 1 for Adam.
    pub decay: f32,
    /// lr / (1 - β1ᵗ)
    pub step_size: f32,
    /// √(1 - β2ᵗ)
    pub bc2_sqrt: f32,
    /// MAXIMIZE | AMSGRAD
    pub flags: u32,
}

#[inline(always)]
unsafe fn at<V: Lane>(pp: P, gp: P, mp: P, vp: P, xp: P, i: usize, h: &AdamHp) {
    let mut p = V::load(pp.f().add(i));
    if h.decay != 1.0 {
        p = p.mul(V::splat(h.decay));
    }
    let g = grad_in(V::load(gp.f().add(i)), p, h.flags & MAXIMIZE != 0, h.weight_decay);
    let m = V::load(mp.f().add(i)).mul(V::splat(h.beta1)).add(V::splat(h.one_minus_beta1).mul(g));
    let v = V::load(vp.f().add(i)).mul(V::splat(h.beta2)).add(V::splat(h.one_minus_beta2).mul(g).mul(g));
    m.store(mp.f().add(i));
    v.store(vp.f().add(i));
    let vv = if h.flags & AMSGRAD != 0 {
        let x = V::load(xp.f().add(i)).max(v);
        x.store(xp.f().add(i));
        x
    } else {
        v
    };
    let denom = vv.sqrt().div(V::splat(h.bc2_sqrt)).add(V::splat(h.eps));
    p.add(V::splat(-h.step_size).mul(m).div(denom)).store(pp.f().add(i));
}

/// The fused step over one parameter tensor (SIMD, threads). `vmax` is needed with AMSGRAD.
pub fn step(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], vmax: Option<&mut [f32]>, h: &AdamHp) {
    let n = p.len();
    assert!(g.len() == n && m.len() == n && v.len() == n, "adam: buffer lengths differ");
    assert!(h.flags & AMSGRAD == 0 || vmax.as_ref().is_some_and(|x| x.len() == n), "adam: amsgrad needs max_exp_avg_sq");
    let (pp, gp, mp, vp, xp) = (P::of_mut(p), P::of(g), P::of_mut(m), P::of_mut(v), P::opt(vmax));
    let h = *h;
    par_chunks(n, move |s, e| unsafe {
        lanes(s, e, |i| at::<Simd>(pp, gp, mp, vp, xp, i, &h), |i| at::<f32>(pp, gp, mp, vp, xp, i, &h));
    });
}

/// Plain scalar reference of `step`.
pub fn step_ref(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], mut vmax: Option<&mut [f32]>, h: &AdamHp) {
    for i in 0..p.len() {
        let mut pi = p[i];
        if h.decay != 1.0 {
            pi *= h.decay;
        }
        let gi = grad_ref(g[i], pi, h.flags & MAXIMIZE != 0, h.weight_decay);
        m[i] = m[i] * h.beta1 + h.one_minus_beta1 * gi;
        v[i] = v[i] * h.beta2 + h.one_minus_beta2 * gi * gi;
        let mut vv = v[i];
        if h.flags & AMSGRAD != 0 {
            let x = vmax.as_deref_mut().unwrap();
            x[i] = Lane::max(x[i], v[i]);
            vv = x[i];
        }
        let denom = vv.sqrt() / h.bc2_sqrt + h.eps;
        p[i] = pi + -h.step_size * m[i] / denom;
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
            for flags in [0, MAXIMIZE, AMSGRAD] {
                for (wd, decay) in [(0.0, 1.0), (0.01, 1.0), (0.0, 0.999)] {
                    let h = AdamHp { beta1: 0.9, beta2: 0.999, one_minus_beta1: one_minus(0.9), one_minus_beta2: one_minus(0.999), eps: 1e-8, weight_decay: wd, decay, step_size: 0.01 / 0.19, bc2_sqrt: 0.0019f32.sqrt(), flags };
                    let (mut p1, g, mut m1, mut v1, mut x1) = (data(n, 1), data(n, 2), data(n, 3), pos(n, 4), pos(n, 5));
                    let (mut p2, mut m2, mut v2, mut x2) = (p1.clone(), m1.clone(), v1.clone(), x1.clone());
                    step(&mut p1, &g, &mut m1, &mut v1, Some(&mut x1), &h);
                    step_ref(&mut p2, &g, &mut m2, &mut v2, Some(&mut x2), &h);
                    for (a, b) in [(&p1, &p2), (&m1, &m2), (&v1, &v2), (&x1, &x2)] {
                        assert!(max_rel(a, b) <= 1e-6, "n={n} flags={flags} {}", max_rel(a, b));
                    }
                }
            }
        }
    }
}
