//! f32 arithmetic on one lane or four (`Lane`: `f32` and `Simd`), so a loop body is written once
//! and runs on wasm simd128 vectors with a scalar tail; natively `Simd` is a plain array the
//! compiler vectorizes. Used by the optimizer steps and by kernels whose reductions the
//! compiler does not vectorize by itself (it keeps accumulator arrays in memory).
//!
//! `Lane::Wide` is the same lanes in f64 (`f64`, `SimdWide`), for sums of f32 values that are
//! kept in f64: widening and adding lane by lane gives the bits of the scalar f64 loop.

/// f32 arithmetic on one lane or four, so an update is written once.
pub trait Lane: Copy {
    /// Lanes: 1 or 4.
    const W: usize;
    /// The same lanes in f64.
    type Wide: Wide;
    /// Each lane exactly in f64.
    fn widen(self) -> Self::Wide;
    fn splat(x: f32) -> Self;
    /// # Safety
    /// `p` must address as many f32 as the lane count.
    unsafe fn load(p: *const f32) -> Self;
    /// # Safety
    /// `p` must address as many f32 as the lane count.
    unsafe fn store(self, p: *mut f32);
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    fn div(self, o: Self) -> Self;
    /// Maximum; NaN if either is NaN (as torch.maximum).
    fn max(self, o: Self) -> Self;
    /// Minimum; NaN if either is NaN.
    fn min(self, o: Self) -> Self;
    fn sqrt(self) -> Self;
    fn abs(self) -> Self;
    fn neg(self) -> Self;
    /// The sum of the lanes, `(l0 + l1) + (l2 + l3)`.
    fn hsum(self) -> f32;
    #[inline(always)]
    fn mul_add(self, a: Self, b: Self) -> Self {
        // Not fused: the same rounding as PyTorch's `self + a·b` kernels, lane or scalar.
        self.add(a.mul(b))
    }
}

/// f64 arithmetic on as many lanes as a [`Lane`] has.
pub trait Wide: Copy {
    fn splat(x: f64) -> Self;
    /// # Safety
    /// `p` must address as many f64 as the lane count.
    unsafe fn load(p: *const f64) -> Self;
    /// # Safety
    /// `p` must address as many f64 as the lane count.
    unsafe fn store(self, p: *mut f64);
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
}

impl Wide for f64 {
    #[inline(always)]
    fn splat(x: f64) -> Self {
        x
    }
    #[inline(always)]
    unsafe fn load(p: *const f64) -> Self {
        *p
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f64) {
        *p = self
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        self + o
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        self - o
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        self * o
    }
}

