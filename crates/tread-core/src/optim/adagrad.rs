//! Adagrad (Duchi et al., 2011), as PyTorch 1.13's `_single_tensor_adagrad`:
//!
//! ```text
//! g ← -g if maximize;  g ← g + λ·p
//! clr = lr / (1 + (t-1)·lr_decay)
//! s ← s + g²                   (s starts at initial_accumulator_value)
//! p ← p - clr · g / (√s + ε)
//! ```

use super::{grad_in, grad_ref, lanes, par_chunks, Lane, Simd, MAXIMIZE, P};

#[derive(Clone, Copy, Debug)]
pub struct AdagradHp {
    /// lr / (1 + (t-1)·lr_decay)
    pub clr: f32,
    pub eps: f32,
    pub weight_decay: f32,
    pub flags: u32,
}

#[inline(always)]
unsafe fn at<V: Lane>(pp: P, gp: P, sp: P, i: usize, h: &AdagradHp) {
    let p = V::load(pp.f().add(i));
    let g = grad_in(V::load(gp.f().add(i)), p, h.flags & MAXIMIZE != 0, h.weight_decay);
    let s = V::load(sp.f().add(i)).add(g.mul(g));
    s.store(sp.f().add(i));
    let std = s.sqrt().add(V::splat(h.eps));
    p.add(V::splat(-h.clr).mul(g).div(std)).store(pp.f().add(i));
}

pub fn step(p: &mut [f32], g: &[f32], sum: &mut [f32], h: &AdagradHp) {
    let n = p.len();
    assert!(g.len() == n && sum.len() == n, "adagrad: buffer lengths differ");
    let (pp, gp, sp) = (P::of_mut(p), P::of(g), P::of_mut(sum));
    let h = *h;
    par_chunks(n, move |s, e| unsafe {
        lanes(s, e, |i| at::<Simd>(pp, gp, sp, i, &h), |i| at::<f32>(pp, gp, sp, i, &h));
    });
}

pub fn step_ref(p: &mut [f32], g: &[f32], sum: &mut [f32], h: &AdagradHp) {
    for i in 0..p.len() {
        let gi = grad_ref(g[i], p[i], h.flags & MAXIMIZE != 0, h.weight_decay);
        sum[i] += gi * gi;
        p[i] += -h.clr * gi / (sum[i].sqrt() + h.eps);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;

    #[test]
    fn simd_matches_reference() {
        for &n in &LENS {
            for (flags, wd) in [(0, 0.0), (MAXIMIZE, 0.01)] {
                let h = AdagradHp { clr: 0.1, eps: 1e-10, weight_decay: wd, flags };
                let (mut p1, g, mut s1) = (data(n, 1), data(n, 2), pos(n, 3));
                let (mut p2, mut s2) = (p1.clone(), s1.clone());
                step(&mut p1, &g, &mut s1, &h);
                step_ref(&mut p2, &g, &mut s2, &h);
                assert!(max_rel(&p1, &p2) <= 1e-6 && max_rel(&s1, &s2) <= 1e-6);
            }
        }
    }
}
