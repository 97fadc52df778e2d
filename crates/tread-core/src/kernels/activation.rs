//! Activations, forward and backward, plus the vector `exp` the other kernels share.
//!
//! `exp` is Cephes' single-precision algorithm (range reduction by ln 2 split in two
//! parts, a degree-6 polynomial, scaling by 2^n done in two halves so that results near
//! the bottom of the range come out as denormals instead of garbage): four lanes at a time
//! on wasm32+simd128, the same arithmetic one value at a time elsewhere (so native tests
//! check the polynomial). Relative error ≈ 1e-7 against f64.
//!
//! GELU is the exact form `x·Φ(x) = x/2·erfc(-x/√2)` (PyTorch's default), Φ from a Chebyshev
//! fit of erfc (`phi_f32`, below) with relative accuracy in the tails.
//!
//! References (`*_ref`) compute in f64 with std math and a series / continued fraction erf.

#![allow(clippy::excessive_precision)]

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use core::arch::wasm32::*;

use super::elementwise::par_ranges;
use crate::parallel::SharedMut;

pub const RELU: u32 = 0;
/// `p1` = negative slope.
pub const LEAKY_RELU: u32 = 1;
/// `p1` = alpha.
pub const ELU: u32 = 2;
pub const GELU: u32 = 3;
pub const SILU: u32 = 4;
pub const SIGMOID: u32 = 5;
pub const TANH: u32 = 6;
/// `p1` = beta, `p2` = threshold.
pub const SOFTPLUS: u32 = 7;

// ---------------------------------------------------------------------------------------
// exp
// ---------------------------------------------------------------------------------------

const LOG2E: f32 = std::f32::consts::LOG2_E;
const EXP_C1: f32 = 0.693359375;
const EXP_C2: f32 = -2.12194440e-4;
const EXP_P0: f32 = 1.9875691500e-4;
const EXP_P1: f32 = 1.3981999507e-3;
const EXP_P2: f32 = 8.3334519073e-3;
const EXP_P3: f32 = 4.1665795894e-2;
const EXP_P4: f32 = 1.6666665459e-1;
const EXP_P5: f32 = 5.0000001201e-1;
const EXP_HI: f32 = 89.0;
const EXP_LO: f32 = -104.0;
/// 1.5·2^23: adding it rounds to an integer (|v| < 2^22).
const ROUND_MAGIC: f32 = 12582912.0;

/// `exp(x)` by the same arithmetic as the SIMD lanes.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    let x = x.clamp(EXP_LO, EXP_HI);
    // Round x·log2(e) to the nearest integer by adding 1.5·2^23 (ties to even), which also
    // leaves the integer in the low mantissa bits.
    let t = x * LOG2E + ROUND_MAGIC;
    let fx = t - ROUND_MAGIC;
    let r = x - fx * EXP_C1 - fx * EXP_C2;
    let z = r * r;
    let y = (((((EXP_P0 * r + EXP_P1) * r + EXP_P2) * r + EXP_P3) * r + EXP_P4) * r + EXP_P5) * z + r + 1.0;
    let n = (t.to_bits() as i32).wrapping_sub(ROUND_MAGIC.to_bits() as i32);
    let n1 = n >> 1;
    let n2 = n - n1;
    let s1 = f32::from_bits(((n1 + 127) as u32) << 23);
    let s2 = f32::from_bits(((n2 + 127) as u32) << 23);
    y * s1 * s2
}

/// `a·b + c` on four lanes. In the relaxed-SIMD builds (`+relaxed-simd`, tread-relaxed*.wasm)
/// one `f32x4.relaxed_madd`: a fused multiply-add where the CPU has FMA (x86 with FMA3, ARM),
/// which saves an instruction and a rounding; relaxed SIMD lets an engine without FMA do the
/// multiply and the add instead, so results may differ from the plain build in the last bit,
/// never by more (each lane is either the exact a·b + c rounded once, or rounded twice as here).
/// In the plain builds a multiply then an add.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
pub(crate) fn madd_v(a: v128, b: v128, c: v128) -> v128 {
    #[cfg(target_feature = "relaxed-simd")]
    {
        f32x4_relaxed_madd(a, b, c)
    }
    #[cfg(not(target_feature = "relaxed-simd"))]
    {
        f32x4_add(f32x4_mul(a, b), c)
    }
}

