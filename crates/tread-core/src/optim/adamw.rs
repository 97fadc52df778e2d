//! AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay, as PyTorch 1.13:
//!
//! ```text
//! p ← p·(1 - lr·λ)
//! then Adam's update without L2 decay (see adam.rs)
//! ```
//! The kernel is Adam's with `decay = 1 - lr·λ` and `weight_decay = 0`.

use super::adam::{self, AdamHp};
use super::one_minus;

/// AdamW's constants: Adam's, with the decoupled factor `1 - lr·λ`. The scalars come as
/// doubles: `1 - lr·λ` and `1 - β` are computed in f64 and rounded once (as PyTorch).
#[allow(clippy::too_many_arguments)]
pub fn hp(lr: f64, weight_decay: f64, beta1: f64, beta2: f64, eps: f32, step_size: f32, bc2_sqrt: f32, flags: u32) -> AdamHp {
    AdamHp {
        beta1: beta1 as f32,
        beta2: beta2 as f32,
        one_minus_beta1: one_minus(beta1),
        one_minus_beta2: one_minus(beta2),
        eps,
        weight_decay: 0.0,
        decay: one_minus(lr * weight_decay),
        step_size,
        bc2_sqrt,
        flags,
    }
}

/// The fused step (Adam's kernel with decoupled decay).
pub fn step(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], vmax: Option<&mut [f32]>, h: &AdamHp) {
    debug_assert!(h.weight_decay == 0.0, "adamw: decay is decoupled");
    adam::step(p, g, m, v, vmax, h)
}

/// Scalar reference.
pub fn step_ref(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], vmax: Option<&mut [f32]>, h: &AdamHp) {
    adam::step_ref(p, g, m, v, vmax, h)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;

    #[test]
    fn decoupled_decay_shrinks_the_parameter_first() {
        // With a zero gradient and fresh moments only the decay moves p.
        let mut p = data(100, 1);
        let p0 = p.clone();
        let g = vec![0.0; 100];
        let (mut m, mut v) = (vec![0.0; 100], vec![0.0; 100]);
        let h = hp(0.1, 0.5, 0.9, 0.999, 1e-8, 1.0, 1.0, 0);
        step(&mut p, &g, &mut m, &mut v, None, &h);
        for (a, b) in p.iter().zip(&p0) {
            assert_eq!(*a, b * 0.95);
        }
        let (mut p1, mut p2) = (data(777, 3), data(777, 3));
        let g = data(777, 4);
        let (mut m1, mut v1, mut m2, mut v2) = (data(777, 5), pos(777, 6), data(777, 5), pos(777, 6));
        step(&mut p1, &g, &mut m1, &mut v1, None, &h);
        step_ref(&mut p2, &g, &mut m2, &mut v2, None, &h);
        assert!(max_rel(&p1, &p2) <= 1e-6);
    }
}
