//! Four f32 lanes for the Winograd tile transforms (`winograd_tile.rs`): one `v128` on wasm
//! SIMD128, a plain array elsewhere (native builds, where `cargo test` runs the same
//! transform code through the portable twin). Lanes are four channels of one tile position,
//! so the transforms never shuffle.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use core::arch::wasm32::*;

    #[derive(Clone, Copy)]
    pub struct F4(v128);

    impl F4 {
        #[inline(always)]
        pub fn zero() -> F4 {
            F4(f32x4_splat(0.0))
        }
        /// # Safety
        /// Four floats readable at `p`.
        #[inline(always)]
        pub unsafe fn load(p: *const f32) -> F4 {
            F4(v128_load(p as *const v128))
        }
        /// # Safety
        /// Four floats writable at `p`.
        #[inline(always)]
        pub unsafe fn store(self, p: *mut f32) {
            v128_store(p as *mut v128, self.0)
        }
        #[inline(always)]
        pub fn add(self, o: F4) -> F4 {
            F4(f32x4_add(self.0, o.0))
        }
        #[inline(always)]
        pub fn sub(self, o: F4) -> F4 {
            F4(f32x4_sub(self.0, o.0))
        }
        #[inline(always)]
        pub fn scale(self, c: f32) -> F4 {
            F4(f32x4_mul(self.0, f32x4_splat(c)))
        }
        /// Rows to columns of a 4×4 block.
        #[inline(always)]
        pub fn transpose(r: [F4; 4]) -> [F4; 4] {
            let t0 = i32x4_shuffle::<0, 4, 1, 5>(r[0].0, r[1].0);
            let t1 = i32x4_shuffle::<2, 6, 3, 7>(r[0].0, r[1].0);
            let t2 = i32x4_shuffle::<0, 4, 1, 5>(r[2].0, r[3].0);
            let t3 = i32x4_shuffle::<2, 6, 3, 7>(r[2].0, r[3].0);
            [
                F4(i32x4_shuffle::<0, 1, 4, 5>(t0, t2)),
                F4(i32x4_shuffle::<2, 3, 6, 7>(t0, t2)),
                F4(i32x4_shuffle::<0, 1, 4, 5>(t1, t3)),
                F4(i32x4_shuffle::<2, 3, 6, 7>(t1, t3)),
            ]
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp {
    #[derive(Clone, Copy)]
    pub struct F4([f32; 4]);

    impl F4 {
        #[inline(always)]
        pub fn zero() -> F4 {
            F4([0.0; 4])
        }
        /// # Safety
        /// Four floats readable at `p`.
        #[inline(always)]
        pub unsafe fn load(p: *const f32) -> F4 {
            F4(std::ptr::read_unaligned(p as *const [f32; 4]))
        }
        /// # Safety
        /// Four floats writable at `p`.
        #[inline(always)]
        pub unsafe fn store(self, p: *mut f32) {
            std::ptr::write_unaligned(p as *mut [f32; 4], self.0)
        }
        #[inline(always)]
        pub fn add(self, o: F4) -> F4 {
            F4(std::array::from_fn(|l| self.0[l] + o.0[l]))
        }
        #[inline(always)]
        pub fn sub(self, o: F4) -> F4 {
            F4(std::array::from_fn(|l| self.0[l] - o.0[l]))
        }
        #[inline(always)]
        pub fn scale(self, c: f32) -> F4 {
            F4(self.0.map(|v| v * c))
        }
        /// Rows to columns of a 4×4 block.
        #[inline(always)]
        pub fn transpose(r: [F4; 4]) -> [F4; 4] {
            std::array::from_fn(|i| F4(std::array::from_fn(|j| r[j].0[i])))
        }
    }
}

pub use imp::F4;

impl F4 {
    /// Lanes `f(0..4)`.
    #[inline(always)]
    pub fn from_fn(f: impl FnMut(usize) -> f32) -> F4 {
        let a: [f32; 4] = std::array::from_fn(f);
        // SAFETY: four floats.
        unsafe { F4::load(a.as_ptr()) }
    }

    /// `self + c·x` for a coefficient `c` that is a constant after inlining: 0, ±1 and
    /// other values fold to nothing, an add/sub, or a multiply-add.
    #[inline(always)]
    pub fn madd(self, c: f32, x: F4) -> F4 {
        if c == 0.0 {
            self
        } else if c == 1.0 {
            self.add(x)
        } else if c == -1.0 {
            self.sub(x)
        } else {
            self.add(x.scale(c))
        }
    }
}