/// [`exp_k`]'s constants as vectors. Why a struct: V8 builds a vector constant where it is
/// used (three instructions) and does not move it out of a loop, so an inlined `exp` spent
/// about half its ~90 instructions per vector rebuilding its 16 constants (seen with
/// `node --print-wasm-code`). A loop that takes [`ExpK::held`] from outside gets them as
/// values V8 keeps in registers or spill slots: exp's loop went from ~90 to ~40 instructions.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[derive(Clone, Copy)]
pub struct ExpK {
    hi: v128,
    lo: v128,
    log2e: v128,
    magic: v128,
    c1: v128,
    c2: v128,
    p: [v128; 6],
    one: v128,
    bias: v128,
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl ExpK {
    /// The constants, as constants (for a single use).
    #[inline(always)]
    pub fn new() -> ExpK {
        ExpK {
            hi: f32x4_splat(EXP_HI),
            lo: f32x4_splat(EXP_LO),
            log2e: f32x4_splat(LOG2E),
            magic: f32x4_splat(ROUND_MAGIC),
            c1: f32x4_splat(EXP_C1),
            c2: f32x4_splat(EXP_C2),
            p: [EXP_P0, EXP_P1, EXP_P2, EXP_P3, EXP_P4, EXP_P5].map(|c| f32x4_splat(c)),
            one: f32x4_splat(1.0),
            bias: i32x4_splat(127),
        }
    }

    /// The constants as opaque values, for a loop to take from outside (see [`ExpK`]).
    #[inline(always)]
    pub fn held() -> ExpK {
        core::hint::black_box(ExpK::new())
    }
}

/// Four lanes of [`exp_f32`], the constants from `k`: the same steps, each `p·q + r` a
/// [`madd_v`] (fused in the relaxed builds: 9 of the ~25 instructions, and the range
/// reduction then loses nothing).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
pub fn exp_k(x: v128, k: &ExpK) -> v128 {
    // Clamp with pmin/pmax (one instruction each). Their NaN rule (keep x) does not survive
    // the relaxed builds, where LLVM emits relaxed_min/max for them (x86's minps: the bound
    // wins over a NaN, and exp(NaN) came out +inf): NaN lanes are put back at the end.
    let x0 = x;
    let x = f32x4_pmax(f32x4_pmin(x, k.hi), k.lo);
    let t = madd_v(x, k.log2e, k.magic);
    let fx = f32x4_sub(t, k.magic);
    // x - fx·C1 - fx·C2 as (-fx)·C1 + x, then (-fx)·C2 + that: the same roundings unfused.
    let nfx = f32x4_neg(fx);
    let r = madd_v(nfx, k.c2, madd_v(nfx, k.c1, x));
    let z = f32x4_mul(r, r);
    let mut y = madd_v(k.p[0], r, k.p[1]);
    y = madd_v(y, r, k.p[2]);
    y = madd_v(y, r, k.p[3]);
    y = madd_v(y, r, k.p[4]);
    y = madd_v(y, r, k.p[5]);
    y = f32x4_add(madd_v(y, z, r), k.one);
    let n = i32x4_sub(t, k.magic);
    let n1 = i32x4_shr(n, 1);
    let n2 = i32x4_sub(n, n1);
    let s1 = i32x4_shl(i32x4_add(n1, k.bias), 23);
    let s2 = i32x4_shl(i32x4_add(n2, k.bias), 23);
    v128_bitselect(x0, f32x4_mul(f32x4_mul(y, s1), s2), f32x4_ne(x0, x0))
}

/// `f` on the last `out.len() % 4`-or-fewer values through a zero-padded vector, so that every
/// element of a slice takes the same path (in the relaxed builds the scalar [`exp_f32`] is not
/// fused; a tail through it would differ in the last bit from the same value in a lane).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn tail_v(x: &[f32], out: &mut [f32], f: impl Fn(v128) -> v128) {
    debug_assert!(x.len() < 4 && x.len() == out.len());
    let mut buf = [0.0f32; 4];
    buf[..x.len()].copy_from_slice(x);
    // SAFETY: buf is 16 bytes; v128_load/store take unaligned pointers.
    unsafe {
        let v = f(v128_load(buf.as_ptr() as *const v128));
        v128_store(buf.as_mut_ptr() as *mut v128, v);
    }
    out.copy_from_slice(&buf[..x.len()]);
}

