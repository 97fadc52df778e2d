//! Adadelta (Zeiler, 2012), as PyTorch 1.13's `_single_tensor_adadelta`:
//!
//! ```text
//! g ← -g if maximize;  g ← g + λ·p
//! v ← ρ·v + (1-ρ)·g²
//! Δ = √(u + ε) / √(v + ε) · g
//! u ← ρ·u + (1-ρ)·Δ²
//! p ← p - lr·Δ
//! ```

use super::{grad_in, grad_ref, lanes, par_chunks, Lane, Simd, MAXIMIZE, P};

#[derive(Clone, Copy, Debug)]
pub struct AdadeltaHp {
    pub lr: f32,
    pub rho: f32,
    /// 1 - ρ, computed in double (see `one_minus`)
    pub one_minus_rho: f32,
    pub eps: f32,
    pub weight_decay: f32,
    pub flags: u32,
}

#[inline(always)]
unsafe fn at<V: Lane>(pp: P, gp: P, vp: P, up: P, i: usize, h: &AdadeltaHp) {
    let p = V::load(pp.f().add(i));
    let g = grad_in(V::load(gp.f().add(i)), p, h.flags & MAXIMIZE != 0, h.weight_decay);
    let (rho, omr, eps) = (V::splat(h.rho), V::splat(h.one_minus_rho), V::splat(h.eps));
    let v = V::load(vp.f().add(i)).mul(rho).add(omr.mul(g).mul(g));
    v.store(vp.f().add(i));
    let std = v.add(eps).sqrt();
    let u = V::load(up.f().add(i));
    let delta = u.add(eps).sqrt().div(std).mul(g);
    u.mul(rho).add(omr.mul(delta).mul(delta)).store(up.f().add(i));
    p.add(V::splat(-h.lr).mul(delta)).store(pp.f().add(i));
}

pub fn step(p: &mut [f32], g: &[f32], square_avg: &mut [f32], acc_delta: &mut [f32], h: &AdadeltaHp) {
    let n = p.len();
    assert!(g.len() == n && square_avg.len() == n && acc_delta.len() == n, "adadelta: buffer lengths differ");
    let (pp, gp, vp, up) = (P::of_mut(p), P::of(g), P::of_mut(square_avg), P::of_mut(acc_delta));
    let h = *h;
    par_chunks(n, move |s, e| unsafe {
        lanes(s, e, |i| at::<Simd>(pp, gp, vp, up, i, &h), |i| at::<f32>(pp, gp, vp, up, i, &h));
    });
}

pub fn step_ref(p: &mut [f32], g: &[f32], square_avg: &mut [f32], acc_delta: &mut [f32], h: &AdadeltaHp) {
    for i in 0..p.len() {
        let gi = grad_ref(g[i], p[i], h.flags & MAXIMIZE != 0, h.weight_decay);
        square_avg[i] = square_avg[i] * h.rho + h.one_minus_rho * gi * gi;
        let std = (square_avg[i] + h.eps).sqrt();
        let delta = (acc_delta[i] + h.eps).sqrt() / std * gi;
        acc_delta[i] = acc_delta[i] * h.rho + h.one_minus_rho * delta * delta;
        p[i] += -h.lr * delta;
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
            let h = AdadeltaHp { lr: 1.0, rho: 0.9, one_minus_rho: one_minus(0.9), eps: 1e-6, weight_decay: 0.01, flags: 0 };
            let (mut p1, g, mut v1, mut u1) = (data(n, 1), data(n, 2), pos(n, 3), pos(n, 4));
            let (mut p2, mut v2, mut u2) = (p1.clone(), v1.clone(), u1.clone());
            step(&mut p1, &g, &mut v1, &mut u1, &h);
            step_ref(&mut p2, &g, &mut v2, &mut u2, &h);
            assert!(max_rel(&p1, &p2) <= 1e-6 && max_rel(&u1, &u2) <= 1e-6);
        }
    }
}