impl Lane for f32 {
    const W: usize = 1;
    type Wide = f64;
    #[inline(always)]
    fn widen(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn splat(x: f32) -> Self {
        x
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        *p
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        *p = self
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        self + o
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        self - o
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        self * o
    }
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        self / o
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        if self.is_nan() || o.is_nan() {
            f32::NAN
        } else if self > o {
            self
        } else {
            o
        }
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        if self.is_nan() || o.is_nan() {
            f32::NAN
        } else if self < o {
            self
        } else {
            o
        }
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        f32::abs(self)
    }
    #[inline(always)]
    fn neg(self) -> Self {
        -self
    }
    #[inline(always)]
    fn hsum(self) -> f32 {
        self
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::{Lane, Wide};
    use core::arch::wasm32::*;

    /// Four lanes of wasm simd128.
    #[derive(Clone, Copy)]
    pub struct Simd(pub v128);

    /// Four f64 lanes: lanes 0 and 1 of a [`Simd`] in `.0`, 2 and 3 in `.1`.
    #[derive(Clone, Copy)]
    pub struct SimdWide(pub v128, pub v128);

    impl Wide for SimdWide {
        #[inline(always)]
        fn splat(x: f64) -> Self {
            SimdWide(f64x2_splat(x), f64x2_splat(x))
        }
        #[inline(always)]
        unsafe fn load(p: *const f64) -> Self {
            SimdWide(v128_load(p as *const v128), v128_load(p.add(2) as *const v128))
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f64) {
            v128_store(p as *mut v128, self.0);
            v128_store(p.add(2) as *mut v128, self.1);
        }
        #[inline(always)]
        fn add(self, o: Self) -> Self {
            SimdWide(f64x2_add(self.0, o.0), f64x2_add(self.1, o.1))
        }
        #[inline(always)]
        fn sub(self, o: Self) -> Self {
            SimdWide(f64x2_sub(self.0, o.0), f64x2_sub(self.1, o.1))
        }
        #[inline(always)]
        fn mul(self, o: Self) -> Self {
            SimdWide(f64x2_mul(self.0, o.0), f64x2_mul(self.1, o.1))
        }
    }

    impl Lane for Simd {
        const W: usize = 4;
        type Wide = SimdWide;
        #[inline(always)]
        fn widen(self) -> SimdWide {
            let hi = i32x4_shuffle::<2, 3, 2, 3>(self.0, self.0);
            SimdWide(f64x2_promote_low_f32x4(self.0), f64x2_promote_low_f32x4(hi))
        }
        #[inline(always)]
        fn splat(x: f32) -> Self {
            Simd(f32x4_splat(x))
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Simd(v128_load(p as *const v128))
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            v128_store(p as *mut v128, self.0)
        }
        #[inline(always)]
        fn add(self, o: Self) -> Self {
            Simd(f32x4_add(self.0, o.0))
        }
        #[inline(always)]
        fn sub(self, o: Self) -> Self {
            Simd(f32x4_sub(self.0, o.0))
        }
        #[inline(always)]
        fn mul(self, o: Self) -> Self {
            Simd(f32x4_mul(self.0, o.0))
        }
        #[inline(always)]
        fn div(self, o: Self) -> Self {
            Simd(f32x4_div(self.0, o.0))
        }
        #[inline(always)]
        fn max(self, o: Self) -> Self {
            Simd(f32x4_max(self.0, o.0))
        }
        #[inline(always)]
        fn min(self, o: Self) -> Self {
            Simd(f32x4_min(self.0, o.0))
        }
        #[inline(always)]
        fn sqrt(self) -> Self {
            Simd(f32x4_sqrt(self.0))
        }
        #[inline(always)]
        fn abs(self) -> Self {
            Simd(f32x4_abs(self.0))
        }
        #[inline(always)]
        fn neg(self) -> Self {
            Simd(f32x4_neg(self.0))
        }
        #[inline(always)]
        fn hsum(self) -> f32 {
            let v = self.0;
            (f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<1>(v)) + (f32x4_extract_lane::<2>(v) + f32x4_extract_lane::<3>(v))
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod simd {
    use super::{Lane, Wide};

    /// Four lanes as a plain array (the portable build; the compiler vectorises it).
    #[derive(Clone, Copy)]
    pub struct Simd(pub [f32; 4]);

    macro_rules! map2 {
        ($a:expr, $b:expr, |$x:ident, $y:ident| $e:expr) => {{
            let (a, b) = ($a.0, $b.0);
            Simd([
                {
                    let ($x, $y) = (a[0], b[0]);
                    $e
                },
                {
                    let ($x, $y) = (a[1], b[1]);
                    $e
                },
                {
                    let ($x, $y) = (a[2], b[2]);
                    $e
                },
                {
                    let ($x, $y) = (a[3], b[3]);
                    $e
                },
            ])
        }};
    }

    /// Four f64 lanes (the portable build).
    #[derive(Clone, Copy)]
    pub struct SimdWide(pub [f64; 4]);

    impl Wide for SimdWide {
        #[inline(always)]
        fn splat(x: f64) -> Self {
            SimdWide([x; 4])
        }
        #[inline(always)]
        unsafe fn load(p: *const f64) -> Self {
            SimdWide(core::ptr::read_unaligned(p as *const [f64; 4]))
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f64) {
            core::ptr::write_unaligned(p as *mut [f64; 4], self.0)
        }
        #[inline(always)]
        fn add(self, o: Self) -> Self {
            SimdWide(core::array::from_fn(|i| self.0[i] + o.0[i]))
        }
        #[inline(always)]
        fn sub(self, o: Self) -> Self {
            SimdWide(core::array::from_fn(|i| self.0[i] - o.0[i]))
        }
        #[inline(always)]
        fn mul(self, o: Self) -> Self {
            SimdWide(core::array::from_fn(|i| self.0[i] * o.0[i]))
        }
    }

    impl Lane for Simd {
        const W: usize = 4;
        type Wide = SimdWide;
        #[inline(always)]
        fn widen(self) -> SimdWide {
            SimdWide(self.0.map(|x| x as f64))
        }
        #[inline(always)]
        fn splat(x: f32) -> Self {
            Simd([x; 4])
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Simd(core::ptr::read_unaligned(p as *const [f32; 4]))
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            core::ptr::write_unaligned(p as *mut [f32; 4], self.0)
        }
        #[inline(always)]
        fn add(self, o: Self) -> Self {
            map2!(self, o, |x, y| x + y)
        }
        #[inline(always)]
        fn sub(self, o: Self) -> Self {
            map2!(self, o, |x, y| x - y)
        }
        #[inline(always)]
        fn mul(self, o: Self) -> Self {
            map2!(self, o, |x, y| x * y)
        }
        #[inline(always)]
        fn div(self, o: Self) -> Self {
            map2!(self, o, |x, y| x / y)
        }
        #[inline(always)]
        fn max(self, o: Self) -> Self {
            map2!(self, o, |x, y| Lane::max(x, y))
        }
        #[inline(always)]
        fn min(self, o: Self) -> Self {
            map2!(self, o, |x, y| Lane::min(x, y))
        }
        #[inline(always)]
        fn sqrt(self) -> Self {
            Simd(self.0.map(f32::sqrt))
        }
        #[inline(always)]
        fn abs(self) -> Self {
            Simd(self.0.map(f32::abs))
        }
        #[inline(always)]
        fn neg(self) -> Self {
            Simd(self.0.map(|x| -x))
        }
        #[inline(always)]
        fn hsum(self) -> f32 {
            let v = self.0;
            (v[0] + v[1]) + (v[2] + v[3])
        }
    }
}

pub use simd::{Simd, SimdWide};