/// `out[i] = f(x[i])` over a slice: with wasm SIMD four lanes at a time by the vector form
/// `$v` (the last few through [`tail_v`], so every element takes the same path), elsewhere
/// by the scalar form `$s`. (A macro: `$v` names wasm-only functions, and its tokens must go
/// with the `cfg`'d block on native builds.)
macro_rules! map_lanes {
    ($x:expr, $out:expr, $v:expr, $s:expr) => {{
        let out: &mut [f32] = $out;
        let n = out.len();
        let x = &$x[..n];
        #[allow(unused_mut)]
        let mut i = 0;
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        unsafe {
            let f = $v;
            // Two vectors per iteration: V8 materializes each vector constant at its use
            // (three instructions: no hoisting out of the loop), and the two calls' copies
            // of a constant are one value, so the cost is shared.
            while i + 8 <= n {
                let v0 = v128_load(x.as_ptr().add(i) as *const v128);
                let v1 = v128_load(x.as_ptr().add(i + 4) as *const v128);
                let (r0, r1) = (f(v0), f(v1));
                v128_store(out.as_mut_ptr().add(i) as *mut v128, r0);
                v128_store(out.as_mut_ptr().add(i + 4) as *mut v128, r1);
                i += 8;
            }
            while i + 4 <= n {
                let v = v128_load(x.as_ptr().add(i) as *const v128);
                v128_store(out.as_mut_ptr().add(i) as *mut v128, f(v));
                i += 4;
            }
            tail_v(&x[i..], &mut out[i..], f);
            i = n;
        }
        let f = $s;
        while i < n {
            out[i] = f(x[i]);
            i += 1;
        }
    }};
}

/// `out[i] = exp(x[i])`.
pub(crate) fn exp_slice(x: &[f32], out: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let k = ExpK::held();
    map_lanes!(x, out, |v| exp_k(v, &k), exp_f32);
}

// tanh (after Cephes' tanhf): an odd polynomial below |x| = 0.625, where 1 - 2/(e^2|x| + 1)
// would lose digits to cancellation; that form, with tread's `exp`, above. About 2 ulp.
const TANH_SPLIT: f32 = 0.625;
const TANH_P0: f32 = -5.70498872745e-3;
const TANH_P1: f32 = 2.06390887954e-2;
const TANH_P2: f32 = -5.37397155531e-2;
const TANH_P3: f32 = 1.33314422036e-1;
const TANH_P4: f32 = -3.33332819422e-1;

/// `tanh(x)` by the same arithmetic as the SIMD lanes ([`tanh_k`]).
#[inline(always)]
pub fn tanh_f32(x: f32) -> f32 {
    // tanh(|x|), then x's sign (which keeps -0).
    let a = x.abs();
    let t = if a < TANH_SPLIT {
        let z = a * a;
        let p = ((((TANH_P0 * z + TANH_P1) * z + TANH_P2) * z + TANH_P3) * z + TANH_P4) * z;
        p * a + a
    } else {
        // exp clamps its argument, so a huge |x| (or ±inf) gives 1 - 2/big = 1; NaN stays NaN.
        1.0 - 2.0 / (exp_f32(a + a) + 1.0)
    };
    t.copysign(x)
}

