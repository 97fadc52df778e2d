//! SGD with momentum, dampening, Nesterov and weight decay, as PyTorch 1.13's
//! `_single_tensor_sgd`:
//!
//! ```text
//! g ← -g if maximize;  g ← g + λ·p
//! if μ ≠ 0:  b ← g on the first step, else b ← μ·b + (1-τ)·g
//!            g ← g + μ·b if nesterov, else b
//! p ← p - lr·g
//! ```

use super::{grad_in, grad_ref, lanes, par_chunks, Lane, Simd, FIRST, MAXIMIZE, NESTEROV, P};

#[derive(Clone, Copy, Debug)]
pub struct SgdHp {
    pub lr: f32,
    pub momentum: f32,
    pub dampening: f32,
    /// 1 - τ, computed in double (see `one_minus`)
    pub one_minus_dampening: f32,
    pub weight_decay: f32,
    /// MAXIMIZE | NESTEROV | FIRST (the momentum buffer is initialised with g)
    pub flags: u32,
}

#[inline(always)]
unsafe fn at<V: Lane>(pp: P, gp: P, bp: P, i: usize, h: &SgdHp) {
    let p = V::load(pp.f().add(i));
    let mut d = grad_in(V::load(gp.f().add(i)), p, h.flags & MAXIMIZE != 0, h.weight_decay);
    if h.momentum != 0.0 {
        let b = if h.flags & FIRST != 0 {
            d
        } else {
            V::load(bp.f().add(i)).mul(V::splat(h.momentum)).add(V::splat(h.one_minus_dampening).mul(d))
        };
        b.store(bp.f().add(i));
        d = if h.flags & NESTEROV != 0 { d.add(V::splat(h.momentum).mul(b)) } else { b };
    }
    p.add(V::splat(-h.lr).mul(d)).store(pp.f().add(i));
}

/// The fused step. `buf` (the momentum buffer) is needed when momentum ≠ 0.
pub fn step(p: &mut [f32], g: &[f32], buf: Option<&mut [f32]>, h: &SgdHp) {
    let n = p.len();
    assert!(g.len() == n, "sgd: buffer lengths differ");
    assert!(h.momentum == 0.0 || buf.as_ref().is_some_and(|b| b.len() == n), "sgd: momentum needs a buffer");
    let (pp, gp, bp) = (P::of_mut(p), P::of(g), P::opt(buf));
    let h = *h;
    par_chunks(n, move |s, e| unsafe {
        lanes(s, e, |i| at::<Simd>(pp, gp, bp, i, &h), |i| at::<f32>(pp, gp, bp, i, &h));
    });
}

/// Scalar reference.
pub fn step_ref(p: &mut [f32], g: &[f32], mut buf: Option<&mut [f32]>, h: &SgdHp) {
    for i in 0..p.len() {
        let mut d = grad_ref(g[i], p[i], h.flags & MAXIMIZE != 0, h.weight_decay);
        if h.momentum != 0.0 {
            let b = buf.as_deref_mut().unwrap();
            b[i] = if h.flags & FIRST != 0 { d } else { b[i] * h.momentum + h.one_minus_dampening * d };
            d = if h.flags & NESTEROV != 0 { d + h.momentum * b[i] } else { b[i] };
        }
        p[i] += -h.lr * d;
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
            for flags in [0, FIRST, NESTEROV, MAXIMIZE | NESTEROV | FIRST] {
                for (mom, wd) in [(0.0, 0.0), (0.9, 0.0), (0.8, 0.01)] {
                    let h = SgdHp { lr: 0.05, momentum: mom, dampening: 0.1, one_minus_dampening: one_minus(0.1), weight_decay: wd, flags };
                    let (mut p1, g, mut b1) = (data(n, 1), data(n, 2), data(n, 3));
                    let (mut p2, mut b2) = (p1.clone(), b1.clone());
                    step(&mut p1, &g, Some(&mut b1), &h);
                    step_ref(&mut p2, &g, Some(&mut b2), &h);
                    assert!(max_rel(&p1, &p2) <= 1e-6 && max_rel(&b1, &b2) <= 1e-6, "n={n}");
                }
            }
        }
    }
}
