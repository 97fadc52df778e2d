//! Optimizer steps: one fused, in-place pass per parameter tensor, no temporaries.
//!
//! Each algorithm (one file each) is written once as a per-lane update over the `Lane`
//! trait and instantiated twice: with `Simd` (four f32 lanes: wasm simd128 on wasm32, a
//! plain `[f32; 4]` elsewhere) for the body and with `f32` for the tail. Beside it sits a
//! plain scalar `*_ref` loop, the reference the tests compare against. Large tensors are
//! split over the thread pool (`par_chunks`); every element is independent, so results do
//! not depend on the split. Hyper-parameters that depend on the step (bias corrections,
//! decayed rates) are computed once per step by the caller and passed in.
//!
//! `reduce` holds the small generic kernels that go with steps: finiteness checks, norms for
//! gradient clipping, scaling, clamping, and L1/L2 penalty gradients.

pub mod adadelta;
pub mod adagrad;
pub mod adam;
pub mod adamax;
pub mod adamw;
pub mod nadam;
pub mod radam;
pub mod multi;
pub mod reduce;
pub mod rmsprop;
pub mod sgd;

use crate::parallel;

/// `1 - x` for a hyper-parameter given as a double, computed in f64 and rounded once to f32.
///
/// PyTorch passes `1 - beta` as a Python float (a double) that is rounded to f32 only when it
/// meets the tensor; `1.0f32 - (beta as f32)` is not the same number: for β = 0.999 it is
/// 1.3e-5 relative off, and 50 Adam steps drift 8.9e-6 from PyTorch instead of SGD's ~6e-7.
/// Every such scalar constant is computed here (or in TypeScript, in double) before the f32
/// element loop, never inside it.
#[inline]
pub fn one_minus(x: f64) -> f32 {
    (1.0 - x) as f32
}

/// Flag bits shared by the step kernels (and the wasm exports).
pub const MAXIMIZE: u32 = 1;
pub const AMSGRAD: u32 = 2;
pub const NESTEROV: u32 = 4;
pub const CENTERED: u32 = 8;
/// First step of a momentum buffer: initialise it with the gradient (SGD).
pub const FIRST: u32 = 16;

/// Below this many elements per task a step runs on one thread (memory-bound work: a task
/// must move enough bytes to pay for waking a worker).
pub const PAR_MIN: usize = 1 << 15;

/// Runs `f(start, end)` over `0..n`, split over the active threads when `n` is large.
/// Ranges are multiples of 16 elements (64 bytes) except the last.
pub fn par_chunks<F: Fn(usize, usize) + Sync + Send>(n: usize, f: F) {
    let t = parallel::threads();
    if t <= 1 || n < 2 * PAR_MIN {
        if n > 0 {
            f(0, n);
        }
        return;
    }
    let parts = (t * 2).min(n / PAR_MIN).max(1);
    let ranges = parallel::split_range(n, parts, 16);
    parallel::for_each_task(ranges.len(), |i| f(ranges[i].0, ranges[i].1));
}

/// Calls `body(i)` for each 4-lane block start and `tail(i)` for the rest of `s..e`.
#[inline(always)]
pub(crate) fn lanes<FV: FnMut(usize), FS: FnMut(usize)>(s: usize, e: usize, mut body: FV, mut tail: FS) {
    let mut i = s;
    while i + 8 <= e {
        body(i);
        body(i + 4);
        i += 8;
    }
    while i + 4 <= e {
        body(i);
        i += 4;
    }
    while i < e {
        tail(i);
        i += 1;
    }
}

/// An address that may cross into pool tasks (each task touches a disjoint range).
#[derive(Clone, Copy)]
pub(crate) struct P(pub usize);
impl P {
    #[inline(always)]
    pub fn f(self) -> *mut f32 {
        self.0 as *mut f32
    }
    pub fn of(s: &[f32]) -> P {
        P(s.as_ptr() as usize)
    }
    pub fn of_mut(s: &mut [f32]) -> P {
        P(s.as_mut_ptr() as usize)
    }
    pub fn opt(s: Option<&mut [f32]>) -> P {
        s.map_or(P(0), |s| P(s.as_mut_ptr() as usize))
    }
}

pub use crate::lanes::{Lane, Simd};

/// The gradient as the update sees it: negated for `maximize`, plus L2 weight decay.
#[inline(always)]
pub(crate) fn grad_in<V: Lane>(g: V, p: V, maximize: bool, wd: f32) -> V {
    let g = if maximize { g.neg() } else { g };
    if wd != 0.0 {
        g.add(p.mul(V::splat(wd)))
    } else {
        g
    }
}

/// Scalar form of `grad_in` for the reference loops.
#[inline(always)]
pub(crate) fn grad_ref(g: f32, p: f32, maximize: bool, wd: f32) -> f32 {
    let g = if maximize { -g } else { g };
    if wd != 0.0 {
        g + wd * p
    } else {
        g
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    /// Deterministic test data in about [-1, 1] (a small LCG).
    pub fn data(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(12345);
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 8) as f32 / 8_388_608.0 - 1.0
            })
            .collect()
    }

    pub fn pos(n: usize, seed: u32) -> Vec<f32> {
        data(n, seed).into_iter().map(|x| x.abs() * 0.1 + 1e-3).collect()
    }

    /// Largest |a-b| / max(|b|, 1e-6).
    pub fn max_rel(a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        a.iter().zip(b).map(|(x, y)| (x - y).abs() / y.abs().max(1e-6)).fold(0.0, f32::max)
    }

    /// Lengths that exercise the 8-block, 4-block and scalar tail paths and the thread split.
    pub const LENS: [usize; 6] = [1, 3, 4, 13, 1000, 70_003];
}

#[cfg(test)]
mod one_minus_tests {
    use super::one_minus;

    #[test]
    fn complement_is_computed_in_double() {
        // PyTorch's `1 - 0.999` is a double rounded once to f32; the f32 subtraction is not.
        assert_eq!(one_minus(0.999), 0.001f32);
        assert_ne!(1.0f32 - 0.999f32, 0.001f32);
        assert_eq!(one_minus(0.9), 0.1f32);
    }
}
