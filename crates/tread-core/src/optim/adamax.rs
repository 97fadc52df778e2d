//! Adamax (Kingma & Ba, 2015, section 7), as PyTorch 1.13's `_single_tensor_adamax`:
//!
//! ```text
//! g ← -g if maximize;  g ← g + λ·p
//! m ← β1·m + (1-β1)·g
//! u ← max(β2·u, |g| + ε)
//! p ← p - (lr/(1-β1ᵗ)) · m / u
//! ```

use super::{grad_in, grad_ref, lanes, par_chunks, Lane, Simd, MAXIMIZE, P};

#[derive(Clone, Copy, Debug)]
pub struct AdamaxHp {
    pub beta1: f32,
    pub beta2: f32,
    /// 1 - β1, computed in double (see `one_minus`)
    pub one_minus_beta1: f32,
    pub eps: f32,
    pub weight_decay: f32,
    /// lr / (1 - β1ᵗ)
    pub clr: f32,
    pub flags: u32,
}

#[inline(always)]
unsafe fn at<V: Lane>(pp: P, gp: P, mp: P, up: P, i: usize, h: &AdamaxHp) {
    let p = V::load(pp.f().add(i));
    let g = grad_in(V::load(gp.f().add(i)), p, h.flags & MAXIMIZE != 0, h.weight_decay);
    let m = V::load(mp.f().add(i)).mul(V::splat(h.beta1)).add(V::splat(h.one_minus_beta1).mul(g));
    m.store(mp.f().add(i));
    let u = V::load(up.f().add(i)).mul(V::splat(h.beta2)).max(g.abs().add(V::splat(h.eps)));
    u.store(up.f().add(i));
    p.add(V::splat(-h.clr).mul(m).div(u)).store(pp.f().add(i));
}

pub fn step(p: &mut [f32], g: &[f32], exp_avg: &mut [f32], exp_inf: &mut [f32], h: &AdamaxHp) {
    let n = p.len();
    assert!(g.len() == n && exp_avg.len() == n && exp_inf.len() == n, "adamax: buffer lengths differ");
    let (pp, gp, mp, up) = (P::of_mut(p), P::of(g), P::of_mut(exp_avg), P::of_mut(exp_inf));
    let h = *h;
    par_chunks(n, move |s, e| unsafe {
        lanes(s, e, |i| at::<Simd>(pp, gp, mp, up, i, &h), |i| at::<f32>(pp, gp, mp, up, i, &h));
    });
}

pub fn step_ref(p: &mut [f32], g: &[f32], exp_avg: &mut [f32], exp_inf: &mut [f32], h: &AdamaxHp) {
    for i in 0..p.len() {
        let gi = grad_ref(g[i], p[i], h.flags & MAXIMIZE != 0, h.weight_decay);
        exp_avg[i] = exp_avg[i] * h.beta1 + h.one_minus_beta1 * gi;
        exp_inf[i] = Lane::max(exp_inf[i] * h.beta2, gi.abs() + h.eps);
        p[i] += -h.clr * exp_avg[i] / exp_inf[i];
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
            let h = AdamaxHp { beta1: 0.9, beta2: 0.999, one_minus_beta1: one_minus(0.9), eps: 1e-8, weight_decay: 0.0, clr: 0.02 / 0.1, flags: 0 };
            let (mut p1, g, mut m1, mut u1) = (data(n, 1), data(n, 2), data(n, 3), pos(n, 4));
            let (mut p2, mut m2, mut u2) = (p1.clone(), m1.clone(), u1.clone());
            step(&mut p1, &g, &mut m1, &mut u1, &h);
            step_ref(&mut p2, &g, &mut m2, &mut u2, &h);
            assert!(max_rel(&p1, &p2) <= 1e-6 && max_rel(&u1, &u2) <= 1e-6);
        }
    }
}
