//! RMSprop (Hinton, lecture 6e), as PyTorch 1.13's `_single_tensor_rmsprop`:
//!
//! ```text
//! g ← -g if maximize;  g ← g + λ·p
//! v ← α·v + (1-α)·g²
//! if centered: ḡ ← α·ḡ + (1-α)·g;  d = √(v - ḡ²) + ε   else d = √v + ε
//! if μ > 0: b ← μ·b + g/d;  p ← p - lr·b      else p ← p - lr·g/d
//! ```

use super::{grad_in, grad_ref, lanes, par_chunks, Lane, Simd, CENTERED, MAXIMIZE, P};

#[derive(Clone, Copy, Debug)]
pub struct RmspropHp {
    pub lr: f32,
    pub alpha: f32,
    /// 1 - α, computed in double (see `one_minus`)
    pub one_minus_alpha: f32,
    pub eps: f32,
    pub weight_decay: f32,
    pub momentum: f32,
    /// MAXIMIZE | CENTERED
    pub flags: u32,
}

#[inline(always)]
unsafe fn at<V: Lane>(pp: P, gp: P, vp: P, ap: P, bp: P, i: usize, h: &RmspropHp) {
    let p = V::load(pp.f().add(i));
    let g = grad_in(V::load(gp.f().add(i)), p, h.flags & MAXIMIZE != 0, h.weight_decay);
    let oma = V::splat(h.one_minus_alpha);
    let v = V::load(vp.f().add(i)).mul(V::splat(h.alpha)).add(oma.mul(g).mul(g));
    v.store(vp.f().add(i));
    let avg = if h.flags & CENTERED != 0 {
        let a = V::load(ap.f().add(i)).mul(V::splat(h.alpha)).add(oma.mul(g));
        a.store(ap.f().add(i));
        v.add(V::splat(-1.0).mul(a).mul(a)).sqrt()
    } else {
        v.sqrt()
    }
    .add(V::splat(h.eps));
    if h.momentum > 0.0 {
        let b = V::load(bp.f().add(i)).mul(V::splat(h.momentum)).add(g.div(avg));
        b.store(bp.f().add(i));
        p.add(V::splat(-h.lr).mul(b)).store(pp.f().add(i));
    } else {
        p.add(V::splat(-h.lr).mul(g).div(avg)).store(pp.f().add(i));
    }
}

/// `grad_avg` is needed when centered, `buf` when momentum > 0.
pub fn step(p: &mut [f32], g: &[f32], square_avg: &mut [f32], grad_avg: Option<&mut [f32]>, buf: Option<&mut [f32]>, h: &RmspropHp) {
    let n = p.len();
    assert!(g.len() == n && square_avg.len() == n, "rmsprop: buffer lengths differ");
    assert!(h.flags & CENTERED == 0 || grad_avg.as_ref().is_some_and(|x| x.len() == n), "rmsprop: centered needs grad_avg");
    assert!(h.momentum <= 0.0 || buf.as_ref().is_some_and(|x| x.len() == n), "rmsprop: momentum needs a buffer");
    let (pp, gp, vp, ap, bp) = (P::of_mut(p), P::of(g), P::of_mut(square_avg), P::opt(grad_avg), P::opt(buf));
    let h = *h;
    par_chunks(n, move |s, e| unsafe {
        lanes(s, e, |i| at::<Simd>(pp, gp, vp, ap, bp, i, &h), |i| at::<f32>(pp, gp, vp, ap, bp, i, &h));
    });
}

pub fn step_ref(p: &mut [f32], g: &[f32], square_avg: &mut [f32], mut grad_avg: Option<&mut [f32]>, mut buf: Option<&mut [f32]>, h: &RmspropHp) {
    for i in 0..p.len() {
        let gi = grad_ref(g[i], p[i], h.flags & MAXIMIZE != 0, h.weight_decay);
        square_avg[i] = square_avg[i] * h.alpha + h.one_minus_alpha * gi * gi;
        let mut avg = if h.flags & CENTERED != 0 {
            let a = grad_avg.as_deref_mut().unwrap();
            a[i] = a[i] * h.alpha + h.one_minus_alpha * gi;
            (square_avg[i] + -1.0 * a[i] * a[i]).sqrt()
        } else {
            square_avg[i].sqrt()
        };
        avg += h.eps;
        if h.momentum > 0.0 {
            let b = buf.as_deref_mut().unwrap();
            b[i] = b[i] * h.momentum + gi / avg;
            p[i] += -h.lr * b[i];
        } else {
            p[i] += -h.lr * gi / avg;
        }
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
            for (flags, mom, wd) in [(0, 0.0, 0.0), (CENTERED, 0.5, 0.0), (MAXIMIZE, 0.9, 0.01)] {
                let h = RmspropHp { lr: 0.01, alpha: 0.9, one_minus_alpha: one_minus(0.9), eps: 1e-8, weight_decay: wd, momentum: mom, flags };
                let (mut p1, g, mut v1, mut a1, mut b1) = (data(n, 1), data(n, 2), pos(n, 3), data(n, 4).iter().map(|x| x * 0.01).collect::<Vec<_>>(), data(n, 5));
                let (mut p2, mut v2, mut a2, mut b2) = (p1.clone(), v1.clone(), a1.clone(), b1.clone());
                step(&mut p1, &g, &mut v1, Some(&mut a1), Some(&mut b1), &h);
                step_ref(&mut p2, &g, &mut v2, Some(&mut a2), Some(&mut b2), &h);
                assert!(max_rel(&p1, &p2) <= 1e-6 && max_rel(&v1, &v2) <= 1e-6 && max_rel(&b1, &b2) <= 1e-6);
            }
        }
    }
}