/// [`tanh_k`]'s constants, exp's included, for a loop to take from outside (see [`ExpK`]).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[derive(Clone, Copy)]
pub struct TanhK {
    exp: ExpK,
    p: [v128; 5],
    split: v128,
    two: v128,
    sign: v128,
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl TanhK {
    #[inline(always)]
    pub fn held() -> TanhK {
        core::hint::black_box(TanhK {
            exp: ExpK::new(),
            p: [TANH_P0, TANH_P1, TANH_P2, TANH_P3, TANH_P4].map(|c| f32x4_splat(c)),
            split: f32x4_splat(TANH_SPLIT),
            two: f32x4_splat(2.0),
            sign: f32x4_splat(-0.0),
        })
    }
}

/// Four lanes of [`tanh_f32`], the constants from `k`: both forms are computed and the lanes
/// pick one.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
pub fn tanh_k(x: v128, k: &TanhK) -> v128 {
    let a = f32x4_abs(x);
    let z = f32x4_mul(a, a);
    let mut p = madd_v(k.p[0], z, k.p[1]);
    p = madd_v(p, z, k.p[2]);
    p = madd_v(p, z, k.p[3]);
    p = madd_v(p, z, k.p[4]);
    let small = madd_v(f32x4_mul(p, z), a, a);
    let one = k.exp.one;
    let e = exp_k(f32x4_add(a, a), &k.exp);
    let big = f32x4_sub(one, f32x4_div(k.two, f32x4_add(e, one)));
    let t = v128_bitselect(small, big, f32x4_lt(a, k.split));
    // copysign: x's sign bit, the magnitude's other bits.
    v128_bitselect(x, t, k.sign)
}

/// `out[i] = tanh(x[i])`.
fn tanh_slice(x: &[f32], out: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let k = TanhK::held();
    map_lanes!(x, out, |v| tanh_k(v, &k), tanh_f32);
}

/// `out[i] = 1 / (1 + exp(-x[i]))`.
fn sigmoid_slice(x: &[f32], out: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let k = ExpK::held();
    map_lanes!(
        x,
        out,
        |v: v128| f32x4_div(k.one, f32x4_add(k.one, exp_k(f32x4_neg(v), &k))),
        |v: f32| 1.0 / (1.0 + exp_f32(-v))
    );
}

// ---------------------------------------------------------------------------------------
// Φ, the normal CDF, for GELU
// ---------------------------------------------------------------------------------------

/// The Chebyshev fit of erfc in Numerical Recipes (Press, Teukolsky, Vetterling, Flannery,
/// 2nd ed., §6.2, `erfcc`): `erfc(a) = t·exp(-a² + P(t))`, `t = 1/(1 + a/2)`, for every
/// `a >= 0` with fractional error below 1.2e-7. `P`'s coefficients, constant term first.
const ERFCC: [f32; 10] = [
    -1.265_512_23, 1.000_023_68, 0.374_091_96, 0.096_784_18, -0.186_288_06, 0.278_868_07, -1.135_203_98, 1.488_515_87,
    -0.822_152_23, 0.170_872_77,
];

/// `Φ(x) = erfc(-x/√2)/2`: with `a = |x|/√2`, `Φ(-|x|) = t·exp(P(t) - x²/2)/2` and
/// `Φ(|x|) = 1 - Φ(-|x|)`. One division, one `exp` and one polynomial for every x, where the
/// FreeBSD erfcf this replaced had three rational forms and two `exp`s, all computed for a
/// vector whose lanes fell in different ranges (GELU took ~17 ns per value each way).
/// Accuracy against f64 (native test): relative error below 1e-6 for |x| < 4, growing as
/// ~5e-8·x² beyond, from the f32 rounding of x² in the exponent (PyTorch's f32 GELU,
/// `x/2·(1 + erf(x/√2))`, loses all relative accuracy in the negative tail instead).
#[inline(always)]
pub fn phi_f32(x: f32) -> f32 {
    let a = x.abs() * FRAC_1_SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * a);
    let mut p = ERFCC[9];
    for &c in ERFCC[..9].iter().rev() {
        p = p * t + c;
    }
    let r = 0.5 * t * exp_f32(p - 0.5 * (x * x));
    if x < 0.0 {
        r
    } else {
        1.0 - r
    }
}

/// [`phi_k`]'s constants, exp's included, for a loop to take from outside (see [`ExpK`]).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[derive(Clone, Copy)]
pub struct PhiK {
    exp: ExpK,
    p: [v128; 10],
    half: v128,
    inv_sqrt2: v128,
    zero: v128,
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl PhiK {
    #[inline(always)]
    pub fn held() -> PhiK {
        core::hint::black_box(PhiK {
            exp: ExpK::new(),
            p: ERFCC.map(|c| f32x4_splat(c)),
            half: f32x4_splat(0.5),
            inv_sqrt2: f32x4_splat(FRAC_1_SQRT_2),
            zero: f32x4_splat(0.0),
        })
    }
}

/// Four lanes of [`phi_f32`], the constants from `k` (the same operations; fused multiply-adds
/// in the relaxed builds).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
pub fn phi_k(x: v128, k: &PhiK) -> v128 {
    let one = k.exp.one;
    let a = f32x4_mul(f32x4_abs(x), k.inv_sqrt2);
    let t = f32x4_div(one, madd_v(k.half, a, one));
    let mut p = k.p[9];
    for c in k.p[..9].iter().rev() {
        p = madd_v(p, t, *c);
    }
    let e = exp_k(f32x4_sub(p, f32x4_mul(k.half, f32x4_mul(x, x))), &k.exp);
    let r = f32x4_mul(f32x4_mul(k.half, t), e);
    // NaN lanes: r is NaN, and so is 1 - r.
    v128_bitselect(r, f32x4_sub(one, r), f32x4_lt(x, k.zero))
}

/// erfc in f64 for the references: series below 3, continued fraction above.
pub fn erfc_f64(z: f64) -> f64 {
    if z.is_nan() {
        return z;
    }
    if z < 0.0 {
        return 2.0 - erfc_f64(-z);
    }
    if z < 3.0 {
        // erf(z) = 2/√π Σ (-1)^n z^(2n+1) / (n! (2n+1))
        let mut term = z; // (-1)^n z^(2n+1) / n!
        let mut sum = z;
        let mut n = 0.0;
        loop {
            n += 1.0;
            term *= -z * z / n;
            let t = term / (2.0 * n + 1.0);
            sum += t;
            if t.abs() <= 1e-17 * sum.abs() {
                break;
            }
        }
        return 1.0 - sum * std::f64::consts::FRAC_2_SQRT_PI;
    }
    let mut t = z;
    for k in (1..=80).rev() {
        t = z + (k as f64 / 2.0) / t;
    }
    (-z * z).exp() / std::f64::consts::PI.sqrt() / t
}

// ---------------------------------------------------------------------------------------
// Forward
// ---------------------------------------------------------------------------------------

const FRAC_1_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
/// 1/√(2π).
const INV_SQRT_2PI: f32 = 0.398_942_28;

/// `out[i] = GELU(x[i]) = x·Φ(x)`, four lanes at a time through [`phi_k`].
fn gelu_slice(x: &[f32], out: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let k = PhiK::held();
    map_lanes!(x, out, |v: v128| f32x4_mul(v, phi_k(v, &k)), |v: f32| v * phi_f32(v));
}

/// `dx[i] = g[i]·(Φ(x) + x·φ(x))`, four lanes at a time.
fn gelu_backward_slice(x: &[f32], g: &[f32], dx: &mut [f32]) {
    let n = dx.len();
    let (x, g) = (&x[..n], &g[..n]);
    #[allow(unused_mut)]
    let mut i = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    unsafe {
        let (k, inv_sqrt_2pi) = core::hint::black_box((PhiK::held(), f32x4_splat(INV_SQRT_2PI)));
        let f = |v: v128, gv: v128| {
            let cdf = phi_k(v, &k);
            let pdf = f32x4_mul(inv_sqrt_2pi, exp_k(f32x4_mul(f32x4_neg(f32x4_mul(k.half, v)), v), &k.exp));
            f32x4_mul(gv, f32x4_add(cdf, f32x4_mul(v, pdf)))
        };
        while i + 4 <= n {
            let v = v128_load(x.as_ptr().add(i) as *const v128);
            let gv = v128_load(g.as_ptr().add(i) as *const v128);
            v128_store(dx.as_mut_ptr().add(i) as *mut v128, f(v, gv));
            i += 4;
        }
        // The last few through zero-padded vectors, as tail_v, so every element takes one path.
        if i < n {
            let (mut bx, mut bg) = ([0.0f32; 4], [0.0f32; 4]);
            bx[..n - i].copy_from_slice(&x[i..]);
            bg[..n - i].copy_from_slice(&g[i..]);
            let r = f(v128_load(bx.as_ptr() as *const v128), v128_load(bg.as_ptr() as *const v128));
            v128_store(bx.as_mut_ptr() as *mut v128, r);
            dx[i..].copy_from_slice(&bx[..n - i]);
        }
        i = n;
    }
    while i < n {
        let v = x[i];
        let cdf = phi_f32(v);
        let pdf = INV_SQRT_2PI * exp_f32(-0.5 * v * v);
        dx[i] = g[i] * (cdf + v * pdf);
        i += 1;
    }
}

#[inline(always)]
fn softplus_s(x: f32, beta: f32, threshold: f32) -> f32 {
    let bx = x * beta;
    if bx > threshold {
        x
    } else {
        bx.exp().ln_1p() / beta
    }
}

fn relu_slice(x: &[f32], out: &mut [f32]) {
    let n = out.len();
    let x = &x[..n];
    #[allow(unused_mut)]
    let mut i = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    unsafe {
        let z = f32x4_splat(0.0);
        while i + 8 <= n {
            let v0 = v128_load(x.as_ptr().add(i) as *const v128);
            let v1 = v128_load(x.as_ptr().add(i + 4) as *const v128);
            // x < 0 ? 0 : x (NaN stays NaN, as torch.relu).
            v128_store(out.as_mut_ptr().add(i) as *mut v128, v128_bitselect(z, v0, f32x4_lt(v0, z)));
            v128_store(out.as_mut_ptr().add(i + 4) as *mut v128, v128_bitselect(z, v1, f32x4_lt(v1, z)));
            i += 8;
        }
    }
    while i < n {
        let v = x[i];
        out[i] = if v < 0.0 { 0.0 } else { v };
        i += 1;
    }
}

/// `y = max(y, 0)` in place, NaN kept (the fused Linear/Conv2d + ReLU forwards).
pub(crate) fn relu_in_place(y: &mut [f32]) {
    let n = y.len();
    #[allow(unused_mut)]
    let mut i = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    unsafe {
        let z = f32x4_splat(0.0);
        while i + 4 <= n {
            let p = y.as_mut_ptr().add(i) as *mut v128;
            let v = v128_load(p);
            v128_store(p, v128_bitselect(z, v, f32x4_lt(v, z)));
            i += 4;
        }
    }
    while i < n {
        if y[i] < 0.0 {
            y[i] = 0.0;
        }
        i += 1;
    }
}

fn leaky_slice(x: &[f32], slope: f32, out: &mut [f32]) {
    let n = out.len();
    let x = &x[..n];
    #[allow(unused_mut)]
    let mut i = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    unsafe {
        let z = f32x4_splat(0.0);
        let s = f32x4_splat(slope);
        while i + 4 <= n {
            let v = v128_load(x.as_ptr().add(i) as *const v128);
            v128_store(out.as_mut_ptr().add(i) as *mut v128, v128_bitselect(v, f32x4_mul(v, s), f32x4_gt(v, z)));
            i += 4;
        }
    }
    while i < n {
        let v = x[i];
        out[i] = if v > 0.0 { v } else { v * slope };
        i += 1;
    }
}

fn forward_chunk(op: u32, p1: f32, p2: f32, x: &[f32], out: &mut [f32]) {
    let x = &x[..out.len()];
    match op {
        RELU => relu_slice(x, out),
        LEAKY_RELU => leaky_slice(x, p1, out),
        ELU => out.iter_mut().zip(x).for_each(|(o, &v)| *o = if v > 0.0 { v } else { p1 * v.exp_m1() }),
        GELU => gelu_slice(x, out),
        SILU => {
            sigmoid_slice(x, out);
            out.iter_mut().zip(x).for_each(|(o, &v)| *o *= v);
        }
        SIGMOID => sigmoid_slice(x, out),
        TANH => tanh_slice(x, out),
        SOFTPLUS => out.iter_mut().zip(x).for_each(|(o, &v)| *o = softplus_s(v, p1, p2)),
        _ => panic!("activation: unknown op {op}"),
    }
}

/// `out = act(x)` for activation `op` with parameters `p1`, `p2` (see the op constants).
pub fn forward(op: u32, p1: f32, p2: f32, x: &[f32], out: &mut [f32]) {
    assert_eq!(x.len(), out.len(), "activation: input and output lengths differ");
    let outp = SharedMut(out.as_mut_ptr());
    par_ranges(out.len(), out.len(), 16, |s, e| {
        // SAFETY: disjoint output ranges.
        forward_chunk(op, p1, p2, &x[s..e], unsafe { outp.slice(s, e - s) });
    });
}

fn sigmoid_f64(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn gelu_f64(x: f64) -> f64 {
    0.5 * x * erfc_f64(-x / std::f64::consts::SQRT_2)
}

/// Reference for [`forward`] (f64, std math).
pub fn forward_ref(op: u32, p1: f32, p2: f32, x: &[f32], out: &mut [f32]) {
    assert_eq!(x.len(), out.len(), "activation: input and output lengths differ");
    let (a, b) = (p1 as f64, p2 as f64);
    for (o, &v) in out.iter_mut().zip(x) {
        let x = v as f64;
        *o = match op {
            RELU => {
                if v < 0.0 {
                    0.0
                } else {
                    x
                }
            }
            LEAKY_RELU => {
                if x > 0.0 {
                    x
                } else {
                    x * a
                }
            }
            ELU => {
                if x > 0.0 {
                    x
                } else {
                    a * x.exp_m1()
                }
            }
            GELU => gelu_f64(x),
            SILU => x * sigmoid_f64(x),
            SIGMOID => sigmoid_f64(x),
            TANH => x.tanh(),
            SOFTPLUS => {
                if x * a > b {
                    x
                } else {
                    (x * a).exp().ln_1p() / a
                }
            }
            _ => panic!("activation: unknown op {op}"),
        } as f32;
    }
}

// ---------------------------------------------------------------------------------------
// Backward
// ---------------------------------------------------------------------------------------

/// `dx = g` where `x > 0`, else 0: ReLU's backward from its input or its output (the two
/// agree: NaN and 0 pass nothing; the fused Linear/Conv2d + ReLU pass the output). Vectorized
/// by hand: as a branch per element it ran scalar.
pub(crate) fn relu_mask(x: &[f32], g: &[f32], dx: &mut [f32]) {
    let n = dx.len();
    let (x, g) = (&x[..n], &g[..n]);
    #[allow(unused_mut)]
    let mut i = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    unsafe {
        let z = f32x4_splat(0.0);
        while i + 4 <= n {
            let v = v128_load(x.as_ptr().add(i) as *const v128);
            let gv = v128_load(g.as_ptr().add(i) as *const v128);
            v128_store(dx.as_mut_ptr().add(i) as *mut v128, v128_and(gv, f32x4_gt(v, z)));
            i += 4;
        }
    }
    while i < n {
        dx[i] = if x[i] > 0.0 { g[i] } else { 0.0 };
        i += 1;
    }
}

fn backward_chunk(op: u32, p1: f32, p2: f32, x: &[f32], y: &[f32], g: &[f32], dx: &mut [f32]) {
    let n = dx.len();
    let (x, y, g) = (&x[..n], &y[..n], &g[..n]);
    match op {
        RELU => relu_mask(x, g, dx),
        LEAKY_RELU => {
            for i in 0..n {
                dx[i] = if x[i] > 0.0 { g[i] } else { g[i] * p1 };
            }
        }
        ELU => {
            for i in 0..n {
                dx[i] = if x[i] > 0.0 { g[i] } else { g[i] * (y[i] + p1) };
            }
        }
        GELU => gelu_backward_slice(x, g, dx),
        SILU => {
            sigmoid_slice(x, dx);
            for i in 0..n {
                let s = dx[i];
                dx[i] = g[i] * s * (1.0 + x[i] * (1.0 - s));
            }
        }
        SIGMOID => {
            for i in 0..n {
                dx[i] = g[i] * y[i] * (1.0 - y[i]);
            }
        }
        TANH => {
            for i in 0..n {
                dx[i] = g[i] * (1.0 - y[i] * y[i]);
            }
        }
        SOFTPLUS => {
            for i in 0..n {
                let bx = x[i] * p1;
                dx[i] = if bx > p2 { g[i] } else { g[i] / (1.0 + (-bx).exp()) };
            }
        }
        _ => panic!("activation backward: unknown op {op}"),
    }
}

fn check_backward(x: &[f32], y: &[f32], g: &[f32], dx: &[f32]) {
    let n = dx.len();
    assert!(x.len() >= n && y.len() >= n && g.len() >= n, "activation backward: input lengths differ from the gradient's");
}

/// `dx = g · act'(x)`, given the input `x` and the output `y = act(x)` (both `dx.len()`).
#[allow(clippy::too_many_arguments)]
pub fn backward(op: u32, p1: f32, p2: f32, x: &[f32], y: &[f32], g: &[f32], dx: &mut [f32]) {
    check_backward(x, y, g, dx);
    let dxp = SharedMut(dx.as_mut_ptr());
    par_ranges(dx.len(), dx.len(), 16, |s, e| {
        // SAFETY: disjoint output ranges.
        backward_chunk(op, p1, p2, &x[s..e], &y[s..e], &g[s..e], unsafe { dxp.slice(s, e - s) });
    });
}

/// Reference for [`backward`] (f64; derivatives from `x` only, not from `y`).
#[allow(clippy::too_many_arguments)]
pub fn backward_ref(op: u32, p1: f32, p2: f32, x: &[f32], y: &[f32], g: &[f32], dx: &mut [f32]) {
    check_backward(x, y, g, dx);
    let (a, b) = (p1 as f64, p2 as f64);
    for i in 0..dx.len() {
        let (v, gv) = (x[i] as f64, g[i] as f64);
        let d = match op {
            RELU => (v > 0.0) as u32 as f64,
            LEAKY_RELU => {
                if v > 0.0 {
                    1.0
                } else {
                    a
                }
            }
            ELU => {
                if v > 0.0 {
                    1.0
                } else {
                    a * v.exp()
                }
            }
            GELU => {
                0.5 * erfc_f64(-v / std::f64::consts::SQRT_2)
                    + v * (-0.5 * v * v).exp() / (2.0 * std::f64::consts::PI).sqrt()
            }
            SILU => {
                let s = sigmoid_f64(v);
                s * (1.0 + v * (1.0 - s))
            }
            SIGMOID => {
                let s = sigmoid_f64(v);
                s * (1.0 - s)
            }
            TANH => 1.0 - v.tanh() * v.tanh(),
            SOFTPLUS => {
                if v * a > b {
                    1.0
                } else {
                    sigmoid_f64(v * a)
                }
            }
            _ => panic!("activation backward: unknown op {op}"),
        };
        dx[i] = (gv * d) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// tanh against f64's: a few ulp everywhere (both sides of the 0.625 switch, the
    /// saturated tails), exact signs and zeros, ±inf to ±1, NaN kept.
    #[test]
    fn tanh_is_within_a_few_ulp() {
        let mut worst = 0.0f64;
        let mut v = 1e-8f32;
        while v < 50.0 {
            for x in [v, -v] {
                let (got, want) = (tanh_f32(x) as f64, (x as f64).tanh());
                worst = worst.max((got - want).abs() / want.abs());
            }
            v *= 1.0007;
        }
        assert!(worst < 4.0 * f32::EPSILON as f64, "worst relative error {worst}");
        assert_eq!(tanh_f32(0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(tanh_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!((tanh_f32(f32::INFINITY), tanh_f32(f32::NEG_INFINITY)), (1.0, -1.0));
        assert!(tanh_f32(f32::NAN).is_nan());
    }
}
